#!/usr/bin/env bash
# Runs the busted specs with Lua 5.4 and prints "spec: N passed, N failed".
#   --asan   against a build of the module with AddressSanitizer and UBSan
set -u
cd "$(dirname "$0")/../.."
. tests/env.sh
if [ "${1:-}" = "--asan" ]; then
	mkdir -p build/asan/sip
	cc=${CC:-gcc}
	$cc -shared -fPIC -g -O1 $ASAN_FLAGS -std=gnu11 -Iinclude -Icsrc -I/usr/include/lua5.4 \
		-o build/asan/sip/core.so csrc/util/*.c csrc/sip/*.c csrc/media/*.c csrc/lua/*.c -luv -losipparser2 -lsndfile -lsamplerate -lm || {
		echo "spec: 0 passed, 1 failed"; exit 1; }
	export LUA_CPATH="$PWD/build/asan/?.so;;"
	export LD_PRELOAD="$($cc -print-file-name=libasan.so)"
	# lua_close finalises every object and then the loop (l_core.c), so
	# whatever is left at exit is a leak
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
fi
out=$(lua5.4 /usr/bin/busted -o TAP tests/spec 2>&1)
rc=$?
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" <<<"$out"; then
	echo "$out"
	echo "spec: 0 passed, 1 failed"  # a sanitizer report fails the run
	exit 1
fi
echo "$out"
pass=$(grep -cE '^ok [0-9]+' <<<"$out")
fail=$(grep -cE '^not ok [0-9]+' <<<"$out")
if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
	fail=1  # busted itself failed (a spec file that does not load, a crash)
fi
echo "spec: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
