#!/usr/bin/env bash
# Runs every example in examples/ with no argument, where each starts its own far end in
# the same process on loopback, and checks that it finished in time and succeeded.
# (Their modes that call a given URI or answer calls need a peer and are not run here.)
#   EXAMPLE_TIMEOUT   seconds each example may take (30 by default)
set -u
cd "$(dirname "$0")/.."
. tests/env.sh
. tests/results.sh
limit=${EXAMPLE_TIMEOUT:-30}
pass=0 fail=0
for ex in examples/*.lua; do
	# --kill-after: an example that ignores SIGTERM must not hold up the suite
	out=$(timeout --kill-after=5 "$limit" lua5.4 "$ex" 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q "task failed" <<<"$out"; then
		echo "ok - $ex"
		pass=$((pass + 1))
	else
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "not ok - $ex (still running after $limit s)"
		else
			echo "not ok - $ex (exit $rc)"
		fi
		tail -30 <<<"$out"
		fail=$((fail + 1))
	fi
done
result_line examples "$pass" "$fail" 0
[ $fail -eq 0 ]
