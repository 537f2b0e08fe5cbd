#!/usr/bin/env bash
# Concurrent playback: N calls, each playing the same 8 kHz WAV in a loop,
# for rising N, beside a raw-socket baseline sending the same packet rate.
#
#   bash bench/playback.sh        (after `make build`; as root for ulimit -n)
#
# A step of N: bench/playback.lua (the library, pinned to CPU 1) answers N
# calls from SIPp's uac (bench/playback.xml, CPU 0), whose SDP points the
# media at bench/rtp_sink (C, CPU 0), so the playing process does only the
# playing and the signalling; once all are up and SETTLE s later, PLAY s of
# playback are measured.  Then bench/rtp_blast (C, CPU 1) sends the same N
# streams (one 172-byte packet per stream per 20 ms, one timer, absolute
# deadlines, one sendto per packet) to a fresh sink for the same time.
#
# A step's line, for each of the two:
#   cpu%/str   CPU time of the sending process over the window / N / seconds,
#              in % of one core (os.clock in the library, getrusage in the
#              baseline: utime + stime either way)
#   us/str/s   the same in µs of CPU per stream per second
#   tick p50/p99/p99.9/max   the sender's wake-up lateness against each 20 ms
#              deadline (sip.media_stats for the library), ms
#   rx p50/p99/p99.9   at the sink: each packet's arrival (kernel time stamp)
#              minus its RTP timestamp, above the lowest that stream had,
#              ms: the tick's lateness plus the packet's place in the tick
#   sent/recv  packets: the senders' count (call:stats().packets_sent summed
#              over the calls after every play stopped; rtp_blast's own),
#              the sink's; loss = sent - received, seq = the sink's gaps in
#              sequence numbers (RFC 3550 A.1), drops = datagrams the kernel
#              dropped for buffer space (/proc/net/snmp)
#   rss/call   (the library) VmRSS with N calls playing minus before the
#              first call, / N, KB
#   ratio      the library's CPU per stream / the baseline's
#
# On loopback the sender's sendto also runs the receive side of the kernel
# up to the sink's socket queue, so both senders' system time includes it.
# Timings are printed, never asserted: the exit status is 0 unless the
# harness failed.
#
# Environment:
#   BENCH_STREAMS="250 500 1000 2000 3000 4000"   N, rising
#   BENCH_PLAY=10        seconds measured per step
#   BENCH_SETTLE=2       seconds between the last call up and the window
#   BENCH_RATE=1000      calls/s while setting up
#   BENCH_RUNS=1         runs (the summary gives medians)
#   BENCH_FIFO=1         run both senders (library and baseline) under
#                        SCHED_FIFO (chrt -f 50): takes the machine's other
#                        work out of the lateness, to tell it from the
#                        library's own (default: ordinary scheduling)
#   BENCH_BLAST_READ=1   the baseline's sockets also wait for reading in an
#                        epoll set, as the library's do (rtp_blast ... read)
#   BENCH_PERF=N         one more step of the library at N streams under
#                        `perf record -g` (not counted), and its profile
#   BENCH_KEEP=1         keep the work directory with every log
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_namespace "$@"

STREAMS=${BENCH_STREAMS:-"250 500 1000 2000 3000 4000"}
PLAY=${BENCH_PLAY:-10}
SETTLE=${BENCH_SETTLE:-2}
RATE=${BENCH_RATE:-1000}
RUNS=${BENCH_RUNS:-1}
PERF_AT=${BENCH_PERF:-}
BLAST_READ= BLAST_SOCKETS="send only"
[ "${BENCH_BLAST_READ:-0}" = 1 ] && BLAST_READ=1 BLAST_SOCKETS="send and wait for reading"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/luasip-bench.XXXXXX") || exit 1
trap bench_cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM HUP
cd "$WORK" || exit 1

snapshot_module || exit 1
command -v sipp >/dev/null || { echo "bench: sipp not found (apt-get install sip-tester)" >&2; exit 1; }
for prog in rtp_sink rtp_blast; do
    cc -O2 -Wall -o "$WORK/$prog" "$BENCH_DIR/$prog.c" ||
        { echo "bench: cannot build $prog" >&2; exit 1; }
done

# two RTP sockets per call (plus the endpoint's own and slack); the baseline
# needs one per stream
max_n=0
for n in $STREAMS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
need=$((2 * max_n + 256))
[ "$(ulimit -n)" -lt "$need" ] && { ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }
if [ "$(ulimit -n)" -lt "$need" ]; then
    echo "# ulimit -n is $(ulimit -n), below the $need that $max_n calls need:" \
        "the larger steps will run out of file descriptors (reported as such)"
