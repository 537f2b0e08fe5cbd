/* libFuzzer target: dialogs and INVITE sessions on a whole endpoint.
 *
 * A real struct sip_ua (csrc/sip/ua.c, stack, dialogs, sessions) runs over
 * the fake transport of tests/c/fake_tp.c in virtual time, as the session
 * tests do. We are alice at 192.0.2.1:5060 (UDP and TCP); every message of
 * the input comes from 192.0.2.9:5070 and goes through the receive path
 * (sip_msg_decode, m->src, sip_stack_recv). An INVITE is taken with
 * sip_sess_accept; the input also places one call (sip_sess_connect) and
 * rings, answers, rejects, hangs up, modifies and releases the calls, with
 * time moved on between the messages. At the end every call is released,
 * the endpoint closed, time run far on, and the endpoint must hold no
 * reference but ours and no timer may be left; LeakSanitizer checks that
 * all memory went.
 *
 * The input is text cut at lines that begin with "@@": the bytes before
 * the first such line are a message, and each "@@" line is a directive
 * followed by the next message (which may be empty). A directive is read
 * left to right:
 *
 *   +N   move time on by N ms, each timer firing at its own time
 *   0-8  the call the letters after it act on: 0 ours (the outgoing one),
 *        1-8 the incoming ones in the order they were taken; by default
 *        the last one taken, or 0 when none was
 *   /    messages come over TCP from now on (again: UDP)
 *   c l  place our call, call 0 (c: offer in the INVITE, l: late offer)
 *   r p a  180, 183 with SDP, 200
 *   j k w  reject: 486, 302 with a Contact, 603
 *   h x  hang up; release (the owner lets go)
 *   i s n  re-INVITE: sendrecv, sendonly, inactive
 *   u v  UPDATE: sendrecv, recvonly
 *   q o  INFO, OPTIONS in the call
 *   y    answer (200) the request the call holds: a request in a call
 *        other than INVITE, UPDATE, PRACK, BYE is answered by its CSeq
 *        modulo 4: 200, 200 with a body, 488, or held for y or the end
 *   z    close the endpoint
 *   e    every send fails from now on (again: they go through), as a
 *        transport that lost its network
 *   A-Z  the same, done in the next callback of that call instead of now
 *        (as a Lua handler that acts from inside an event); "@@ 1RA"
 *        before an INVITE rings and answers it from within the accept
 *
 * Bare LF line ends become CRLF, then these are replaced:
 *   $CALLID $TAG $BRANCH $CSEQ   our latest INVITE outside a dialog (the
 *                                call we place): Call-ID, From tag, branch,
 *                                CSeq number
 *   $RBRANCH $RCSEQ $RMETHOD     the latest request we sent, ACK aside
 *   $BRANCH_X $CSEQ_X            the latest X we sent, X one of INVITE,
 *                                UPDATE, PRACK, BYE, INFO, OPTIONS, CANCEL
 *   $LTAG $LTAG1 .. $LTAG8       our To tag of the last incoming call taken,
 *                                or of call 1-8
 *   $RSEQ                        the RSeq of our latest reliable 1xx
 *   $LEN                         the length of the body (what follows the
 *                                first empty line), for Content-Length
 * so seeds read like the message flows they are (fuzz/seeds-sess/).
 *
 * Randomness (tags, branches, Call-IDs, the glare wait) comes from a
 * generator reset for every input: this file defines rand_u64 and rand_hex
 * in place of csrc/util/rand.c, so an input replays the same way.
 *
 * FUZZ_SESS_TRACE=1 in the environment prints what goes in and out, to
 * see what a seed reaches. An input that leaves an incoming call stuck (not
 * up, not ended, and nothing left that could end it) fails, unless a send
 * failed in it: a 2xx that fails to go out (op e) does that today, and the
 * fuzzer would stop there every run. FUZZ_SESS_LIVENESS=1 checks those
 * inputs too. fuzz/run.sh builds and runs it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "fake_tp.h"

#include "sip/sess_priv.h"
#include "sip/ua_priv.h"
#include "util/mem.h"
#include "util/rand.h"
#include "util/sbuf.h"

#define OUR_HOST "192.0.2.1"
#define PEER_HOST "192.0.2.9"
#define PEER_PORT 5070
#define PEER_URI "sip:bob@192.0.2.9:5070"

#define MAX_IN_BYTES 65536
#define MAX_MSG 65535
#define MAX_CHUNKS 64
#define NSLOTS 9            /* 0: our call; 1-8: incoming */
#define SPARE NSLOTS        /* an incoming call with no slot free: taken, let go */
#define MAX_ADVANCE (100ull * 1000 * 1000)  /* per +N: beyond a day (86400 s timers) */
#define MAX_SESSIONS 5      /* so that the 503 of a full endpoint is reachable */

