#!/usr/bin/env bash
# Memory per established idle call: SIPp's built-in uac sets up CALLS calls
# (at RATE calls/s, each held HOLD ms before its BYE) to bench/answer.lua
# with HOLD=1 (each call's task waits in call:wait(), so the task is counted
# too), then the same to SIPp's built-in uas.
#
#   bash bench/memory_per_call.sh        (after `make build`; as root for ulimit -n)
#
# The answerer's VmRSS (/proc/PID/status) is read once it is listening,
# when every call is up (SIPp created all of them, none failed, and for the
# library every answer() returned), and LINGER s later, when every set-up
# transaction has expired; (RSS_up - RSS_before) / CALLS is the cost of one
# call.  Each library call also binds an RTP port pair, two UDP sockets whose
# kernel memory is not in RSS: the open fds and the machine-wide Slab growth
# (noisy on a shared machine) are printed for that, and answer.lua's Lua heap
# splits RSS into Lua's share and the C library's.
#
# For the library a second round of the same calls follows, once the first
# has hung up and its BYE transactions have expired (64*T1 = 32 s): if the
# first round's memory is reused, the second needs no RSS beyond the most the
# process held before it; a leak would add about RSS_up - RSS_before again.
# Numbers are printed, never asserted; the exit status is 0 unless the
# harness failed.
#
# Environment:
#   BENCH_CALLS=10000   calls up at once
#   BENCH_RATE=500      calls/s while setting them up
#   BENCH_ROUNDS=2      rounds against the library (1: no reuse check)
#   BENCH_LINGER=36     seconds between the last BYE and the next reading
#   BENCH_KEEP=1        keep the work directory with every log
#   FULL_GC=1           answer.lua collects all its garbage once a second (a
#                       diagnostic: what the Lua collector has yet to free)
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_namespace "$@"

CALLS=${BENCH_CALLS:-10000}
RATE=${BENCH_RATE:-500}
ROUNDS=${BENCH_ROUNDS:-2}
LINGER=${BENCH_LINGER:-36}
BUFF=4194304
RAMP=$(((CALLS + RATE - 1) / RATE))
# held until every call is up and both readings are done, plus a margin
HOLD_MS=$(((RAMP + LINGER + 10) * 1000))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/luasip-bench.XXXXXX") || exit 1
trap bench_cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM HUP
# SIPp writes some files under default names in its working directory
cd "$WORK" || exit 1

snapshot_module || exit 1
command -v sipp >/dev/null || { echo "bench: sipp not found (apt-get install sip-tester)" >&2; exit 1; }

