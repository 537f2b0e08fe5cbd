/* Subscriptions (RFC 6665) and dialogs with several usages (RFC 5057): the
 * implicit subscription of REFER (RFC 3515, RFC 4488) on a real endpoint
 * over the fake transport of fake_tp.c, in virtual time (T1 = 500 ms).
 * We are alice at 192.0.2.1:5060; bob at 192.0.2.9:5070 calls us, and this
 * file plays bob, as tests/c/test_sess.c does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_tp.h"

#include "sip/sess_priv.h"
#include "sip/sub.h"
#include "sip/ua_priv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUR_HOST "192.0.2.1"
#define PEER_HOST "192.0.2.9"
#define PEER_PORT 5070
#define PEER_CONTACT "<sip:bob@192.0.2.9:5070>"
#define PEER_SDP \
	"v=0\r\no=bob 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" \
	"m=audio 5004 RTP/AVP 0\r\n"
#define SIPFRAG "message/sipfrag;version=2.0"
#define MAX_SUBS 4

/* What one subscription's handlers heard. */
struct heard {
	unsigned notified, ended;
	int status;
	char reason[64];
	bool final;
	enum sip_sub_end why;
	int end_status;
	uint64_t ended_at;
};

struct t {
	struct sip_loop loop;
	struct sip_ua *ua;
	union sa rtp;
	struct sip_sess *s;
	unsigned sess_ended;
	struct sip_sub *sub[MAX_SUBS];
	struct heard heard[MAX_SUBS];
	unsigned nsubs;
	bool take_refer;            /* the session's owner accepts REFERs */
	uint32_t refer_expires;
	int accept_err;
	size_t mark;
	unsigned branches;
	uint32_t peer_cseq;
	char our_tag[64];
};

static struct t *cur;  /* for the subscription handlers' arg: an index */

/* ---- handlers ---- */

static void sub_notified(void *arg, int status, const char *reason, bool final)
{
	struct heard *h = arg;
	h->notified++;
	h->status = status;
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	h->final = final;
}

static void sub_ended(void *arg, enum sip_sub_end why, int status)
{
	struct heard *h = arg;
	h->ended++;
	h->why = why;
	h->end_status = status;
	h->ended_at = cur->loop.tq.now;
}

static const struct sip_sub_handlers sub_h = {
	.notified = sub_notified,
	.ended = sub_ended,
};

static void sess_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct t *t = arg;
	if (sip_method_is(req, "REFER") && t->take_refer) {
		assert_true(t->nsubs < MAX_SUBS);
		unsigned i = t->nsubs++;
		t->accept_err = sip_sub_accept_refer(&t->sub[i], t->s->dlg, st, req,
						     t->refer_expires, &sub_h, &t->heard[i]);
		return;
	}
	sip_sess_reply_unhandled(t->s, st);
}

static void sess_ended(void *arg, enum sip_sess_end why, int status, const char *reason,
		       const struct sip_msg *msg)
{
	struct t *t = arg;
	t->sess_ended++;
}

static const struct sip_sess_handlers sess_h = {
	.request = sess_request,
	.ended = sess_ended,
};

static void ua_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct t *t = arg;
	assert_true(sip_method_is(req, "INVITE"));
	assert_null(t->s);
	assert_int_equal(sip_sess_accept(&t->s, t->ua, st, req, &t->rtp, &sess_h, t), 0);
}

static bool ua_handles(void *arg, const char *method)
{
	return strcmp(method, "INVITE") == 0;
}

static const struct sip_ua_handlers ua_h = {
	.request = ua_request,
	.handles = ua_handles,
};

/* ---- set-up ---- */

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
	cur = t;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	if (getenv("SESS_DUMP"))
		for (size_t i = 0; i < fake_tp.nsent; i++)
			printf("---- %zu at %llu ms\n%s", i,
			       (unsigned long long)fake_tp.sent[i].at, fake_tp.sent[i].buf);
	for (unsigned i = 0; i < t->nsubs; i++)
		sip_sub_release(t->sub[i]);
	sip_sess_release(t->s);
	sip_ua_close(t->ua);
	/* nothing (a subscription, its dialog) may still hold the endpoint */
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

/* ---- time and what went out ---- */