/* ---- randomness that replays ---- */

static uint64_t rng;

uint64_t rand_u64(void)
{
	/* splitmix64: any fixed sequence does, it only has to repeat */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rand_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = rand_u64();
		buf[i] = hex[r & 15];
		r >>= 4;
	}
	buf[n] = '\0';
}

/* ---- the harness ---- */

struct slot {
	struct sip_sess *s;         /* the owner's reference, or NULL */
	char react[16];             /* ops for its next callback */
	char ltag[64];              /* our To tag (incoming) */
	struct sip_uac *req;        /* our INFO / OPTIONS in the call */
	struct sip_strans *held;    /* a request of the call left unanswered */
};

/* What we sent, for the placeholders. */
#define VAL 128
static const char *const tracked[] = { "INVITE", "UPDATE", "PRACK", "BYE", "INFO", "OPTIONS",
	"CANCEL" };
#define NTRACKED (sizeof(tracked) / sizeof(tracked[0]))

struct seen {
	size_t scanned;             /* fake_tp records looked at */
	char call_id[VAL], tag[VAL], branch[VAL], cseq[VAL];
	char rbranch[VAL], rcseq[VAL], rmethod[VAL];
	char m_branch[NTRACKED][VAL], m_cseq[NTRACKED][VAL];
	char rseq[VAL];
};

struct fuzz {
	struct sip_loop loop;       /* only its tmrq: the fake has no uv */
	struct sip_ua *ua;
	struct slot slots[NSLOTS + 1];
	int last_in;                /* the slot of the last incoming call taken, 0 none */
	enum sip_proto proto;       /* what the messages come over */
	bool send_failed;           /* op e made sends fail at some point */
	struct seen seen;
};

static struct fuzz F;
static bool trace;
static bool liveness;       /* FUZZ_SESS_LIVENESS: see live_check */

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_sess: %s\n", what);
		abort();
	}
}

static void scan_sent(void);

static void tracef(const char *fmt, ...)
{
	if (!trace)
		return;
	scan_sent();  /* what went out before this, printed first */
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "[%8llu] ", (unsigned long long)F.loop.tq.now);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int slot_index(const struct slot *sl)
{
	return (int)(sl - F.slots);
}

static void run_ops(const char *p, size_t n, int target, bool in_callback);

/* The ops armed for a call's next callback: taken first, so that what
 * they cause cannot run them again. */
static void react(struct slot *sl)
{
	if (!sl->react[0])
		return;
	char ops[sizeof(sl->react)];
	memcpy(ops, sl->react, sizeof(ops));
	sl->react[0] = '\0';
	run_ops(ops, strlen(ops), slot_index(sl), true);
}

/* ---- session handlers ---- */

static void h_progress(void *arg, const struct sip_msg *resp)
{
	tracef("call %d: progress %d\n", slot_index(arg), resp->status);
	react(arg);
}

static void h_established(void *arg, const struct sip_msg *msg)
{
	tracef("call %d: established\n", slot_index(arg));
	react(arg);
}

static void h_modified(void *arg)
{
	tracef("call %d: modified\n", slot_index(arg));
	react(arg);
}

