/* Dialogs and INVITE sessions (RFC 3261 §12-15, RFC 3264, RFC 3311, with
 * RFC 3262 PRACK and RFC 4028 session timers) on a real endpoint (struct sip_ua) over the fake transport of fake_tp.c, in
 * virtual time: T1 = 500 ms, T2 = 4 s. We are alice at 192.0.2.1:5060 (UDP);
 * the far end, bob, is at 192.0.2.9:5070, and this file plays it: it reads
 * what the endpoint sent (decoded with sip_msg_decode) and composes bob's
 * messages as text, handed to the receive path as a transport would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_tp.h"

#include "sip/sess_priv.h"
#include "sip/ua_priv.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* SESS_DUMP=1 in the environment prints every message the endpoint sent
 * after each test, to see what a failure was about. */

#define OUR_HOST "192.0.2.1"
#define OUR_CONTACT "<sip:alice@192.0.2.1:5060>"
#define PEER_HOST "192.0.2.9"
#define PEER_PORT 5070
#define PEER_URI "sip:bob@192.0.2.9:5070"
#define PEER_CONTACT "<sip:bob@192.0.2.9:5070>"
#define PEER_TAG "bobtag"

/* bob's SDP: PCMU and telephone-event at 192.0.2.9:5004; an offer or an
 * answer to ours alike. ver is the o= version, more adds lines at the end. */
#define PEER_SDP_AT(ver, codecs, more) \
	"v=0\r\n" \
	"o=bob 4242 " ver " IN IP4 192.0.2.9\r\n" \
	"s=-\r\n" \
	"c=IN IP4 192.0.2.9\r\n" \
	"t=0 0\r\n" \
	"m=audio 5004 RTP/AVP " codecs "\r\n" \
	"a=rtpmap:101 telephone-event/8000\r\n" more
#define PEER_SDP(ver, more) PEER_SDP_AT(ver, "0 101", more)

/* ------------------------------------------------------------------------ */
/* the harness                                                              */

struct ev {
	unsigned progress, established, modified, modify_done, requests, ended;
	int progress_status;
	int md_err, md_status;
	enum sip_sess_end why;
	int status;
	char reason[80];
	uint64_t established_at, ended_at;
	struct sip_sess *replaced_by;  /* sip_sess_replaced_by as the end was told */
};

struct t {
	struct sip_loop loop;       /* only its tmrq is used: the fake has no uv */
	struct sip_ua *ua;
	union sa rtp;
	struct sip_sess *s;         /* the call under test: the owner's reference */
	struct sip_sess *s2;        /* a second incoming call (one with Replaces) */
	struct ev ev2;              /* what the second call's handlers heard */
	unsigned accepts;           /* incoming INVITEs handed to sip_sess_accept */
	struct sip_strans *invite_st;  /* the first one's transaction, to look into */
	int accept_err;
	struct ev ev;
	size_t mark;                /* the first sent message not looked at yet */
	unsigned branches;

	/* the dialog as bob sees it, for the requests he sends in it */
	char call_id[128];
	char peer_from[256];        /* bob's From: his URI and tag */
	char peer_to[256];          /* bob's To: our URI, and our tag once known */
	char our_tag[64];
	uint32_t peer_cseq;         /* the CSeq of bob's last request */
	char invite_branch[64];     /* of bob's INVITE, for CANCEL and the non-2xx ACK */
	char last_invite_branch[64];/* of bob's latest INVITE (a re-INVITE) */
	uint32_t invite_cseq;       /* of the INVITE that made the call, either way */
};

/* ---- session handlers: each records what it heard ---- */

static void h_progress(void *arg, const struct sip_msg *resp)
{
	struct t *t = arg;
	t->ev.progress++;
	t->ev.progress_status = resp->status;
}

static void h_established(void *arg, const struct sip_msg *msg)
{
	struct t *t = arg;
	t->ev.established++;
	t->ev.established_at = t->loop.tq.now;
}

static void h_modified(void *arg)
{
	struct t *t = arg;
	t->ev.modified++;
}

static void h_modify_done(void *arg, int err, const struct sip_msg *resp)
{
	struct t *t = arg;
	t->ev.modify_done++;
	t->ev.md_err = err;
	t->ev.md_status = resp ? resp->status : 0;
}

static void h_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct t *t = arg;
	t->ev.requests++;
	/* the owner without a handler for these (test_in_unhandled_405_allow) */
	if (sip_method_is(req, "MESSAGE") || sip_method_is(req, "SUBSCRIBE") ||
	    sip_method_is(req, "OPTIONS")) {
		sip_sess_reply_unhandled(t->s, st);
		return;
	}
	sip_strans_reply(st, 200, NULL, NULL, NULL, 0);
}

static void h_ended(void *arg, enum sip_sess_end why, int status, const char *reason,
		    const struct sip_msg *msg)
{
	struct t *t = arg;
	t->ev.ended++;
	t->ev.why = why;
	t->ev.status = status;
	snprintf(t->ev.reason, sizeof(t->ev.reason), "%s", reason ? reason : "");
	t->ev.ended_at = t->loop.tq.now;
	t->ev.replaced_by = t->s ? sip_sess_replaced_by(t->s) : NULL;
}

static const struct sip_sess_handlers sess_h = {
	.progress = h_progress,
	.established = h_established,
	.modified = h_modified,
	.modify_done = h_modify_done,
	.request = h_request,
	.ended = h_ended,
};

/* the second call's: what tests of Replaces look at */
static void h2_established(void *arg, const struct sip_msg *msg)
{
	struct t *t = arg;
	t->ev2.established++;
}

static void h2_ended(void *arg, enum sip_sess_end why, int status, const char *reason,
		     const struct sip_msg *msg)
{
	struct t *t = arg;
	t->ev2.ended++;
	t->ev2.why = why;
	t->ev2.status = status;
}

static const struct sip_sess_handlers sess_h2 = {
	.established = h2_established,
	.ended = h2_ended,
};

/* ---- endpoint handlers: an INVITE becomes the call under test ---- */

static void ua_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct t *t = arg;
	if (!sip_method_is(req, "INVITE")) {
		sip_strans_reply(st, 405, NULL, NULL, NULL, 0);
		return;
	}
	t->accepts++;
	if (!t->invite_st)
		t->invite_st = mem_ref(st);
	struct sip_sess *s = NULL;
	/* one call per test, and for Replaces a second one */
	bool second = t->s != NULL;
	t->accept_err = sip_sess_accept(&s, t->ua, st, req, &t->rtp, second ? &sess_h2 : &sess_h,
					t);
	if (t->accept_err == 0 && second) {
		assert_null(t->s2);
		t->s2 = s;
	} else if (t->accept_err == 0) {
		t->s = s;
	}
}

static bool ua_handles(void *arg, const char *method)
{
	return strcmp(method, "INVITE") == 0;
}

static const struct sip_ua_handlers ua_h = {
	.request = ua_request,
	.handles = ua_handles,
};

static int group_setup(void **state)
{
	return parser_init() == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	fake_tp_reset();
	tmrq_init(&t->loop.tq, 0);
	sa_set(&t->rtp, OUR_HOST, 40000);
	if (sip_ua_alloc(&t->ua, &t->loop, "sip:alice@" OUR_HOST, &ua_h, t) != 0)
		return -1;
	union sa a;
	sa_set(&a, OUR_HOST, 5060);
	if (sip_ua_listen(t->ua, SIP_UDP, &a) != 0)
		return -1;
	*state = t;
	return 0;
}

static uint64_t sent_at(size_t i);

static int teardown(void **state)
{
	struct t *t = *state;
	/* SESS_DUMP=1: every message the endpoint sent, to see a failure */
	if (getenv("SESS_DUMP"))
		for (size_t i = 0; i < fake_tp.nsent; i++)
			printf("---- %zu at %llu ms\n%s", i, (unsigned long long)sent_at(i),
			       fake_tp.sent[i].buf);
	sip_sess_release(t->s);
	sip_sess_release(t->s2);
	mem_deref(t->invite_st);
	sip_ua_close(t->ua);
	/* once closed, nothing (a session, a dialog) may still hold the
	 * endpoint: ours is the last reference */
	unsigned refs = mem_refs(t->ua);
	if (refs != 1)
		printf("teardown: the closed endpoint has %u references, expected 1\n", refs);
	mem_deref(t->ua);
	tmrq_close(&t->loop.tq);
	bool closed = refs == 1 && fake_tp.open == 0 && fake_tp.sends_after_close == 0;
	fake_tp_reset();
	free(t);
	return closed ? 0 : -1;
}

/* ---- virtual time ---- */

static uint64_t now(struct t *t)
{
	return t->loop.tq.now;
}

/* Moves time to at, stopping at every deadline on the way so that each
 * timer runs at its own time. */
static void run_until(struct t *t, uint64_t at)
{
	for (unsigned guard = 0;; guard++) {
		assert_true(guard < 100000);
		int64_t n = tmrq_next(&t->loop.tq);
		if (n < 0 || now(t) + (uint64_t)n > at)
			break;
		tmrq_run(&t->loop.tq, now(t) + (uint64_t)n);
	}
	tmrq_run(&t->loop.tq, at);
}

static void run_for(struct t *t, uint64_t ms)
{
	run_until(t, now(t) + ms);
}

/* Runs deadline by deadline until something is sent or time reaches
 * limit; true when something was sent (time is then when it left). */
static bool run_until_send(struct t *t, uint64_t limit)
{
	size_t before = fake_tp.nsent;
	while (fake_tp.nsent == before) {
		int64_t n = tmrq_next(&t->loop.tq);
		if (n < 0 || now(t) + (uint64_t)n > limit) {
			tmrq_run(&t->loop.tq, limit);
			break;
		}
		tmrq_run(&t->loop.tq, now(t) + (uint64_t)n);
	}
	return fake_tp.nsent > before;
}

/* ---- what the endpoint sent ---- */

static const struct sip_msg *sent(size_t i)
{
	const struct sip_msg *m = fake_tp_msg(i);
	if (!m)
		fail_msg("sent message %zu does not decode:\n%s", i,
			 i < fake_tp.nsent ? fake_tp.sent[i].buf : "(none)");
	return m;
}

static const char *first_line(size_t i)
{
	static char line[200];
	const char *b = fake_tp.sent[i].buf;
	size_t n = strcspn(b, "\r\n");
	snprintf(line, sizeof(line), "%.*s", (int)(n < 190 ? n : 190), b);
	return line;
}

static const struct sip_msg *next(struct t *t)
{
	if (t->mark >= fake_tp.nsent)
		fail_msg("expected another message; %zu sent in all", fake_tp.nsent);
	return sent(t->mark++);
}

/* The index of the message next() returned last. */
static size_t last(struct t *t)
{
	return t->mark - 1;
}

static const struct sip_msg *next_req(struct t *t, const char *method)
{
	const struct sip_msg *m = next(t);
	if (!m->request || strcmp(m->method, method) != 0)
		fail_msg("message %zu at %llu ms is \"%s\", expected a %s", last(t),
			 (unsigned long long)fake_tp.sent[last(t)].at, first_line(last(t)), method);
	return m;
}

/* A response of status to a request of method. */
static const struct sip_msg *next_resp(struct t *t, int status, const char *method)
{
	const struct sip_msg *m = next(t);
	if (m->request || m->status != status || strcmp(m->method, method) != 0)
		fail_msg("message %zu at %llu ms is \"%s\" (CSeq %s), expected %d to %s", last(t),
			 (unsigned long long)fake_tp.sent[last(t)].at, first_line(last(t)),
			 m->method ? m->method : "?", status, method);
	return m;
}

static void no_more(struct t *t)
{
	if (t->mark < fake_tp.nsent)
		fail_msg("unexpected message %zu at %llu ms: \"%s\"", t->mark,
			 (unsigned long long)fake_tp.sent[t->mark].at, first_line(t->mark));
}

/* The unfolded idx-th header called name, or NULL; a few buffers in turn,
 * so that two results can be compared. */
static const char *hdr_n(const struct sip_msg *m, const char *name, unsigned idx)
{
	static char bufs[4][2048];
	static unsigned turn;
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, idx, &h))
		return NULL;
	char *b = bufs[turn++ % N(bufs)];
	assert_true(h.value_len < sizeof(bufs[0]));
	sip_hdr_unfold(&h, b);
	return b;
}

static const char *hdr(const struct sip_msg *m, const char *name)
{
	return hdr_n(m, name, 0);
}