static void run_for(struct t *t, uint64_t ms)
{
	uint64_t at = t->loop.tq.now + ms;
	for (unsigned guard = 0;; guard++) {
		assert_true(guard < 100000);
		int64_t n = tmrq_next(&t->loop.tq);
		if (n < 0 || t->loop.tq.now + (uint64_t)n > at)
			break;
		tmrq_run(&t->loop.tq, t->loop.tq.now + (uint64_t)n);
	}
	tmrq_run(&t->loop.tq, at);
}

static const char *first_line(size_t i)
{
	static char line[200];
	const char *b = fake_tp.sent[i].buf;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(b, "\r\n"), b);
	return line;
}

static const struct sip_msg *next(struct t *t)
{
	if (t->mark >= fake_tp.nsent)
		fail_msg("expected another message; %zu sent in all", fake_tp.nsent);
	const struct sip_msg *m = fake_tp_msg(t->mark++);
	if (!m)
		fail_msg("sent message %zu does not decode", t->mark - 1);
	return m;
}

static const struct sip_msg *next_req(struct t *t, const char *method)
{
	const struct sip_msg *m = next(t);
	if (!m->request || strcmp(m->method, method) != 0)
		fail_msg("message %zu is \"%s\", expected a %s", t->mark - 1,
			 first_line(t->mark - 1), method);
	return m;
}

static const struct sip_msg *next_resp(struct t *t, int status, const char *method)
{
	const struct sip_msg *m = next(t);
	if (m->request || m->status != status || strcmp(m->method, method) != 0)
		fail_msg("message %zu is \"%s\" (CSeq %s), expected %d to %s", t->mark - 1,
			 first_line(t->mark - 1), m->method ? m->method : "?", status, method);
	return m;
}

static void no_more(struct t *t)
{
	if (t->mark < fake_tp.nsent)
		fail_msg("unexpected message %zu: \"%s\"", t->mark, first_line(t->mark));
}

static const char *hdr(const struct sip_msg *m, const char *name)
{
	static char bufs[4][1024];
	static unsigned turn;
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, 0, &h))
		return NULL;
	char *b = bufs[turn++ % 4];
	assert_true(h.value_len < sizeof(bufs[0]));
	sip_hdr_unfold(&h, b);
	return b;
}

