#!/usr/bin/env bash
# Calls per second: SIPp's built-in uac calls an answering endpoint at rising
# rates, once with bench/answer.lua (the library) and once with SIPp's own
# built-in uas, in the same run, each step against a fresh answerer.
#
#   bash bench/calls_per_second.sh        (after `make build`)
#
# Each step is RATE calls/s for STEP seconds (RATE*STEP calls; SIPp hangs up
# each call right after its ACK: -d 0).  A step passes when SIPp exits 0,
# every call succeeded, none failed, SIPp retransmitted nothing and no
# message arrived for a call SIPp had already ended.  Once a step of a
# target failed, its higher rates are skipped in that run.
#
# A step's line: the rate asked for and achieved (SIPp's CallRate), calls
# successful/created, SIPp's FailedCall, Retransmissions, DeadCallMsgs and
# OutOfCallMsgs counters, the UDP datagrams the kernel dropped for want of
# buffer space (all sockets, counted in the private namespace only / those
# dropped at the answerer's SIP socket), and the
# CPU time of the answering process from the first INVITE to SIPp's exit
# divided by the calls.  The steps of the two targets alternate, so that a
# noisy moment on the machine hits both.
#
# Then one low-rate step per target with SIPp's message trace gives the
# INVITE-to-200 latency (p50, p99) from its microsecond timestamps (SIPp's
# own response-time statistics count whole milliseconds: all 0 here).
#
# At the end: the CPU per call at each rate, and per target the median over
# the runs of the highest passing rate, of the CPU per call there and of
# the latencies, with the ratios luasip / sipp-uas.  Timings are printed,
# never asserted: the exit status is 0 unless the harness itself failed.
#
# Environment:
#   BENCH_RATES="100 400 1600 4800 9600 12000 16000 19200 21600 24000 26400 28800"
#                        calls/s, rising
#   BENCH_STEP=2         seconds of calls per step
#   BENCH_RUNS=3         runs (the summary gives medians)
#   BENCH_TARGETS="luasip sipp-uas"
#   BENCH_LAT_RATE=100   calls/s of the latency step, BENCH_LAT_CALLS=300
#   BENCH_BUFF=4194304   SIPp's socket buffers (-buff_size; the kernel caps
#                        it at net.core.rmem_max / wmem_max)
#   BENCH_DEFERRED=1     measure the library's deferred timer work once, at
#                        BENCH_DEFERRED_RATE=3200 calls/s (0: skip; 40 s)
#   BENCH_KEEP=1         keep the work directory with every log
#   REPORT_IV=0.1        (read by bench/answer.lua) the answerer's log in the
#                        work directory gets a line every 0.1 s with its CPU
#                        time: where in a step the CPU per call rises
#
# With two cores or more the processes are pinned apart (SIPp's uac to CPU 0,
# the answerer to CPU 1), so that the answerer's CPU time is its own and the
# uac, which works harder per call than either answerer, is not starved.
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_namespace "$@"

RATES=${BENCH_RATES:-"100 400 1600 4800 9600 12000 16000 19200 21600 24000 26400 28800"}
STEP=${BENCH_STEP:-2}
RUNS=${BENCH_RUNS:-3}
LAT_RATE=${BENCH_LAT_RATE:-100}
LAT_CALLS=${BENCH_LAT_CALLS:-300}
BUFF=${BENCH_BUFF:-4194304}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/luasip-bench.XXXXXX") || exit 1
trap bench_cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM HUP
# SIPp writes some files under default names in its working directory
cd "$WORK" || exit 1

snapshot_module || exit 1
command -v sipp >/dev/null || { echo "bench: sipp not found (apt-get install sip-tester)" >&2; exit 1; }

PIN_UAC=() PIN_ANS=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_UAC=(taskset -c 0) PIN_ANS=(taskset -c 1)
fi

# the library keeps spare RTP pairs for an eighth of the descriptor limit
# (at most 1024 pairs): the soft limit goes up to the hard one, as for a
# server, and is printed
ulimit -n "$(ulimit -Hn)" 2>/dev/null

echo "# $(nproc) cores, $(uname -r), $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -n 1)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)"
echo "# steps of $STEP s at $RATES calls/s, $RUNS runs; work directory $WORK"

