/* Client transactions: the INVITE machine (RFC 3261 §17.1.1 with the
 * Accepted state of RFC 6026) and the non-INVITE machine (§17.1.2). */
#include "sip/stack.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum cstate { C_CALLING, C_TRYING, C_PROCEEDING, C_COMPLETED, C_ACCEPTED, C_TERMINATED };

struct sip_ctrans {
	struct hnode hn;
	char *key;                  /* "branch method" */
	struct sip_stack *stack;
	enum cstate state;
	bool invite;
	char *req;                  /* what we retransmit */
	size_t req_len;
	char *ack;                  /* ACK for a non-2xx final response */
	size_t ack_len;
	struct sip_peer dst;
	struct tmr retx;            /* Timer A / E */
	struct tmr timeout;         /* Timer B / F */
	struct tmr linger;          /* Timer D / K / M */
	uint32_t interval;
	sip_resp_h *resph;
	void *arg;
};

static bool reliable(const struct sip_ctrans *ct)
{
	return ct->dst.proto == SIP_TCP;
}

static void ctrans_destroy(void *arg)
{
	struct sip_ctrans *ct = arg;
	tmr_cancel(&ct->retx);
	tmr_cancel(&ct->timeout);
	tmr_cancel(&ct->linger);
	mem_deref(ct->key);
	mem_deref(ct->req);
	mem_deref(ct->ack);
	sip_peer_clear(&ct->dst);
}

/* Leaves the table; the TU may still hold its reference. */
static void terminate(struct sip_ctrans *ct)
{
	if (ct->state == C_TERMINATED)
		return;
	ct->state = C_TERMINATED;
	tmr_cancel(&ct->retx);
	tmr_cancel(&ct->timeout);
	tmr_cancel(&ct->linger);
	htab_remove(&ct->stack->ctrans, &ct->hn);
	mem_deref(ct);  /* the table's reference */
}

static void report(struct sip_ctrans *ct, int err, const struct sip_msg *resp)
{
	if (ct->resph)
		ct->resph(err, resp, ct->arg);
}

static void fail(struct sip_ctrans *ct, int err)
{
	mem_ref(ct);
	terminate(ct);
	report(ct, err, NULL);
	mem_deref(ct);
}

static void sent(int err, void *arg)
{
	struct sip_ctrans *ct = arg;
	if (err && ct->state != C_TERMINATED && ct->state != C_COMPLETED &&
	    ct->state != C_ACCEPTED)
		fail(ct, err);
}

static int transmit(struct sip_ctrans *ct, const char *buf, size_t len)
{
	const struct sip_stack_ops *ops = ct->stack->ops;
	return ops->send(ct->stack->arg, &ct->dst, buf, len,
			 reliable(ct) ? sent : NULL, reliable(ct) ? ct : NULL);
}

static void on_linger(void *arg)
{
	terminate(arg);
}

static void on_timeout(void *arg)
{
	struct sip_ctrans *ct = arg;
	/* Timer B only counts while calling; once a provisional came, the TU
	 * decides how long to wait (it cancels), unless it let go. */
	if (ct->invite && ct->state != C_CALLING && ct->resph)
		return;
	fail(ct, -ETIMEDOUT);
}

static void on_retx(void *arg)
{
	struct sip_ctrans *ct = arg;
	struct sip_timers *t = &ct->stack->t;
	int err = transmit(ct, ct->req, ct->req_len);
	if (err) {
		fail(ct, err);
		return;
	}
	if (ct->invite)
		ct->interval *= 2;  /* Timer A has no cap (§17.1.1.2) */
	else if (ct->state == C_PROCEEDING)
		ct->interval = t->t2;
	else
		ct->interval = ct->interval * 2 < t->t2 ? ct->interval * 2 : t->t2;
	tmr_start(ct->stack->tq, &ct->retx, ct->interval, on_retx, ct);
}