static void assert_hdr(const struct sip_msg *m, const char *name, const char *want)
{
	const char *v = hdr(m, name);
	if (!v)
		fail_msg("no %s header, expected \"%s\"", name, want);
	if (strcmp(v, want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", name, v, want);
}

static void assert_sent_to(size_t i, const char *host, uint16_t port)
{
	union sa want;
	char got[64];
	assert_int_equal(sa_set(&want, host, port), 0);
	if (fake_tp.sent[i].dst.proto != SIP_UDP || !sa_equal(&fake_tp.sent[i].dst.addr, &want))
		fail_msg("message %zu (\"%s\") went to %s, expected %s:%u", i, first_line(i),
			 sa_hostport(&fake_tp.sent[i].dst.addr, got, sizeof(got)), host, port);
}

static bool has_sdp(const struct sip_msg *m)
{
	const char *ct = hdr(m, "Content-Type");
	return ct && strcmp(ct, "application/sdp") == 0 && m->body_len > 0;
}

static void assert_body_has(const struct sip_msg *m, const char *line)
{
	if (!m->body_len || !strstr(m->body, line))
		fail_msg("the body has no \"%s\":\n%.*s", line, (int)m->body_len,
			 m->body ? m->body : "");
}

static uint64_t sent_at(size_t i)
{
	return fake_tp.sent[i].at;
}

static bool same_bytes(size_t a, size_t b)
{
	return fake_tp.sent[a].len == fake_tp.sent[b].len &&
	       memcmp(fake_tp.sent[a].buf, fake_tp.sent[b].buf, fake_tp.sent[a].len) == 0;
}

/* ---- what bob sends ---- */

struct buf {
	char d[16384];
	size_t n;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->d + b->n, sizeof(b->d) - b->n, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(b->d) - b->n);
	b->n += (size_t)n;
}

static void put_hdr(struct buf *b, const struct sip_hdr *h)
{
	put(b, "%.*s: %.*s\r\n", (int)h->name_len, h->name, (int)h->value_len, h->value);
}

/* Hands text to the endpoint as its UDP transport would: from bob. */
static void deliver(struct t *t, const char *text)
{
	struct sip_msg *m = sip_msg_decode(text, strlen(text), false);
	if (!m)
		fail_msg("the test's message does not decode:\n%s", text);
	m->src.proto = SIP_UDP;
	assert_int_equal(sa_set(&m->src.addr, PEER_HOST, PEER_PORT), 0);
	sip_stack_recv(&t->ua->stack, m);
	mem_deref(m);
}

/* bob answers req, one of our requests: Via, From, Call-ID and CSeq
 * copied, To with to_tag added unless it has one. */
static void respond(struct t *t, const struct sip_msg *req, int status, const char *to_tag,
		    const char *extra, const char *sdp)
{
	struct buf b = { .n = 0 };
	struct sip_hdr h;
	size_t pos = 0;
	put(&b, "SIP/2.0 %d %s\r\n", status, sip_reason_phrase(status));
	while (sip_hdr_next(req, &pos, &h))
		if (h.name_len && sip_hdr_is(&h, "Via"))
			put_hdr(&b, &h);
	assert_true(sip_msg_hdr(req, "From", 0, &h));
	put_hdr(&b, &h);
	assert_true(sip_msg_hdr(req, "To", 0, &h));
	if (to_tag && !req->to_tag)
		put(&b, "To: %.*s;tag=%s\r\n", (int)h.value_len, h.value, to_tag);
	else
		put_hdr(&b, &h);
	assert_true(sip_msg_hdr(req, "Call-ID", 0, &h));
	put_hdr(&b, &h);
	assert_true(sip_msg_hdr(req, "CSeq", 0, &h));
	put_hdr(&b, &h);
	if (extra)
		put(&b, "%s", extra);
	if (sdp)
		put(&b, "Content-Type: application/sdp\r\n");
	put(&b, "Content-Length: %zu\r\n\r\n%s", sdp ? strlen(sdp) : 0, sdp ? sdp : "");
	deliver(t, b.d);
}

/* A request from bob; what is not set comes from the dialog in t. */
struct rq {
	const char *method;
	const char *ruri;           /* default: our Contact URI */
	const char *branch;         /* default: a new one */
	uint32_t cseq;              /* default: one above bob's last */
	const char *cseq_method;    /* default: method */
	const char *from, *to, *call_id;
	const char *contact;        /* default: bob's, on INVITE and UPDATE */
	const char *extra;          /* more header lines */
	const char *sdp;
};

static void request(struct t *t, const struct rq *r)
{
	struct buf b = { .n = 0 };
	char branch[64];
	if (r->branch)
		snprintf(branch, sizeof(branch), "%s", r->branch);
	else
		snprintf(branch, sizeof(branch), "z9hG4bKbob%u", ++t->branches);
	uint32_t cseq = r->cseq ? r->cseq : t->peer_cseq + 1;
	/* ACK and CANCEL take the CSeq of their INVITE */
	if (strcmp(r->method, "ACK") != 0 && strcmp(r->method, "CANCEL") != 0)
		t->peer_cseq = cseq;
	bool target = strcmp(r->method, "INVITE") == 0 || strcmp(r->method, "UPDATE") == 0;
	const char *contact = r->contact ? r->contact : target ? PEER_CONTACT : NULL;

	put(&b, "%s %s SIP/2.0\r\n", r->method, r->ruri ? r->ruri : "sip:alice@" OUR_HOST ":5060");
	put(&b, "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n", PEER_HOST, PEER_PORT, branch);
	put(&b, "Max-Forwards: 70\r\n");
	put(&b, "From: %s\r\n", r->from ? r->from : t->peer_from);
	put(&b, "To: %s\r\n", r->to ? r->to : t->peer_to);
	put(&b, "Call-ID: %s\r\n", r->call_id ? r->call_id : t->call_id);
	put(&b, "CSeq: %u %s\r\n", cseq, r->cseq_method ? r->cseq_method : r->method);
	if (contact)
		put(&b, "Contact: %s\r\n", contact);
	if (r->extra)
		put(&b, "%s", r->extra);
	if (r->sdp)
		put(&b, "Content-Type: application/sdp\r\n");
	put(&b, "Content-Length: %zu\r\n\r\n%s", r->sdp ? strlen(r->sdp) : 0,
	    r->sdp ? r->sdp : "");
	if (strcmp(r->method, "INVITE") == 0) {
		if (!t->invite_branch[0])
			snprintf(t->invite_branch, sizeof(t->invite_branch), "%s", branch);
		snprintf(t->last_invite_branch, sizeof(t->last_invite_branch), "%s", branch);
	}
	deliver(t, b.d);
}

/* ---- calls ---- */

/* Sends our INVITE to bob, with header lines headers, and returns it. */
static const struct sip_msg *dial_with(struct t *t, bool late_offer, const char *headers)
{
	struct sip_sess_params p = { .uri = PEER_URI, .late_offer = late_offer, .rtp = t->rtp,
				     .headers = headers };
	assert_int_equal(sip_sess_connect(&t->s, t->ua, &p, &sess_h, t), 0);
	assert_int_equal(t->s->state, SIP_SESS_CALLING);
	const struct sip_msg *inv = next_req(t, "INVITE");
	/* bob's requests in this dialog go from his To to our From */
	snprintf(t->call_id, sizeof(t->call_id), "%s", inv->call_id);
	snprintf(t->peer_to, sizeof(t->peer_to), "%s", hdr(inv, "From"));
	snprintf(t->peer_from, sizeof(t->peer_from), "%s;tag=%s", hdr(inv, "To"), PEER_TAG);
	snprintf(t->our_tag, sizeof(t->our_tag), "%s", inv->from_tag);
	t->invite_cseq = inv->cseq;
	return inv;
}

static const struct sip_msg *dial(struct t *t, bool late_offer)
{
	return dial_with(t, late_offer, NULL);
}

#define RR_TWO "Record-Route: <sip:p2@192.0.2.52;lr>\r\nRecord-Route: <sip:p1@192.0.2.51;lr>\r\n"

/* dial, 180, then 200 with bob's Contact, two proxies that record-route
 * and his answer; returns the INVITE, with the ACK looked at. */
static const struct sip_msg *call_up(struct t *t)
{
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, NULL);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, PEER_SDP("1", ""));
	next_req(t, "ACK");
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
	return inv;
}

/* The request went to bob through the route set of call_up. */
static void assert_in_dialog_out(struct t *t, const struct sip_msg *m, const char *method,
				 uint32_t cseq)
{
	assert_string_equal(m->ruri, PEER_URI);
	assert_string_equal(m->call_id, t->call_id);
	assert_string_equal(m->from_tag, t->our_tag);
	assert_non_null(m->to_tag);
	assert_string_equal(m->to_tag, PEER_TAG);
	assert_int_equal(m->cseq, cseq);
	assert_string_equal(m->cseq_method, method);
	assert_int_equal(sip_msg_hdr_count(m, "Route"), 2);
	assert_hdr(m, "Route", "<sip:p1@192.0.2.51;lr>");
	assert_string_equal(hdr_n(m, "Route", 1), "<sip:p2@192.0.2.52;lr>");
	assert_sent_to(last(t), "192.0.2.51", 5060);
}

/* bob calls us with offer (NULL: none); the endpoint answers 100 at once
 * and the call is handed to sip_sess_accept. */
static void incoming(struct t *t, const char *offer, const char *extra)
{
	snprintf(t->call_id, sizeof(t->call_id), "in-call-1@" PEER_HOST);
	snprintf(t->peer_from, sizeof(t->peer_from), "Bob <sip:bob@" PEER_HOST ">;tag=" PEER_TAG);
	snprintf(t->peer_to, sizeof(t->peer_to), "<sip:alice@" OUR_HOST ">");
	t->invite_cseq = t->peer_cseq + 1;
	request(t, &(struct rq){ .method = "INVITE", .extra = extra, .sdp = offer });
	const struct sip_msg *trying = next_resp(t, 100, "INVITE");
	assert_int_equal(sent_at(last(t)), now(t));
	assert_null(trying->to_tag);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->accepts, 1);
}

/* Our answer gave us our tag: bob's requests carry it from now on. */
static void learn_our_tag(struct t *t, const struct sip_msg *resp)
{
	assert_non_null(resp->to_tag);
	if (!t->our_tag[0]) {
		snprintf(t->our_tag, sizeof(t->our_tag), "%s", resp->to_tag);
		size_t n = strlen(t->peer_to);
		snprintf(t->peer_to + n, sizeof(t->peer_to) - n, ";tag=%s", resp->to_tag);
	}
	assert_string_equal(resp->to_tag, t->our_tag);
}

/* bob's call, answered by us: returns the index of our 200. */
static size_t answered(struct t *t)
{
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(t->accept_err, 0);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	assert_int_equal(sip_sess_answer(t->s), 0);
	learn_our_tag(t, next_resp(t, 200, "INVITE"));
	return last(t);
}

static void ack_in(struct t *t)
{
	request(t, &(struct rq){ .method = "ACK", .cseq = t->invite_cseq });
}

/* bob's ACK for a non-2xx answer to his latest INVITE: part of that
 * INVITE's transaction (§17.1.1.3), so its branch. */
static void ack_non2xx(struct t *t)
{
	request(t, &(struct rq){ .method = "ACK", .branch = t->last_invite_branch,
				 .cseq = t->peer_cseq });
}

/* bob's call, up: answered and acknowledged. */
static void call_in_up(struct t *t)
{
	answered(t);
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	no_more(t);
}

/* ------------------------------------------------------------------------ */
/* placing a call (§13.2)                                                   */

static void test_out_invite_offer_ringing_answer_ack(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	assert_string_equal(inv->ruri, PEER_URI);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_hdr(inv, "Contact", OUR_CONTACT);
	assert_non_null(inv->from_tag);
	assert_null(inv->to_tag);
	assert_string_equal(inv->cseq_method, "INVITE");
	assert_true(has_sdp(inv));
	assert_body_has(inv, "m=audio 40000 RTP/AVP 0 8 101\r\n");
	assert_body_has(inv, "c=IN IP4 192.0.2.1\r\n");

	respond(t, inv, 100, NULL, NULL, NULL);
	assert_int_equal(t->ev.progress, 0);  /* 100 is hop by hop: not progress */
	assert_int_equal(t->s->state, SIP_SESS_CALLING);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, NULL);
	assert_int_equal(t->ev.progress, 1);
	assert_int_equal(t->ev.progress_status, 180);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	no_more(t);

	/* the 2xx from another Contact, through two record-routing proxies */
	respond(t, inv, 200, PEER_TAG,
		"Contact: <sip:bob@192.0.2.99:5080>\r\n" RR_TWO, PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	/* §13.2.2.4, §12.2.1.1: to the remote target, the route set being the
	 * Record-Route reversed, its first (loose) entry the next hop */
	assert_string_equal(ack->ruri, "sip:bob@192.0.2.99:5080");
	assert_int_equal(sip_msg_hdr_count(ack, "Route"), 2);
	assert_hdr(ack, "Route", "<sip:p1@192.0.2.51;lr>");
	assert_string_equal(hdr_n(ack, "Route", 1), "<sip:p2@192.0.2.52;lr>");
	assert_sent_to(last(t), "192.0.2.51", 5060);
	assert_int_equal(ack->cseq, inv->cseq);
	assert_string_equal(ack->cseq_method, "ACK");
	assert_string_equal(ack->call_id, inv->call_id);
	assert_string_equal(ack->from_tag, inv->from_tag);
	assert_non_null(ack->to_tag);
	assert_string_equal(ack->to_tag, PEER_TAG);
	/* the ACK of a 2xx is a transaction of its own (§17.1.1.3) */
	assert_non_null(ack->via.branch);
	assert_string_not_equal(ack->via.branch, inv->via.branch);
	assert_int_equal(ack->body_len, 0);

	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_true(t->s->have_media);
	char host[64];
	assert_string_equal(sa_hostport(&t->s->media.remote, host, sizeof(host)), "192.0.2.9:5004");
	assert_int_equal(t->s->media.pt, 0);
	no_more(t);
	run_for(t, 40000);
	no_more(t);  /* nothing is retransmitted once the call is up */
}

static void test_out_route_set_recomputed_from_2xx(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	/* the early dialog of the 180 has no route set ... */
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	/* ... the 2xx of the same dialog has one: §13.2.2.4 says the route
	 * set MUST be recomputed from the 2xx (§12.2.1.2) */
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	if (sip_msg_hdr_count(ack, "Route") != 2)
		fail_msg("the ACK has %u Route headers, the 2xx had 2 Record-Route:\n%s",
			 sip_msg_hdr_count(ack, "Route"), fake_tp.sent[last(t)].buf);
	assert_in_dialog_out(t, ack, "ACK", inv->cseq);
}

static void test_out_2xx_retransmission_acked_again(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, PEER_SDP("1", ""));
	next_req(t, "ACK");
	assert_in_dialog_out(t, sent(last(t)), "ACK", inv->cseq);
	no_more(t);
	/* after Timer M (64*T1) the transaction is gone: the dialog ACKs */
	run_for(t, 40000);
	no_more(t);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, PEER_SDP("1", ""));
	next_req(t, "ACK");
	assert_in_dialog_out(t, sent(last(t)), "ACK", inv->cseq);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
}

static void test_out_fork_second_2xx_acked_and_byed(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	/* another branch of the fork answers too (§13.2.2.4) */
	respond(t, inv, 200, "forktag", "Contact: <sip:bob@192.0.2.77:5090>\r\n",
		PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, "sip:bob@192.0.2.77:5090");
	assert_sent_to(last(t), "192.0.2.77", 5090);
	assert_string_equal(ack->to_tag, "forktag");
	assert_int_equal(ack->cseq, inv->cseq);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, "sip:bob@192.0.2.77:5090");
	assert_sent_to(last(t), "192.0.2.77", 5090);
	assert_string_equal(bye->to_tag, "forktag");
	assert_string_equal(bye->from_tag, inv->from_tag);
	assert_string_equal(bye->call_id, inv->call_id);
	assert_true(bye->cseq > inv->cseq);
	respond(t, bye, 200, NULL, NULL, NULL);
	no_more(t);
	/* our call is the first one, and stays */
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	bye = next_req(t, "BYE");
	assert_in_dialog_out(t, bye, "BYE", inv->cseq + 1);
}

static void test_out_486_acked_by_transaction_rejected(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	respond(t, inv, 486, PEER_TAG, NULL, NULL);
	/* §17.1.1.3: the transaction's ACK, same branch and Request-URI */
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, inv->ruri);
	assert_string_equal(ack->via.branch, inv->via.branch);
	assert_string_equal(ack->to_tag, PEER_TAG);
	assert_int_equal(ack->cseq, inv->cseq);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_REJECTED);
	assert_int_equal(t->ev.status, 486);
	assert_string_equal(t->ev.reason, "Busy Here");
	assert_int_equal(t->ev.established, 0);
	assert_int_equal(t->s->state, SIP_SESS_ENDED);
	/* a retransmitted 486 gets the ACK again, and says nothing new */
	respond(t, inv, 486, PEER_TAG, NULL, NULL);
	next_req(t, "ACK");
	assert_int_equal(t->ev.ended, 1);
	no_more(t);
}

static void assert_cancel_of(struct t *t, const struct sip_msg *c, const struct sip_msg *inv)
{
	/* §9.1: Request-URI, Call-ID, To, From, top Via and CSeq number of
	 * the INVITE, to where the INVITE went */
	assert_string_equal(c->ruri, inv->ruri);
	assert_string_equal(c->via.branch, inv->via.branch);
	assert_string_equal(c->call_id, inv->call_id);
	assert_string_equal(c->from_tag, inv->from_tag);
	assert_null(c->to_tag);
	assert_int_equal(c->cseq, inv->cseq);
	assert_string_equal(c->cseq_method, "CANCEL");
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
}

static void test_out_cancel_after_180_then_487(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *c = next_req(t, "CANCEL");
	assert_cancel_of(t, c, inv);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);  /* the INVITE's answer ends it */
	respond(t, c, 200, PEER_TAG, NULL, NULL);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	respond(t, inv, 487, PEER_TAG, NULL, NULL);
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->via.branch, inv->via.branch);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	assert_int_equal(t->ev.status, 487);
	assert_int_equal(t->ev.established, 0);
	no_more(t);
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
}

