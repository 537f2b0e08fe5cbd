/* Server transactions: the INVITE machine (RFC 3261 §17.2.1 with the
 * Accepted state of RFC 6026) and the non-INVITE machine (§17.2.2). */
#include "sip/stack.h"
#include "util/mem.h"
#include "util/rand.h"
#include "util/sbuf.h"

#include <errno.h>
#include <string.h>

enum sstate { S_TRYING, S_PROCEEDING, S_COMPLETED, S_CONFIRMED, S_ACCEPTED, S_TERMINATED };

struct sip_strans {
	struct hnode hn;
	char *key;
	struct sip_stack *stack;
	enum sstate state;
	bool invite;
	struct sip_msg *req;
	struct sip_peer dst;        /* where responses go */
	char *resp;                 /* the last response, for retransmissions */
	size_t resp_len;
	int status;
	struct tmr retx;            /* Timer G */
	struct tmr timeout;         /* Timer H */
	struct tmr linger;          /* Timer I / J / L */
	uint32_t interval;
	char to_tag[33];
	void (*cancel_h)(void *arg);
	void *cancel_arg;
};

static bool reliable(const struct sip_strans *st)
{
	return st->dst.proto == SIP_TCP;
}

static void strans_destroy(void *arg)
{
	struct sip_strans *st = arg;
	tmr_cancel(&st->retx);
	tmr_cancel(&st->timeout);
	tmr_cancel(&st->linger);
	mem_deref(st->key);
	mem_deref(st->req);
	mem_deref(st->resp);
	sip_peer_clear(&st->dst);
}

static void terminate(struct sip_strans *st)
{
	if (st->state == S_TERMINATED)
		return;
	st->state = S_TERMINATED;
	tmr_cancel(&st->retx);
	tmr_cancel(&st->timeout);
	tmr_cancel(&st->linger);
	htab_remove(&st->stack->strans, &st->hn);
	mem_deref(st);  /* the table's reference */
}

static int transmit(struct sip_strans *st)
{
	struct sip_stack *s = st->stack;
	return s->ops->send(s->arg, &st->dst, st->resp, st->resp_len, NULL, NULL);
}

/* Transaction keys (§17.2.3): the branch with sent-by and method when the
 * branch has the magic cookie, the RFC 2543 identity otherwise. ACK and
 * CANCEL look up their INVITE by passing method "INVITE". */
static void build_key(struct sbuf *b, const struct sip_msg *req, const char *method)
{
	const struct sip_via *v = &req->via;
	const char *host = v->host ? v->host : "";
	if (v->branch && strncmp(v->branch, "z9hG4bK", 7) == 0) {
		sbuf_cat(b, v->branch, " ", host, ":", NULL);
		sbuf_uint(b, v->port);
		sbuf_cat(b, " ", method, NULL);
	} else {
		sbuf_cat(b, "2543 ", req->call_id ? req->call_id : "", " ",
			 req->from_tag ? req->from_tag : "", " ", NULL);
		sbuf_uint(b, req->cseq);
		sbuf_cat(b, " ", method, " ", req->ruri ? req->ruri : "", " ", host, ":", NULL);
		sbuf_uint(b, v->port);
	}
}

static char *make_key(const struct sip_msg *req, const char *method)
{
	struct sbuf b;
	sbuf_init(&b);
	build_key(&b, req, method);
	return sbuf_take(&b, NULL);
}

static void on_linger(void *arg)
{
	terminate(arg);
}

static void on_timeout(void *arg)
{
	terminate(arg);  /* Timer H: the ACK never came */
}

static void on_retx(void *arg)
{
	struct sip_strans *st = arg;
	uint32_t t2 = st->stack->t.t2;
	transmit(st);
	st->interval = st->interval * 2 < t2 ? st->interval * 2 : t2;
	tmr_start(st->stack->tq, &st->retx, st->interval, on_retx, st);
}

int sip_strans_reply(struct sip_strans *st, int status, const char *reason,
		     const char *extra, const char *body, size_t body_len)
{
	struct sip_stack *s = st->stack;
	if (status < 100 || status > 699)
		return -EINVAL;
	/* In Accepted the TU retransmits its 2xx through us (RFC 6026 §8.7). */
	bool retransmit_2xx = st->state == S_ACCEPTED && status >= 200 && status < 300;
	if ((st->state != S_TRYING && st->state != S_PROCEEDING && !retransmit_2xx) || !st->req)
		return -EALREADY;
	size_t len;
	char *text = sip_reply_text(st->req, status, reason, st->to_tag, extra, body,
				    body_len, &len);
	if (!text)
		return -ENOMEM;
	mem_deref(st->resp);
	st->resp = text;
	st->resp_len = len;
	st->status = status;
	int err = transmit(st);
	if (retransmit_2xx)
		return err;

	if (status < 200) {
		st->state = S_PROCEEDING;
	} else if (!st->invite) {
		st->state = S_COMPLETED;
		tmr_start(s->tq, &st->linger, reliable(st) ? 0 : 64ull * s->t.t1, on_linger, st);
		/* Timer J keeps us 32 s for retransmissions, which only need
		 * the response: the request (a BYE per call) goes now */
		st->req = mem_deref(st->req);
	} else if (status < 300) {
		st->state = S_ACCEPTED;
		tmr_start(s->tq, &st->linger, 64ull * s->t.t1, on_linger, st);
	} else {
		st->state = S_COMPLETED;
		if (!reliable(st)) {
			st->interval = s->t.t1;
			tmr_start(s->tq, &st->retx, st->interval, on_retx, st);
		}
		tmr_start(s->tq, &st->timeout, 64ull * s->t.t1, on_timeout, st);
	}
	if (err && status >= 200)
		terminate(st);  /* §17.2.4: the transport failed */
	return err;
}

