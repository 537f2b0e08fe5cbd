# Sourced by the suite runners: one way to count results and to print the
# line that tests/run.sh reads from every suite,
#   NAME: N passed, N failed, N skipped
# A suite prints exactly one such line per name it reports under (see
# tests/expected-results, which says how many results each adds up to).
# shellcheck shell=bash

# result_line NAME PASSED FAILED SKIPPED
result_line() {
	echo "$1: $2 passed, $3 failed, $4 skipped"
}

# cmocka_tally LOG RC: sets TALLY_PASSED, TALLY_FAILED and TALLY_SKIPPED from
# the summary cmocka printed in LOG for a binary that exited with RC. cmocka's
# own count of passed cases leaves out the skipped ones. A binary that exits
# non-zero without a failed case (a crash, a sanitizer report at exit) counts
# as one failure; so does one that ran fewer cases than it announced, which
# cmocka does not report when it is killed between two cases.
cmocka_tally() {
	local log=$1 rc=$2 announced
	TALLY_PASSED=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
	TALLY_FAILED=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
	TALLY_SKIPPED=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) test\(s\), listed below.*/\1/p' "$log" | tail -n 1)
	announced=$(sed -nE 's/^\[==========\] Running ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
	TALLY_PASSED=${TALLY_PASSED:-0}
	TALLY_FAILED=${TALLY_FAILED:-0}
	TALLY_SKIPPED=${TALLY_SKIPPED:-0}
	if [ "$rc" -ne 0 ] && [ "$TALLY_FAILED" -eq 0 ]; then
		echo "$(basename "$log" .log): exited with status $rc without a failed test case (crash or sanitizer report)"
		TALLY_FAILED=1
	fi
	local counted=$((TALLY_PASSED + TALLY_FAILED + TALLY_SKIPPED))
	if [ -n "$announced" ] && [ "$counted" -lt "$announced" ]; then
		echo "$(basename "$log" .log): $counted of the $announced announced test cases reported"
		TALLY_FAILED=$((TALLY_FAILED + announced - counted))
	fi
}