static void assert_hdr(const struct sip_msg *m, const char *name, const char *want)
{
	const char *v = hdr(m, name);
	if (!v || strcmp(v, want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", name, v ? v : "(none)", want);
}

static void assert_body(const struct sip_msg *m, const char *want)
{
	if (m->body_len != strlen(want) || memcmp(m->body, want, m->body_len) != 0)
		fail_msg("body \"%.*s\", expected \"%s\"", (int)m->body_len,
			 m->body ? m->body : "", want);
}

/* ---- what bob sends ---- */

static void deliver(const char *text)
{
	struct sip_msg *m = sip_msg_decode(text, strlen(text), false);
	if (!m)
		fail_msg("the test's message does not decode:\n%s", text);
	m->src.proto = SIP_UDP;
	assert_int_equal(sa_set(&m->src.addr, PEER_HOST, PEER_PORT), 0);
	sip_stack_recv(&cur->ua->stack, m);
	mem_deref(m);
}

/* A request of bob's in the call: extra header lines, a body of type ct. */
static void request(struct t *t, const char *method, uint32_t cseq, const char *extra,
		    const char *ct, const char *body)
{
	char b[4096];
	if (!cseq)
		cseq = ++t->peer_cseq;
	int n = snprintf(b, sizeof(b),
			 "%s sip:alice@" OUR_HOST ":5060 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP " PEER_HOST ":5070;branch=z9hG4bKbob%u;rport\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:bob@" PEER_HOST ">;tag=bobtag\r\n"
			 "To: <sip:alice@" OUR_HOST ">%s%s\r\n"
			 "Call-ID: sub-call-1@" PEER_HOST "\r\n"
			 "CSeq: %u %s\r\n"
			 "Contact: " PEER_CONTACT "\r\n"
			 "%s%s%s%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, ++t->branches, t->our_tag[0] ? ";tag=" : "", t->our_tag, cseq,
			 method, extra ? extra : "", ct ? "Content-Type: " : "", ct ? ct : "",
			 ct ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
	assert_true(n > 0 && (size_t)n < sizeof(b));
	deliver(b);
}

/* bob answers one of our requests. */
static void respond(const struct sip_msg *req, int status, const char *extra)
{
	char b[4096];
	size_t n = (size_t)snprintf(b, sizeof(b), "SIP/2.0 %d %s\r\n", status,
				    sip_reason_phrase(status));
	static const char *const copied[] = { "Via", "From", "To", "Call-ID", "CSeq", NULL };
	for (int i = 0; copied[i]; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s: %s\r\n", copied[i],
				      hdr(req, copied[i]));
	n += (size_t)snprintf(b + n, sizeof(b) - n, "%sContent-Length: 0\r\n\r\n",
			      extra ? extra : "");
	assert_true(n < sizeof(b));
	deliver(b);
}

/* bob's NOTIFY for the refer subscription id (0: no id). */
static void notify(struct t *t, uint32_t id, const char *state, const char *frag)
{
	char extra[200];
	if (id)
		snprintf(extra, sizeof(extra), "Event: refer;id=%u\r\nSubscription-State: %s\r\n",
			 id, state);
	else
		snprintf(extra, sizeof(extra), "Event: refer\r\nSubscription-State: %s\r\n", state);
	request(t, "NOTIFY", 0, extra, SIPFRAG, frag);
}

/* bob calls us; we answer and his ACK comes. */
static void call_up(struct t *t)
{
	request(t, "INVITE", 0, NULL, "application/sdp", PEER_SDP);
	next_resp(t, 100, "INVITE");
	assert_non_null(t->s);
	assert_int_equal(sip_sess_answer(t->s), 0);
	const struct sip_msg *ok = next_resp(t, 200, "INVITE");
	snprintf(t->our_tag, sizeof(t->our_tag), "%s", ok->to_tag);
	request(t, "ACK", 1, NULL, NULL, NULL);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);
	no_more(t);
}

/* Our REFER in the call, the i-th subscription; returns the REFER sent. */
static const struct sip_msg *refer(struct t *t, const char *to, bool no_sub, uint32_t timeout)
{
	struct sip_refer_params p = { .refer_to = to, .no_subscription = no_sub,
				      .timeout = timeout };
	unsigned i = t->nsubs++;
	assert_int_equal(sip_sub_refer(&t->sub[i], t->s->dlg, &p, &sub_h, &t->heard[i]), 0);
	return next_req(t, "REFER");
}

/* bob's BYE, answered. */
static void bye_in(struct t *t)
{
	request(t, "BYE", 0, NULL, NULL, NULL);
	next_resp(t, 200, "BYE");
	assert_int_equal(t->sess_ended, 1);
}

/* ------------------------------------------------------------------------ */
/* subscriber: we sent the REFER                                            */

static void test_refer_out_notifies_then_terminated(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	assert_hdr(r, "Refer-To", "<sip:carol@192.0.2.7>");
	assert_hdr(r, "Referred-By", "<sip:alice@" OUR_HOST ">");
	assert_non_null(hdr(r, "Contact"));
	assert_null(hdr(r, "Refer-Sub"));
	uint32_t id = r->cseq;
	assert_int_equal(sip_sub_id(t->sub[0]), id);
	respond(r, 202, NULL);
	notify(t, id, "active;expires=60", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].notified, 1);
	assert_int_equal(t->heard[0].status, 100);
	assert_string_equal(t->heard[0].reason, "Trying");
	assert_false(t->heard[0].final);
	notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].notified, 2);
	assert_int_equal(t->heard[0].status, 200);
	assert_true(t->heard[0].final);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	assert_false(sip_sub_active(t->sub[0]));
	/* the subscription is gone: another NOTIFY names nothing */
	notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	next_resp(t, 481, "NOTIFY");
	no_more(t);
}