static void test_out_hangup_before_1xx_cancels_once_1xx_comes(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	no_more(t);  /* §9.1: no CANCEL before a provisional response */
	run_for(t, 1000);
	next_req(t, "INVITE");  /* Timer A at T1: the INVITE again, no CANCEL */
	assert_int_equal(sent_at(last(t)), 500);
	no_more(t);
	respond(t, inv, 100, NULL, NULL, NULL);
	const struct sip_msg *c = next_req(t, "CANCEL");
	assert_cancel_of(t, c, inv);
	no_more(t);
	respond(t, c, 200, PEER_TAG, NULL, NULL);
	respond(t, inv, 487, PEER_TAG, NULL, NULL);
	next_req(t, "ACK");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	assert_int_equal(t->ev.status, 487);
	no_more(t);
}

static void test_out_2xx_crossing_cancel_gets_ack_then_bye(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *c = next_req(t, "CANCEL");
	/* bob answered before the CANCEL reached him */
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	respond(t, c, 200, PEER_TAG, NULL, NULL);
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, PEER_URI);
	assert_string_equal(ack->to_tag, PEER_TAG);
	assert_int_equal(ack->cseq, inv->cseq);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_string_equal(bye->to_tag, PEER_TAG);
	assert_int_equal(bye->cseq, inv->cseq + 1);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->ev.established, 0);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	respond(t, bye, 200, NULL, NULL, NULL);
	no_more(t);
}

static void test_out_timer_b_timeout_408(void **state)
{
	struct t *t = *state;
	dial(t, false);
	run_until(t, 31999);
	assert_int_equal(t->ev.ended, 0);
	/* Timer A: T1, 2T1, 4T1 ... with no cap for INVITE (§17.1.1.2) */
	static const uint64_t at[] = { 500, 1500, 3500, 7500, 15500, 31500 };
	for (size_t i = 0; i < N(at); i++) {
		next_req(t, "INVITE");
		assert_int_equal(sent_at(last(t)), at[i]);
		assert_true(same_bytes(0, last(t)));
	}
	no_more(t);
	run_until(t, 32000);  /* Timer B: 64*T1 */
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_TIMEOUT);
	assert_int_equal(t->ev.status, 408);
	assert_int_equal(t->ev.ended_at, 32000);
	no_more(t);  /* nothing to CANCEL or ACK */
	assert_int_equal(sip_sess_hangup(t->s), -EALREADY);
}

static void test_out_late_offer_answer_in_ack(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, true);
	assert_int_equal(inv->body_len, 0);
	assert_null(hdr(inv, "Content-Type"));
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_true(has_sdp(ack));
	assert_body_has(ack, "m=audio 40000 RTP/AVP 0 101\r\n");
	assert_body_has(ack, "c=IN IP4 192.0.2.1\r\n");
	assert_int_equal(t->ev.established, 1);
	assert_true(t->s->have_media);
	assert_int_equal(t->s->media.pt, 0);
	/* the ACK of a retransmitted 2xx carries the same answer */
	size_t first = last(t);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	const struct sip_msg *again = next_req(t, "ACK");
	assert_true(has_sdp(again));
	assert_int_equal(again->body_len, sent(first)->body_len);
	assert_memory_equal(again->body, sent(first)->body, again->body_len);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
}

static void test_out_hangup_sends_bye_on_route(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_in_dialog_out(t, bye, "BYE", inv->cseq + 1);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	respond(t, bye, 200, NULL, NULL, NULL);
	no_more(t);
}

static void test_out_peer_bye_hangup(void **state)
{
	struct t *t = *state;
	call_up(t);
	request(t, &(struct rq){ .method = "BYE", .cseq = 1 });
	const struct sip_msg *ok = next_resp(t, 200, "BYE");
	assert_string_equal(ok->to_tag, t->our_tag);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
	no_more(t);
}

static void test_out_fork_180_one_tag_200_another(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	/* one branch rings, another answers: the call is the answering one */
	respond(t, inv, 180, "ringtag", "Contact: <sip:bob@192.0.2.77:5090>\r\n", NULL);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, PEER_URI);
	assert_string_equal(ack->to_tag, PEER_TAG);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
	/* bob's BYE finds the call by the 2xx's tag */
	request(t, &(struct rq){ .method = "BYE", .cseq = 1 });
	next_resp(t, 200, "BYE");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
}

static void test_out_cancel_without_487_gives_up_after_64t1(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	uint64_t t0 = now(t);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *c = next_req(t, "CANCEL");
	respond(t, c, 200, PEER_TAG, NULL, NULL);
	/* §9.1: no final answer 64*T1 after the CANCEL: give up on it */
	run_until(t, t0 + 64 * 500 - 1);
	assert_int_equal(t->ev.ended, 0);
	run_until(t, t0 + 64 * 500);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_TIMEOUT);
}

static void test_out_ua_close_cancels_ringing_call(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	sip_ua_close(t->ua);
	assert_cancel_of(t, next_req(t, "CANCEL"), inv);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_CLOSED);
	no_more(t);
}

static void test_out_2xx_unacceptable_answer_ack_bye_failed(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	/* G.722 only: no answer to our PCMU/PCMA offer */
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n",
		PEER_SDP_AT("1", "9", ""));
	/* the 2xx is acknowledged all the same, then the call ended */
	next_req(t, "ACK");
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_int_equal(bye->cseq, inv->cseq + 1);
	assert_int_equal(t->ev.established, 0);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_FAILED);
	assert_int_equal(t->ev.status, 488);
	no_more(t);
}

/* ------------------------------------------------------------------------ */
/* receiving a call (§13.3)                                                 */

static void test_in_100_ring_answer_ack(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(t->accept_err, 0);
	assert_non_null(t->s);
	assert_int_equal(t->s->state, SIP_SESS_INCOMING);
	no_more(t);

	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	assert_non_null(ring->to_tag);
	assert_true(strlen(ring->to_tag) > 0);
	assert_hdr(ring, "Contact", OUR_CONTACT);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	learn_our_tag(t, ring);

	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	learn_our_tag(t, ok);  /* the same tag as the 180 */
	assert_hdr(ok, "Contact", OUR_CONTACT);
	assert_true(has_sdp(ok));
	assert_body_has(ok, "m=audio 40000 RTP/AVP 0 101\r\n");
	assert_body_has(ok, "c=IN IP4 192.0.2.1\r\n");
	assert_int_equal(t->ev.established, 0);  /* the ACK confirms it */
	no_more(t);

	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_true(t->s->have_media);
	assert_int_equal(t->s->media.pt, 0);
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
}

static void test_in_2xx_retransmitted_until_ack(void **state)
{
	struct t *t = *state;
	size_t ok = answered(t);
	uint64_t t0 = sent_at(ok);
	run_until(t, t0 + 20000);
	/* §13.3.1.4: T1, then doubling, capped at T2 */
	static const uint64_t at[] = { 500, 1500, 3500, 7500, 11500, 15500, 19500 };
	for (size_t i = 0; i < N(at); i++) {
		next_resp(t, 200, "INVITE");
		if (sent_at(last(t)) != t0 + at[i])
			fail_msg("2xx retransmission %zu at %llu ms, expected %llu", i,
				 (unsigned long long)(sent_at(last(t)) - t0),
				 (unsigned long long)at[i]);
		assert_true(same_bytes(ok, last(t)));
	}
	no_more(t);
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
}

static void test_in_no_ack_bye_timeout(void **state)
{
	struct t *t = *state;
	size_t ok = answered(t);
	uint64_t t0 = sent_at(ok);
	run_until(t, t0 + 64 * 500 - 1);
	size_t retx = 0;
	while (t->mark < fake_tp.nsent) {
		next_resp(t, 200, "INVITE");
		retx++;
	}
	assert_int_equal(retx, 10);  /* 500 ... 31500 */
	assert_int_equal(t->ev.ended, 0);
	run_until(t, t0 + 64 * 500);
	/* §13.3.1.4: no ACK within 64*T1: the session ends with a BYE */
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_string_equal(bye->from_tag, t->our_tag);
	assert_string_equal(bye->to_tag, PEER_TAG);
	assert_string_equal(bye->call_id, t->call_id);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_TIMEOUT);
	assert_int_equal(t->ev.status, 408);
	assert_int_equal(t->ev.established, 0);
	respond(t, bye, 200, NULL, NULL, NULL);
	run_for(t, 10000);
	no_more(t);
}

static void test_in_cancel_200_and_487(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	/* §9.2: the CANCEL matches the INVITE's transaction */
	request(t, &(struct rq){ .method = "CANCEL", .branch = t->invite_branch,
				 .cseq = t->invite_cseq, .to = "<sip:alice@" OUR_HOST ">" });
	const struct sip_msg *ok = next_resp(t, 200, "CANCEL");
	assert_int_equal(ok->cseq, t->invite_cseq);
	const struct sip_msg *term = next_resp(t, 487, "INVITE");
	assert_string_equal(term->to_tag, t->our_tag);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_CANCELLED);
	assert_int_equal(t->ev.status, 487);
	assert_int_equal(t->s->state, SIP_SESS_ENDED);
	/* bob's ACK for the 487 is the transaction's */
	request(t, &(struct rq){ .method = "ACK", .branch = t->invite_branch,
				 .cseq = t->invite_cseq });
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(sip_sess_answer(t->s), -EALREADY);
	no_more(t);
}

static void test_in_cancel_after_2xx_no_effect(void **state)
{
	struct t *t = *state;
	answered(t);
	/* the CANCEL crossed our 2xx: 200 to it, and nothing else (§9.2) */
	request(t, &(struct rq){ .method = "CANCEL", .branch = t->invite_branch,
				 .cseq = t->invite_cseq, .to = "<sip:alice@" OUR_HOST ">" });
	next_resp(t, 200, "CANCEL");
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
}

/* An ACK for a 2xx has a branch of its own and never reaches the INVITE's
 * transaction; once the session has it, the transaction keeps neither the
 * request nor the response for the 32 s of Timer L, and still absorbs a
 * retransmitted INVITE (RFC 6026 §7.1). */
static void test_in_acked_invite_keeps_no_request(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	assert_non_null(t->invite_st);
	assert_null(sip_strans_request(t->invite_st));
	assert_int_equal(sip_strans_retransmit(t->invite_st), -EALREADY);
	request(t, &(struct rq){ .method = "INVITE", .branch = t->invite_branch,
				 .cseq = t->invite_cseq, .sdp = PEER_SDP("1", "") });
	t->peer_cseq = t->invite_cseq;
	assert_int_equal(t->accepts, 1);
	no_more(t);
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
}

static void test_in_ack_of_other_cseq_ignored(void **state)
{
	struct t *t = *state;
	answered(t);
	request(t, &(struct rq){ .method = "ACK", .cseq = t->invite_cseq + 7 });
	assert_int_equal(t->ev.established, 0);
	run_for(t, 600);
	next_resp(t, 200, "INVITE");  /* still waiting for the right one */
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	run_for(t, 40000);
	no_more(t);
}

static void test_in_max_calls_503(void **state)
{
	struct t *t = *state;
	t->ua->max_sessions = 1;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(t->accept_err, 0);
	/* a second call while the first goes on */
	request(t, &(struct rq){ .method = "INVITE", .call_id = "in-call-2@" PEER_HOST,
				 .from = "<sip:carol@192.0.2.9>;tag=caroltag",
				 .to = "<sip:alice@" OUR_HOST ">", .sdp = PEER_SDP("1", "") });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *busy = next_resp(t, 503, "INVITE");
	assert_non_null(hdr(busy, "Retry-After"));
	assert_int_equal(t->accepts, 2);
	assert_int_equal(t->accept_err, -EBUSY);
	no_more(t);
	/* the first one over, a call comes in again */
	assert_int_equal(sip_sess_reject(t->s, 486, NULL, NULL), 0);
	next_resp(t, 486, "INVITE");
	sip_sess_release(t->s);
	t->s = NULL;
	request(t, &(struct rq){ .method = "INVITE", .call_id = "in-call-3@" PEER_HOST,
				 .from = "<sip:carol@192.0.2.9>;tag=caroltag3",
				 .to = "<sip:alice@" OUR_HOST ">", .sdp = PEER_SDP("1", "") });
	next_resp(t, 100, "INVITE");
	assert_int_equal(t->accept_err, 0);
	assert_non_null(t->s);
}

static void test_in_early_update_offer_before_our_answer_500(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	/* the INVITE's offer has no answer yet (the 180 had none): RFC 3311
	 * §5.2 has an UPDATE with a new offer refused, 500 and Retry-After */
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	const struct sip_msg *r = next(t);
	if (r->request || r->status != 500 || !hdr(r, "Retry-After"))
		fail_msg("an UPDATE with an offer while the INVITE's is unanswered got \"%s\", "
			 "expected 500 with Retry-After", first_line(last(t)));
	assert_int_equal(t->ev.modified, 0);
	/* our answer to the INVITE is still the one to its offer */
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_body_has(ok, "a=sendrecv\r\n");
}

static void test_in_peer_bye_200_hangup(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "BYE" });
	const struct sip_msg *ok = next_resp(t, 200, "BYE");
	assert_string_equal(ok->to_tag, t->our_tag);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
	assert_int_equal(t->s->state, SIP_SESS_ENDED);
	no_more(t);
	/* the dialog is gone: a second BYE (new transaction) gets 481 */
	request(t, &(struct rq){ .method = "BYE" });
	next_resp(t, 481, "BYE");
	assert_int_equal(t->ev.ended, 1);
}

static void test_in_unknown_to_tag_481(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	char to[256];
	snprintf(to, sizeof(to), "<sip:alice@" OUR_HOST ">;tag=nosuchtag");
	request(t, &(struct rq){ .method = "BYE", .to = to });
	next_resp(t, 481, "BYE");
	request(t, &(struct rq){ .method = "INFO", .call_id = "other-call@192.0.2.9" });
	next_resp(t, 481, "INFO");
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->ev.requests, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
}

static void test_in_unacceptable_offer_488(void **state)
{
	struct t *t = *state;
	/* G.722 only: nothing we can take */
	incoming(t, PEER_SDP_AT("1", "9", ""), NULL);
	assert_int_equal(t->accept_err, -ENOTSUP);
	assert_null(t->s);
	next_resp(t, 488, "INVITE");
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	no_more(t);
	request(t, &(struct rq){ .method = "ACK", .branch = t->invite_branch,
				 .cseq = t->invite_cseq });
	run_for(t, 40000);
	no_more(t);
}

static void test_in_malformed_sdp_400_warning(void **state)
{
	struct t *t = *state;
	/* no o= line (RFC 4566 §5: it is mandatory) */
	incoming(t, "v=0\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n",
		 NULL);
	assert_int_equal(t->accept_err, -EBADMSG);
	assert_null(t->s);
	const struct sip_msg *bad = next_resp(t, 400, "INVITE");
	const char *w = hdr(bad, "Warning");
	assert_non_null(w);
	assert_true(strncmp(w, "399 ", 4) == 0);
	no_more(t);
}

