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
# Ends with "sess: N passed, N failed, N skipped"; exits non-zero on a
# failure. A binary that does not build, crashes, or exits non-zero with no
# failed case reported (a sanitizer report at exit, say) counts as one
# failure (tests/results.sh).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/results.sh

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
	echo "sess: build failed"
	result_line sess 0 1 0
	exit 1
fi

CMOCKA_MESSAGE_OUTPUT=stdout "$bin" "$@" >"$log" 2>&1
rc=$?
cat "$log"

cmocka_tally "$log" "$rc"
result_line sess "$TALLY_PASSED" "$TALLY_FAILED" "$TALLY_SKIPPED"
[ "$rc" -eq 0 ] && [ "$TALLY_FAILED" -eq 0 ]
