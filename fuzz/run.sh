#!/usr/bin/env bash
# Builds the fuzzers with clang and runs each for a third of the time:
#   fuzz_msg   the SIP receive path and transactions (fuzz/fuzz_msg.c)
#   fuzz_sess  dialogs and INVITE sessions on a whole endpoint over the fake
#              transport of tests/c/fake_tp.c (fuzz/fuzz_sess.c)
#   fuzz_refer the parsers of a transfer: Refer-To and Referred-By, URI
#              headers, Replaces, sipfrag status lines (fuzz/fuzz_refer.c)
#
#   fuzz/run.sh [SECONDS]      default 60, split between the three
#
# fuzz_msg's corpus (build/fuzz/corpus) is seeded with the RFC 4475 and
# RFC 5118 torture messages (the RFC 5118 ones also in CRLF form) and
# fuzz/seeds/; fuzz_sess's (build/fuzz/corpus-sess) with fuzz/seeds-sess/;
# fuzz_refer's (build/fuzz/corpus-refer) with fuzz/seeds-refer/. They grow
# from run to run. A crash, a leak or a sanitizer report leaves its input
# in build/fuzz/ (crash-*, leak-*; sess-crash-*, sess-leak-* for fuzz_sess;
# refer-crash-*, refer-leak-* for fuzz_refer) and fails that target. Each target is one check; the last
# line is "fuzz: N passed, N failed". FUZZ_SESS_LIVENESS=1 in the
# environment makes fuzz_sess fail on an incoming call left stuck by a
# failed send too (see fuzz/fuzz_sess.c).
set -u
cd "$(dirname "$0")/.."
. tests/results.sh

seconds=${1:-60}
out=build/fuzz
mkdir -p "$out"

passed=0
failed=0

CLANG=${FUZZ_CC:-clang}
command -v "$CLANG" >/dev/null || CLANG=clang-14

# build NAME SOURCE... : the fuzzer binary $out/NAME, false when it fails
build() {
	local name=$1
	shift
	# shellcheck disable=SC2086
	"$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Wall -Wextra -Wno-unused-parameter ${FUZZ_CFLAGS:-} \
		-Iinclude -Icsrc -Itests/c "$@" -losipparser2 -luv -o "$out/$name"
}

# run NAME CORPUS PREFIX SECONDS MAX_LEN [FLAG...] : one check
run() {
	local name=$1 corpus=$2 prefix=$3 secs=$4 max_len=$5
	shift 5
	local log=$out/$name.log
	echo "fuzz: running $out/$name for ${secs}s (log: $log)"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0 \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1 \
		"$out/$name" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$prefix" \
		"$@" "$corpus" >"$log" 2>&1
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		local art
		art=$(grep -aoE "Test unit written to [^ ]+" "$log" | tail -1)
		echo "fuzz: $name: libFuzzer exited with $rc${art:+; $art}" >&2
		failed=$((failed + 1))
		return
	fi
	grep -aE '^(Done|stat::)' "$log"
	grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1
	passed=$((passed + 1))
}

third=$((seconds / 3))
[ "$third" -ge 1 ] || third=1