static void test_in_hangup_before_ack_waits_for_it(void **state)
{
	struct t *t = *state;
	answered(t);
	/* §15: the callee must not send BYE before the ACK of its 2xx (or
	 * the transaction's end), but the hangup must not be lost */
	int err = sip_sess_hangup(t->s);
	if (err != 0)
		fail_msg("hangup of an answered call not yet acknowledged: %d", err);
	no_more(t);
	ack_in(t);
	if (t->mark >= fake_tp.nsent)
		fail_msg("no BYE after the ACK of the call hung up before it");
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
}

static void test_in_release_before_ack_byes_after_it(void **state)
{
	struct t *t = *state;
	answered(t);
	/* the owner lets go of an answered call whose ACK has not come: as
	 * with hangup, the call must still end with a BYE once it may (§15) */
	sip_sess_release(t->s);
	t->s = NULL;
	while (t->mark < fake_tp.nsent)
		next_resp(t, 200, "INVITE");  /* 2xx retransmissions, if any */
	ack_in(t);
	if (t->mark >= fake_tp.nsent)
		fail_msg("no BYE after the ACK of a call released before it");
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_string_equal(bye->to_tag, PEER_TAG);
}

static void test_in_record_route_copied_and_used(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""),
		 "Record-Route: <sip:p1@192.0.2.51;lr>\r\nRecord-Route: <sip:p2@192.0.2.52;lr>\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	learn_our_tag(t, ring);
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	ack_in(t);
	/* the route set is the Record-Route in order (§12.1.1) */
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_int_equal(sip_msg_hdr_count(bye, "Route"), 2);
	assert_hdr(bye, "Route", "<sip:p1@192.0.2.51;lr>");
	assert_string_equal(hdr_n(bye, "Route", 1), "<sip:p2@192.0.2.52;lr>");
	assert_sent_to(last(t), "192.0.2.51", 5060);
	/* §12.1.1: a response that makes a dialog copies every Record-Route
	 * of the request, in order */
	for (int i = 0; i < 2; i++) {
		const struct sip_msg *r = i ? ok : ring;
		if (sip_msg_hdr_count(r, "Record-Route") != 2)
			fail_msg("our %d has %u Record-Route headers, the INVITE had 2", r->status,
				 sip_msg_hdr_count(r, "Record-Route"));
		assert_hdr(r, "Record-Route", "<sip:p1@192.0.2.51;lr>");
		assert_string_equal(hdr_n(r, "Record-Route", 1), "<sip:p2@192.0.2.52;lr>");
	}
}

static void test_in_early_bye_200_and_487(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	/* the caller may end an early dialog with BYE (§15): the BYE gets
	 * 200 and the INVITE 487 (§15.1.2) */
	request(t, &(struct rq){ .method = "BYE" });
	next_resp(t, 200, "BYE");
	const struct sip_msg *term = next_resp(t, 487, "INVITE");
	assert_string_equal(term->to_tag, t->our_tag);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
	no_more(t);
}

static void test_in_reinvite_before_final_500_retry_after(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	/* §14.2: an INVITE in the dialog before our final answer to the
	 * first gets 500 with a Retry-After chosen at random in 0-10 s */
	unsigned long first = 0;
	bool differ = false;
	for (int i = 0; i < 8; i++) {
		request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("2", "") });
		next_resp(t, 100, "INVITE");
		const struct sip_msg *r = next_resp(t, 500, "INVITE");
		const char *ra = hdr(r, "Retry-After");
		assert_non_null(ra);
		char *end;
		unsigned long v = strtoul(ra, &end, 10);
		assert_true(end != ra && v <= 10);
		if (i == 0)
			first = v;
		else if (v != first)
			differ = true;
		ack_non2xx(t);
	}
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->ev.modified, 0);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	if (!differ)
		fail_msg("Retry-After was %lu in all 8 answers: not chosen at random", first);
}

static void test_in_release_ringing_480(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	sip_sess_release(t->s);
	t->s = NULL;
	const struct sip_msg *r = next_resp(t, 480, "INVITE");
	assert_string_equal(r->to_tag, t->our_tag);
	assert_int_equal(t->ev.ended, 0);  /* released: no more callbacks */
	no_more(t);
}

/* Hanging up a call that rings says the callee is not available, not busy:
 * 480, as when the handler lets it go (issue 17) */
static void test_in_hangup_ringing_480(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *r = next_resp(t, 480, "INVITE");
	assert_string_equal(r->to_tag, t->our_tag);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	assert_int_equal(t->ev.status, 480);
	assert_int_equal(sip_sess_hangup(t->s), -EALREADY);
	no_more(t);
}

static void test_in_offerless_invite_offer_in_2xx_answer_in_ack(void **state)
{
	struct t *t = *state;
	incoming(t, NULL, NULL);
	assert_int_equal(t->accept_err, 0);
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	assert_int_equal(ring->body_len, 0);  /* no offer in an unreliable 1xx */
	learn_our_tag(t, ring);
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_true(has_sdp(ok));
	assert_body_has(ok, "m=audio 40000 RTP/AVP 0 8 101\r\n");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->invite_cseq,
				 .sdp = PEER_SDP("1", "") });
	assert_int_equal(t->ev.established, 1);
	assert_true(t->s->have_media);
	assert_int_equal(t->s->media.pt, 0);
	char host[64];
	assert_string_equal(sa_hostport(&t->s->media.remote, host, sizeof(host)), "192.0.2.9:5004");
	no_more(t);
}

static void test_in_offerless_invite_ack_without_answer_bye(void **state)
{
	struct t *t = *state;
	incoming(t, NULL, NULL);
	assert_int_equal(sip_sess_answer(t->s), 0);
	learn_our_tag(t, next_resp(t, 200, "INVITE"));
	ack_in(t);  /* no SDP: our offer is left without an answer */
	next_req(t, "BYE");
	assert_int_equal(t->ev.established, 0);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_FAILED);
	no_more(t);
}

static void test_ua_close_ends_calls_with_bye(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	sip_ua_close(t->ua);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, PEER_URI);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_CLOSED);
	no_more(t);
}

/* ------------------------------------------------------------------------ */
/* modifications (§14, RFC 3311)                                            */

static void test_reinvite_incoming_answered_and_modified(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "INVITE", .contact = "<sip:bob@192.0.2.9:5072>",
				 .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	next_resp(t, 100, "INVITE");  /* every INVITE transaction's, at once */
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_int_equal(ok->cseq, t->peer_cseq);
	assert_string_equal(ok->to_tag, t->our_tag);
	assert_hdr(ok, "Contact", OUR_CONTACT);
	assert_true(has_sdp(ok));
	assert_body_has(ok, "a=recvonly\r\n");
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_RECVONLY);
	assert_true(t->s->media.hold_by_peer);
	/* RFC 3264 §4: no offer of ours while theirs waits for its ACK */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDRECV, false), -EBUSY);
	/* its 2xx goes again until the ACK (§14.2, §13.3.1.4) */
	run_for(t, 600);
	next_resp(t, 200, "INVITE");
	assert_true(same_bytes(last(t) - 1, last(t)));
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq });
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->ev.modified, 1);
	/* the re-INVITE refreshed the target (§12.2.2) */
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, "sip:bob@192.0.2.9:5072");
	assert_sent_to(last(t), PEER_HOST, 5072);
}

static void test_reinvite_outgoing(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	assert_in_dialog_out(t, re, "INVITE", inv->cseq + 1);
	assert_hdr(re, "Contact", OUR_CONTACT);
	assert_true(has_sdp(re));
	assert_body_has(re, "a=sendonly\r\n");
	assert_string_not_equal(re->via.branch, inv->via.branch);
	/* one offer at a time */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDRECV, true), -EBUSY);
	no_more(t);
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_in_dialog_out(t, ack, "ACK", re->cseq);
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	assert_int_equal(t->ev.modified, 0);  /* that is for the far end's changes */
	no_more(t);
	/* the next request counts on */
	assert_int_equal(sip_sess_hangup(t->s), 0);
	assert_in_dialog_out(t, next_req(t, "BYE"), "BYE", re->cseq + 1);
}

static void test_reinvite_outgoing_2xx_retransmission_acked_again(void **state)
{
	struct t *t = *state;
	call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	next_req(t, "ACK");
	no_more(t);
	/* our ACK was lost: bob retransmits his 2xx, which must be ACKed
	 * again (§13.2.2.4, which §14.1 applies to re-INVITEs), or bob ends
	 * the call after 64*T1 */
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	if (t->mark >= fake_tp.nsent)
		fail_msg("a retransmitted 2xx to our re-INVITE got no ACK");
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_in_dialog_out(t, ack, "ACK", re->cseq);
	assert_int_equal(t->ev.modify_done, 1);
	no_more(t);
}

static void test_reinvite_incoming_offerless(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "INVITE" });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_true(has_sdp(ok));  /* our offer */
	assert_body_has(ok, "a=sendrecv\r\n");
	assert_int_equal(t->ev.modified, 0);  /* the answer is yet to come */
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq,
				 .sdp = PEER_SDP("2", "a=recvonly\r\n") });
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
}

static void test_reinvite_outgoing_refused_keeps_call_481_ends_it(void **state)
{
	struct t *t = *state;
	call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	respond(t, re, 488, NULL, NULL, NULL);
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_status, 488);
	/* §14.1: a refused re-INVITE leaves the session as it was */
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	re = next_req(t, "INVITE");
	respond(t, re, 481, NULL, NULL, NULL);
	next_req(t, "ACK");
	/* §12.2.1.2: 481 to a request in the dialog ends it */
	assert_int_equal(t->ev.modify_done, 2);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_FAILED);
	assert_int_equal(t->ev.status, 481);
	no_more(t);
}

/* A refused hold leaves the call as it was (§14.1): the direction we
 * want too, which answers the peer's next offer. */
static void test_reinvite_outgoing_refused_hold_keeps_direction(void **state)
{
	struct t *t = *state;
	call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	respond(t, re, 488, NULL, NULL, NULL);
	next_req(t, "ACK");
	assert_int_equal(t->ev.md_status, 488);
	assert_int_equal(t->s->media.dir, SDP_SENDRECV);
	request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("2", "") });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_body_has(ok, "a=sendrecv\r\n");
	assert_int_equal(t->s->media.dir, SDP_SENDRECV);
}

/* A call we hold stays held when the peer's re-INVITE has no offer: our
 * offer in the 2xx says sendonly (RFC 6337 §5.2). */
static void test_reinvite_incoming_offerless_keeps_our_hold(void **state)
{
	struct t *t = *state;
	call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	next_req(t, "ACK");
	request(t, &(struct rq){ .method = "INVITE" });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_body_has(ok, "a=sendonly\r\n");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq,
				 .sdp = PEER_SDP("3", "a=recvonly\r\n") });
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	assert_false(t->s->media.hold_by_peer);
}

static void test_update_incoming(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	const struct sip_msg *ok = next_resp(t, 200, "UPDATE");
	assert_hdr(ok, "Contact", OUR_CONTACT);
	assert_true(has_sdp(ok));
	assert_body_has(ok, "a=recvonly\r\n");
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_RECVONLY);
	/* a non-INVITE: no 2xx retransmission, no ACK awaited */
	run_for(t, 40000);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
}

static void test_update_outgoing(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), 0);
	const struct sip_msg *up = next_req(t, "UPDATE");
	assert_in_dialog_out(t, up, "UPDATE", inv->cseq + 1);
	assert_hdr(up, "Contact", OUR_CONTACT);
	assert_true(has_sdp(up));
	assert_body_has(up, "a=sendonly\r\n");
	respond(t, up, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	no_more(t);  /* no ACK for UPDATE */
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
}

static void test_glare_their_reinvite_491(void **state)
{
	struct t *t = *state;
	call_up(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	/* bob offers at the same time (§14.2) */
	request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("2", "") });
	next_resp(t, 100, "INVITE");
	next_resp(t, 491, "INVITE");
	ack_non2xx(t);
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "") });
	next_resp(t, 491, "UPDATE");  /* RFC 3311 §5.2 */
	assert_int_equal(t->ev.modified, 0);
	no_more(t);
	/* ours goes on */
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->ev.ended, 0);
}

/* Our re-INVITE meets 491 rounds times; each retry must leave within
 * [lo, hi) ms of the 491 (§14.1), then the last one is answered. */
static void glare_retries(struct t *t, uint64_t lo, uint64_t hi, unsigned rounds)
{
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	for (unsigned i = 0; i < rounds; i++) {
		respond(t, re, 491, NULL, NULL, NULL);
		next_req(t, "ACK");  /* the transaction's, for a non-2xx */
		assert_int_equal(t->ev.modify_done, 0);  /* not over: it retries */
		uint64_t t0 = now(t);
		if (!run_until_send(t, t0 + hi + 1000))
			fail_msg("round %u: no retry within %llu ms of the 491", i,
				 (unsigned long long)(hi + 1000));
		const struct sip_msg *again = next_req(t, "INVITE");
		uint64_t wait = sent_at(last(t)) - t0;
		if (wait < lo || wait >= hi)
			fail_msg("round %u: retried after %llu ms, expected [%llu, %llu)", i,
				 (unsigned long long)wait, (unsigned long long)lo,
				 (unsigned long long)hi);
		assert_true(again->cseq > re->cseq);
		assert_body_has(again, "a=sendonly\r\n");
		no_more(t);
		re = again;
	}
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	no_more(t);
}

static void test_glare_491_retry_call_id_owner(void **state)
{
	struct t *t = *state;
	call_up(t);  /* we placed the call: the Call-ID is ours */
	glare_retries(t, 2100, 4001, 8);
}

static void test_glare_491_retry_not_owner(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	glare_retries(t, 0, 2001, 8);
}

static void test_glare_their_retry_accepted_during_backoff(void **state)
{
	struct t *t = *state;
	call_up(t);  /* we own the Call-ID: we wait 2.1-4 s, bob 0-2 s */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	respond(t, re, 491, NULL, NULL, NULL);
	next_req(t, "ACK");
	/* bob's own retry comes first, as §14.1 means it to: with no offer
	 * of ours outstanding it must be answered, not refused again */
	run_for(t, 1000);
	no_more(t);
	request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("2", "") });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *m = next(t);
	if (m->request || m->status != 200)
		fail_msg("bob's re-INVITE during our glare back-off got \"%s\", expected 200",
			 first_line(last(t)));
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq });
	assert_int_equal(t->ev.modified, 1);
}

/* What the owner reads of a call: the INVITE we sent (the retry after a
 * challenge) and the dialog's tags, also once the call is over */
static void test_out_request_and_tags(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	struct sip_msg *m = sip_sess_request_msg(t->s);
	assert_non_null(m);
	assert_string_equal(m->method, "INVITE");
	assert_string_equal(m->call_id, inv->call_id);
	assert_int_equal(m->cseq, inv->cseq);
	mem_deref(m);
	assert_string_equal(sip_sess_local_tag(t->s), inv->from_tag);
	assert_null(sip_sess_remote_tag(t->s));
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	next_req(t, "ACK");
	assert_string_equal(sip_sess_remote_tag(t->s), PEER_TAG);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	next_req(t, "BYE");
	assert_int_equal(t->s->state, SIP_SESS_ENDED);
	assert_string_equal(sip_sess_local_tag(t->s), inv->from_tag);
	assert_string_equal(sip_sess_remote_tag(t->s), PEER_TAG);
}

