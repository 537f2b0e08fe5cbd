/* The receive path of an endpoint: checked messages to transactions, to the
 * TU, or answered statelessly (RFC 3261 §8.2, §17, §18). */
#include "sip/stack.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sip_stack_init(struct sip_stack *s, struct tmrq *tq, const struct sip_stack_ops *ops,
		   void *arg)
{
	sip_msg_init();
	memset(s, 0, sizeof(*s));
	s->tq = tq;
	s->ops = ops;
	s->arg = arg;
	s->t.t1 = 500;
	s->t.t2 = 4000;
	s->t.t4 = 5000;
	rand_hex(s->server_tag, 8);
	int err = htab_init(&s->ctrans, 64);
	if (!err)
		err = htab_init(&s->strans, 64);
	return err;
}

void sip_stack_close(struct sip_stack *s)
{
	s->closing = true;
	sip_ctrans_close_all(s);
	sip_strans_close_all(s);
	htab_close(&s->ctrans);
	htab_close(&s->strans);
}

void sip_response_dest(const struct sip_msg *req, struct sip_peer *dst)
{
	sip_peer_copy(dst, &req->src);
	/* A stream: back on the connection the request came on (§18.2.2).
	 * A datagram: to the source address (the received parameter), at the
	 * source port with rport (RFC 3581), else at the sent-by port. */
	if (dst->proto == SIP_UDP && !req->via.rport && req->via.host) {
		sa_set_port(&dst->addr, req->via.port ? req->via.port : 5060);
	}
}

int sip_stack_reply_stateless(struct sip_stack *s, const struct sip_msg *req, int status,
			      const char *reason, const char *extra)
{
	struct sip_peer dst = {0};
	size_t len;
	char *warning = NULL;
	if (reason && status >= 400 && !extra) {
		/* say what was wrong in a Warning (RFC 3261 §20.43, code 399) */
		size_t n = strlen(reason) + 64;
		warning = mem_alloc(n, NULL);
		if (warning)
			snprintf(warning, n, "Warning: 399 luasip \"%s\"\r\n", reason);
		extra = warning;
	}
	char *text = sip_reply_text(req, status, reason, s->server_tag, extra, NULL, 0, &len);
	mem_deref(warning);
	if (!text)
		return -ENOMEM;
	sip_response_dest(req, &dst);
	int err = s->ops->send(s->arg, &dst, text, len, NULL, NULL);
	sip_peer_clear(&dst);
	mem_deref(text);
	return err;
}

static void recv_request(struct sip_stack *s, struct sip_msg *m)
{
	bool ack = sip_method_is(m, "ACK");

	if (m->error_status) {
		if (!ack)  /* an ACK is never answered (§17.1.1.3) */
			sip_stack_reply_stateless(s, m, m->error_status, m->error_reason, NULL);
		return;
	}

	struct sip_strans *st = sip_strans_find(s, m, ack ? "INVITE" : m->method);
	if (st) {
		sip_strans_recv(st, m);
		return;
	}
	if (ack) {
		if (s->ops->stray)
			s->ops->stray(s->arg, m);  /* the ACK for a 2xx: the dialog's */
		return;
	}
	if (sip_method_is(m, "CANCEL")) {
		/* §9.2: a CANCEL gets its own answer and cancels the INVITE */
		struct sip_strans *inv = sip_strans_find(s, m, "INVITE");
		struct sip_strans *cst;
		if (sip_strans_create(&cst, s, m) != 0)
			return;
		if (!inv) {
			sip_strans_reply(cst, 481, NULL, NULL, NULL, 0);
		} else {
			/* it matched: 200, and it cancels only a pending INVITE */
			sip_strans_set_to_tag(cst, sip_strans_to_tag(inv));
			sip_strans_reply(cst, 200, NULL, NULL, NULL, 0);
			if (!sip_strans_answered(inv) && s->ops->cancel)
				s->ops->cancel(s->arg, inv);
		}
		mem_deref(cst);
		return;
	}
	if (sip_strans_create(&st, s, m) != 0) {
		sip_stack_reply_stateless(s, m, 503, "Out of memory", NULL);
		return;
	}
	s->ops->request(s->arg, st, m);
	mem_deref(st);
}

static void recv_response(struct sip_stack *s, struct sip_msg *m)
{
	struct sip_ctrans *ct = sip_ctrans_find(s, m);
	if (ct)
		sip_ctrans_recv(ct, m);
	else if (s->ops->stray)
		s->ops->stray(s->arg, m);
}

void sip_stack_recv(struct sip_stack *s, struct sip_msg *m)
{
	if (m->request)
		recv_request(s, m);
	else
		recv_response(s, m);
}
