#!/usr/bin/env bash
# Runs the busted specs with Lua 5.4 and prints "spec: N passed, N failed,
# N skipped" (a pending spec is a skip: busted's TAP prints it "ok N - # SKIP").
#   --asan   against a build of the module with AddressSanitizer and UBSan
set -u
cd "$(dirname "$0")/../.."
. tests/env.sh
. tests/results.sh
if [ "${1:-}" = "--asan" ]; then
	mkdir -p build/asan/sip
	cc=${CC:-gcc}
	$cc -shared -fPIC -g -O1 $ASAN_FLAGS -std=gnu11 -Iinclude -Icsrc -I/usr/include/lua5.4 \
		-o build/asan/sip/core.so csrc/util/*.c csrc/sip/*.c csrc/media/*.c csrc/lua/*.c -luv -losipparser2 -lsndfile -lsamplerate -lm || {
		echo "spec: build failed"; result_line spec 0 1 0; exit 1; }
	export LUA_CPATH="$PWD/build/asan/?.so;;"
	export LD_PRELOAD="$($cc -print-file-name=libasan.so)"
	# lua_close finalises every object and then the loop (l_core.c), so
	# whatever is left at exit is a leak
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
fi
# The specs bind their endpoints on loopback, some to ports they pick
# (a port where nothing listens, an RTP range, SIPp's): in a private
# network namespace nothing else on the machine can take those ports
# between the pick and the bind, and no packet leaves it. Without one
# (no unshare here) they run on the host loopback.
netns=()
for flags in -n -rn; do
	if unshare $flags sh -c 'ip link set lo up' >/dev/null 2>&1; then
		netns=(unshare "$flags" sh -c 'ip link set lo up && exec "$0" "$@"')
		break
	fi
done
[ ${#netns[@]} -gt 0 ] || echo "spec: no private network namespace, on the host loopback"
out=$("${netns[@]}" lua5.4 /usr/bin/busted -o TAP tests/spec 2>&1)
rc=$?
echo "$out"
skip=$(grep -cE '^ok [0-9]+ - # SKIP' <<<"$out")
pass=$(($(grep -cE '^ok [0-9]+' <<<"$out") - skip))
fail=$(grep -cE '^not ok [0-9]+' <<<"$out")
if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "spec: busted exited with status $rc and no failed spec (a file that does not load, a crash)"
	fail=1
fi
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" <<<"$out"; then
	echo "spec: a sanitizer report (above) fails the run"
	fail=$((fail + 1))
fi
result_line spec "$pass" "$fail" "$skip"
[ "$fail" -eq 0 ]