# ---- fuzz_msg ----
corpus=$out/corpus
mkdir -p "$corpus"
# Seeds: copies named after their source, so a re-run only refreshes them.
for f in tests/data/rfc4475/*.dat tests/data/rfc4475/rfc-archive-original/*.dat; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-4475-$(basename "$f")"
done
cp tests/data/rfc4475/rfc-archive-original/baddn.dat "$corpus/seed-4475-baddn-archive.dat" 2>/dev/null
for f in tests/data/rfc5118/*; do
	case $(basename "$f") in SOURCE.md | SHA256SUMS) continue ;; esac
	cp "$f" "$corpus/seed-5118-$(basename "$f")"
	sed 's/$/\r/' "$f" >"$corpus/seed-5118-crlf-$(basename "$f")"
done
for f in fuzz/seeds/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
if build fuzz_msg fuzz/fuzz_msg.c csrc/util/*.c csrc/sip/*.c; then
	run fuzz_msg "$corpus" "" "$third" 8192
else
	echo "fuzz: fuzz_msg: build failed" >&2
	failed=$((failed + 1))
fi

# ---- fuzz_sess ----
# The endpoint runs over the fake transport (tests/c/fake_tp.c stands in
# for transport.c and tcp.c) and the fuzzer's own rand_u64 (for rand.c),
# so that an input replays the same way.
corpus=$out/corpus-sess
mkdir -p "$corpus"
for f in fuzz/seeds-sess/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
core=()
for f in csrc/util/*.c csrc/sip/*.c; do
	case $f in
	csrc/sip/transport.c | csrc/sip/tcp.c | csrc/util/rand.c) ;;
	*) core+=("$f") ;;
	esac
done
# The words of its input format and of the headers the sessions read, so
# that mutations make directives, placeholders and session headers.
dict=$out/fuzz_sess.dict
cat >"$dict" <<'WORDS'
"\x0a@@ "
"@@ +500 "
"+32000"
"+90000"
"$CALLID"
"$TAG"
"$BRANCH"
"$CSEQ"
"$RBRANCH"
"$RCSEQ"
"$RMETHOD"
"$BRANCH_INVITE"
"$CSEQ_INVITE"
"$BRANCH_UPDATE"
"$CSEQ_UPDATE"
"$BRANCH_PRACK"
"$CSEQ_PRACK"
"$BRANCH_BYE"
"$CSEQ_BYE"
"$BRANCH_CANCEL"
"$LTAG"
"$LTAG2"
"$RSEQ"
"$LEN"
"Require: 100rel\x0d\x0a"
"Supported: 100rel, timer\x0d\x0a"
"Session-Expires: 90;refresher=uas\x0d\x0a"
"Min-SE: 90\x0d\x0a"
"RSeq: 1\x0d\x0a"
"RAck: $RSEQ 1 INVITE\x0d\x0a"
"Record-Route: <sip:p1@192.0.2.51;lr>\x0d\x0a"
"Contact: <sip:bob@192.0.2.9:5070>\x0d\x0a"
"Content-Type: application/sdp\x0d\x0a"
"Content-Type: multipart/mixed\x0d\x0a"
"Accept: text/plain\x0d\x0a"
"Require: timer\x0d\x0a"
"a=sendonly\x0d\x0a"
"a=inactive\x0d\x0a"
"c=IN IP4 0.0.0.0\x0d\x0a"
"m=audio 0 RTP/AVP 0\x0d\x0a"
"PRACK"
"UPDATE"
"CANCEL"
"BYE"
"491"
"481"
"487"
WORDS
if build fuzz_sess fuzz/fuzz_sess.c tests/c/fake_tp.c "${core[@]}"; then
	run fuzz_sess "$corpus" sess- "$third" 16384 -dict="$dict"
else
	echo "fuzz: fuzz_sess: build failed" >&2
	failed=$((failed + 1))
fi

# ---- fuzz_refer ----
corpus=$out/corpus-refer
mkdir -p "$corpus"
for f in fuzz/seeds-refer/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
# The words of the values it parses: URI headers and their escapes, the
# Replaces parameters, the headers a transfer reads, sipfrag status lines.
dict=$out/fuzz_refer.dict
cat >"$dict" <<'WORDS'
"?Replaces="
"&Subject="
"&body="
"%3B"
"%3D"
"%40"
"%0D%0A"
"%00"
";to-tag="
";from-tag="
";early-only"
"\x0d\x0aRefer-To: "
"\x0d\x0aReferred-By: "
"\x0d\x0aReplaces: "
"\x0d\x0ar: "
"\x0d\x0ab: "
"\x0d\x0aContent-Length: "
"SIP/2.0 "
"SIP/2.0 200 OK\x0d\x0a"
"\"Name\" <sip:"
"sips:"
";cid="
WORDS
if build fuzz_refer fuzz/fuzz_refer.c csrc/util/*.c csrc/sip/*.c; then
	run fuzz_refer "$corpus" refer- "$third" 4096 -dict="$dict"
else
	echo "fuzz: fuzz_refer: build failed" >&2
	failed=$((failed + 1))
fi

result_line fuzz "$passed" "$failed" 0
[ "$failed" -eq 0 ]