static void test_refer_out_notify_after_bye_200_then_dialog_goes(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);
	notify(t, id, "active;expires=60", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 200, "NOTIFY");
	/* the transferee hangs up before it says how the transfer went */
	bye_in(t);
	assert_int_equal(t->heard[0].ended, 0);
	notify(t, id, "active;expires=60", "SIP/2.0 180 Ringing\r\n");
	next_resp(t, 200, "NOTIFY");  /* not 481: the subscription holds the dialog */
	assert_int_equal(t->heard[0].status, 180);
	/* a request for the call after its BYE finds no call */
	request(t, "INFO", 0, NULL, NULL, NULL);
	next_resp(t, 481, "INFO");
	notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	assert_true(t->heard[0].final);
	/* the last usage went: the dialog left the table */
	assert_int_equal(t->ua->dialogs.count, 0);
	notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	next_resp(t, 481, "NOTIFY");
	no_more(t);
}

static void test_refer_out_refused(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	respond(r, 403, NULL);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_REFUSED);
	assert_int_equal(t->heard[0].end_status, 403);
	assert_int_equal(t->s->state, SIP_SESS_CONFIRMED);  /* the call stays */
}

static void test_refer_out_no_notify_within_64t1_timeout(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	respond(r, 202, NULL);
	uint64_t at = t->loop.tq.now;
	run_for(t, 32000 - 1);
	assert_int_equal(t->heard[0].ended, 0);
	run_for(t, 1);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_TIMEOUT);
	assert_int_equal(t->heard[0].ended_at, at + 32000);
}

static void test_refer_out_expires_as_the_notify_said(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);
	notify(t, id, "active;expires=10", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 200, "NOTIFY");
	run_for(t, 10000);
	assert_int_equal(t->heard[0].ended, 0);
	run_for(t, 1000);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_EXPIRED);
}

static void test_refer_out_owner_timeout_for_the_final_notify(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 5000);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);
	notify(t, id, "active;expires=60", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 200, "NOTIFY");
	run_for(t, 5000);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_TIMEOUT);
}

static void test_refer_out_refer_sub_false_2xx_is_the_outcome(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", true, 0);
	assert_hdr(r, "Refer-Sub", "false");
	assert_non_null(strstr(hdr(r, "Supported"), "norefersub"));
	respond(r, 200, "Refer-Sub: false\r\n");
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_NO_SUBSCRIPTION);
	assert_int_equal(t->heard[0].end_status, 200);
	/* no subscription holds the dialog: a NOTIFY for it gets 481 */
	notify(t, r->cseq, "active;expires=60", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 481, "NOTIFY");
}