void sip_strans_recv(struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_stack *s = st->stack;
	if (sip_method_is(req, "ACK")) {
		if (st->invite && st->state == S_COMPLETED) {
			st->state = S_CONFIRMED;
			tmr_cancel(&st->retx);
			tmr_cancel(&st->timeout);
			tmr_start(s->tq, &st->linger, reliable(st) ? 0 : s->t.t4, on_linger, st);
		} else if (st->state == S_ACCEPTED && s->ops->stray) {
			/* RFC 6026 §7.1: the ACK for a 2xx is the TU's, even when
			 * it matches (an RFC 2543 client reuses the INVITE's id) */
			s->ops->stray(s->arg, req);
			/* (the TU lets go of the request with
			 * sip_strans_accepted_done, as for any other ACK) */
		}
		return;
	}
	/* a retransmitted request: repeat the last response, if any */
	if ((st->state == S_PROCEEDING || st->state == S_COMPLETED) && st->resp)
		transmit(st);
}

void sip_strans_accepted_done(struct sip_strans *st)
{
	if (st->state != S_ACCEPTED)
		return;
	st->req = mem_deref(st->req);
	st->resp = mem_deref(st->resp);
	st->resp_len = 0;
}

int sip_strans_create(struct sip_strans **stp, struct sip_stack *s, const struct sip_msg *req)
{
	struct sip_strans *st = mem_alloc(sizeof(*st), strans_destroy);
	if (!st)
		return -ENOMEM;
	st->stack = s;
	st->req = mem_ref((void *)req);
	st->invite = sip_method_is(req, "INVITE");
	st->state = S_TRYING;
	st->key = make_key(req, req->method);
	if (!st->key) {
		mem_deref(st);
		return -ENOMEM;
	}
	rand_hex(st->to_tag, 10);
	sip_response_dest(req, &st->dst);
	htab_insert(&s->strans, &st->hn, st->key);
	mem_ref(st);  /* one for the table, one for the caller */
	if (st->invite)
		sip_strans_reply(st, 100, NULL, NULL, NULL, 0);  /* at once (§17.2.1) */
	*stp = st;
	return 0;
}

struct sip_strans *sip_strans_find(struct sip_stack *s, const struct sip_msg *req,
				   const char *method)
{
	/* every request is looked up: the key stays on the stack */
	struct sbuf b;
	sbuf_init(&b);
	build_key(&b, req, method);
	struct hnode *hn = b.err ? NULL : htab_find(&s->strans, b.d);
	sbuf_free(&b);
	return hn ? container_of(hn, struct sip_strans, hn) : NULL;
}

const struct sip_msg *sip_strans_request(const struct sip_strans *st)
{
	return st->req;
}

bool sip_strans_answered(const struct sip_strans *st)
{
	return st->state != S_TRYING && st->state != S_PROCEEDING;
}

const char *sip_strans_to_tag(const struct sip_strans *st)
{
	return st->to_tag;
}

void sip_strans_set_to_tag(struct sip_strans *st, const char *tag)
{
	size_t n = strlen(tag);
	if (n >= sizeof(st->to_tag))
		n = sizeof(st->to_tag) - 1;
	memcpy(st->to_tag, tag, n);
	st->to_tag[n] = '\0';
}

void sip_strans_close_all(struct sip_stack *s)
{
	for (size_t i = 0; i < s->strans.nbuckets; i++)
		while (s->strans.bucket[i])
			terminate(container_of(s->strans.bucket[i], struct sip_strans, hn));
}

void sip_strans_on_cancel(struct sip_strans *st, void (*h)(void *arg), void *arg)
{
	st->cancel_h = h;
	st->cancel_arg = arg;
}

void sip_strans_cancelled(struct sip_strans *st)
{
	void (*h)(void *) = st->cancel_h;
	st->cancel_h = NULL;
	if (h)
		h(st->cancel_arg);
}

int sip_strans_retransmit(struct sip_strans *st)
{
	if (st->state == S_TERMINATED || !st->resp)
		return -EALREADY;
	return transmit(st);
}
