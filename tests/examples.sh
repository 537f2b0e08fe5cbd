#!/usr/bin/env bash
# Runs every example that needs no outside peer and checks that it finished.
# (Examples that need a peer run in the interop suite.)
set -u
cd "$(dirname "$0")/.."
. tests/env.sh
pass=0 fail=0
for ex in examples/demo.lua; do
	out=$(timeout 30 lua5.4 "$ex" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q "task failed" <<<"$out"; then
		echo "ok - $ex"
		pass=$((pass + 1))
	else
		echo "not ok - $ex (exit $rc)"
		tail -30 <<<"$out"
		fail=$((fail + 1))
	fi
done
echo "examples: $pass passed, $fail failed"
[ $fail -eq 0 ]
