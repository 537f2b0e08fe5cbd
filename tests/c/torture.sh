#!/usr/bin/env bash
# The RFC 4475 / RFC 5118 torture messages through a real endpoint on
# loopback (tests/c/test_torture.c). The messages name public hosts, and a
# UDP answer goes to the port of the top Via, so the suite runs in a private
# network namespace: no message can leave the machine and no port collides.
#
#   tests/c/torture.sh                 build and run
#   CC=clang CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
#     BUILD_TAG=asan tests/c/torture.sh
#
# Ends with "torture: N passed, N failed, N skipped"; exits non-zero on a
# failure.
set -u
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$self")/../.."
. tests/results.sh

if [ "${TORTURE_IN_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		exec env TORTURE_IN_NETNS=1 unshare -n bash "$self" "$@"
	elif unshare -rn true 2>/dev/null; then
		exec env TORTURE_IN_NETNS=1 unshare -rn bash "$self" "$@"
	fi
	# Without a namespace the fixed client ports (5060 ...) may be taken
	# and answers could address public hosts: refuse rather than flake.
	echo "torture: cannot make a private network namespace (unshare -n)" >&2
	result_line torture 0 1 0
	exit 1
fi
ip link set lo up || { result_line torture 0 1 0; exit 1; }

out=build/tests${BUILD_TAG:+/$BUILD_TAG}
bin=$out/test_torture
mkdir -p "$out"
# shellcheck disable=SC2086  # CFLAGS is a list of flags
if ! ${CC:-gcc} -std=gnu11 -g -Wall -Wextra -Wno-unused-parameter ${CFLAGS:-} \
	-Iinclude -Icsrc tests/c/test_torture.c csrc/util/*.c csrc/sip/*.c \
	-lcmocka -losipparser2 -luv -o "$bin"; then
	echo "torture: build failed"
	result_line torture 0 1 0
	exit 1
fi

log=$out/torture.log
"$bin" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

cmocka_tally "$log" "$rc"
result_line torture "$TALLY_PASSED" "$TALLY_FAILED" "$TALLY_SKIPPED"
[ "$rc" -eq 0 ] && [ "$TALLY_FAILED" -eq 0 ]