static void h_modify_done(void *arg, int err, const struct sip_msg *resp)
{
	tracef("call %d: modify_done %d %d\n", slot_index(arg), err, resp ? resp->status : 0);
	react(arg);
}

static void h_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct slot *sl = arg;
	tracef("call %d: request %s\n", slot_index(sl), req->method);
	/* the CSeq picks the answer, so an input can reach each */
	switch (req->cseq % 4) {
	case 0:
		sip_strans_reply(st, 200, NULL, NULL, NULL, 0);
		break;
	case 1:
		sip_strans_reply(st, 200, NULL, "Content-Type: text/plain\r\n", "ok\r\n", 4);
		break;
	case 2:
		sip_strans_reply(st, 488, NULL, NULL, NULL, 0);
		break;
	case 3:
		/* held: answered by op y or at the end; after the endpoint
		 * closed (op z) that answer finds the transaction gone */
		if (sl->held) {
			sip_strans_reply(sl->held, 200, NULL, NULL, NULL, 0);
			mem_deref(sl->held);
		}
		sl->held = mem_ref(st);
		break;
	}
	react(sl);
}

static void h_ended(void *arg, enum sip_sess_end why, int status, const char *reason,
		    const struct sip_msg *msg)
{
	tracef("call %d: ended %s %d %s\n", slot_index(arg), sip_sess_end_name(why), status,
	       reason ? reason : "");
	react(arg);
}

static const struct sip_sess_handlers sess_h = {
	.progress = h_progress,
	.established = h_established,
	.modified = h_modified,
	.modify_done = h_modify_done,
	.request = h_request,
	.ended = h_ended,
};

/* ---- endpoint handlers ---- */

static void release_slot(struct slot *sl)
{
	struct sip_sess *s = sl->s;
	sl->s = NULL;
	sl->react[0] = '\0';
	sip_uac_release(sl->req);
	sl->req = NULL;
	sip_sess_release(s);
}

static struct slot *free_slot(void)
{
	for (int i = 1; i < NSLOTS; i++)
		if (!F.slots[i].s)
			return &F.slots[i];
	/* a call that is over makes room */
	for (int i = 1; i < NSLOTS; i++)
		if (F.slots[i].s->state == SIP_SESS_ENDED) {
			release_slot(&F.slots[i]);
			return &F.slots[i];
		}
	return &F.slots[SPARE];
}

static void ua_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	if (!sip_method_is(req, "INVITE")) {
		sip_strans_reply(st, req->cseq % 2 ? 202 : 403, NULL, NULL, NULL, 0);
		return;
	}
	struct slot *sl = free_slot();
	union sa rtp;
	sa_set(&rtp, OUR_HOST, (uint16_t)(40000 + 2 * slot_index(sl)));
	struct sip_sess *s = NULL;
	int err = sip_sess_accept(&s, F.ua, st, req, &rtp, &sess_h, sl);
	tracef("accept into %d: %d\n", slot_index(sl), err);
	if (err)
		return;
	sl->s = s;
	snprintf(sl->ltag, sizeof(sl->ltag), "%s", sip_strans_to_tag(st) ? sip_strans_to_tag(st) : "");
	if (sl == &F.slots[SPARE]) {
		release_slot(sl);  /* more calls than we keep: let go at once (480) */
		return;
	}
	F.last_in = slot_index(sl);
	react(sl);  /* what was armed for this slot: from within the INVITE's handling */
}

static bool ua_handles(void *arg, const char *method)
{
	return strcmp(method, "INVITE") == 0 || strcmp(method, "MESSAGE") == 0;
}

/* As sip.trace would see every message: only so that the endpoint's
 * trace calls run too. */
static void ua_trace(void *arg, bool out, enum sip_proto proto, const union sa *peer,
		     const char *buf, size_t len)
{
}

static const struct sip_ua_handlers ua_h = {
	.request = ua_request,
	.handles = ua_handles,
	.trace = ua_trace,
};

/* ---- what the input does ---- */

static void on_req_answer(int err, const struct sip_msg *resp, void *arg)
{
	struct slot *sl = arg;
	if (err || resp->status >= 200) {
		struct sip_uac *u = sl->req;
		sl->req = NULL;
		sip_uac_release(u);
	}
}