# start_answerer TARGET TAG: the answering process of TARGET (luasip |
# sipp-uas); sets ANS_PID and ANS_PORT.  Returns 1 when it did not start.
start_answerer() {
    local target=$1 tag=$2 cp mp
    if [ "$target" = luasip ]; then
        start_bg "$WORK/$tag.ans" "${PIN_ANS[@]}" env UA_PORT=0 REPORT=1 \
            "$LUA" "$BENCH_DIR/answer.lua"
        ANS_PID=$BG_PID
        wait_line "$WORK/$tag.ans" '^ready$' 10 "$ANS_PID" || return 1
        ANS_PORT=$(sed -n 's/^port //p' "$WORK/$tag.ans")
    else
        pick_port ANS_PORT
        pick_port cp
        pick_port mp 4
        start_bg "$WORK/$tag.ans" "${PIN_ANS[@]}" sipp -sn uas -i 127.0.0.1 -p "$ANS_PORT" \
            -cp "$cp" -mp "$mp" -nostdin -buff_size "$BUFF" \
            -trace_err -error_file "$WORK/$tag.ans.err"
        ANS_PID=$BG_PID
        wait_bound "$ANS_PORT" 10 "$ANS_PID" || return 1
    fi
    return 0
}

# run_uac TAG RATE CALLS ARGS...: SIPp's uac against ANS_PORT; SIPP_RC
run_uac() {
    local tag=$1 rate=$2 calls=$3 cp mp port limit
    shift 3
    pick_port port
    pick_port cp
    pick_port mp 4
    # generous: a healthy step takes CALLS/RATE seconds; a failing one ends
    # with SIPp's -timeout, and `timeout` bounds SIPp itself
    limit=$((calls / rate + 10))
    "${PIN_UAC[@]}" timeout -k 2 $((limit + 5)) sipp "127.0.0.1:$ANS_PORT" -sn uac \
        -i 127.0.0.1 -p "$port" -cp "$cp" -mp "$mp" -nostdin \
        -r "$rate" -m "$calls" -d 0 -buff_size "$BUFF" -timeout "${limit}s" \
        -trace_err -error_file "$WORK/$tag.err" "$@" >"$WORK/$tag.out" 2>&1 </dev/null
    SIPP_RC=$?
}

# show_logs TAG: the first lines of SIPp's error log and of the answerer's
# output, indented, for the step report
show_logs() {
    local tag=$1 f
    for f in "$WORK/$tag.err" "$WORK/$tag.ans" "$WORK/$tag.ans.err"; do
        [ -s "$f" ] || continue
        echo "#   --- $(basename "$f") (first lines)"
        grep -Ev '^answered [0-9]+ failed 0 lua_kb [0-9]+ *$' "$f" | head -n 8 | sed 's/^/#   /'
    done
}

# step TARGET RATE RUN: one step; prints its line, sets STEP_OK and STEP_CPU
step() {
    local target=$1 rate=$2 run=$3 tag calls c0 c1 d0 d1 csv ok succ failed retr dead ooc achieved cpu
    local ans_state
    tag=$target-$rate-$run
    calls=$((rate * STEP))
    STEP_OK=0 STEP_CPU=-
    if ! start_answerer "$target" "$tag"; then
        printf '%-9s %5s  answerer did not start\n' "$target" "$rate"
        show_logs "$tag"
        return
    fi
    csv=$WORK/$tag.csv
    c0=$(cpu_ns "$ANS_PID")
    d0=$(udp_drops)
    run_uac "$tag" "$rate" "$calls" -trace_stat -stf "$csv" -fd 1
    if alive "$ANS_PID"; then
        c1=$(cpu_ns "$ANS_PID")
        d1=$(udp_drops)
        STEP_ANS_DROPS=$(port_drops "$ANS_PORT")
        stop_pid "$ANS_PID" 3
        ans_state=ok
    else
        c1=$c0 d1=$(udp_drops) STEP_ANS_DROPS=-
        wait "$ANS_PID" 2>/dev/null
        ans_state="exited with status $?"
        forget_pid "$ANS_PID"
    fi
    succ=$(sipp_col "$csv" 'SuccessfulCall(C)')
    failed=$(sipp_col "$csv" 'FailedCall(C)')
    retr=$(sipp_col "$csv" 'Retransmissions(C)')
    dead=$(sipp_col "$csv" 'DeadCallMsgs(C)')
    ooc=$(sipp_col "$csv" 'OutOfCallMsgs(C)')
    achieved=$(sipp_col "$csv" 'CallRate(C)')
    cpu=$(awk -v a="$c0" -v b="$c1" -v n="$calls" 'BEGIN { printf "%.1f", (b - a) / 1000 / n }')
    ok=fail
    if [ "$SIPP_RC" = 0 ] && [ "$succ" = "$calls" ] && [ "$failed" = 0 ] && [ "$retr" = 0 ] &&
        [ "$dead" = 0 ] && [ "$ooc" = 0 ] && [ "$ans_state" = ok ]; then
        ok=pass
        STEP_OK=1
    fi
    STEP_CPU=$cpu
    [ "$SIPP_RC" = 0 ] || ok="$ok (sipp exit $SIPP_RC)"
    STEP_DROPS=$((d1 - d0))
    [ "$LUASIP_BENCH_NS" = none ] && STEP_DROPS=-
    printf '%-9s %5s %8s %11s %6s %7s %5s %5s %11s %8s  %s\n' "$target" "$rate" \
        "$(printf '%.0f' "${achieved/\?/0}")" "$succ/$calls" "$failed" "$retr" "$dead" \
        "$ooc" "$STEP_DROPS/$STEP_ANS_DROPS" "$cpu" "$ok"
    if [ "$STEP_OK" = 0 ]; then
        [ "$ans_state" = ok ] || echo "#   answerer $ans_state"
        show_logs "$tag"
    fi
}

