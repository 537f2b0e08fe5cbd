#!/usr/bin/env bash
# Dialogs, INVITE sessions and subscriptions (tests/c/test_sess.c,
# tests/c/test_sub.c): a real endpoint over the fake transport of
# tests/c/fake_tp.c, in virtual time. The tests link the C core without
# csrc/sip/transport.c and csrc/sip/tcp.c, whose functions the fake
# defines, so they open no socket and need no network.
#
#   tests/c/sess.sh                    build and run both
#   tests/c/sess.sh '*glare*'          only the tests whose name matches
#   CC=clang CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
#     BUILD_TAG=asan tests/c/sess.sh
#
# Ends with "sess: N passed, N failed, N skipped" for the two together;
# exits non-zero on a failure. A binary that does not build, crashes, or
# exits non-zero with no failed case reported (a sanitizer report at exit,
# say) counts as one failure (tests/results.sh).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/results.sh

out=${BUILD_DIR:-build/tests${BUILD_TAG:+/$BUILD_TAG}}
mkdir -p "$out"

core=()
for f in csrc/util/*.c csrc/sip/*.c; do
	case $f in
	csrc/sip/transport.c | csrc/sip/tcp.c) ;;  # replaced by the fake
	*) core+=("$f") ;;
	esac
done

passed=0
failed=0
skipped=0
for name in sess sub; do
	bin=$out/test_$name
	log=$out/$name.log
	# shellcheck disable=SC2086  # CFLAGS is a list of flags
	if ! ${CC:-gcc} -std=gnu11 -g ${CFLAGS:--O0} -Wall -Wextra -Wno-unused-parameter \
		-Iinclude -Icsrc -Itests/c -o "$bin" "tests/c/test_$name.c" tests/c/fake_tp.c \
		"${core[@]}" -lcmocka -losipparser2 -luv; then
		echo "$name: build failed"
		failed=$((failed + 1))
		continue
	fi
	CMOCKA_MESSAGE_OUTPUT=stdout "$bin" "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	cmocka_tally "$log" "$rc"
	passed=$((passed + TALLY_PASSED))
	failed=$((failed + TALLY_FAILED))
	skipped=$((skipped + TALLY_SKIPPED))
done

result_line sess "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