static void send_request(struct slot *sl, const char *method)
{
	sip_uac_release(sl->req);  /* no more word of the last one */
	sl->req = NULL;
	if (strcmp(method, "INFO") == 0)
		sip_sess_request(sl->s, &sl->req, method, "Content-Type: application/dtmf-relay\r\n",
				 "Signal=5\r\nDuration=160\r\n", 25, on_req_answer, sl);
	else
		sip_sess_request(sl->s, &sl->req, method, NULL, NULL, 0, on_req_answer, sl);
}

static void connect_call(bool late_offer)
{
	struct slot *sl = &F.slots[0];
	if (sl->s)
		return;
	struct sip_sess_params p = {
		.uri = PEER_URI,
		.user = "alice",
		.password = "secret",  /* so that a 401/407 gets answered */
		.late_offer = late_offer,
		.headers = late_offer ? "Subject: late\r\n" : NULL,
	};
	sa_set(&p.rtp, OUR_HOST, 40000);
	int err = sip_sess_connect(&sl->s, F.ua, &p, &sess_h, sl);
	tracef("connect: %d\n", err);
	if (err)
		sl->s = NULL;
}

static void do_op(int target, char op)
{
	struct slot *sl = &F.slots[target];
	int err = 0;
	if (op == 'z') {
		tracef("op z: close the endpoint\n");
		sip_ua_close(F.ua);
		return;
	}
	if (op == 'c' || op == 'l') {
		connect_call(op == 'l');  /* always call 0, whatever the target */
		return;
	}
	if (op == 'e') {
		fake_tp.send_err = fake_tp.send_err ? 0 : -ENETUNREACH;
		F.send_failed = true;
		tracef("op e: sends %s\n", fake_tp.send_err ? "fail" : "go");
		return;
	}
	if (op == 'y') {
		if (sl->held) {
			sip_strans_reply(sl->held, 200, NULL, NULL, NULL, 0);
			sl->held = mem_deref(sl->held);
		}
		return;
	}
	struct sip_sess *s = sl->s;
	if (!s)
		return;
	switch (op) {
	case 'r': err = sip_sess_ring(s); break;
	case 'p': err = sip_sess_progress(s); break;
	case 'a': err = sip_sess_answer(s); break;
	case 'j': err = sip_sess_reject(s, 486, NULL, NULL); break;
	case 'k': err = sip_sess_reject(s, 302, NULL, "Contact: <sip:carol@192.0.2.7>\r\n"); break;
	case 'w': err = sip_sess_reject(s, 603, "Decline", NULL); break;
	case 'h': err = sip_sess_hangup(s); break;
	case 'i': err = sip_sess_modify(s, SDP_SENDRECV, false); break;
	case 's': err = sip_sess_modify(s, SDP_SENDONLY, false); break;
	case 'n': err = sip_sess_modify(s, SDP_INACTIVE, false); break;
	case 'u': err = sip_sess_modify(s, SDP_SENDRECV, true); break;
	case 'v': err = sip_sess_modify(s, SDP_RECVONLY, true); break;
	case 'q': send_request(sl, "INFO"); break;
	case 'o': send_request(sl, "OPTIONS"); break;
	case 'x': release_slot(sl); break;
	default: return;
	}
	tracef("op %c on call %d: %d\n", op, target, err);
}

/* Moves virtual time by ms, stopping at every deadline on the way so that
 * each timer runs at its own time. */
static void advance(uint64_t ms)
{
	struct tmrq *tq = &F.loop.tq;
	uint64_t end = tq->now + ms;
	for (unsigned guard = 0; guard < 200000; guard++) {
		int64_t next = tmrq_next(tq);
		if (next < 0 || tq->now + (uint64_t)next > end)
			break;
		tmrq_run(tq, tq->now + (uint64_t)next);
	}
	tmrq_run(tq, end);
}