# two UDP sockets per call, plus the endpoint's own and some slack
need=$((2 * CALLS + 256))
if [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n 65536 2>/dev/null || ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" -lt "$need" ]; then
    # raising the hard limit needs CAP_SYS_RESOURCE; without it, as many
    # calls as the limit allows (the cost per call is the same slope)
    fit=$((($(ulimit -n) - 256) / 2 / 100 * 100))
    echo "# ulimit -n cannot go above $(ulimit -n) here (hard limit; CAP_SYS_RESOURCE" \
        "missing): $fit calls instead of $CALLS"
    if [ "$fit" -lt 100 ]; then
        echo "bench: too few open files for a measurement" >&2
        exit 1
    fi
    CALLS=$fit
    RAMP=$(((CALLS + RATE - 1) / RATE))
    HOLD_MS=$(((RAMP + LINGER + 10) * 1000))
fi

echo "# $(nproc) cores, $(uname -r), $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -n 1)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $CALLS calls at $RATE calls/s, each held $((HOLD_MS / 1000)) s; ulimit -n $(ulimit -n);" \
    "work directory $WORK"

max() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# start_answerer TARGET TAG: sets ANS_PID and ANS_PORT
start_answerer() {
    local target=$1 tag=$2 cp mp
    if [ "$target" = luasip ]; then
        start_bg "$WORK/$tag.ans" env UA_PORT=0 HOLD=1 REPORT=1 "$LUA" "$BENCH_DIR/answer.lua"
        ANS_PID=$BG_PID
        wait_line "$WORK/$tag.ans" '^ready$' 10 "$ANS_PID" || return 1
        ANS_PORT=$(sed -n 's/^port //p' "$WORK/$tag.ans")
    else
        pick_port ANS_PORT
        pick_port cp
        pick_port mp 4
        start_bg "$WORK/$tag.ans" sipp -sn uas -i 127.0.0.1 -p "$ANS_PORT" -cp "$cp" -mp "$mp" \
            -nostdin -buff_size "$BUFF" -trace_err -error_file "$WORK/$tag.ans.err"
        ANS_PID=$BG_PID
        wait_bound "$ANS_PORT" 10 "$ANS_PID" || return 1
    fi
}

# start_uac TAG: SIPp's uac in the background against ANS_PORT; UAC_PID, UAC_CSV
start_uac() {
    local tag=$1 port cp mp
    pick_port port
    pick_port cp
    pick_port mp 4
    UAC_CSV=$WORK/$tag.csv
    start_bg "$WORK/$tag.out" timeout -k 2 $((RAMP + HOLD_MS / 1000 + 60)) \
        sipp "127.0.0.1:$ANS_PORT" -sn uac -i 127.0.0.1 -p "$port" -cp "$cp" -mp "$mp" \
        -nostdin -r "$RATE" -l "$CALLS" -m "$CALLS" -d "$HOLD_MS" -buff_size "$BUFF" \
        -timeout "$((RAMP + HOLD_MS / 1000 + 50))s" -trace_stat -stf "$UAC_CSV" -fd 1 \
        -trace_err -error_file "$WORK/$tag.err"
    UAC_PID=$BG_PID
}

# answered TAG, lua_kb TAG: the last "answered N" count and Lua heap size
# answer.lua reported (once a second)
answered() { sed -n 's/^answered \([0-9]*\) .*/\1/p' "$WORK/$1.ans" | tail -n 1; }
lua_kb() { sed -n 's/^answered .* lua_kb \([0-9]*\).*/\1/p' "$WORK/$1.ans" | tail -n 1; }

# wait_up TARGET TAG: until SIPp created every call and (for the library)
# every answer() returned, at most RAMP + 6 s; then 1 s more so the last ACKs
# are in (and, with the 1 s of the caller, answer.lua has reported its heap
# since).  Returns 1 when that did not happen.
wait_up() {
    local target=$1 tag=$2 i created n
    for ((i = 0; i < (RAMP + 6) * 10; i++)); do
        created=$(sipp_col "$UAC_CSV" 'OutgoingCall(C)')
        if [ "$created" = "$CALLS" ]; then
            if [ "$target" != luasip ]; then sleep 1; return 0; fi
            n=$(answered "$tag")
            if [ "${n:-0}" -ge "$CALLS" ]; then sleep 1; return 0; fi
        fi
        alive "$UAC_PID" && alive "$ANS_PID" || return 1
        sleep 0.1
    done
    return 1
}

show_logs() {
    local tag=$1 f
    for f in "$WORK/$tag.err" "$WORK/$tag.ans" "$WORK/$tag.ans.err"; do
        [ -s "$f" ] || continue
        echo "#   --- $(basename "$f") (first lines)"
        head -n 8 "$f" | sed 's/^/#   /'
    done
}

# reading TARGET WHAT: one line: RSS, fds, KB per call over RSS0 and the
# Slab growth since SLAB0; sets PER
reading() {
    local rss slab f
    rss=$(rss_kb "$ANS_PID")
    slab=$(slab_kb)
    f=$(fds "$ANS_PID")
    PER=$(awk -v a="$RSS0" -v b="$rss" -v n="$CALLS" 'BEGIN { printf "%.2f", (b - a) / n }')
    printf '%-9s %-30s %8s KB %6s fds  %6s KB/call  Slab %+7d KB (%s KB/call)' "$1" "$2" \
        "$rss" "$f" "$PER" $((slab - SLAB0)) \
        "$(awk -v d=$((slab - SLAB0)) -v n="$CALLS" 'BEGIN { printf "%.1f", d / n }')"
    if [ "$1" = luasip ]; then
        # the Lua heap as answer.lua last reported it (at most 1 s old)
        local l
        l=$(lua_kb "$1")
        printf '  Lua heap %s KB (%s KB/call)' "$l" \
            "$(awk -v a="${LUA0:-0}" -v b="${l:-0}" -v n="$CALLS" 'BEGIN { printf "%.2f", (b - a) / n }')"
    fi
    echo
}

# sipp_counts: SIPp's failure counters, for the report
sipp_counts() {
    echo "created $(sipp_col "$UAC_CSV" 'OutgoingCall(C)')," \
        "successful $(sipp_col "$UAC_CSV" 'SuccessfulCall(C)')," \
        "failed $(sipp_col "$UAC_CSV" 'FailedCall(C)')," \
        "retransmissions $(sipp_col "$UAC_CSV" 'Retransmissions(C)')"
}

# measure TARGET ROUNDS: per round, readings when every call is up and again
# LINGER s later (idle: every set-up transaction has expired); after every
# round but the last, SIPp hangs up and a reading follows once the BYE
# transactions are over.  Sets UP_KB and IDLE_KB (KB per call, round 1) and
# IDLE2_KB (round 2).
measure() {
    local target=$1 rounds=$2 r tag peak=0
    UP_KB=- IDLE_KB=- REUSE_KB=-
    tag=$target
    if ! start_answerer "$target" "$tag"; then
        echo "$target: the answerer did not start"
        show_logs "$tag"
        return
    fi
    sleep 1.2
    RSS0=$(rss_kb "$ANS_PID")
    LUA0=$(lua_kb "$tag")
    SLAB0=$(slab_kb)
    reading "$target" "before the calls"
    for ((r = 1; r <= rounds; r++)); do
        start_uac "$tag-$r"
        if ! wait_up "$target" "$tag"; then
            echo "$target round $r: not all $CALLS calls came up ($(sipp_counts)," \
                "answered $(answered "$tag"))"
            alive "$ANS_PID" || echo "#   the answerer exited"
            show_logs "$tag-$r"
            [ "$target" = luasip ] && show_logs "$tag"
            return
        fi
        sleep 1
        reading "$target" "round $r: $CALLS calls up"
        [ "$r" = 1 ] && UP_KB=$PER
        if [ "$r" = 2 ]; then
            REUSE_KB=$(awk -v a="$peak" -v b="$(rss_kb "$ANS_PID")" -v n="$CALLS" \
                'BEGIN { printf "%.2f", (b - a) / n }')
        fi
        sleep "$LINGER"
        if ! alive "$ANS_PID" || ! alive "$UAC_PID"; then
            echo "#   $(alive "$ANS_PID" || echo 'the answerer exited; ')sipp: $(sipp_counts)"
            show_logs "$tag-$r"
            return
        fi
        reading "$target" "round $r: idle ${LINGER} s later"
        [ "$r" = 1 ] && IDLE_KB=$PER
        peak=$(max "$peak" "$(rss_kb "$ANS_PID")")
        echo "#   sipp: $(sipp_counts)"
        if [ "$r" -lt "$rounds" ]; then
            # SIPp hangs up every call; the next round starts once the BYE
            # transactions are over
            wait_exit "$UAC_PID" $((HOLD_MS / 1000 + RAMP + 30))
            if [ "$WAIT_RC" != 0 ]; then
                echo "#   sipp exit status $WAIT_RC after the hang-ups: $(sipp_counts)"
                show_logs "$tag-$r"
            fi
            sleep "$LINGER"
            alive "$ANS_PID" || { echo "#   the answerer exited"; show_logs "$tag"; return; }
            reading "$target" "round $r: all ended"
            peak=$(max "$peak" "$(rss_kb "$ANS_PID")")
        else
            stop_pid "$UAC_PID" 3
        fi
    done
    stop_pid "$ANS_PID" 3
}

STARTED=$SECONDS
measure luasip "$ROUNDS"
L_UP=$UP_KB L_IDLE=$IDLE_KB L_REUSE=$REUSE_KB
measure sipp-uas 1
S_UP=$UP_KB S_IDLE=$IDLE_KB
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "# KB of RSS per call ($CALLS calls): just up / idle ${LINGER} s later"
echo "luasip:   $L_UP / $L_IDLE KB per established call, task included (target <= 16 KB)"
echo "sipp-uas: $S_UP / $S_IDLE KB"
echo "ratio luasip/sipp-uas: $(ratio "$L_UP" "$S_UP") / $(ratio "$L_IDLE" "$S_IDLE")"
if [ "$L_REUSE" != - ]; then
    echo "luasip round 2 (the same calls again): $L_REUSE KB per call beyond the most RSS" \
        "held before it (about 0 when round 1's memory was reused; about $L_UP for a leak)"
fi
echo "# $((SECONDS - STARTED)) s"
exit 0