fi

PIN_A=() PIN_B=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_A=(taskset -c 1) PIN_B=(taskset -c 0)
fi
SCHED=ordinary
if [ "${BENCH_FIFO:-0}" = 1 ]; then
    if chrt -f 50 true 2>/dev/null; then
        PIN_A=(chrt -f 50 "${PIN_A[@]}") SCHED="SCHED_FIFO 50"
    else
        echo "# BENCH_FIFO: chrt -f not permitted here; ordinary scheduling"
    fi
fi

echo "# $(nproc) cores, $(uname -r), $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -n 1)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# streams $STREAMS; $PLAY s measured per step after $SETTLE s; set-up at $RATE calls/s;" \
    "$RUNS runs; senders: $SCHED scheduling; baseline sockets $BLAST_SOCKETS; ulimit -n $(ulimit -n);" \
    "work directory $WORK"

WAV=$WORK/tone.wav
field() { sed -n "s/^$2 .*/&/p" "$1" | tail -n 1 | awk -v k="$3" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# start_sink TAG [BUCKETS]: SINK_PID, SINK_PORT
start_sink() {
    pick_port SINK_PORT 2
    start_bg "$WORK/$1.sink" "${PIN_B[@]}" "$WORK/rtp_sink" "$SINK_PORT" "${2:-0}"
    SINK_PID=$BG_PID
    wait_line "$WORK/$1.sink" '^ready$' 5 "$SINK_PID"
}

# stop_sink: SIGTERM makes it print its line and exit
stop_sink() {
    kill -TERM "$SINK_PID" 2>/dev/null
    wait_exit "$SINK_PID" 5
}

show_logs() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "#   --- $(basename "$f") (last lines)"
        grep -v '^result ' "$f" | tail -n 6 | sed 's/^/#   /'
    done
}

pct() { awk -v c="$1" -v n="$2" -v w="$3" 'BEGIN { if (n > 0 && w > 0) printf "%.4f", c / n / w * 100; else print "-" }'; }
usps() { awk -v c="$1" -v n="$2" -v w="$3" 'BEGIN { if (n > 0 && w > 0) printf "%.2f", c / n / w * 1e6; else print "-" }'; }

