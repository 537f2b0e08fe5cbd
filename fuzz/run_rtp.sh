#!/usr/bin/env bash
# Builds the RTP fuzzer with clang and runs it:
#   fuzz_rtp   RTP/RTCP packet parsing (rtp_decode, te_decode, G.711, the
#              in-band DTMF detector) and the receive path of an RTP stream
#              (csrc/media/stream.c) without sockets (fuzz/fuzz_rtp.c)
#
#   fuzz/run_rtp.sh [SECONDS]      default 30
#
# The corpus (build/fuzz/corpus-rtp) is seeded with fuzz/seeds-rtp/ and
# grows from run to run. A crash, a leak or a sanitizer report leaves its
# input in build/fuzz/ (rtp-crash-*, rtp-leak-*) and fails the target. The
# target is one check; the last line is "fuzz-rtp: N passed, N failed".
# The build and run lines are those of fuzz/run.sh.
set -u
cd "$(dirname "$0")/.."
. tests/results.sh

seconds=${1:-30}
out=build/fuzz
mkdir -p "$out"

passed=0
failed=0

CLANG=${FUZZ_CC:-clang}
command -v "$CLANG" >/dev/null || CLANG=clang-14

build() {
	local name=$1
	shift
	# shellcheck disable=SC2086
	"$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Wall -Wextra -Wno-unused-parameter ${FUZZ_CFLAGS:-} \
		-Iinclude -Icsrc "$@" -luv -lm -o "$out/$name"
}

run() {
	local name=$1 corpus=$2 prefix=$3 secs=$4 max_len=$5
	shift 5
	local log=$out/$name.log
	echo "fuzz-rtp: running $out/$name for ${secs}s (log: $log)"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0 \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1 \
		"$out/$name" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$prefix" \
		"$@" "$corpus" >"$log" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		local art
		art=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1)
		echo "fuzz-rtp: $name: libFuzzer exited with $rc${art:+; $art}" >&2
		failed=$((failed + 1))
		return
	fi
	grep -E '^(Done|stat::)' "$log"
	grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1
	passed=$((passed + 1))
}

corpus=$out/corpus-rtp
mkdir -p "$corpus"
for f in fuzz/seeds-rtp/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
# The stream and the parsers with what they need of the core: addresses
# (sip/addr.c) and memory; the socket, the clock and rand_u64 are the
# fuzzer's own (see fuzz/fuzz_rtp.c), so rtp_sock.c, mclock.c and
# util/rand.c stay out.
src=(csrc/media/stream.c csrc/media/port.c csrc/media/rtp.c csrc/media/rtcp.c csrc/media/jbuf.c
	csrc/media/dtmf.c csrc/media/g711.c
	csrc/sip/addr.c csrc/util/mem.c csrc/util/slab.c)
# Words of the input format and of the packets: op bytes with a length (RTP
# from the peer, ticks, digits, RTCP), version-2 first octets, RTCP packet
# types (SR, RR, BYE), telephone-event payloads.
dict=$out/fuzz_rtp.dict
cat >"$dict" <<'WORDS'
"\x00\x00\x0c"
"\x00\x00\x10"
"\x00\x00\xac"
"\x03\x00\x01"
"\x04\x00\x01"
"\x05\x00\x04"
"\x06\x00\x00"
"\x07\x00\x20"
"\x80\x00"
"\x80\x08"
"\x80\x65"
"\x80\xe5"
"\x90\x00"
"\xa0\x00"
"\x81\xc8"
"\x81\xc9"
"\x81\xcb"
"\x8a\x0a\x03\x20"
"\x05\x8a\x00\xa0"
"1234567890*#ABCD"
WORDS
if build fuzz_rtp fuzz/fuzz_rtp.c "${src[@]}"; then
	run fuzz_rtp "$corpus" rtp- "$seconds" 4096 -dict="$dict"
else
	echo "fuzz-rtp: fuzz_rtp: build failed" >&2
	failed=$((failed + 1))
fi

result_line fuzz-rtp "$passed" "$failed" 0
[ "$failed" -eq 0 ]