static void test_in_request_and_tags(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	struct sip_msg *m = sip_sess_request_msg(t->s);
	assert_ptr_equal(m, t->s->invite);
	mem_deref(m);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	assert_string_equal(sip_sess_local_tag(t->s), t->our_tag);
	assert_string_equal(sip_sess_remote_tag(t->s), t->s->invite->from_tag);
}

/* A request the owner has no handler for: 200 for OPTIONS (as INFO), else
 * 405 with what the call takes (RFC 3261 §21.4.6), from sip_sess_methods */
static void test_in_unhandled_405_allow(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "OPTIONS", .cseq = t->peer_cseq + 1 });
	next_resp(t, 200, "OPTIONS");
	const char *const refused[] = { "MESSAGE", "SUBSCRIBE" };
	for (unsigned i = 0; i < N(refused); i++) {
		request(t, &(struct rq){ .method = refused[i], .cseq = t->peer_cseq + 2 + i });
		const char *allow = hdr(next_resp(t, 405, refused[i]), "Allow");
		if (!allow)
			fail_msg("the 405 to %s has no Allow", refused[i]);
		for (const struct sip_sess_method *m = sip_sess_methods; m->name; m++) {
			bool listed = strstr(allow, m->name) != NULL;
			if (listed != (m->by != SIP_SESS_OWNER_OR_405))
				fail_msg("Allow: %s: %s should%s be there", allow, m->name,
					 listed ? " not" : "");
		}
	}
	assert_int_equal(t->ev.requests, 3);
	no_more(t);
}

static void test_lower_cseq_500(void **state)
{
	struct t *t = *state;
	t->peer_cseq = 4;  /* bob's INVITE has CSeq 5 */
	call_in_up(t);
	request(t, &(struct rq){ .method = "INFO", .cseq = 7 });
	next_resp(t, 200, "INFO");
	assert_int_equal(t->ev.requests, 1);
	/* §12.2.2: lower than the last one: out of order */
	request(t, &(struct rq){ .method = "INFO", .cseq = 6 });
	const struct sip_msg *r = next_resp(t, 500, "INFO");
	assert_int_equal(r->cseq, 6);
	request(t, &(struct rq){ .method = "INVITE", .cseq = 3, .sdp = PEER_SDP("2", "") });
	next_resp(t, 100, "INVITE");
	next_resp(t, 500, "INVITE");
	ack_non2xx(t);
	assert_int_equal(t->ev.requests, 1);
	assert_int_equal(t->ev.modified, 0);
	assert_int_equal(t->ev.ended, 0);
	/* a higher one still goes through */
	request(t, &(struct rq){ .method = "INFO", .cseq = 8 });
	next_resp(t, 200, "INFO");
	assert_int_equal(t->ev.requests, 2);
	no_more(t);
}

/* ------------------------------------------------------------------------ */
/* reliable provisional responses (RFC 3262)                                */

static unsigned long hdr_ul(const struct sip_msg *m, const char *name)
{
	const char *v = hdr(m, name);
	if (!v)
		fail_msg("no %s header in \"%s\"", name, m->request ? m->method : m->reason);
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	assert_true(end != v);
	return n;
}

static void prack(struct t *t, unsigned long rseq, uint32_t cseq)
{
	char rack[80];
	snprintf(rack, sizeof(rack), "RAck: %lu %u INVITE\r\n", rseq, cseq);
	request(t, &(struct rq){ .method = "PRACK", .extra = rack });
}

static void test_prack_in_reliable_180_retransmitted_until_prack(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	size_t first = last(t);
	learn_our_tag(t, ring);
	assert_hdr(ring, "Require", "100rel");
	unsigned long rseq = hdr_ul(ring, "RSeq");
	assert_true(rseq >= 1 && rseq <= 0x7fffffffu);  /* §3 */
	assert_hdr(ring, "Contact", OUR_CONTACT);
	/* §3: again at T1, doubling, until the PRACK */
	run_for(t, 3600);
	static const uint64_t at[] = { 500, 1500, 3500 };
	for (size_t i = 0; i < N(at); i++) {
		next_resp(t, 180, "INVITE");
		assert_int_equal(sent_at(last(t)), sent_at(first) + at[i]);
		assert_true(same_bytes(first, last(t)));
	}
	no_more(t);
	prack(t, rseq, t->invite_cseq);
	next_resp(t, 200, "PRACK");
	run_for(t, 20000);
	no_more(t);
	/* the answer goes as usual */
	assert_int_equal(sip_sess_answer(t->s), 0);
	next_resp(t, 200, "INVITE");
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
}

static void test_prack_in_wrong_rack_481(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	learn_our_tag(t, ring);
	unsigned long rseq = hdr_ul(ring, "RSeq");
	prack(t, rseq + 1, t->invite_cseq);  /* §7.2: matches no 1xx */
	next_resp(t, 481, "PRACK");
	run_for(t, 600);
	next_resp(t, 180, "INVITE");  /* still unacknowledged */
	prack(t, rseq, t->invite_cseq);
	next_resp(t, 200, "PRACK");
	no_more(t);
}

/* SIP_SUPPORTED is what a request may Require: each of its tags is taken,
 * and a tag beside them that we lack gets 420 naming it alone (§8.2.2.3). */
static void test_require_supported_tags_taken(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""),
		 "Require: timer, 100rel\r\nSession-Expires: 1800\r\nSupported: timer, 100rel\r\n");
	assert_int_equal(t->accept_err, 0);
}

static void test_require_unsupported_tag_420(void **state)
{
	struct t *t = *state;
	snprintf(t->call_id, sizeof(t->call_id), "in-call-1@" PEER_HOST);
	snprintf(t->peer_from, sizeof(t->peer_from), "Bob <sip:bob@" PEER_HOST ">;tag=" PEER_TAG);
	snprintf(t->peer_to, sizeof(t->peer_to), "<sip:alice@" OUR_HOST ">");
	request(t, &(struct rq){ .method = "INVITE", .extra = "Require: timer, x-foo\r\n",
				 .sdp = PEER_SDP("1", "") });
	next_resp(t, 100, "INVITE");  /* as for every INVITE, at once */
	const struct sip_msg *r = next_resp(t, 420, "INVITE");
	assert_string_equal(hdr(r, "Unsupported"), "x-foo");
	assert_int_equal(t->accepts, 0);
}

static void test_prack_in_none_within_64t1_500(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Require: 100rel\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	run_for(t, 64 * 500);
	while (t->mark < fake_tp.nsent && !sent(t->mark)->request &&
	       sent(t->mark)->status == 180)
		t->mark++;
	/* §3: the INVITE is refused with a 5xx */
	next_resp(t, 500, "INVITE");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_FAILED);
}

static void test_prack_in_183_with_sdp_defers_200(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_progress(t->s), 0);
	const struct sip_msg *p = next_resp(t, 183, "INVITE");
	learn_our_tag(t, p);
	assert_true(has_sdp(p));
	unsigned long rseq = hdr_ul(p, "RSeq");
	/* §3: no 2xx before the PRACK of a reliable 1xx with SDP */
	assert_int_equal(sip_sess_answer(t->s), 0);
	no_more(t);
	prack(t, rseq, t->invite_cseq);
	next_resp(t, 200, "PRACK");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_true(has_sdp(ok));
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
}

static void test_prack_in_second_1xx_waits_and_counts_on(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	learn_our_tag(t, ring);
	unsigned long rseq = hdr_ul(ring, "RSeq");
	/* §3: one unacknowledged reliable 1xx at a time */
	assert_int_equal(sip_sess_progress(t->s), 0);
	no_more(t);
	prack(t, rseq, t->invite_cseq);
	next_resp(t, 200, "PRACK");
	const struct sip_msg *p = next_resp(t, 183, "INVITE");
	assert_int_equal(hdr_ul(p, "RSeq"), rseq + 1);
	no_more(t);
}

static void test_prack_out_sent_for_each_new_reliable_1xx(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	assert_non_null(strstr(hdr(inv, "Supported"), "100rel"));
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: 100rel\r\nRSeq: 7\r\n", NULL);
	assert_int_equal(t->ev.progress, 1);
	const struct sip_msg *pr = next_req(t, "PRACK");
	/* §7.1: in the early dialog, RAck naming the 1xx */
	assert_in_dialog_out(t, pr, "PRACK", inv->cseq + 1);
	assert_hdr(pr, "RAck", "7 1 INVITE");
	respond(t, pr, 200, NULL, NULL, NULL);
	/* a retransmission of it: no PRACK, no progress again (§4) */
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: 100rel\r\nRSeq: 7\r\n", NULL);
	no_more(t);
	assert_int_equal(t->ev.progress, 1);
	respond(t, inv, 183, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: 100rel\r\nRSeq: 8\r\n", PEER_SDP("1", ""));
	pr = next_req(t, "PRACK");
	assert_in_dialog_out(t, pr, "PRACK", inv->cseq + 2);
	assert_hdr(pr, "RAck", "8 1 INVITE");
	respond(t, pr, 200, NULL, NULL, NULL);
	assert_true(t->s->have_media);  /* the answer came in the 183 */
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, NULL);
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_in_dialog_out(t, ack, "ACK", inv->cseq);  /* the INVITE's, not the PRACK's */
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	assert_in_dialog_out(t, next_req(t, "BYE"), "BYE", inv->cseq + 3);
}

static void test_prack_out_forked_reliable_1xx_each_pracked(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n"
		"Require: 100rel\r\nRSeq: 7\r\n", NULL);
	const struct sip_msg *pr = next_req(t, "PRACK");
	assert_string_equal(pr->to_tag, PEER_TAG);
	/* another branch of the fork, its own early dialog and RSeq space:
	 * RFC 3262 §4 has the UAC PRACK every reliable 1xx in each early
	 * dialog; unacknowledged, a 183 with SDP keeps that branch from ever
	 * sending its 2xx (§3) */
	respond(t, inv, 183, "forktag", "Contact: <sip:bob@192.0.2.77:5090>\r\n"
		"Require: 100rel\r\nRSeq: 300\r\n", PEER_SDP("1", ""));
	if (t->mark >= fake_tp.nsent)
		fail_msg("no PRACK for a reliable 183 of a second early dialog");
	pr = next_req(t, "PRACK");
	assert_string_equal(pr->to_tag, "forktag");
	assert_string_equal(pr->ruri, "sip:bob@192.0.2.77:5090");
	assert_hdr(pr, "RAck", "300 1 INVITE");
}

/* bob calls with 100rel and an offer; our reliable 183 has the answer.
 * Returns its RSeq. */
static unsigned long early_183_reliable(struct t *t)
{
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_progress(t->s), 0);
	const struct sip_msg *p = next_resp(t, 183, "INVITE");
	learn_our_tag(t, p);
	assert_true(has_sdp(p));
	assert_body_has(p, "a=sendrecv\r\n");
	return hdr_ul(p, "RSeq");
}

static void prack_sdp(struct t *t, unsigned long rseq, const char *sdp)
{
	char rack[80];
	snprintf(rack, sizeof(rack), "RAck: %lu %u INVITE\r\n", rseq, t->invite_cseq);
	request(t, &(struct rq){ .method = "PRACK", .extra = rack, .sdp = sdp });
}

static void test_prack_in_offer_answered_in_its_200(void **state)
{
	struct t *t = *state;
	unsigned long rseq = early_183_reliable(t);
	/* the 183 had the answer: RFC 3262 §5 lets the PRACK carry a new
	 * offer, answered in the 200 to the PRACK */
	prack_sdp(t, rseq, PEER_SDP("2", "a=sendonly\r\n"));
	const struct sip_msg *ok = next_resp(t, 200, "PRACK");
	if (!has_sdp(ok))
		fail_msg("the 200 to a PRACK with an offer has no answer:\n%s",
			 fake_tp.sent[last(t)].buf);
	assert_body_has(ok, "a=recvonly\r\n");
	assert_body_has(ok, " 2 IN IP4 " OUR_HOST "\r\n");  /* a new version (RFC 3264 §8) */
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_RECVONLY);
	assert_non_null(strstr(t->s->remote_sdp, "a=sendonly"));
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	/* the 200 to the INVITE repeats the last SDP we sent */
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *fin = next_resp(t, 200, "INVITE");
	assert_body_has(fin, "a=recvonly\r\n");
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	run_for(t, 5000);
	no_more(t);
}

static void test_prack_in_unacceptable_offer_488_keeps_session(void **state)
{
	struct t *t = *state;
	unsigned long rseq = early_183_reliable(t);
	char *before = strdup(t->s->sdp.last);
	assert_int_equal(sip_sess_answer(t->s), 0);  /* waits for the PRACK */
	no_more(t);
	/* only a codec we lack: refused, the call stays early and as it was */
	prack_sdp(t, rseq, PEER_SDP_AT("2", "18", ""));
	next_resp(t, 488, "PRACK");
	assert_int_equal(t->ev.modified, 0);
	assert_int_equal(t->s->media.dir, SDP_SENDRECV);
	assert_int_equal(t->s->media.pt, 0);
	assert_null(strstr(t->s->remote_sdp, "RTP/AVP 18"));
	assert_string_equal(t->s->sdp.last, before);
	free(before);
	/* the PRACK still acknowledged the 183: no more of it, and the 200
	 * that waited for it goes with the answer of the INVITE */
	const struct sip_msg *fin = next_resp(t, 200, "INVITE");
	assert_body_has(fin, "a=sendrecv\r\n");
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
}

static void test_prack_in_offer_before_our_answer_491(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_ring(t->s), 0);
	const struct sip_msg *ring = next_resp(t, 180, "INVITE");
	learn_our_tag(t, ring);
	/* the INVITE's offer has no answer yet: no new offer may come */
	prack_sdp(t, hdr_ul(ring, "RSeq"), PEER_SDP("2", "a=sendonly\r\n"));
	next_resp(t, 491, "PRACK");
	assert_int_equal(t->ev.modified, 0);
	run_for(t, 2000);
	no_more(t);  /* the 180 is acknowledged all the same */
	assert_int_equal(sip_sess_answer(t->s), 0);
	assert_body_has(next_resp(t, 200, "INVITE"), "a=sendrecv\r\n");
}

/* ------------------------------------------------------------------------ */
/* session timers (RFC 4028)                                                */

static void test_timer_in_peer_refreshes_else_bye(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n");
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	learn_our_tag(t, ok);
	/* §9: the interval and refresher agreed, and Require: timer */
	assert_hdr(ok, "Session-Expires", "90;refresher=uac");
	assert_non_null(hdr(ok, "Require"));
	assert_non_null(strstr(hdr(ok, "Require"), "timer"));
	uint64_t t0 = now(t);
	ack_in(t);
	/* bob refreshes halfway */
	run_until(t, t0 + 45000);
	no_more(t);
	request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("1", ""),
				 .extra = "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n" });
	next_resp(t, 100, "INVITE");
	ok = next_resp(t, 200, "INVITE");
	assert_hdr(ok, "Session-Expires", "90;refresher=uac");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq });
	uint64_t t1 = now(t);
	/* then not: §10, BYE at the interval less min(32 s, interval/3) */
	run_until(t, t1 + 60000 - 1);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	run_until(t, t1 + 60000);
	next_req(t, "BYE");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_TIMEOUT);
}

static void test_timer_in_too_small_422(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: timer\r\nSession-Expires: 60\r\n");
	assert_null(t->s);
	const struct sip_msg *r = next_resp(t, 422, "INVITE");
	assert_int_equal(hdr_ul(r, "Min-SE"), 90);  /* RFC 4028 §6 */
	no_more(t);
}