# library N RUN: one step of the library; sets L_* for the summary
library() {
    local n=$1 run=$2 tag=lib-$1-$2 port uac limit d0 d1 perf_pid=""
    L_US=- L_TP999=- L_RX999=- L_LOSS=- L_RSS=- L_OK=0
    start_sink "$tag" || { echo "luasip $n: sink did not start"; return; }
    start_bg "$WORK/$tag.lua" "${PIN_A[@]}" env CALLS="$n" PLAY_SECONDS="$PLAY" SETTLE="$SETTLE" \
        SETUP_TIMEOUT=$((n / RATE + 30)) WAV="$WAV" "$LUA" "$BENCH_DIR/playback.lua"
    local lua_pid=$BG_PID
    if ! wait_line "$WORK/$tag.lua" '^ready' 10 "$lua_pid"; then
        echo "luasip $n: playback.lua did not start"
        show_logs "$WORK/$tag.lua"
        stop_pid "$lua_pid" 3
        stop_sink
        return
    fi
    port=$(sed -n 's/^port //p' "$WORK/$tag.lua")
    pick_port uac
    local cp mp
    pick_port cp
    pick_port mp 4
    limit=$((n / RATE + SETTLE + PLAY + 60))
    start_bg "$WORK/$tag.sipp" "${PIN_B[@]}" timeout -k 2 "$limit" sipp "127.0.0.1:$port" \
        -sf "$BENCH_DIR/playback.xml" -key sink_port "$SINK_PORT" -i 127.0.0.1 -p "$uac" \
        -cp "$cp" -mp "$mp" -r "$RATE" -l "$n" -m "$n" -nostdin -buff_size 4194304 \
        -timeout "$((limit - 5))s" -trace_err -error_file "$WORK/$tag.sipp.err"
    local sipp_pid=$BG_PID
    d0=$(udp_drops)
    if wait_line "$WORK/$tag.lua" '^window$' $((n / RATE + SETTLE + 50)) "$lua_pid"; then
        kill -USR1 "$SINK_PID"
        if [ "$run" = perf ]; then
            start_bg "$WORK/perf.log" perf record -g -o "$WORK/perf.data" -p "$lua_pid" -- sleep "$PLAY"
            perf_pid=$BG_PID
        fi
        wait_line "$WORK/$tag.lua" '^window_end$' $((PLAY + 10)) "$lua_pid" && kill -USR2 "$SINK_PID"
    fi
    wait_line "$WORK/$tag.lua" '^done$' 20 "$lua_pid"
    wait_exit "$lua_pid" 10
    local lua_rc=$WAIT_RC
    wait_exit "$sipp_pid" 15
    local sipp_rc=$WAIT_RC
    d1=$(udp_drops)
    local sink_drops
    sink_drops=$(port_drops "$SINK_PORT")
    stop_sink
    [ -n "$perf_pid" ] && wait_exit "$perf_pid" 20

    local r=$WORK/$tag.lua s=$WORK/$tag.sink
    if ! grep -q '^result ' "$r"; then
        echo "luasip $n: no result (playback.lua exit $lua_rc, sipp exit $sipp_rc)"
        show_logs "$r" "$WORK/$tag.sipp.err" "$WORK/$tag.sipp"
        return
    fi
    local up cpu wall sent recv rss0 rss seq
    up=$(field "$r" result up)
    cpu=$(field "$r" result cpu_s)
    wall=$(field "$r" result wall_s)
    sent=$(field "$r" result sent_total)
    recv=$(field "$s" sink packets)
    seq=$(field "$s" sink seq_lost)
    rss0=$(field "$r" result rss0_kb)
    rss=$(field "$r" result rss_kb)
    L_US=$(usps "$cpu" "$up" "$wall")
    L_TP999=$(field "$r" result late_p999)
    L_RX999=$(field "$s" sink late_p999)
    L_LOSS=$((sent - ${recv:-0}))
    L_RSS=$(awk -v a="$rss0" -v b="$rss" -v n="$up" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "-" }')
    L_CPU=$(pct "$cpu" "$up" "$wall")
    printf '%-7s %5s %5s %8s %8s %5s/%5s/%5s/%6s %5s/%5s/%5s %9s/%9s %5s %5s %6s %7s\n' luasip "$n" "$up" \
        "$L_CPU" "$L_US" "$(field "$r" result late_p50)" "$(field "$r" result late_p99)" "$L_TP999" \
        "$(field "$r" result late_max)" "$(field "$s" sink late_p50)" "$(field "$s" sink late_p99)" \
        "$L_RX999" "$sent" "$recv" "$L_LOSS" "$seq" "$((d1 - d0))/$sink_drops" "$L_RSS"
    local extra=" set-up $(field "$r" result setup_s) s;"
    [ "$up" != "$n" ] && extra+=" only $up of $n calls up (failed: $(field "$r" result why));"
    [ "$(field "$r" result skipped)" != 0 ] && extra+=" $(field "$r" result skipped) ticks skipped;"
    [ "$(field "$r" result play_ended)" != "-" ] && extra+=" plays ended early: $(field "$r" result play_ended);"
    [ "$(field "$s" sink ts_err)" != 0 ] && extra+=" $(field "$s" sink ts_err) timestamp steps not 160/packet;"
    [ "$sipp_rc" != 0 ] && extra+=" sipp exit $sipp_rc;"
    [ "$lua_rc" != 0 ] && extra+=" playback.lua exit $lua_rc;"
    echo "#   luasip $n:$extra"
    [ "$sipp_rc" != 0 ] && show_logs "$WORK/$tag.sipp.err"
    grep -m 3 '^ts_step' "$s" | sed 's/^/#   /' 
    L_OK=1
    L_FDS=$(field "$r" result fds)
}