/* A request derived from our INVITE: the ACK of §17.1.1.3 for a non-2xx
 * final answer, or the CANCEL of §9.1. Both have the Request-URI, top Via,
 * From, Call-ID, CSeq number and Route of the INVITE; the ACK takes the To
 * of the response (resp), the CANCEL the INVITE's own (resp NULL). */
static char *make_derived(const struct sip_ctrans *ct, const char *method,
			  const struct sip_msg *resp, size_t *len)
{
	struct sip_msg *inv = sip_msg_decode(ct->req, ct->req_len, true);
	if (!inv || !inv->request)
		return mem_deref(inv);
	struct sbuf b;
	struct sip_hdr h;
	sbuf_init(&b);
	sbuf_printf(&b, "%s %s SIP/2.0\r\n", method, inv->ruri);
	if (sip_msg_hdr_id(inv, SIP_HDR_VIA, 0, &h))
		sbuf_printf(&b, "Via: %.*s\r\n", (int)h.value_len, h.value);
	if (sip_msg_hdr_id(inv, SIP_HDR_FROM, 0, &h))
		sbuf_printf(&b, "From: %.*s\r\n", (int)h.value_len, h.value);
	if (sip_msg_hdr_id(resp ? resp : inv, SIP_HDR_TO, 0, &h))
		sbuf_printf(&b, "To: %.*s\r\n", (int)h.value_len, h.value);
	sbuf_printf(&b, "Call-ID: %s\r\nCSeq: %u %s\r\n", inv->call_id, inv->cseq, method);
	for (unsigned i = 0; sip_msg_hdr_id(inv, SIP_HDR_ROUTE, i, &h); i++)
		sbuf_printf(&b, "Route: %.*s\r\n", (int)h.value_len, h.value);
	sbuf_puts(&b, "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
	mem_deref(inv);
	return sbuf_take(&b, len);
}

void sip_ctrans_recv(struct sip_ctrans *ct, const struct sip_msg *resp)
{
	struct sip_stack *s = ct->stack;
	int status = resp->status;

	mem_ref(ct);  /* the TU may release it from the callback */
	switch (ct->state) {
	case C_CALLING:
	case C_TRYING:
	case C_PROCEEDING:
		if (status < 200) {
			if (ct->invite && ct->state == C_CALLING) {
				tmr_cancel(&ct->retx);
				tmr_cancel(&ct->timeout);  /* Timer B */
			}
			ct->state = C_PROCEEDING;
			report(ct, 0, resp);
			break;
		}
		tmr_cancel(&ct->retx);
		tmr_cancel(&ct->timeout);
		if (ct->invite && status < 300) {
			ct->state = C_ACCEPTED;
			tmr_start(s->tq, &ct->linger, 64ull * s->t.t1, on_linger, ct);
		} else if (ct->invite) {
			ct->state = C_COMPLETED;
			ct->ack = make_derived(ct, "ACK", resp, &ct->ack_len);
			if (ct->ack)
				transmit(ct, ct->ack, ct->ack_len);
			tmr_start(s->tq, &ct->linger, reliable(ct) ? 0 : 32000, on_linger, ct);
		} else {
			ct->state = C_COMPLETED;
			tmr_start(s->tq, &ct->linger, reliable(ct) ? 0 : s->t.t4, on_linger, ct);
		}
		report(ct, 0, resp);
		break;
	case C_COMPLETED:
		/* a retransmitted final response: answer it with the ACK again */
		if (ct->invite && status >= 300 && ct->ack)
			transmit(ct, ct->ack, ct->ack_len);
		break;
	case C_ACCEPTED:
		/* further 2xx (retransmissions, forks) go to the TU, which ACKs */
		if (status >= 200 && status < 300)
			report(ct, 0, resp);
		break;
	case C_TERMINATED:
		break;
	}
	mem_deref(ct);
}

int sip_ctrans_start(struct sip_ctrans **ctp, struct sip_stack *s, const struct sip_peer *dst,
		     const char *method, const char *branch, char *req, size_t len,
		     sip_resp_h *resph, void *arg)
{
	struct sip_ctrans *ct = s->closing ? NULL : mem_alloc(sizeof(*ct), ctrans_destroy);
	if (!ct) {
		mem_deref(req);
		return s->closing ? -ECANCELED : -ENOMEM;
	}
	ct->stack = s;
	ct->req = req;
	ct->req_len = len;
	ct->invite = strcmp(method, "INVITE") == 0;
	ct->state = ct->invite ? C_CALLING : C_TRYING;
	ct->resph = resph;
	ct->arg = arg;
	sip_peer_copy(&ct->dst, dst);
	size_t klen = strlen(branch) + strlen(method) + 2;
	ct->key = mem_alloc(klen, NULL);
	if (!ct->key) {
		mem_deref(ct);
		return -ENOMEM;
	}
	snprintf(ct->key, klen, "%s %s", branch, method);

	int err = transmit(ct, req, len);
	if (err) {
		ct->state = C_TERMINATED;
		mem_deref(ct);
		return err;
	}
	htab_insert(&s->ctrans, &ct->hn, ct->key);
	mem_ref(ct);  /* one for the table, one for the TU */
	if (!reliable(ct)) {
		ct->interval = s->t.t1;
		tmr_start(s->tq, &ct->retx, ct->interval, on_retx, ct);
	}
	tmr_start(s->tq, &ct->timeout, 64ull * s->t.t1, on_timeout, ct);
	*ctp = ct;
	return 0;
}

void sip_ctrans_release(struct sip_ctrans *ct)
{
	if (!ct)
		return;
	ct->resph = NULL;
	ct->arg = NULL;
	/* nobody will cancel a proceeding INVITE any more: end it in time */
	if (ct->invite && ct->state == C_PROCEEDING)
		tmr_start(ct->stack->tq, &ct->timeout, 64ull * ct->stack->t.t1, on_timeout, ct);
	mem_deref(ct);
}

const struct sip_peer *sip_ctrans_dest(const struct sip_ctrans *ct)
{
	return &ct->dst;
}

struct sip_ctrans *sip_ctrans_find(struct sip_stack *s, const struct sip_msg *resp)
{
	if (!resp->via.branch || !resp->method)
		return NULL;
	char key[256];
	int n = snprintf(key, sizeof(key), "%s %s", resp->via.branch, resp->method);
	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	struct hnode *hn = htab_find(&s->ctrans, key);
	return hn ? container_of(hn, struct sip_ctrans, hn) : NULL;
}

void sip_ctrans_close_all(struct sip_stack *s)
{
	for (size_t i = 0; i < s->ctrans.nbuckets; i++)
		while (s->ctrans.bucket[i]) {
			struct sip_ctrans *ct = container_of(s->ctrans.bucket[i], struct sip_ctrans, hn);
			fail(ct, -ECANCELED);
		}
}

int sip_ctrans_cancel(struct sip_ctrans *ct)
{
	if (!ct->invite || ct->state != C_PROCEEDING)
		return -EALREADY;  /* §9.1: only once a provisional came, before the final */
	size_t len;
	char *text = make_derived(ct, "CANCEL", NULL, &len);
	if (!text)
		return -ENOMEM;
	const char *branch = ct->key;  /* "branch method" */
	char b[128];
	size_t n = strcspn(branch, " ");
	if (n >= sizeof(b)) {
		mem_deref(text);
		return -EINVAL;
	}
	memcpy(b, branch, n);
	b[n] = '\0';
	struct sip_ctrans *cancel;
	int err = sip_ctrans_start(&cancel, ct->stack, &ct->dst, "CANCEL", b, text, len, NULL, NULL);
	if (!err)
		sip_ctrans_release(cancel);  /* its answer tells nothing the INVITE's won't */
	return err;
}
