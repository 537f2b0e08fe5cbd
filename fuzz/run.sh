#!/usr/bin/env bash
# Builds the SIP receive-path fuzzer (fuzz/fuzz_msg.c) with clang and runs it.
#
#   fuzz/run.sh [SECONDS]      default 60
#
# The corpus (build/fuzz/corpus) is seeded with the RFC 4475 and RFC 5118
# torture messages (the RFC 5118 ones also in CRLF form) and fuzz/seeds/,
# and grows from run to run. A crash, a leak or a sanitizer report leaves
# its input in build/fuzz/ (crash-*, leak-*) and fails the run. Ends with
# "fuzz: 1 passed, 0 failed" or "fuzz: 0 passed, 1 failed".
set -u
cd "$(dirname "$0")/.."

seconds=${1:-60}
out=build/fuzz
bin=$out/fuzz_msg
corpus=$out/corpus
mkdir -p "$out" "$corpus"

fail() {
	echo "fuzz: $*" >&2
	echo "fuzz: 0 passed, 1 failed"
	exit 1
}

CLANG=${FUZZ_CC:-clang}
command -v "$CLANG" >/dev/null || CLANG=clang-14
# shellcheck disable=SC2086
"$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Wno-unused-parameter ${FUZZ_CFLAGS:-} \
	-Iinclude -Icsrc fuzz/fuzz_msg.c csrc/util/*.c csrc/sip/*.c \
	-losipparser2 -luv -o "$bin" || fail "build failed"

# Seeds: copies named after their source, so a re-run only refreshes them.
for f in tests/data/rfc4475/*.dat tests/data/rfc4475/rfc-archive-original/*.dat; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-4475-$(basename "$f")"
done
cp tests/data/rfc4475/rfc-archive-original/baddn.dat "$corpus/seed-4475-baddn-archive.dat" 2>/dev/null
for f in tests/data/rfc5118/*; do
	case $(basename "$f") in SOURCE.md | SHA256SUMS) continue ;; esac
	cp "$f" "$corpus/seed-5118-$(basename "$f")"
	sed 's/$/\r/' "$f" >"$corpus/seed-5118-crlf-$(basename "$f")"
done
for f in fuzz/seeds/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done

log=$out/fuzz.log
echo "fuzz: running $bin for ${seconds}s (log: $log)"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0 \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1 \
	"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$out/" "$corpus" >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 60 "$log"
	art=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1)
	fail "libFuzzer exited with $rc${art:+; $art}"
fi
grep -E '^(Done|stat::)' "$log"
echo "fuzz: 1 passed, 0 failed"