static void test_timer_out_we_refresh_halfway(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial_with(t, false, "Session-Expires: 90\r\n");
	assert_hdr(inv, "Session-Expires", "90");
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: timer\r\nSession-Expires: 90;refresher=uac\r\n", PEER_SDP("1", ""));
	next_req(t, "ACK");
	uint64_t t0 = now(t);
	run_until(t, t0 + 45000 - 1);
	no_more(t);
	run_until(t, t0 + 45000);
	/* §7.4: we are the refresher: a re-INVITE halfway, the same session */
	const struct sip_msg *re = next_req(t, "INVITE");
	assert_in_dialog_out(t, re, "INVITE", inv->cseq + 1);
	assert_non_null(hdr(re, "Session-Expires"));
	assert_int_equal(hdr_ul(re, "Session-Expires"), 90);
	assert_non_null(strstr(hdr(re, "Session-Expires"), "refresher=uac"));
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n"
		"Require: timer\r\nSession-Expires: 90;refresher=uac\r\n", PEER_SDP("1", ""));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 0);  /* a refresh is not the owner's */
	assert_int_equal(t->ev.ended, 0);
	run_until(t, now(t) + 45000);
	next_req(t, "INVITE");
}

static void test_timer_out_peer_refresher_else_bye(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial_with(t, false, "Session-Expires: 90\r\n");
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n"
		"Require: timer\r\nSession-Expires: 90;refresher=uas\r\n", PEER_SDP("1", ""));
	next_req(t, "ACK");
	uint64_t t0 = now(t);
	run_until(t, t0 + 60000 - 1);
	no_more(t);
	run_until(t, t0 + 60000);
	next_req(t, "BYE");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_TIMEOUT);
}

/* ------------------------------------------------------------------------ */
/* the session's m= lines (RFC 3264 §6, §8): a phone's video, declined,    */
/* stays in every SDP of the session at port 0                              */

/* bob's video stream, offered, and declined in his answer to ours. */
#define PEER_VIDEO "m=video 5006 RTP/AVP 100\r\na=rtpmap:100 H264/90000\r\n"
#define PEER_VIDEO_DECLINED "m=video 0 RTP/AVP 100\r\n"
#define PEER_BFCP "m=application 5008 UDP/BFCP *\r\n"

/* The m= lines of a message's body, without line ends, joined by "|". */
static void assert_mlines(const struct sip_msg *m, const char *want)
{
	char got[1024] = "";
	size_t n = 0;
	const char *p = m->body, *end = m->body + m->body_len;
	while (p && p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *stop = e ? e : end;
		if (stop > p && stop[-1] == '\r')
			stop--;
		if (stop - p >= 2 && p[0] == 'm' && p[1] == '=') {
			int k = snprintf(got + n, sizeof(got) - n, "%s%.*s", n ? "|" : "",
					 (int)(stop - p), p);
			assert_true(k > 0 && (size_t)k < sizeof(got) - n);
			n += (size_t)k;
		}
		p = e ? e + 1 : end;
	}
	if (strcmp(got, want) != 0)
		fail_msg("m= lines \"%s\", expected \"%s\"", got, want);
}

/* The call of issue 16: bob's phone offers audio and video, we answer the
 * audio and decline the video. Hold by re-INVITE, resume by UPDATE: each
 * offer keeps the video line at port 0, and bob's answers, which keep it
 * too, are taken. An answer that drops it is no answer to our offer: the
 * 2xx is acknowledged, the modification fails and the call goes on as it
 * was. */
static void test_mlines_in_video_declined_kept_by_modify(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", PEER_VIDEO), NULL);
	assert_int_equal(t->accept_err, 0);
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	learn_our_tag(t, ok);
	assert_mlines(ok, "m=audio 40000 RTP/AVP 0 101|m=video 0 RTP/AVP 100");
	ack_in(t);
	assert_int_equal(t->ev.established, 1);

	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	assert_mlines(re, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	assert_body_has(re, "a=sendonly\r\n");
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n",
		PEER_SDP("2", "a=recvonly\r\n" PEER_VIDEO_DECLINED));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);

	assert_int_equal(sip_sess_modify(t->s, SDP_SENDRECV, true), 0);
	const struct sip_msg *up = next_req(t, "UPDATE");
	assert_mlines(up, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	assert_body_has(up, "a=sendrecv\r\n");
	respond(t, up, 200, NULL, "Contact: " PEER_CONTACT "\r\n",
		PEER_SDP("3", PEER_VIDEO_DECLINED));
	assert_int_equal(t->ev.modify_done, 2);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->s->media.dir, SDP_SENDRECV);

	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	re = next_req(t, "INVITE");
	assert_mlines(re, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("4", "a=recvonly\r\n"));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 3);
	assert_int_equal(t->ev.md_err, -EBADMSG);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDRECV);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(t->ev.ended, 0);
	no_more(t);
}

/* Our call offers audio alone; bob adds video by re-INVITE, then an
 * application stream by UPDATE: each answer declines the new line, and our
 * re-INVITE after them offers all three, in bob's order. */
static void test_mlines_out_peer_adds_lines_kept_in_our_offer(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	assert_mlines(inv, "m=audio 40000 RTP/AVP 0 8 101");

	request(t, &(struct rq){ .method = "INVITE", .sdp = PEER_SDP("2", PEER_VIDEO) });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_mlines(ok, "m=audio 40000 RTP/AVP 0 101|m=video 0 RTP/AVP 100");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq });
	assert_int_equal(t->ev.modified, 1);

	request(t, &(struct rq){ .method = "UPDATE",
				 .sdp = PEER_SDP("3", PEER_VIDEO PEER_BFCP) });
	ok = next_resp(t, 200, "UPDATE");
	assert_mlines(ok, "m=audio 40000 RTP/AVP 0 101|m=video 0 RTP/AVP 100|"
		      "m=application 0 UDP/BFCP *");
	assert_int_equal(t->ev.modified, 2);

	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	assert_mlines(re, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100|"
		      "m=application 0 UDP/BFCP *");
	respond(t, re, 200, NULL, "Contact: " PEER_CONTACT "\r\n",
		PEER_SDP("4", "a=recvonly\r\n" PEER_VIDEO_DECLINED "m=application 0 UDP/BFCP *\r\n"));
	next_req(t, "ACK");
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	no_more(t);
}

/* An offer-less re-INVITE gets our offer in the 2xx with every line of the
 * session; the answer in the ACK must have them all, else the call ends. */
static void test_mlines_offerless_reinvite_offers_every_line(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", PEER_VIDEO), NULL);
	assert_int_equal(sip_sess_answer(t->s), 0);
	learn_our_tag(t, next_resp(t, 200, "INVITE"));
	ack_in(t);

	request(t, &(struct rq){ .method = "INVITE" });
	next_resp(t, 100, "INVITE");
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_mlines(ok, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq,
				 .sdp = PEER_SDP("2", "a=recvonly\r\n" PEER_VIDEO_DECLINED) });
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);

	request(t, &(struct rq){ .method = "INVITE" });
	next_resp(t, 100, "INVITE");
	ok = next_resp(t, 200, "INVITE");
	assert_mlines(ok, "m=audio 40000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	request(t, &(struct rq){ .method = "ACK", .cseq = t->peer_cseq,
				 .sdp = PEER_SDP("3", "") });
	next_req(t, "BYE");
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_FAILED);
	assert_int_equal(t->ev.status, 400);
	no_more(t);
}

/* Our INVITE asked for 90 s; bob answers 422 with Min-SE: 1800. Returns
 * the retry, with the ACK of the 422 looked at. */
static const struct sip_msg *retried_after_422(struct t *t, const struct sip_msg **first)
{
	const struct sip_msg *inv = dial_with(t, false, "Session-Expires: 90;refresher=uac\r\n");
	*first = inv;
	respond(t, inv, 422, PEER_TAG, "Min-SE: 1800\r\n", NULL);
	next_req(t, "ACK");  /* of the 422, in its transaction */
	assert_int_equal(t->ev.ended, 0);
	return next_req(t, "INVITE");
}

static void test_timer_out_422_retried_with_its_min_se(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv;
	const struct sip_msg *re = retried_after_422(t, &inv);
	/* RFC 4028 §7.1: the same call, the next CSeq, a new transaction, and
	 * an interval of at least the Min-SE, which it states */
	assert_string_equal(re->call_id, inv->call_id);
	assert_string_equal(re->from_tag, inv->from_tag);
	assert_null(re->to_tag);
	assert_int_equal(re->cseq, inv->cseq + 1);
	assert_string_not_equal(hdr(re, "Via"), hdr(inv, "Via"));
	assert_hdr(re, "Session-Expires", "1800;refresher=uac");
	assert_hdr(re, "Min-SE", "1800");
	assert_int_equal(sip_msg_hdr_count(re, "Session-Expires"), 1);
	assert_true(has_sdp(re));
	assert_int_equal(re->body_len, inv->body_len);
	no_more(t);
	t->invite_cseq = re->cseq;
	respond(t, re, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: timer\r\nSession-Expires: 1800;refresher=uac\r\n", PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_int_equal(ack->cseq, re->cseq);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->se, 1800);
	/* the timer runs with the agreed interval: our refresh at half of it,
	 * with the Min-SE of the 422 again (§7.4) */
	uint64_t t0 = now(t);
	run_until(t, t0 + 900000 - 1);
	no_more(t);
	run_until(t, t0 + 900000);
	const struct sip_msg *refresh = next_req(t, "INVITE");
	assert_in_dialog_out(t, refresh, "INVITE", re->cseq + 1);
	assert_int_equal(hdr_ul(refresh, "Session-Expires"), 1800);
	assert_hdr(refresh, "Min-SE", "1800");
}

static void test_timer_out_422_again_same_min_se_ends(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv;
	const struct sip_msg *re = retried_after_422(t, &inv);
	/* the same Min-SE once more: retrying would loop; the call fails */
	respond(t, re, 422, PEER_TAG, "Min-SE: 1800\r\n", NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_REJECTED);
	assert_int_equal(t->ev.status, 422);
}

static void test_timer_out_422_without_min_se_ends(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial_with(t, false, "Session-Expires: 90\r\n");
	respond(t, inv, 422, PEER_TAG, NULL, NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.status, 422);
}

static void test_prack_in_offerless_invite_sdp_in_prack_491(void **state)
{
	struct t *t = *state;
	incoming(t, NULL, "Supported: 100rel\r\n");
	assert_int_equal(sip_sess_progress(t->s), 0);
	/* no offer of ours goes before the 2xx: the reliable 183 has no SDP,
	 * so a PRACK has nothing to answer and may not offer either */
	const struct sip_msg *p = next_resp(t, 183, "INVITE");
	learn_our_tag(t, p);
	assert_false(has_sdp(p));
	prack_sdp(t, hdr_ul(p, "RSeq"), PEER_SDP("1", ""));
	next_resp(t, 491, "PRACK");
	assert_int_equal(t->ev.modified, 0);
	assert_false(t->s->have_media);
	/* the offer goes in the 200 and the answer comes in the ACK */
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_true(has_sdp(ok));
	request(t, &(struct rq){ .method = "ACK", .cseq = t->invite_cseq,
				 .sdp = PEER_SDP("1", "") });
	assert_int_equal(t->ev.established, 1);
	assert_true(t->s->have_media);
}

/* ------------------------------------------------------------------------ */
/* UPDATE in an early dialog (RFC 3311 §5.1)                                */

/* We call bob; his reliable 183 has the answer (or, reliable false, an
 * unreliable one); returns the INVITE, with our PRACK answered. */
static const struct sip_msg *early_answered_out(struct t *t, bool reliable)
{
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 183, PEER_TAG, reliable ? "Contact: " PEER_CONTACT "\r\n" RR_TWO
		"Require: 100rel\r\nRSeq: 7\r\n" : "Contact: " PEER_CONTACT "\r\n" RR_TWO,
		PEER_SDP("1", ""));
	if (reliable)
		respond(t, next_req(t, "PRACK"), 200, NULL, NULL, NULL);
	no_more(t);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	assert_true(t->s->have_media);
	return inv;
}

static void test_update_early_out_after_reliable_answer(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = early_answered_out(t, true);
	/* a re-INVITE must wait for the 2xx; an UPDATE need not */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), -ENOTCONN);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), 0);
	const struct sip_msg *up = next_req(t, "UPDATE");
	assert_in_dialog_out(t, up, "UPDATE", inv->cseq + 2);
	assert_true(has_sdp(up));
	assert_body_has(up, "a=sendonly\r\n");
	/* one offer at a time */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDRECV, true), -EBUSY);
	respond(t, up, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_err, 0);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	/* the 2xx repeats the 183's SDP: the offer/answer of the INVITE was
	 * over, it is ignored (RFC 3261 §13.2.1) and the UPDATE's stands */
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_TWO, PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_int_equal(ack->cseq, inv->cseq);
	assert_int_equal(ack->body_len, 0);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	assert_non_null(strstr(t->s->remote_sdp, "a=recvonly"));
}

static void test_update_early_out_refused_before_reliable_answer(void **state)
{
	struct t *t = *state;
	early_answered_out(t, false);
	/* an answer in an unreliable 183 is only a preview: no UPDATE yet */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), -ENOTCONN);
	no_more(t);
}

static void test_update_early_in_offer_answered_uac_side(void **state)
{
	struct t *t = *state;
	early_answered_out(t, true);
	/* bob (the callee) offers by UPDATE in the early dialog */
	request(t, &(struct rq){ .method = "UPDATE", .to = t->peer_to, .cseq = 10,
				 .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	const struct sip_msg *ok = next_resp(t, 200, "UPDATE");
	assert_true(has_sdp(ok));
	assert_body_has(ok, "a=recvonly\r\n");
	assert_null(hdr(ok, "Session-Expires"));
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_RECVONLY);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
}

/* bob's call with 100rel: our reliable 183 with the answer, PRACKed. */
static void early_answered_in(struct t *t)
{
	unsigned long rseq = early_183_reliable(t);
	prack(t, rseq, t->invite_cseq);
	next_resp(t, 200, "PRACK");
	no_more(t);
}

static void test_update_early_out_as_callee_after_prack(void **state)
{
	struct t *t = *state;
	early_answered_in(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), -ENOTCONN);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), 0);
	const struct sip_msg *up = next_req(t, "UPDATE");
	/* in the early dialog, to bob's Contact, our tag in From */
	assert_string_equal(up->ruri, "sip:bob@192.0.2.9:5070");
	assert_string_equal(up->call_id, t->call_id);
	assert_string_equal(up->from_tag, t->our_tag);
	assert_string_equal(up->to_tag, PEER_TAG);
	assert_body_has(up, "a=sendonly\r\n");
	assert_null(hdr(up, "Session-Expires"));
	respond(t, up, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("2", "a=recvonly\r\n"));
	assert_int_equal(t->ev.modify_done, 1);
	assert_int_equal(t->ev.md_status, 200);
	assert_int_equal(t->s->media.dir, SDP_SENDONLY);
	/* the 200 to the INVITE repeats the last SDP we sent */
	assert_int_equal(sip_sess_answer(t->s), 0);
	assert_body_has(next_resp(t, 200, "INVITE"), "a=sendonly\r\n");
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
}

