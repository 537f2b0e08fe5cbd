#!/usr/bin/env bash
# Drift: one call plays a file in a loop for BENCH_DRIFT_SECONDS (10 minutes
# by default); at the end, the stream's RTP timestamp position against the
# monotonic clock's, measured where the packets arrive.
#
#   bash bench/drift.sh                         (after `make build`)
#   BENCH_DRIFT_SECONDS=60 bash bench/drift.sh  (a shorter try)
#
# bench/playback.lua (CALLS=1) answers one call from SIPp's uac
# (bench/playback.xml), whose SDP sends the media to bench/rtp_sink.  The
# sink takes each packet's kernel arrival time on CLOCK_MONOTONIC (the clock
# the media clock runs on) and its offset = arrival - (timestamp - first
# timestamp) / 8000 s.  Scheduling and queueing only ever delay a packet, so
# the lowest offset of a stretch of time is the stream's clock without that
# noise; the drift is the lowest offset of the last 10 s minus that of the
# first 10 s (positive: the timestamps fell behind the wall clock).  Target:
# at most 1 ms after 10 minutes.  Also printed: the last packet's offset
# against the first's (raw, with that packet's own delay in it), the lowest
# offset of each minute (a steady drift is a slope), timestamp steps that
# were not 160 per packet, lost packets, and the sender's count of packets
# against its elapsed time (packets_sent * 20 ms vs sip.now(): coarse, one
# packet is 20 ms).
#
# In the same run rtp_blast sends one stream from C (absolute deadlines) to
# a second sink: the drift the method measures for a sender that cannot
# drift by construction.  Numbers are printed, never asserted.
#
# Environment:
#   BENCH_DRIFT_SECONDS=600
#   BENCH_KEEP=1         keep the work directory with every log
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_namespace "$@"

DUR=${BENCH_DRIFT_SECONDS:-600}

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

echo "# $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# one stream for $DUR s; work directory $WORK"

field() { grep "^$2 " "$1" | tail -n 1 | awk -v k="$3" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
BUCKETS=$((DUR + 120))

pick_port SINK_A 2
pick_port SINK_B 2
start_bg "$WORK/lib.sink" "$WORK/rtp_sink" "$SINK_A" "$BUCKETS"
SA_PID=$BG_PID
start_bg "$WORK/blast.sink" "$WORK/rtp_sink" "$SINK_B" "$BUCKETS"
SB_PID=$BG_PID
wait_line "$WORK/lib.sink" '^ready$' 5 "$SA_PID" && wait_line "$WORK/blast.sink" '^ready$' 5 "$SB_PID" ||
    { echo "bench: a sink did not start" >&2; exit 1; }

start_bg "$WORK/lib.lua" env CALLS=1 PLAY_SECONDS="$DUR" SETTLE=1 SETUP_TIMEOUT=20 \
    WAV="$WORK/tone.wav" "$LUA" "$BENCH_DIR/playback.lua"
LUA_PID=$BG_PID
wait_line "$WORK/lib.lua" '^ready' 10 "$LUA_PID" || { echo "bench: playback.lua did not start" >&2; exit 1; }
port=$(sed -n 's/^port //p' "$WORK/lib.lua")
pick_port uac
pick_port cp
pick_port mp 4
start_bg "$WORK/lib.sipp" timeout -k 2 $((DUR + 90)) sipp "127.0.0.1:$port" -sf "$BENCH_DIR/playback.xml" \
    -key sink_port "$SINK_A" -i 127.0.0.1 -p "$uac" -cp "$cp" -mp "$mp" -m 1 -l 1 -nostdin \
    -timeout "$((DUR + 80))s" -trace_err -error_file "$WORK/lib.sipp.err"
SIPP_PID=$BG_PID
start_bg "$WORK/blast.out" "$WORK/rtp_blast" 1 "$SINK_B" 1 "$DUR"
BLAST_PID=$BG_PID

wait_line "$WORK/lib.lua" '^done$' $((DUR + 60)) "$LUA_PID"
wait_exit "$LUA_PID" 10
wait_exit "$BLAST_PID" 30
wait_exit "$SIPP_PID" 15
sleep 0.3
kill -TERM "$SA_PID" "$SB_PID" 2>/dev/null
wait_exit "$SA_PID" 5
wait_exit "$SB_PID" 5

if ! grep -q '^result ' "$WORK/lib.lua"; then
    echo "# the library's call produced no result"
    tail -n 20 "$WORK/lib.lua" "$WORK/lib.sipp.err" 2>/dev/null | sed 's/^/#   /'
fi
echo
printf '%-7s %8s %10s %10s %12s %10s %7s %5s\n' sender packets "span s" "ts span s" \
    "drift ms" "raw ms" ts_err lost
for who in lib blast; do
    s=$WORK/$who.sink
    if ! grep -q '^drift ' "$s"; then
        echo "$who: the sink saw no stream"
        continue
    fi
    name=luasip
    [ "$who" = blast ] && name=blast
    printf '%-7s %8s %10s %10s %12s %10s %7s %5s\n' "$name" "$(field "$s" drift packets)" \
        "$(field "$s" drift span_s)" "$(field "$s" drift ts_span_s)" "$(field "$s" drift minfilt_ms)" \
        "$(field "$s" drift raw_ms)" "$(field "$s" drift ts_err)" "$(field "$s" drift lost)"
done
echo
echo "# lowest offset per minute against the first 10 s, ms (minute:offset)"
for who in lib blast; do
    echo "$who $(sed -n 's/^drift_curve//p' "$WORK/$who.sink")"
done
r=$WORK/lib.lua
if grep -q '^result ' "$r"; then
    awk '/^result / { for (i = 1; i < NF; i++) v[$i] = $(i + 1)
        printf "# sender side: %d packets in the window of %.3f s: %.3f s of timestamps (%+.1f ms; one packet is 20 ms);" \
            " media clock lateness p50 %s p99 %s p99.9 %s max %s ms, %s ticks skipped\n",
            v["sent_window"], v["sent_wall_s"], v["sent_window"] * 0.02, (v["sent_window"] * 0.02 - v["sent_wall_s"]) * 1000,
            v["late_p50"], v["late_p99"], v["late_p999"], v["late_max"], v["skipped"] }' "$r"
fi
echo "# target: |drift| <= 1 ms after $DUR s (the 10-minute figure is the one that counts)"
exit 0