static void run_ops(const char *p, size_t n, int target, bool in_callback)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '+' && !in_callback) {
			uint64_t ms = 0;
			while (i + 1 < n && isdigit((unsigned char)p[i + 1]) && ms < MAX_ADVANCE)
				ms = ms * 10 + (uint64_t)(p[++i] - '0');
			while (i + 1 < n && isdigit((unsigned char)p[i + 1]))
				i++;
			advance(ms < MAX_ADVANCE ? ms : MAX_ADVANCE);
		} else if (c >= '0' && c <= '8') {
			target = c - '0';
		} else if (c == '/') {
			F.proto = F.proto == SIP_UDP ? SIP_TCP : SIP_UDP;
		} else if (c >= 'a' && c <= 'z') {
			do_op(target, c);
		} else if (c >= 'A' && c <= 'Z') {
			struct slot *sl = &F.slots[target];
			size_t len = strlen(sl->react);
			if (len + 1 < sizeof(sl->react)) {
				sl->react[len] = (char)tolower((unsigned char)c);
				sl->react[len + 1] = '\0';
			}
		}
	}
}

/* ---- what we sent, for the placeholders ---- */

static void keep(char *dst, const char *v)
{
	snprintf(dst, VAL, "%s", v ? v : "");
}

static void scan_sent(void)
{
	struct seen *w = &F.seen;
	for (; w->scanned < fake_tp.nsent; w->scanned++) {
		size_t i = w->scanned;
		if (trace)
			fprintf(stderr, "---- out %zu (%s)\n%s", i,
				fake_tp.sent[i].proto == SIP_TCP ? "TCP" : "UDP", fake_tp.sent[i].buf);
		const struct sip_msg *m = fake_tp_msg(i);
		if (!m)
			continue;
		char num[16];
		snprintf(num, sizeof(num), "%u", m->cseq);
		if (!m->request) {
			struct sip_hdr h;
			if (sip_msg_hdr(m, "RSeq", 0, &h) && h.value_len < VAL) {
				char v[VAL];
				sip_hdr_unfold(&h, v);
				keep(w->rseq, v);
			}
			continue;
		}
		if (sip_method_is(m, "ACK"))
			continue;
		keep(w->rbranch, m->via.branch);
		keep(w->rcseq, num);
		keep(w->rmethod, m->method);
		for (size_t k = 0; k < NTRACKED; k++)
			if (sip_method_is(m, tracked[k])) {
				keep(w->m_branch[k], m->via.branch);
				keep(w->m_cseq[k], num);
			}
		if (sip_method_is(m, "INVITE") && !m->to_tag) {
			keep(w->call_id, m->call_id);
			keep(w->tag, m->from_tag);
			keep(w->branch, m->via.branch);
			keep(w->cseq, num);
		}
	}
}

static const char *lookup(const char *name, size_t n)
{
	struct seen *w = &F.seen;
	static const struct { const char *name; size_t off; } fixed[] = {
		{ "CALLID", offsetof(struct seen, call_id) },
		{ "TAG", offsetof(struct seen, tag) },
		{ "BRANCH", offsetof(struct seen, branch) },
		{ "CSEQ", offsetof(struct seen, cseq) },
		{ "RBRANCH", offsetof(struct seen, rbranch) },
		{ "RCSEQ", offsetof(struct seen, rcseq) },
		{ "RMETHOD", offsetof(struct seen, rmethod) },
		{ "RSEQ", offsetof(struct seen, rseq) },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strlen(fixed[i].name) == n && memcmp(fixed[i].name, name, n) == 0)
			return (const char *)w + fixed[i].off;
	for (size_t k = 0; k < NTRACKED; k++) {
		size_t ml = strlen(tracked[k]);
		if (n == 7 + ml && memcmp(name, "BRANCH_", 7) == 0 && memcmp(name + 7, tracked[k], ml) == 0)
			return w->m_branch[k];
		if (n == 5 + ml && memcmp(name, "CSEQ_", 5) == 0 && memcmp(name + 5, tracked[k], ml) == 0)
			return w->m_cseq[k];
	}
	if (n == 4 && memcmp(name, "LTAG", 4) == 0)
		return F.last_in ? F.slots[F.last_in].ltag : "";
	if (n == 5 && memcmp(name, "LTAG", 4) == 0 && name[4] >= '1' && name[4] <= '8')
		return F.slots[name[4] - '0'].ltag;
	return NULL;
}