# latency TARGET RUN: a low-rate step with -trace_msg; sets LAT_P50, LAT_P99 (µs)
latency() {
    local target=$1 run=$2 tag
    tag=$target-lat-$run
    LAT_P50=- LAT_P99=-
    if ! start_answerer "$target" "$tag"; then
        echo "# $target latency: answerer did not start"
        return
    fi
    run_uac "$tag" "$LAT_RATE" "$LAT_CALLS" -trace_msg -message_file "$WORK/$tag.msg"
    stop_pid "$ANS_PID" 3
    # INVITE sent -> first 200 for CSeq INVITE received, per Call-ID, from
    # the time stamp line that opens each message of the trace
    read -r LAT_P50 LAT_P99 LAT_N < <(awk '
        { sub(/\r$/, "") }
        /^-----------+ [0-9-]+ [0-9:.]+$/ {
            split($3, t, ":"); now = t[1] * 3600 + t[2] * 60 + t[3]
            state = 1; next
        }
        state == 1 { sent = ($0 ~ /message sent/); state = 2; next }
        state == 2 && NF > 0 { first = $0; state = 3; next }
        state == 3 && /^Call-ID:/ { cid = $2 }
        state == 3 && /^CSeq:/ {
            if (sent && first ~ /^INVITE / && !(cid in t0)) t0[cid] = now
            if (!sent && first ~ /^SIP\/2.0 200/ && $3 == "INVITE" && (cid in t0) && !(cid in t1)) {
                d = now - t0[cid]; if (d < 0) d += 86400
                t1[cid] = d
            }
            state = 4
        }
        END { for (c in t1) printf "%.1f\n", t1[c] * 1e6 }' "$WORK/$tag.msg" |
        sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "- - 0"; exit }
            i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5)
            if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
            print v[i50], v[i99], NR }')
    printf '%-9s latency at %s calls/s over %s calls: p50 %s us, p99 %s us (sipp %s)\n' \
        "$target" "$LAT_RATE" "$LAT_N" "$LAT_P50" "$LAT_P99" "$SIPP_RC"
    [ "$SIPP_RC" = 0 ] || show_logs "$tag"
}

declare -A BEST CPU CPUR OKR P50 P99
TARGETS=${BENCH_TARGETS:-"luasip sipp-uas"}
STARTED=$SECONDS
for ((run = 1; run <= RUNS; run++)); do
    echo
    echo "# run $run of $RUNS"
    printf '%-9s %5s %8s %11s %6s %7s %5s %5s %11s %8s  %s\n' target rate achieved \
        "ok/calls" failed retrans dead ooc "drops/ans" "us/call" result
    declare -A stopped=()
    for rate in $RATES; do
        # interleaved, so that a noisy moment on the machine hits both targets
        for target in $TARGETS; do
            [ -n "${stopped[$target]:-}" ] && continue
            step "$target" "$rate" "$run"
            CPUR[$target,$rate,$run]=$STEP_CPU
            if [ "$STEP_OK" = 1 ]; then
                BEST[$target,$run]=$rate
                CPU[$target,$run]=$STEP_CPU
                OKR[$target,$rate]=$((${OKR[$target,$rate]:-0} + 1))
            else
                stopped[$target]=1
            fi
        done
    done
    unset stopped
    for target in $TARGETS; do
        latency "$target" "$run"
        P50[$target,$run]=$LAT_P50
        P99[$target,$run]=$LAT_P99
    done