static void test_update_early_out_as_callee_before_prack_refused(void **state)
{
	struct t *t = *state;
	early_183_reliable(t);
	/* the 183 with our answer is not PRACKed yet */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), -ENOTCONN);
	no_more(t);
}

static void test_update_early_in_offer_answered_uas_side(void **state)
{
	struct t *t = *state;
	early_answered_in(t);
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	const struct sip_msg *ok = next_resp(t, 200, "UPDATE");
	assert_true(has_sdp(ok));
	assert_body_has(ok, "a=recvonly\r\n");
	assert_int_equal(t->ev.modified, 1);
	assert_int_equal(t->s->media.dir, SDP_RECVONLY);
	assert_int_equal(sip_sess_answer(t->s), 0);
	assert_body_has(next_resp(t, 200, "INVITE"), "a=recvonly\r\n");
}

static void test_update_early_in_while_ours_open_491(void **state)
{
	struct t *t = *state;
	early_answered_in(t);
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, true), 0);
	next_req(t, "UPDATE");
	/* RFC 3311 §5.2: an offer of ours is open */
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "a=sendonly\r\n") });
	next_resp(t, 491, "UPDATE");
	assert_int_equal(t->ev.modified, 0);
}

static void test_update_early_in_keeps_invite_session_timer(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), "Supported: 100rel, timer\r\nSession-Expires: 90\r\n");
	assert_int_equal(sip_sess_progress(t->s), 0);
	const struct sip_msg *p = next_resp(t, 183, "INVITE");
	learn_our_tag(t, p);
	prack(t, hdr_ul(p, "RSeq"), t->invite_cseq);
	next_resp(t, 200, "PRACK");
	/* an UPDATE in the early dialog refreshes no session: the interval
	 * the INVITE asked for still goes in our 200 to it */
	request(t, &(struct rq){ .method = "UPDATE", .sdp = PEER_SDP("2", "") });
	const struct sip_msg *ok = next_resp(t, 200, "UPDATE");
	assert_null(hdr(ok, "Session-Expires"));
	assert_int_equal(sip_sess_answer(t->s), 0);
	ok = next_resp(t, 200, "INVITE");
	if (!hdr(ok, "Session-Expires"))
		fail_msg("an early UPDATE dropped the session timer of the INVITE");
	assert_int_equal(hdr_ul(ok, "Session-Expires"), 90);
}

/* ------------------------------------------------------------------------ */
/* a 2xx without a To tag (§12.1.2), strict routers (§12.2.1.1)             */

/* bob answers with no tag in his To: a peer of RFC 2543's time */
static const struct sip_msg *call_up_tagless(struct t *t)
{
	const struct sip_msg *inv = dial(t, false);
	/* his requests have no From tag then */
	snprintf(t->peer_from, sizeof(t->peer_from), "%s", hdr(inv, "To"));
	respond(t, inv, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	return inv;
}

/* The request is ours in the dialog of a tagless 2xx: bob's To as he
 * answered it, no tag. */
static void assert_tagless_out(struct t *t, const struct sip_msg *inv, const struct sip_msg *m,
			       const char *method, uint32_t cseq)
{
	assert_string_equal(m->ruri, PEER_URI);
	assert_sent_to(last(t), PEER_HOST, PEER_PORT);
	assert_string_equal(m->call_id, inv->call_id);
	assert_string_equal(m->from_tag, inv->from_tag);
	assert_null(m->to_tag);
	assert_string_equal(hdr(m, "To"), hdr(inv, "To"));
	assert_int_equal(m->cseq, cseq);
	assert_string_equal(m->cseq_method, method);
}

static void test_out_tagless_2xx_acked_peer_bye_matches(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up_tagless(t);
	/* §12.1.2: the remote tag is empty; §13.2.2.4: every 2xx is ACKed */
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_tagless_out(t, inv, ack, "ACK", inv->cseq);
	assert_string_not_equal(ack->via.branch, inv->via.branch);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_true(t->s->have_media);
	no_more(t);
	/* bob's requests carry no From tag: they are in the dialog all the same */
	request(t, &(struct rq){ .method = "INFO", .cseq = 1 });
	next_resp(t, 200, "INFO");
	assert_int_equal(t->ev.requests, 1);
	request(t, &(struct rq){ .method = "BYE" });
	const struct sip_msg *ok = next_resp(t, 200, "BYE");
	assert_string_equal(ok->to_tag, t->our_tag);
	assert_null(ok->from_tag);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
	no_more(t);
}

static void test_out_tagless_2xx_retransmissions_acked_our_bye(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up_tagless(t);
	next_req(t, "ACK");
	/* a retransmission, to the transaction and later to the dialog */
	respond(t, inv, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	assert_tagless_out(t, inv, next_req(t, "ACK"), "ACK", inv->cseq);
	run_for(t, 40000);
	no_more(t);
	respond(t, inv, 200, NULL, "Contact: " PEER_CONTACT "\r\n", PEER_SDP("1", ""));
	assert_tagless_out(t, inv, next_req(t, "ACK"), "ACK", inv->cseq);
	/* a tagless 2xx from elsewhere has the same dialog identifiers: it
	 * cannot be told from ours, and is taken for a retransmission */
	respond(t, inv, 200, NULL, "Contact: <sip:bob@192.0.2.77:5090>\r\n", PEER_SDP("1", ""));
	assert_tagless_out(t, inv, next_req(t, "ACK"), "ACK", inv->cseq);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
	no_more(t);
	/* our BYE: To as bob sent it, no tag */
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_tagless_out(t, inv, bye, "BYE", inv->cseq + 1);
	respond(t, bye, 200, NULL, NULL, NULL);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_LOCAL);
	no_more(t);
}

static void test_out_tagless_2xx_after_tagged_fork_is_another_dialog(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = call_up(t);
	/* a tagless 2xx of another branch after a tagged one: ACK and BYE */
	respond(t, inv, 200, NULL, "Contact: <sip:bob@192.0.2.77:5090>\r\n", PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, "sip:bob@192.0.2.77:5090");
	assert_null(ack->to_tag);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, "sip:bob@192.0.2.77:5090");
	assert_sent_to(last(t), "192.0.2.77", 5090);
	assert_null(bye->to_tag);
	respond(t, bye, 200, NULL, NULL, NULL);
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	assert_in_dialog_out(t, next_req(t, "BYE"), "BYE", inv->cseq + 1);
}

/* Record-Route of bob's 2xx: p2 loose next to bob, p1 strict next to us
 * (reversed, our route set is p1, p2). */
#define RR_STRICT_FIRST \
	"Record-Route: <sip:p2@192.0.2.52;lr>\r\n" \
	"Record-Route: <sip:p1@192.0.2.51:5062;maddr=192.0.2.51>\r\n"
#define STRICT_URI "sip:p1@192.0.2.51:5062;maddr=192.0.2.51"

/* §12.2.1.1: the strict router is the Request-URI, where the request
 * goes; the rest of the route set and then the remote target are Route. */
static void assert_strict_out(struct t *t, const struct sip_msg *m, const char *method,
			      const char *target)
{
	char want[128];
	assert_string_equal(m->cseq_method, method);
	assert_string_equal(m->ruri, STRICT_URI);
	assert_sent_to(last(t), "192.0.2.51", 5062);
	if (sip_msg_hdr_count(m, "Route") != 2)
		fail_msg("%s with %u Route headers, expected 2:\n%s", method,
			 sip_msg_hdr_count(m, "Route"), fake_tp.sent[last(t)].buf);
	assert_hdr(m, "Route", "<sip:p2@192.0.2.52;lr>");
	snprintf(want, sizeof(want), "<%s>", target);
	assert_string_equal(hdr_n(m, "Route", 1), want);
	assert_string_equal(m->to_tag, PEER_TAG);
}

static void test_out_strict_router_first_in_route_set(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_STRICT_FIRST, NULL);
	respond(t, inv, 200, PEER_TAG, "Contact: " PEER_CONTACT "\r\n" RR_STRICT_FIRST,
		PEER_SDP("1", ""));
	assert_strict_out(t, next_req(t, "ACK"), "ACK", PEER_URI);
	assert_int_equal(t->ev.established, 1);
	no_more(t);
	/* a re-INVITE, whose 2xx moves the remote target: the last Route */
	assert_int_equal(sip_sess_modify(t->s, SDP_SENDONLY, false), 0);
	const struct sip_msg *re = next_req(t, "INVITE");
	assert_strict_out(t, re, "INVITE", PEER_URI);
	respond(t, re, 200, NULL, "Contact: <sip:bob@192.0.2.99:5080>\r\n",
		PEER_SDP("2", "a=recvonly\r\n"));
	assert_strict_out(t, next_req(t, "ACK"), "ACK", "sip:bob@192.0.2.99:5080");
	assert_int_equal(sip_sess_hangup(t->s), 0);
	assert_strict_out(t, next_req(t, "BYE"), "BYE", "sip:bob@192.0.2.99:5080");
	no_more(t);
}

static void test_out_strict_router_alone_early_dialog(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	/* one strict router, in the early dialog and the 2xx; as a
	 * Request-URI it loses what a Request-URI may not have (§19.1.1):
	 * its method parameter and its headers */
	respond(t, inv, 183, PEER_TAG,
		"Contact: " PEER_CONTACT "\r\nRecord-Route: <sip:192.0.2.51>\r\n",
		PEER_SDP("1", ""));
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	respond(t, inv, 200, PEER_TAG,
		"Contact: " PEER_CONTACT "\r\n"
		"Record-Route: <sip:192.0.2.51;method=INVITE;transport=udp?Subject=hi>\r\n",
		PEER_SDP("1", ""));
	const struct sip_msg *ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, "sip:192.0.2.51;transport=udp");
	assert_sent_to(last(t), "192.0.2.51", 5060);
	assert_int_equal(sip_msg_hdr_count(ack, "Route"), 1);
	assert_hdr(ack, "Route", PEER_CONTACT);
	no_more(t);
}

static void test_in_strict_router_first_in_route_set(void **state)
{
	struct t *t = *state;
	/* the UAS route set is in Record-Route order: p1 (strict) first */
	incoming(t, PEER_SDP("1", ""),
		 "Record-Route: <sip:p1@192.0.2.51:5062;maddr=192.0.2.51>\r\n"
		 "Record-Route: <sip:p2@192.0.2.52;lr>\r\n");
	assert_int_equal(sip_sess_answer(t->s), 0);
	learn_our_tag(t, next_resp(t, 200, "INVITE"));
	ack_in(t);
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->ruri, STRICT_URI);
	assert_sent_to(last(t), "192.0.2.51", 5062);
	assert_int_equal(sip_msg_hdr_count(bye, "Route"), 2);
	assert_hdr(bye, "Route", "<sip:p2@192.0.2.52;lr>");
	assert_string_equal(hdr_n(bye, "Route", 1), PEER_CONTACT);
	assert_string_equal(bye->from_tag, t->our_tag);
	assert_string_equal(bye->to_tag, PEER_TAG);
}

/* ------------------------------------------------------------------------ */
/* following redirections (§8.1.3.4, sess_redirect.c)                       */

static const struct sip_msg *dial_follow(struct t *t, unsigned follow)
{
	struct sip_sess_params p = { .uri = PEER_URI, .rtp = t->rtp, .follow = follow };
	assert_int_equal(sip_sess_connect(&t->s, t->ua, &p, &sess_h, t), 0);
	return next_req(t, "INVITE");
}

/* The INVITE to the next target: a new transaction of the same call
 * attempt (same Call-ID, From tag, To and offer, the next CSeq). */
static const struct sip_msg *next_target(struct t *t, const struct sip_msg *prev,
					 const char *ruri, const char *host, uint16_t port)
{
	const struct sip_msg *inv = next_req(t, "INVITE");
	assert_string_equal(inv->ruri, ruri);
	assert_sent_to(last(t), host, port);
	assert_string_equal(inv->call_id, prev->call_id);
	assert_string_equal(inv->from_tag, prev->from_tag);
	assert_string_equal(hdr(inv, "To"), hdr(prev, "To"));
	assert_int_equal(inv->cseq, prev->cseq + 1);
	assert_string_not_equal(inv->via.branch, prev->via.branch);
	assert_true(has_sdp(inv));
	return inv;
}

static void assert_tried(struct t *t, unsigned i, const char *uri, int status)
{
	struct sip_sess_target tg;
	assert_true(sip_sess_tried(t->s, i, &tg));
	assert_string_equal(tg.uri, uri);
	assert_int_equal(tg.status, status);
}

static void test_redirect_contacts_in_q_order_failure_moves_on(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial_follow(t, 5);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	/* no q is q=1; equal q in the order given */
	respond(t, inv, 302, PEER_TAG,
		"Contact: <sip:c@192.0.2.30:5060>;q=0.5, \"Dee\" <sip:d@192.0.2.40:5062>;q=0.9\r\n"
		"Contact: <sip:e@192.0.2.50?Subject=x>, <sip:f@192.0.2.60;method=INVITE>;q=1.0\r\n",
		NULL);
	const struct sip_msg *ack = next_req(t, "ACK");   /* the 302's, hop by hop */
	assert_string_equal(ack->via.branch, inv->via.branch);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CALLING);
	/* the URI as it is, without its headers and method parameter */
	const struct sip_msg *e = next_target(t, inv, "sip:e@192.0.2.50", "192.0.2.50", 5060);
	no_more(t);
	respond(t, e, 486, "etag", NULL, NULL);
	next_req(t, "ACK");
	const struct sip_msg *f = next_target(t, e, "sip:f@192.0.2.60", "192.0.2.60", 5060);
	respond(t, f, 503, NULL, NULL, NULL);
	next_req(t, "ACK");
	const struct sip_msg *d = next_target(t, f, "sip:d@192.0.2.40:5062", "192.0.2.40", 5062);
	respond(t, d, 180, "dtag", "Contact: <sip:d@192.0.2.40:5062>\r\n", NULL);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	respond(t, d, 200, "dtag", "Contact: <sip:d@192.0.2.40:5062>\r\n", PEER_SDP("1", ""));
	ack = next_req(t, "ACK");
	assert_string_equal(ack->ruri, "sip:d@192.0.2.40:5062");
	assert_string_equal(ack->to_tag, "dtag");
	assert_int_equal(t->ev.established, 1);
	assert_int_equal(t->ev.ended, 0);
	no_more(t);
	assert_tried(t, 0, PEER_URI, 302);
	assert_tried(t, 1, "sip:e@192.0.2.50", 486);
	assert_tried(t, 2, "sip:f@192.0.2.60", 503);
	assert_tried(t, 3, "sip:d@192.0.2.40:5062", 200);
	struct sip_sess_target tg;
	assert_false(sip_sess_tried(t->s, 4, &tg));   /* c was never needed */
}

static void test_redirect_loop_ends_with_last_failure(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial_follow(t, 5);
	respond(t, inv, 302, PEER_TAG, "Contact: <sip:carol@192.0.2.30>\r\n", NULL);
	next_req(t, "ACK");
	const struct sip_msg *c = next_target(t, inv, "sip:carol@192.0.2.30", "192.0.2.30", 5060);
	/* back to bob and to carol: equal URIs by §19.1.4 (a parameter only
	 * one of them has does not count; the host's case does not) */
	respond(t, c, 302, "ctag",
		"Contact: <sip:bob@192.0.2.9:5070;foo=bar>, <sip:carol@192.0.2.30;lr>\r\n", NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_REJECTED);
	assert_int_equal(t->ev.status, 302);
	assert_int_equal(t->s->state, SIP_SESS_ENDED);
	assert_tried(t, 0, PEER_URI, 302);
	assert_tried(t, 1, "sip:carol@192.0.2.30", 302);
}