/* The message of a chunk as it goes on the wire: CRLF line ends, the
 * placeholders replaced. NULL when it is empty or too big. */
static char *compose(const char *p, size_t n, size_t *len)
{
	struct sbuf a, b;
	sbuf_init(&a);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '$') {
			size_t j = i + 1;
			while (j < n && (isupper((unsigned char)p[j]) || isdigit((unsigned char)p[j]) ||
					 p[j] == '_'))
				j++;
			const char *v = lookup(p + i + 1, j - i - 1);
			if (v) {
				sbuf_puts(&a, v);
				i = j - 1;
				continue;
			}
		}
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			sbuf_add(&a, "\r", 1);
		sbuf_add(&a, p + i, 1);
	}
	sbuf_add(&a, "", 1);  /* NUL, so that strstr stops */
	if (a.err || a.len > MAX_MSG) {
		sbuf_free(&a);
		return NULL;
	}
	/* $LEN last: the body is final by now */
	const char *body = strstr(a.d, "\r\n\r\n");
	size_t body_len = body ? a.len - 1 - (size_t)(body + 4 - a.d) : 0;
	char lenv[24];
	snprintf(lenv, sizeof(lenv), "%zu", body_len);
	sbuf_init(&b);
	for (size_t i = 0; i + 1 < a.len; i++) {
		if (a.d[i] == '$' && strncmp(a.d + i, "$LEN", 4) == 0 &&
		    (!body || a.d + i < body)) {
			sbuf_puts(&b, lenv);
			i += 3;
		} else {
			sbuf_add(&b, a.d + i, 1);
		}
	}
	sbuf_free(&a);
	if (b.err || b.len == 0 || b.len > MAX_MSG) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b, len);
}

/* As the transport hands a message up (on_recv in ua.c). */
static void deliver_one(const char *buf, size_t len, enum sip_proto proto)
{
	if (F.ua->closed)
		return;  /* its transports are gone */
	struct sip_msg *m = sip_msg_decode(buf, len, proto == SIP_TCP);
	if (!m)
		return;
	m->src.proto = proto;
	sa_set(&m->src.addr, PEER_HOST, PEER_PORT);
	sip_stack_recv(&F.ua->stack, m);
	mem_deref(m);
}

static void deliver(const char *p, size_t n)
{
	scan_sent();
	size_t len;
	char *msg = compose(p, n, &len);
	if (!msg)
		return;
	if (trace)
		fprintf(stderr, "==== in (%s)\n%s", F.proto == SIP_TCP ? "TCP" : "UDP", msg);
	if (F.proto == SIP_UDP) {
		deliver_one(msg, len, SIP_UDP);
	} else {
		/* as tcp.c cuts a stream: message after message */
		size_t off = 0;
		while (off < len) {
			long fl = sip_frame(msg + off, len - off, MAX_MSG);
			if (fl <= 0)
				break;
			const char *one = msg + off;
			size_t k = (size_t)fl;
			off += k;
			while (k > 0 && (*one == '\r' || *one == '\n'))
				one++, k--;
			if (k > 0)
				deliver_one(one, k, SIP_TCP);
		}
	}
	mem_deref(msg);
	scan_sent();
}

/* Whether to look for stuck calls: FUZZ_SESS_LIVENESS=1 always; by
 * default only while every send went through, since a 2xx that fails to
 * go out leaves the call stuck today (op e). */
static bool live_check(void)
{
	if (liveness)
		return true;
	return !F.send_failed && fake_tp.nsent < FAKE_TP_MAX_SENT;
}

