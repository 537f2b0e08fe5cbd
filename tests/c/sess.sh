#!/usr/bin/env bash
# Dialogs and INVITE sessions (tests/c/test_sess.c): a real endpoint over the
# fake transport of tests/c/fake_tp.c, in virtual time. The test links the C
# core without csrc/sip/transport.c and csrc/sip/tcp.c, whose functions the
# fake defines, so it opens no socket and needs no network.
#
#   tests/c/sess.sh                    build and run
#   tests/c/sess.sh '*glare*'          only the tests whose name matches
#   CC=clang CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
#     BUILD_TAG=asan tests/c/sess.sh
#
# Ends with "sess: N passed, N failed"; exits non-zero on a failure. A binary
# that does not build, crashes, or exits non-zero with no failed case
# reported (a sanitizer report at exit, say) counts as one failure.
set -u
cd "$(dirname "$0")/../.." || exit 2

out=${BUILD_DIR:-build/tests${BUILD_TAG:+/$BUILD_TAG}}
bin=$out/test_sess
log=$out/sess.log
mkdir -p "$out"

core=()
for f in csrc/util/*.c csrc/sip/*.c; do
	case $f in
	csrc/sip/transport.c | csrc/sip/tcp.c) ;;  # replaced by the fake
	*) core+=("$f") ;;
	esac
done

# shellcheck disable=SC2086  # CFLAGS is a list of flags
if ! ${CC:-gcc} -std=gnu11 -g ${CFLAGS:--O0} -Wall -Wextra -Wno-unused-parameter \
	-Iinclude -Icsrc -Itests/c -o "$bin" tests/c/test_sess.c tests/c/fake_tp.c \
	"${core[@]}" -lcmocka -losipparser2 -luv; then
	echo "sess: 0 passed, 1 failed (build)"
	exit 1
fi

CMOCKA_MESSAGE_OUTPUT=stdout "$bin" "$@" >"$log" 2>&1
rc=$?
cat "$log"

# cmocka's summary: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), ..."
passed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
failed=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$log" | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "sess: exited with status $rc without a failed test case (crash or sanitizer report)"
	failed=1
fi
echo "sess: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