static void test_redirect_hop_limit_and_6xx_end_the_search(void **state)
{
	struct t *t = *state;
	/* one new INVITE at most */
	const struct sip_msg *inv = dial_follow(t, 1);
	respond(t, inv, 301, NULL, "Contact: <sip:carol@192.0.2.30>\r\n", NULL);
	next_req(t, "ACK");
	const struct sip_msg *c = next_target(t, inv, "sip:carol@192.0.2.30", "192.0.2.30", 5060);
	respond(t, c, 302, NULL, "Contact: <sip:dave@192.0.2.40>\r\n", NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.status, 302);
	sip_sess_release(t->s);
	t->s = NULL;
	memset(&t->ev, 0, sizeof(t->ev));

	/* a 6xx: the user is found and declines; the other Contact is not tried */
	inv = dial_follow(t, 5);
	respond(t, inv, 300, NULL,
		"Contact: <sip:carol@192.0.2.30>;q=0.8, <sip:dave@192.0.2.40>;q=0.7\r\n", NULL);
	next_req(t, "ACK");
	c = next_target(t, inv, "sip:carol@192.0.2.30", "192.0.2.30", 5060);
	respond(t, c, 603, NULL, NULL, NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.status, 603);
}

static void test_redirect_not_followed_without_follow(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 302, NULL, "Contact: <sip:carol@192.0.2.30>\r\n", NULL);
	next_req(t, "ACK");
	no_more(t);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.status, 302);
	struct sip_sess_target tg;
	assert_false(sip_sess_tried(t->s, 0, &tg));
}

/* ------------------------------------------------------------------------ */
/* Replaces (RFC 3891 §3): carol's INVITE takes the place of a call of ours */

/* carol calls us (each time a new call) with a Replaces of value (NULL:
 * none) and more header lines; returns her INVITE's final answer when it
 * gets one at once, else NULL (the call was handed to its owner). */
static char carol_call_id[64];

static const struct sip_msg *carol_invites(struct t *t, const char *replaces, const char *more)
{
	static unsigned calls;
	snprintf(carol_call_id, sizeof(carol_call_id), "carol-%u@" PEER_HOST, ++calls);
	char extra[1024];
	snprintf(extra, sizeof(extra), "%s%s%s%s", replaces ? "Replaces: " : "",
		 replaces ? replaces : "", replaces ? "\r\n" : "", more ? more : "");
	request(t, &(struct rq){ .method = "INVITE", .call_id = carol_call_id, .cseq = 1,
				 .from = "<sip:carol@" PEER_HOST ">;tag=caroltag",
				 .to = "<sip:alice@" OUR_HOST ">",
				 .contact = "<sip:carol@" PEER_HOST ":5070>", .extra = extra,
				 .sdp = PEER_SDP("1", "") });
	next_resp(t, 100, "INVITE");
	return t->mark < fake_tp.nsent ? next(t) : NULL;
}

/* carol's ACK of our 200 (ok): her call is confirmed. */
static void carol_acks(struct t *t, const struct sip_msg *ok)
{
	char to[160];
	snprintf(to, sizeof(to), "<sip:alice@" OUR_HOST ">;tag=%s", ok->to_tag);
	request(t, &(struct rq){ .method = "ACK", .call_id = carol_call_id, .cseq = 1,
				 .from = "<sip:carol@" PEER_HOST ">;tag=caroltag", .to = to });
}

/* The Replaces that names our call with bob: our tag is its to-tag. */
static const char *replaces_bob(struct t *t, const char *params)
{
	static char v[512];
	snprintf(v, sizeof(v), "%s;to-tag=%s;from-tag=%s%s", t->call_id, t->our_tag, PEER_TAG,
		 params ? params : "");
	return v;
}

static void assert_refused(const struct sip_msg *m, int status)
{
	if (!m)
		fail_msg("carol's INVITE got no final answer, expected %d", status);
	assert_false(m->request);
	assert_int_equal(m->status, status);
	assert_string_equal(m->call_id, carol_call_id);
}

static void test_replace_confirmed_call_bye_once_answered(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	/* Require: replaces is no 420 any more (replaces is in Supported) */
	assert_null(carol_invites(t, replaces_bob(t, NULL), "Require: replaces\r\n"));
	assert_non_null(t->s2);
	assert_ptr_equal(sip_sess_replaces(t->s2), t->s);
	/* nothing happens to bob's call until carol's is answered */
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	assert_int_equal(t->ev.ended, 0);
	no_more(t);

	assert_int_equal(sip_sess_answer(t->s2), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	assert_string_equal(ok->call_id, carol_call_id);
	assert_true(strstr(hdr(ok, "Supported"), "replaces") != NULL);
	/* bob's call ends once carol's is confirmed: her ACK, then our BYE */
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	carol_acks(t, ok);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_string_equal(bye->call_id, t->call_id);
	assert_string_equal(bye->from_tag, t->our_tag);
	assert_string_equal(bye->to_tag, PEER_TAG);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_REPLACED);
	assert_string_equal(sip_sess_end_name(t->ev.why), "replaced");
	assert_ptr_equal(t->ev.replaced_by, t->s2);
	assert_null(sip_sess_replaced_by(t->s));  /* only while the end is told */
	assert_int_equal(t->ev2.ended, 0);
	no_more(t);
}

static void test_replace_refused_call_left_alone(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	assert_null(carol_invites(t, replaces_bob(t, NULL), NULL));
	assert_ptr_equal(sip_sess_replaces(t->s2), t->s);
	assert_int_equal(sip_sess_reject(t->s2, 486, NULL, NULL), 0);
	next_resp(t, 486, "INVITE");
	no_more(t);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
}

static void test_replace_no_match_481(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	char v[512];
	/* the tags the wrong way round: the to-tag must be ours */
	snprintf(v, sizeof(v), "%s;to-tag=%s;from-tag=%s", t->call_id, PEER_TAG, t->our_tag);
	assert_refused(carol_invites(t, v, NULL), 481);
	snprintf(v, sizeof(v), "other@" PEER_HOST ";to-tag=%s;from-tag=" PEER_TAG, t->our_tag);
	assert_refused(carol_invites(t, v, NULL), 481);
	assert_null(t->s2);
	assert_int_equal(t->ev.ended, 0);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
}

static void test_replace_malformed_400(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	char v[512];
	snprintf(v, sizeof(v), "%s;to-tag=%s", t->call_id, t->our_tag);  /* no from-tag */
	assert_refused(carol_invites(t, v, NULL), 400);
	assert_null(t->s2);
	assert_int_equal(t->ev.ended, 0);
}

static void test_replace_ended_603_then_forgotten_481(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	request(t, &(struct rq){ .method = "BYE" });
	next_resp(t, 200, "BYE");
	assert_int_equal(t->ev.why, SIP_END_HANGUP);
	assert_refused(carol_invites(t, replaces_bob(t, NULL), NULL), 603);
	assert_null(t->s2);
	run_for(t, 64 * 500 - 1);
	t->mark = fake_tp.nsent;  /* the 603's retransmissions */
	assert_refused(carol_invites(t, replaces_bob(t, NULL), NULL), 603);
	/* remembered for 64*T1 from the end */
	run_for(t, 1);
	t->mark = fake_tp.nsent;
	assert_refused(carol_invites(t, replaces_bob(t, NULL), NULL), 481);
}

static void test_replace_early_dialog_not_ours_481(void **state)
{
	struct t *t = *state;
	incoming(t, PEER_SDP("1", ""), NULL);
	assert_int_equal(sip_sess_ring(t->s), 0);
	learn_our_tag(t, next_resp(t, 180, "INVITE"));
	assert_refused(carol_invites(t, replaces_bob(t, NULL), NULL), 481);
	assert_null(t->s2);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	assert_int_equal(t->ev.ended, 0);
}

static void test_replace_early_only_confirmed_486(void **state)
{
	struct t *t = *state;
	call_in_up(t);
	assert_refused(carol_invites(t, replaces_bob(t, ";early-only"), NULL), 486);
	assert_null(t->s2);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
}

static void test_replace_our_early_dialog_cancel_once_answered(void **state)
{
	struct t *t = *state;
	const struct sip_msg *inv = dial(t, false);
	respond(t, inv, 180, PEER_TAG, "Contact: " PEER_CONTACT "\r\n", NULL);
	assert_int_equal(t->s->state, SIP_SESS_EARLY);
	/* early-only is no obstacle for an early dialog */
	assert_null(carol_invites(t, replaces_bob(t, ";early-only"), NULL));
	assert_ptr_equal(sip_sess_replaces(t->s2), t->s);
	assert_int_equal(sip_sess_answer(t->s2), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	no_more(t);
	carol_acks(t, ok);
	const struct sip_msg *cancel = next_req(t, "CANCEL");
	assert_string_equal(cancel->call_id, t->call_id);
	assert_int_equal(t->ev.ended, 1);
	assert_int_equal(t->ev.why, SIP_END_REPLACED);
	assert_ptr_equal(t->ev.replaced_by, t->s2);
	no_more(t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_out_invite_offer_ringing_answer_ack),
		T(test_out_route_set_recomputed_from_2xx),
		T(test_out_2xx_retransmission_acked_again),
		T(test_out_fork_second_2xx_acked_and_byed),
		T(test_out_486_acked_by_transaction_rejected),
		T(test_out_cancel_after_180_then_487),
		T(test_out_hangup_before_1xx_cancels_once_1xx_comes),
		T(test_out_2xx_crossing_cancel_gets_ack_then_bye),
		T(test_out_timer_b_timeout_408),
		T(test_out_late_offer_answer_in_ack),
		T(test_out_hangup_sends_bye_on_route),
		T(test_out_peer_bye_hangup),
		T(test_out_fork_180_one_tag_200_another),
		T(test_out_cancel_without_487_gives_up_after_64t1),
		T(test_out_ua_close_cancels_ringing_call),
		T(test_out_2xx_unacceptable_answer_ack_bye_failed),
		T(test_in_100_ring_answer_ack),
		T(test_in_2xx_retransmitted_until_ack),
		T(test_in_no_ack_bye_timeout),
		T(test_in_cancel_200_and_487),
		T(test_in_cancel_after_2xx_no_effect),
		T(test_in_ack_of_other_cseq_ignored),
		T(test_in_acked_invite_keeps_no_request),
		T(test_in_max_calls_503),
		T(test_in_early_update_offer_before_our_answer_500),
		T(test_in_peer_bye_200_hangup),
		T(test_in_unknown_to_tag_481),
		T(test_in_unacceptable_offer_488),
		T(test_in_malformed_sdp_400_warning),
		T(test_in_hangup_before_ack_waits_for_it),
		T(test_in_release_before_ack_byes_after_it),
		T(test_in_record_route_copied_and_used),
		T(test_in_early_bye_200_and_487),
		T(test_in_reinvite_before_final_500_retry_after),
		T(test_in_release_ringing_480),
		T(test_in_hangup_ringing_480),
		T(test_in_unhandled_405_allow),
		T(test_out_request_and_tags),
		T(test_in_request_and_tags),
		T(test_in_offerless_invite_offer_in_2xx_answer_in_ack),
		T(test_in_offerless_invite_ack_without_answer_bye),
		T(test_ua_close_ends_calls_with_bye),
		T(test_reinvite_incoming_answered_and_modified),
		T(test_reinvite_outgoing),
		T(test_reinvite_outgoing_2xx_retransmission_acked_again),
		T(test_reinvite_incoming_offerless),
		T(test_reinvite_outgoing_refused_hold_keeps_direction),
		T(test_reinvite_incoming_offerless_keeps_our_hold),
		T(test_reinvite_outgoing_refused_keeps_call_481_ends_it),
		T(test_update_incoming),
		T(test_update_outgoing),
		T(test_glare_their_reinvite_491),
		T(test_glare_491_retry_call_id_owner),
		T(test_glare_491_retry_not_owner),
		T(test_glare_their_retry_accepted_during_backoff),
		T(test_lower_cseq_500),
		T(test_prack_in_reliable_180_retransmitted_until_prack),
		T(test_prack_in_wrong_rack_481),
		T(test_prack_in_none_within_64t1_500),
		T(test_prack_in_183_with_sdp_defers_200),
		T(test_prack_in_second_1xx_waits_and_counts_on),
		T(test_prack_out_sent_for_each_new_reliable_1xx),
		T(test_prack_out_forked_reliable_1xx_each_pracked),
		T(test_timer_in_peer_refreshes_else_bye),
		T(test_timer_in_too_small_422),
		T(test_timer_out_we_refresh_halfway),
		T(test_timer_out_peer_refresher_else_bye),
		T(test_mlines_in_video_declined_kept_by_modify),
		T(test_mlines_out_peer_adds_lines_kept_in_our_offer),
		T(test_mlines_offerless_reinvite_offers_every_line),
		T(test_prack_in_offer_answered_in_its_200),
		T(test_prack_in_unacceptable_offer_488_keeps_session),
		T(test_prack_in_offer_before_our_answer_491),
		T(test_timer_out_422_retried_with_its_min_se),
		T(test_timer_out_422_again_same_min_se_ends),
		T(test_timer_out_422_without_min_se_ends),
		T(test_update_early_out_after_reliable_answer),
		T(test_update_early_out_refused_before_reliable_answer),
		T(test_update_early_in_offer_answered_uac_side),
		T(test_update_early_out_as_callee_after_prack),
		T(test_update_early_out_as_callee_before_prack_refused),
		T(test_update_early_in_offer_answered_uas_side),
		T(test_update_early_in_while_ours_open_491),
		T(test_update_early_in_keeps_invite_session_timer),
		T(test_prack_in_offerless_invite_sdp_in_prack_491),
		T(test_out_tagless_2xx_acked_peer_bye_matches),
		T(test_out_tagless_2xx_retransmissions_acked_our_bye),
		T(test_out_tagless_2xx_after_tagged_fork_is_another_dialog),
		T(test_out_strict_router_first_in_route_set),
		T(test_out_strict_router_alone_early_dialog),
		T(test_in_strict_router_first_in_route_set),
		T(test_redirect_contacts_in_q_order_failure_moves_on),
		T(test_redirect_loop_ends_with_last_failure),
		T(test_redirect_hop_limit_and_6xx_end_the_search),
		T(test_redirect_not_followed_without_follow),
		T(test_require_supported_tags_taken),
		T(test_require_unsupported_tag_420),
		T(test_replace_confirmed_call_bye_once_answered),
		T(test_replace_refused_call_left_alone),
		T(test_replace_no_match_481),
		T(test_replace_malformed_400),
		T(test_replace_ended_603_then_forgotten_481),
		T(test_replace_early_dialog_not_ours_481),
		T(test_replace_early_only_confirmed_486),
		T(test_replace_our_early_dialog_cancel_once_answered),
#undef T
	};
	/* sess.sh NAME: only the tests whose name matches the glob */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("sess", tests, group_setup, NULL);
}