/* What must hold between messages. */
static void check_state(void)
{
	unsigned n = 0;
	struct le *e, *tmp;
	list_each_safe(e, tmp, &F.ua->sessions) {
		struct sip_sess *s = container_of(e, struct sip_sess, le);
		check(s->state != SIP_SESS_ENDED, "an ended session is still listed");
		/* a call not yet up that can neither be answered, rejected nor
		 * hung up, and waits for no ACK, never ends by itself */
		if (live_check() && !s->outgoing &&
		    (s->state == SIP_SESS_INCOMING || s->state == SIP_SESS_EARLY))
			check((s->st && !sip_strans_answered(s->st)) || s->st_2xx,
			      "an incoming call is stuck: its INVITE is answered, "
			      "no 2xx waits for an ACK, and it has not ended");
		n++;
	}
	check(n == F.ua->nsessions, "the endpoint's session count is off");
	check(fake_tp.sends_after_close == 0, "a send on a closed transport");
}

static void osip_quiet(const char *file, int line, osip_trace_level_t level, const char *fmt,
		       va_list ap)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, osip_quiet);  /* a log line per input otherwise */
	trace = getenv("FUZZ_SESS_TRACE") != NULL;
	liveness = getenv("FUZZ_SESS_LIVENESS") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_IN_BYTES)
		return -1;
	memset(&F, 0, sizeof(F));
	rng = 0;
	fake_tp_reset();
	tmrq_init(&F.loop.tq, 0);
	F.proto = SIP_UDP;
	check(sip_ua_alloc(&F.ua, &F.loop, "sip:alice@" OUR_HOST, &ua_h, NULL) == 0,
	      "sip_ua_alloc");
	F.ua->max_sessions = MAX_SESSIONS;
	union sa a;
	sa_set(&a, OUR_HOST, 5060);
	check(sip_ua_listen(F.ua, SIP_UDP, &a) == 0, "listen UDP");
	check(sip_ua_listen(F.ua, SIP_TCP, &a) == 0, "listen TCP");

	const char *p = (const char *)data, *end = p + size;
	/* the first message has no directive */
	const char *dir = NULL;
	size_t dir_len = 0;
	for (unsigned chunk = 0; chunk < MAX_CHUNKS; chunk++) {
		/* the message runs to the next line that begins with "@@" */
		const char *next = NULL;
		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '@' && q[1] == '@' && (q == (const char *)data || q[-1] == '\n')) {
				next = q;
				break;
			}
		const char *msg_end = next ? next : end;
		if (dir) {
			int target = F.last_in;
			run_ops(dir, dir_len, target, false);
		}
		if (msg_end > p)
			deliver(p, (size_t)(msg_end - p));
		check_state();
		if (!next)
			break;
		dir = next + 2;
		const char *nl = memchr(dir, '\n', (size_t)(end - dir));
		dir_len = nl ? (size_t)(nl - dir) : (size_t)(end - dir);
		p = nl ? nl + 1 : end;
	}

	/* the end: everything let go, the endpoint closed */
	for (int i = 0; i <= NSLOTS; i++) {
		struct slot *sl = &F.slots[i];
		if (sl->held) {
			sip_strans_reply(sl->held, 200, NULL, NULL, NULL, 0);
			sl->held = mem_deref(sl->held);
		}
	}
	for (int i = 0; i <= NSLOTS; i++)
		release_slot(&F.slots[i]);
	sip_ua_close(F.ua);
	/* as the session tests check after closing: nothing (a session, a
	 * dialog) may still hold the endpoint, ours is the last reference */
	check(mem_refs(F.ua) == 1, "the closed endpoint is still referenced");
	check(fake_tp.open == 0, "a transport outlived the endpoint's close");
	advance(10ull * 24 * 3600 * 1000);  /* far beyond every SIP and session timer */
	check(tmrq_next(&F.loop.tq) < 0, "a timer is left after the endpoint closed");
	check(fake_tp.sends_after_close == 0, "a send on a closed transport");
	scan_sent();
	mem_deref(F.ua);
	tmrq_close(&F.loop.tq);
	fake_tp_reset();
	return 0;
}