# baseline N RUN: one step of rtp_blast; B_*
baseline() {
    local n=$1 run=$2 tag=blast-$1-$2 d0 d1 sink_drops
    B_US=- B_TP999=- B_RX999=- B_LOSS=-
    start_sink "$tag" || { echo "blast  $n: sink did not start"; return; }
    d0=$(udp_drops)
    start_bg "$WORK/$tag.out" "${PIN_A[@]}" "$WORK/rtp_blast" "$n" "$SINK_PORT" "$SETTLE" "$PLAY" \
        ${BLAST_READ:+read}
    # the sink's window opens with the baseline's (after its warm-up)
    sleep "$SETTLE"
    kill -USR1 "$SINK_PID"
    wait_exit "$BG_PID" $((PLAY + 20))
    sleep 0.3
    kill -USR2 "$SINK_PID"
    d1=$(udp_drops)
    sink_drops=$(port_drops "$SINK_PORT")
    stop_sink
    local b=$WORK/$tag.out s=$WORK/$tag.sink
    if ! grep -q '^blast ' "$b"; then
        echo "blast   $n: no result"
        show_logs "$b"
        return
    fi
    local cpu wall sent recv
    cpu=$(field "$b" blast cpu_s)
    wall=$(field "$b" blast wall_s)
    sent=$(field "$b" blast sent)
    recv=$(field "$s" sink packets)
    B_US=$(usps "$cpu" "$n" "$wall")
    B_TP999=$(field "$b" blast late_p999)
    B_RX999=$(field "$s" sink late_p999)
    B_LOSS=$((sent - ${recv:-0}))
    printf '%-7s %5s %5s %8s %8s %5s/%5s/%5s/%6s %5s/%5s/%5s %9s/%9s %5s %5s %6s %7s\n' blast "$n" "$n" \
        "$(pct "$cpu" "$n" "$wall")" "$B_US" "$(field "$b" blast late_p50)" "$(field "$b" blast late_p99)" \
        "$B_TP999" "$(field "$b" blast late_max)" "$(field "$s" sink late_p50)" "$(field "$s" sink late_p99)" \
        "$B_RX999" "$sent" "$recv" "$B_LOSS" "$(field "$s" sink seq_lost)" "$((d1 - d0))/$sink_drops" -
    [ "$(field "$b" blast errors)" != 0 ] && echo "#   blast $n: $(field "$b" blast errors) sendto errors"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A LUS BUS LT LRX BT BRX LL BL LR
STARTED=$SECONDS
for ((run = 1; run <= RUNS; run++)); do
    echo
    echo "# run $run of $RUNS"
    printf '%-7s %5s %5s %8s %8s %26s %17s %19s %5s %5s %6s %7s\n' sender N up "cpu%/str" "us/str/s" \
        "tick p50/p99/p99.9/max ms" "rx p50/p99/p99.9" "sent/recv" loss seq drops "KB/call"
    for n in $STREAMS; do
        library "$n" "$run"
        LUS[$n,$run]=$L_US LT[$n,$run]=$L_TP999 LRX[$n,$run]=$L_RX999 LL[$n,$run]=$L_LOSS LR[$n,$run]=$L_RSS
        baseline "$n" "$run"
        BUS[$n,$run]=$B_US BT[$n,$run]=$B_TP999 BRX[$n,$run]=$B_RX999 BL[$n,$run]=$B_LOSS
    done
done

echo
echo "# summary: medians over $RUNS runs; ratio = luasip CPU per stream / rtp_blast's"
printf '%6s %10s %10s %6s %12s %12s %10s %10s %9s %9s %8s\n' N "luasip us" "blast us" ratio \
    "tick p99.9" "blast tick" "rx p99.9" "blast rx" "loss" "blast" "KB/call"
for n in $STREAMS; do
    declare -a a=() b=() c=() d=() e=() f=() g=() h=() i=()
    for ((run = 1; run <= RUNS; run++)); do
        a+=("${LUS[$n,$run]}") b+=("${BUS[$n,$run]}") c+=("${LT[$n,$run]}") d+=("${BT[$n,$run]}")
        e+=("${LRX[$n,$run]}") f+=("${BRX[$n,$run]}") g+=("${LL[$n,$run]}") h+=("${BL[$n,$run]}")
        i+=("${LR[$n,$run]}")
    done
    lu=$(median "${a[@]}") bu=$(median "${b[@]}")
    printf '%6s %10s %10s %6s %12s %12s %10s %10s %9s %9s %8s\n' "$n" "$lu" "$bu" "$(ratio "$lu" "$bu")" \
        "$(median "${c[@]}")" "$(median "${d[@]}")" "$(median "${e[@]}")" "$(median "${f[@]}")" \
        "$(median "${g[@]}")" "$(median "${h[@]}")" "$(median "${i[@]}")"
done
echo "# targets: >= 3000 streams on one core with tick p99.9 <= 1 ms and no loss; <= 32 KB per playing call"
echo "# (us/str/s: µs of CPU per stream per second; 10000 us/str/s would be one core for one stream)"

if [ -n "$PERF_AT" ] && command -v perf >/dev/null; then
    # a step of its own: perf's sampling costs the process it watches
    echo
    echo "# an extra step at $PERF_AT streams under perf record -g (its numbers are perf's, not the library's)"
    library "$PERF_AT" perf
fi
if [ -s "$WORK/perf.data" ]; then
    echo
    echo "# perf report --no-children of that step: where the library's time goes"
    perf report -i "$WORK/perf.data" --no-children --percent-limit 1.5 --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 30
    echo "# by object (kernel: the sends, and on loopback the receive path up to the sink's queue)"
    perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9]' | head -n 8
fi
echo "# $((SECONDS - STARTED)) s"
exit 0
