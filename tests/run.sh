#!/usr/bin/env bash
# Runs every suite and ends with one line: "N passed, N failed".
#   tests/run.sh           all suites (what `make test` runs)
#   tests/run.sh --asan    the C suites and the Lua specs under ASan + UBSan
#   tests/run.sh NAME...   only the named suites (c torture spec examples interop fuzz asan)
# Each suite prints its own "name: N passed, N failed" line last; a suite
# that dies without one counts as one failure.
set -u
cd "$(dirname "$0")/.."
. tests/env.sh
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"

export ASAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1"

suite_c()        { bash tests/c/run.sh; }
suite_sess()     { bash tests/c/sess.sh; }
suite_torture()  { bash tests/c/torture.sh; }
suite_spec()     { bash tests/spec/run.sh; }
suite_examples() { bash tests/examples.sh; }
suite_interop()  { bash tests/interop/run.sh; }
suite_fuzz()     { bash fuzz/run.sh "${FUZZ_SECONDS:-30}"; bash fuzz/run_rtp.sh "${FUZZ_SECONDS:-30}"; }
suite_asan() {
	# the same C suites built with the sanitizers, then the Lua specs
	# against a sanitized build of the module
	CFLAGS="$ASAN_FLAGS" BUILD_TAG=asan bash tests/c/run.sh 2>&1 | sed 's/^c:/asan-c:/'
	CFLAGS="$ASAN_FLAGS" BUILD_TAG=asan bash tests/c/sess.sh 2>&1 | sed 's/^sess:/asan-sess:/'
	CFLAGS="$ASAN_FLAGS" BUILD_TAG=asan bash tests/c/torture.sh 2>&1 | sed 's/^torture:/asan-torture:/'
	bash tests/spec/run.sh --asan 2>&1 | sed 's/^spec:/asan-spec:/'
}

if [ "${1:-}" = "--asan" ]; then
	set -- asan
elif [ $# -eq 0 ]; then
	set -- c sess torture spec examples interop fuzz asan
fi

total_pass=0
total_fail=0
for name in "$@"; do
	log="$LOGDIR/$name.log"
	echo "=== $name"
	timeout --kill-after=10 900 bash -c "$(declare -f suite_$name); suite_$name" 2>&1 | tee "$log"
	# every "x: N passed, N failed" line counts (the asan suite has three)
	counted=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" || true)
	if [ -z "$counted" ]; then
		echo "$name: no result line: counted as failed (log: $log)" | tee -a "$log"
		total_fail=$((total_fail + 1))
		continue
	fi
	while read -r _ p _ f _; do
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
	done <<<"$counted"
done
# the failures again, so that the tail of a long run says which checks failed
if [ "$total_fail" -ne 0 ]; then
	echo
	echo "failed:"
	for name in "$@"; do
		grep -E '^(not ok|\[  FAILED  \] [a-z]|[a-z_-]+: (no result line|build failed|exited with|.*libFuzzer exited))' \
			"$LOGDIR/$name.log" 2>/dev/null |
			head -20 | sed "s/^/  $name: /"
	done
fi
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
