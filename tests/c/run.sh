#!/usr/bin/env bash
# Builds and runs the C unit tests (cmocka, virtual time, no network).
#
#   bash tests/c/run.sh                 every tests/c/test_*.c without a runner
#                                       of its own (test_torture.c: torture.sh;
#                                       test_sess.c, test_sub.c: sess.sh)
#   bash tests/c/run.sh ctrans msg      only test_ctrans.c and test_msg.c
#   CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
#       bash tests/c/run.sh             the same under ASan + UBSan
#
# Each test_x.c is compiled with tests/c/fake.c and the C core into
# build/tests/test_x (build/tests/$BUILD_TAG/test_x with BUILD_TAG set, as
# tests/run.sh --asan does; BUILD_DIR overrides both). The last line of output is
# "c: N passed, N failed, N skipped", counting cmocka test cases; a binary that
# does not build, crashes, or exits non-zero with no failed case reported (a
# sanitizer report at exit, say) counts as one failure, and the cases it
# announced and did not report count as failed too (tests/results.sh). Exits
# non-zero on any failure.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
. tests/results.sh

CC=${CC:-gcc}
CFLAGS=${CFLAGS:--O0}
BUILD_DIR=${BUILD_DIR:-build/tests${BUILD_TAG:+/$BUILD_TAG}}
WARN="-Wall -Wextra -Wno-unused-parameter"
LIBS="-lcmocka -losipparser2 -luv -lsndfile -lsamplerate -lm"

# shellcheck disable=SC2206
core=(csrc/util/*.c csrc/sip/*.c csrc/media/*.c)

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do tests+=("tests/c/test_${t#test_}.c"); done
else
	# A test with a runner of its own (tests/c/x.sh for test_x.c, such as
	# torture.sh, which needs a network namespace) is left to that runner.
	tests=()
	for src in tests/c/test_*.c; do
		name=$(basename "$src" .c)
		[ -f "tests/c/${name#test_}.sh" ] && continue
		[ "$name" = test_sub ] && continue  # over the fake transport: sess.sh
		tests+=("$src")
	done
fi

# Each binary runs in a private network namespace of its own when one can be
# made (unshare -n as root, else unshare -rn): test_rtp_sock.c binds and
# asserts free a range of ports, which on the shared host other processes
# may hold. Without one, the binaries run on the host's network.
netns=()
for flags in -n -rn; do
	if unshare $flags sh -c 'ip link set lo up' >/dev/null 2>&1; then
		netns=(unshare "$flags" sh -c 'ip link set lo up && exec "$0"')
		break
	fi
done
[ ${#netns[@]} -eq 0 ] && echo "# no private network namespace: the tests use the host's ports"

mkdir -p "$BUILD_DIR"
passed=0
failed=0
skipped=0
export CMOCKA_MESSAGE_OUTPUT=stdout

for src in "${tests[@]}"; do
	name=$(basename "$src" .c)
	bin="$BUILD_DIR/$name"
	log="$BUILD_DIR/$name.log"
	# shellcheck disable=SC2086
	if ! $CC -std=gnu11 -g $CFLAGS $WARN -Iinclude -Icsrc -Itests/c -o "$bin" \
		"$src" tests/c/fake.c "${core[@]}" $LIBS; then
		echo "$name: build failed"
		failed=$((failed + 1))
		continue
	fi
	"${netns[@]}" "$bin" >"$log" 2>&1
	rc=$?
	cat "$log"
	cmocka_tally "$log" "$rc"
	passed=$((passed + TALLY_PASSED))
	failed=$((failed + TALLY_FAILED))
	skipped=$((skipped + TALLY_SKIPPED))
done

result_line c "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