static void test_refer_out_refer_sub_false_ignored_means_a_subscription(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", true, 0);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);  /* RFC 4488 §4: a peer without the extension */
	assert_int_equal(t->heard[0].ended, 0);
	notify(t, id, "terminated;reason=noresource", "SIP/2.0 486 Busy Here\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].status, 486);
	assert_string_equal(t->heard[0].reason, "Busy Here");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
}

static void test_refer_out_two_refers_told_apart_by_id(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r1 = refer(t, "sip:carol@192.0.2.7", false, 0);
	uint32_t id1 = r1->cseq;
	respond(r1, 202, NULL);
	const struct sip_msg *r2 = refer(t, "sip:dave@192.0.2.8", false, 0);
	uint32_t id2 = r2->cseq;
	assert_int_not_equal(id1, id2);
	respond(r2, 202, NULL);
	notify(t, id2, "active;expires=60", "SIP/2.0 180 Ringing\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].notified, 0);
	assert_int_equal(t->heard[1].status, 180);
	notify(t, id1, "terminated;reason=noresource", "SIP/2.0 603 Declined\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[0].status, 603);
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	assert_int_equal(t->heard[1].ended, 0);
	/* a NOTIFY without id is the dialog's first live one's: the second now */
	notify(t, 0, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	next_resp(t, 200, "NOTIFY");
	assert_int_equal(t->heard[1].status, 200);
	assert_int_equal(t->heard[1].why, SIP_SUB_DONE);
}

static void test_refer_out_notify_for_no_subscription_481(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);
	notify(t, id + 7, "active;expires=60", "SIP/2.0 100 Trying\r\n");
	next_resp(t, 481, "NOTIFY");
	request(t, "NOTIFY", 0, "Event: dialog\r\nSubscription-State: active\r\n", NULL, NULL);
	next_resp(t, 481, "NOTIFY");
	assert_int_equal(t->heard[0].notified, 0);
	assert_int_equal(t->heard[0].ended, 0);
	no_more(t);
}

static void test_refer_out_notify_without_state_400(void **state)
{
	struct t *t = *state;
	call_up(t);
	const struct sip_msg *r = refer(t, "sip:carol@192.0.2.7", false, 0);
	uint32_t id = r->cseq;
	respond(r, 202, NULL);
	char extra[64];
	snprintf(extra, sizeof(extra), "Event: refer;id=%u\r\n", id);
	request(t, "NOTIFY", 0, extra, SIPFRAG, "SIP/2.0 100 Trying\r\n");
	next_resp(t, 400, "NOTIFY");
	assert_int_equal(t->heard[0].notified, 0);
}

/* ------------------------------------------------------------------------ */
/* notifier: we accepted the REFER                                          */

/* bob's REFER; returns its CSeq. */
static uint32_t refer_in(struct t *t, const char *extra)
{
	char lines[300];
	snprintf(lines, sizeof(lines), "Refer-To: <sip:carol@192.0.2.7>\r\n"
		 "Referred-By: <sip:bob@" PEER_HOST ">\r\n%s", extra ? extra : "");
	uint32_t cseq = ++t->peer_cseq;
	request(t, "REFER", cseq, lines, NULL, NULL);
	return cseq;
}

static const struct sip_msg *next_notify(struct t *t, uint32_t id, const char *state,
					 const char *frag)
{
	const struct sip_msg *n = next_req(t, "NOTIFY");
	char ev[40];
	snprintf(ev, sizeof(ev), "refer;id=%u", id);
	assert_hdr(n, "Event", ev);
	assert_hdr(n, "Subscription-State", state);
	assert_hdr(n, "Content-Type", SIPFRAG);
	assert_non_null(hdr(n, "Contact"));
	assert_body(n, frag);
	return n;
}

static void test_refer_in_202_notifies_and_final(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	assert_int_equal(t->accept_err, 0);
	assert_non_null(t->sub[0]);
	next_resp(t, 202, "REFER");
	const struct sip_msg *n = next_notify(t, id, "active;expires=180", "SIP/2.0 100 Trying\r\n");
	respond(n, 200, NULL);
	run_for(t, 2000);
	assert_int_equal(sip_sub_notify(t->sub[0], 180, NULL), 0);
	n = next_notify(t, id, "active;expires=178", "SIP/2.0 180 Ringing\r\n");
	respond(n, 200, NULL);
	assert_int_equal(sip_sub_notify(t->sub[0], 200, "OK"), 0);
	next_notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	assert_false(sip_sub_active(t->sub[0]));
	assert_int_equal(sip_sub_notify(t->sub[0], 200, "OK"), -ENOTCONN);
	no_more(t);
}

static void test_refer_in_one_notify_at_a_time(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	const struct sip_msg *n = next_notify(t, id, "active;expires=180", "SIP/2.0 100 Trying\r\n");
	/* the 100's NOTIFY is unanswered: 180 and 183 wait, the latest goes */
	assert_int_equal(sip_sub_notify(t->sub[0], 180, NULL), 0);
	assert_int_equal(sip_sub_notify(t->sub[0], 183, NULL), 0);
	no_more(t);
	respond(n, 200, NULL);
	n = next_notify(t, id, "active;expires=180", "SIP/2.0 183 Session Progress\r\n");
	/* a final one waits too */
	assert_int_equal(sip_sub_notify(t->sub[0], 486, NULL), 0);
	no_more(t);
	assert_int_equal(t->heard[0].ended, 0);
	respond(n, 200, NULL);
	next_notify(t, id, "terminated;reason=noresource", "SIP/2.0 486 Busy Here\r\n");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	no_more(t);
}

static void test_refer_in_final_notify_after_our_call_ended(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	const struct sip_msg *n = next_notify(t, id, "active;expires=180", "SIP/2.0 100 Trying\r\n");
	uint32_t notify_cseq = n->cseq;
	respond(n, 200, NULL);
	/* we hang up the call; the subscription goes on in its dialog */
	assert_int_equal(sip_sess_hangup(t->s), 0);
	const struct sip_msg *bye = next_req(t, "BYE");
	assert_true(bye->cseq > notify_cseq);
	uint32_t bye_cseq = bye->cseq;
	respond(bye, 200, NULL);
	assert_int_equal(t->sess_ended, 1);
	assert_int_equal(t->ua->dialogs.count, 1);
	assert_int_equal(sip_sub_notify(t->sub[0], 200, NULL), 0);
	n = next_notify(t, id, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	assert_int_equal(n->cseq, bye_cseq + 1);  /* the dialog's CSeq goes on */
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	respond(n, 200, NULL);
	/* the last usage went: the dialog left the table */
	assert_int_equal(t->ua->dialogs.count, 0);
	request(t, "INFO", 0, NULL, NULL, NULL);
	next_resp(t, 481, "INFO");
	no_more(t);
}

static void test_refer_in_expires_with_a_final_notify(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	t->refer_expires = 30;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	const struct sip_msg *n = next_notify(t, id, "active;expires=30", "SIP/2.0 100 Trying\r\n");
	respond(n, 200, NULL);
	uint64_t at = t->loop.tq.now;
	run_for(t, 30000 - 1);
	no_more(t);
	run_for(t, 1);
	next_notify(t, id, "terminated;reason=timeout", "SIP/2.0 100 Trying\r\n");
	assert_int_equal(fake_tp.sent[t->mark - 1].at, at + 30000);
	assert_int_equal(t->heard[0].ended, 1);
	assert_int_equal(t->heard[0].why, SIP_SUB_EXPIRED);
}

static void test_refer_in_subscribe_refreshes_or_ends(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	t->refer_expires = 30;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	respond(next_notify(t, id, "active;expires=30", "SIP/2.0 100 Trying\r\n"), 200, NULL);
	run_for(t, 20000);
	char extra[80];
	snprintf(extra, sizeof(extra), "Event: refer;id=%u\r\nExpires: 60\r\n", id);
	request(t, "SUBSCRIBE", 0, extra, NULL, NULL);
	const struct sip_msg *ok = next_resp(t, 200, "SUBSCRIBE");
	assert_hdr(ok, "Expires", "60");
	respond(next_notify(t, id, "active;expires=60", "SIP/2.0 100 Trying\r\n"), 200, NULL);
	run_for(t, 30000);  /* past the first expiry */
	assert_int_equal(t->heard[0].ended, 0);
	snprintf(extra, sizeof(extra), "Event: refer;id=%u\r\nExpires: 0\r\n", id);
	request(t, "SUBSCRIBE", 0, extra, NULL, NULL);
	next_resp(t, 200, "SUBSCRIBE");
	next_notify(t, id, "terminated;reason=timeout", "SIP/2.0 100 Trying\r\n");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
	no_more(t);
}

static void test_refer_in_refer_sub_false_200_no_subscription(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	refer_in(t, "Refer-Sub: false\r\nSupported: norefersub\r\n");
	assert_int_equal(t->accept_err, 0);
	assert_null(t->sub[0]);
	const struct sip_msg *ok = next_resp(t, 200, "REFER");
	assert_hdr(ok, "Refer-Sub", "false");
	no_more(t);  /* no NOTIFY */
	assert_int_equal(t->ua->dialogs.count, 1);
	bye_in(t);
	assert_int_equal(t->ua->dialogs.count, 0);
}

static void test_refer_in_two_refers_each_its_id(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id1 = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	respond(next_notify(t, id1, "active;expires=180", "SIP/2.0 100 Trying\r\n"), 200, NULL);
	uint32_t id2 = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	respond(next_notify(t, id2, "active;expires=180", "SIP/2.0 100 Trying\r\n"), 200, NULL);
	assert_int_equal(sip_sub_id(t->sub[0]), id1);
	assert_int_equal(sip_sub_id(t->sub[1]), id2);
	assert_int_equal(sip_sub_notify(t->sub[1], 200, NULL), 0);
	next_notify(t, id2, "terminated;reason=noresource", "SIP/2.0 200 OK\r\n");
	assert_int_equal(t->heard[1].why, SIP_SUB_DONE);
	assert_int_equal(t->heard[0].ended, 0);
	assert_int_equal(sip_sub_notify(t->sub[0], 503, NULL), 0);
	next_notify(t, id1, "terminated;reason=noresource", "SIP/2.0 503 Service Unavailable\r\n");
	assert_int_equal(t->heard[0].why, SIP_SUB_DONE);
}

static void test_refer_in_notify_481_or_unanswered_ends_it(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id1 = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	respond(next_notify(t, id1, "active;expires=180", "SIP/2.0 100 Trying\r\n"), 481, NULL);
	assert_int_equal(t->heard[0].why, SIP_SUB_GONE);
	assert_int_equal(t->heard[0].end_status, 481);
	uint32_t id2 = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	next_notify(t, id2, "active;expires=180", "SIP/2.0 100 Trying\r\n");
	run_for(t, 32000);  /* Timer F: never answered */
	assert_int_equal(t->heard[1].ended, 1);
	assert_int_equal(t->heard[1].why, SIP_SUB_TIMEOUT);
}

static void test_refer_in_without_refer_to_400(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	request(t, "REFER", 0, NULL, NULL, NULL);
	assert_int_equal(t->accept_err, -EBADMSG);
	assert_null(t->sub[0]);
	next_resp(t, 400, "REFER");
	no_more(t);
}

static void test_close_ends_subscriptions_notifier_says_so(void **state)
{
	struct t *t = *state;
	t->take_refer = true;
	call_up(t);
	uint32_t id = refer_in(t, NULL);
	next_resp(t, 202, "REFER");
	respond(next_notify(t, id, "active;expires=180", "SIP/2.0 100 Trying\r\n"), 200, NULL);
	sip_ua_close(t->ua);
	next_notify(t, id, "terminated;reason=noresource", "SIP/2.0 100 Trying\r\n");
	next_req(t, "BYE");
	assert_int_equal(t->heard[0].why, SIP_SUB_CLOSED);
}

/* ------------------------------------------------------------------------ */

static void test_sipfrag_status_line(void **state)
{
	int status = 0;
	char reason[16];
	const char *f = "SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n";
	assert_true(sip_sipfrag_status(f, strlen(f), &status, reason, sizeof(reason)));
	assert_int_equal(status, 180);
	assert_string_equal(reason, "Ringing");
	f = "SIP/2.0 200 A reason much longer than the buffer";
	assert_true(sip_sipfrag_status(f, strlen(f), &status, reason, sizeof(reason)));
	assert_string_equal(reason, "A reason much l");
	static const char *const bad[] = { "", "SIP/2.0", "SIP/2.0 20 OK", "SIP/2.0 2000 OK",
					   "SIP/2.0 abc OK", "INVITE sip:a@b SIP/2.0\r\n",
					   "SIP/2.0 099 Low" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(sip_sipfrag_status(bad[i], strlen(bad[i]), &status, reason,
						sizeof(reason)));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_refer_out_notifies_then_terminated),
		T(test_refer_out_notify_after_bye_200_then_dialog_goes),
		T(test_refer_out_refused),
		T(test_refer_out_no_notify_within_64t1_timeout),
		T(test_refer_out_expires_as_the_notify_said),
		T(test_refer_out_owner_timeout_for_the_final_notify),
		T(test_refer_out_refer_sub_false_2xx_is_the_outcome),
		T(test_refer_out_refer_sub_false_ignored_means_a_subscription),
		T(test_refer_out_two_refers_told_apart_by_id),
		T(test_refer_out_notify_for_no_subscription_481),
		T(test_refer_out_notify_without_state_400),
		T(test_refer_in_202_notifies_and_final),
		T(test_refer_in_one_notify_at_a_time),
		T(test_refer_in_final_notify_after_our_call_ended),
		T(test_refer_in_expires_with_a_final_notify),
		T(test_refer_in_subscribe_refreshes_or_ends),
		T(test_refer_in_refer_sub_false_200_no_subscription),
		T(test_refer_in_two_refers_each_its_id),
		T(test_refer_in_notify_481_or_unanswered_ends_it),
		T(test_refer_in_without_refer_to_400),
		T(test_close_ends_subscriptions_notifier_says_so),
		cmocka_unit_test(test_sipfrag_status_line),
	};
	/* sess.sh NAME: only the tests whose name matches the glob */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("sub", tests, group_setup, NULL);
}