done

# The library's transactions outlive the calls (the INVITE's 64*T1 after
# its 2xx, Timer J of each BYE: 32 s), so a step's CPU time leaves out the
# work of their timers; measured here once, as the CPU time of the 36 s
# after a step.  (SIPp's uas keeps a call 4 s after its BYE, but polls all
# the time: about 1.7% of a core while idle here, which would swamp it.)
deferred() {
    local rate=$1 tag=luasip-deferred calls c0 c1 c2
    calls=$((rate * STEP))
    start_answerer luasip "$tag" || { echo "# deferred: answerer did not start"; return; }
    c0=$(cpu_ns "$ANS_PID")
    run_uac "$tag" "$rate" "$calls"
    c1=$(cpu_ns "$ANS_PID")
    sleep 36
    if ! alive "$ANS_PID"; then
        echo "# deferred: the answerer exited"
        show_logs "$tag"
        return
    fi
    c2=$(cpu_ns "$ANS_PID")
    stop_pid "$ANS_PID" 3
    awk -v a="$c0" -v b="$c1" -v c="$c2" -v n="$calls" -v r="$rate" -v rc="$SIPP_RC" 'BEGIN {
        printf "luasip    deferred work at %d calls/s: %.1f us/call during the step, %.1f us/call" \
            " in the 36 s after it (timers), %.1f in all (sipp %s)\n",
            r, (b - a) / 1000 / n, (c - b) / 1000 / n, (c - a) / 1000 / n, rc }'
}
echo
if [ "${BENCH_DEFERRED:-1}" = 1 ] && [[ " $TARGETS " == *" luasip "* ]]; then
    deferred "${BENCH_DEFERRED_RATE:-3200}"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }

# summary: medians over the runs
echo
echo "# CPU per call of the answering process by rate (median over runs; passed/runs)"
printf '%6s %16s %16s %8s\n' rate "luasip us/call" "sipp-uas us/call" ratio
for rate in $RATES; do
    declare -A med=()
    for target in $TARGETS; do
        c=()
        for ((run = 1; run <= RUNS; run++)); do c+=("${CPUR[$target,$rate,$run]:--}"); done
        med[$target]=$(median "${c[@]}")
    done
    printf '%6s %10s (%s/%s) %10s (%s/%s) %8s\n' "$rate" \
        "${med[luasip]:--}" "${OKR[luasip,$rate]:-0}" "$RUNS" \
        "${med[sipp-uas]:--}" "${OKR[sipp-uas,$rate]:-0}" "$RUNS" \
        "$(ratio "${med[luasip]:--}" "${med[sipp-uas]:--}")"
    unset med
done
echo
echo "# summary over $RUNS runs (medians); CPU per call at each target's highest passing rate"
printf '%-9s %12s %12s %10s %10s\n' target "max calls/s" "CPU us/call" "p50 us" "p99 us"
declare -A M
for target in $TARGETS; do
    b=() c=() p=() q=()
    for ((run = 1; run <= RUNS; run++)); do
        b+=("${BEST[$target,$run]:-0}")
        c+=("${CPU[$target,$run]:--}")
        p+=("${P50[$target,$run]:--}")
        q+=("${P99[$target,$run]:--}")
    done
    M[$target,best]=$(median "${b[@]}")
    M[$target,cpu]=$(median "${c[@]}")
    M[$target,p50]=$(median "${p[@]}")
    M[$target,p99]=$(median "${q[@]}")
    printf '%-9s %12s %12s %10s %10s   (max per run: %s)\n' "$target" "${M[$target,best]}" \
        "${M[$target,cpu]}" "${M[$target,p50]}" "${M[$target,p99]}" "${b[*]}"
done
top=${RATES##* }
echo "ratio luasip/sipp-uas: max calls/s $(ratio "${M[luasip,best]:--}" "${M[sipp-uas,best]:--}")" \
    "(target >= 1.0); CPU per call at the max $(ratio "${M[luasip,cpu]:--}" "${M[sipp-uas,cpu]:--}");" \
    "p50 latency $(ratio "${M[luasip,p50]:--}" "${M[sipp-uas,p50]:--}")"
echo "luasip CPU per call at its max: ${M[luasip,cpu]:--} us (target < 100 us)"
for target in $TARGETS; do
    if [ "${M[$target,best]}" = "$top" ]; then
        echo "# $target passed the top rate ($top calls/s): its limit is higher than measured"
    fi
done
echo "# $((SECONDS - STARTED)) s"
exit 0
