#!/usr/bin/env bash
# Runs every suite and ends with one line: "N passed, N failed, N skipped".
#   tests/run.sh           all suites (what `make test` runs)
#   tests/run.sh --asan    the C suites and the Lua specs under ASan + UBSan
#   tests/run.sh NAME...   only the named suites (c sess torture spec examples
#                          interop fuzz asan)
#
# A result is one check a suite reports: a cmocka case, a busted spec, an
# example, an interop check, a fuzz target. Each suite prints one line
#   NAME: N passed, N failed, N skipped
# per name it reports under (the asan suite reports four: asan-c, asan-sess,
# asan-torture, asan-spec). tests/expected-results says how many results each
# line adds up to; the sanitizer runs must add up to the plain runs' counts.
# So a suite that dies, hangs until its time limit, or loses some of its tests
# is a failure that names itself, not a shorter list of passes.
#
# With no NAME (make test) every peer is installed, so a spec that would be
# pending for a missing peer fails instead (LUASIP_REQUIRE_PEERS=1).
set -u
cd "$(dirname "$0")/.."
. tests/env.sh
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"

export ASAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1"

SUITE_LIMIT=900  # seconds; a suite still running then is stopped and fails

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

# The result lines each suite must print.
declare -A SUITE_LINES=(
	[c]=c [sess]=sess [torture]=torture [spec]=spec [examples]=examples
	[interop]=interop [fuzz]="fuzz fuzz-rtp"
	[asan]="asan-c asan-sess asan-torture asan-spec"
)

# How many results each line must add up to; asan-NAME as many as NAME.
declare -A EXPECTED=()
while read -r name count _; do
	case $name in "" | "#"*) continue ;; esac
	EXPECTED[$name]=$count
done <tests/expected-results

if [ "${1:-}" = "--asan" ]; then
	set -- asan
elif [ $# -eq 0 ]; then
	set -- c sess torture spec examples interop fuzz asan
	export LUASIP_REQUIRE_PEERS=1
fi

total_pass=0
total_fail=0
total_skip=0
problems=()  # failures the runner found itself, shown again at the end

# problem SUITE WHY: one failure that is the suite's as a whole.
problem() {
	echo "$1: $2" | tee -a "$LOGDIR/$1.log"
	problems+=("$1: $2")
	total_fail=$((total_fail + 1))
}

# tally SUITE RC: adds up the result lines of the suite's log and holds each
# against what is expected of it.
tally() {
	local suite=$1 rc=$2 line name p f s n want seen=" " failed=0
	while IFS= read -r line; do
		[[ $line =~ ^([a-z-]+):\ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]] || continue
		name=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]} f=${BASH_REMATCH[3]} s=${BASH_REMATCH[5]:-0}
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		total_skip=$((total_skip + s))
		failed=$((failed + f))
		case " ${SUITE_LINES[$suite]} " in
		*" $name "*) ;;
		*) problem "$suite" "an unexpected result line \"$name\" (not in tests/run.sh's list for $suite)"; continue ;;
		esac
		case $seen in *" $name "*)
			problem "$suite" "\"$name\" reported its results twice"; continue ;;
		esac
		seen+="$name "
		n=$((p + f + s))
		want=${EXPECTED[$name]:-${EXPECTED[${name#asan-}]:-}}
		if [ "$want" = any ]; then
			:
		elif [ -z "$want" ]; then
			problem "$suite" "tests/expected-results has no count for \"$name\""
		elif [ "$n" -lt "$want" ]; then
			problem "$suite" "$name reported $n results of the $want expected (tests/expected-results)"
		elif [ "$n" -gt "$want" ] && [ "$f" -eq 0 ]; then
			problem "$suite" "$name reported $n results, tests/expected-results says $want: update it"
		fi
	done <"$LOGDIR/$suite.log"
	for name in ${SUITE_LINES[$suite]}; do
		case $seen in *" $name "*) ;; *)
			problem "$suite" "$name printed no result line (${EXPECTED[$name]:-${EXPECTED[${name#asan-}]:-?}} results expected)" ;;
		esac
	done
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		problem "$suite" "stopped after its time limit of $SUITE_LIMIT s"
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		problem "$suite" "exited with status $rc, and no result line says why"
	fi
}

for suite in "$@"; do
	if [ -z "${SUITE_LINES[$suite]:-}" ]; then
		echo "tests/run.sh: no suite \"$suite\" (c sess torture spec examples interop fuzz asan)" >&2
		exit 2
	fi
	log="$LOGDIR/$suite.log"
	echo "=== $suite"
	timeout --kill-after=10 "$SUITE_LIMIT" bash -c "$(declare -f suite_$suite); suite_$suite" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$suite" = interop ] && [ -n "${INTEROP_ONLY:-}" ]; then
		EXPECTED[interop]=any  # a developer's shortcut: only some groups ran
	fi
	tally "$suite" "$rc"
done
# the failures again, so that the tail of a long run says which checks failed
if [ "$total_fail" -ne 0 ]; then
	echo
	echo "failed:"
	for suite in "$@"; do
		grep -E '^(not ok|\[  FAILED  \] [a-z]|[a-z_-]+: (build failed|exited with|.*libFuzzer exited|.* announced test cases reported|busted exited|a sanitizer report))' \
			"$LOGDIR/$suite.log" 2>/dev/null |
			head -20 | sed "s/^/  $suite: /"
	done
	for line in "${problems[@]}"; do echo "  $line"; done
fi
echo
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
