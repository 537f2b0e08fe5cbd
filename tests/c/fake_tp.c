/* The fake transport: see fake_tp.h. Linked instead of transport.c and
 * tcp.c, so it defines every function those files export. */
#include "fake_tp.h"

#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fake_tp fake_tp;

void fake_tp_reset(void)
{
	for (size_t i = 0; i < fake_tp.nsent; i++) {
		sip_peer_clear(&fake_tp.sent[i].dst);
		free(fake_tp.sent[i].buf);
		mem_deref(fake_tp.sent[i].m);
	}
	memset(&fake_tp, 0, sizeof(fake_tp));
}

const struct sip_msg *fake_tp_msg(size_t i)
{
	if (i >= fake_tp.nsent)
		return NULL;
	struct fake_tp_sent *r = &fake_tp.sent[i];
	if (!r->m)
		r->m = sip_msg_decode(r->buf, r->len, r->proto == SIP_TCP);
	return r->m;
}

int sip_tp_listen(struct sip_transport **tpp, uv_loop_t *uv, struct tmrq *tq,
		  enum sip_proto proto, const union sa *addr, const struct sip_tp_limits *lim,
		  sip_tp_recv_h *recvh, void *arg)
{
	struct sip_transport *tp = mem_alloc(sizeof(*tp), NULL);
	if (!tp)
		return -ENOMEM;
	tp->proto = proto;
	tp->addr = *addr;
	/* port 0 would be resolved by the kernel; a fixed one keeps Via and
	 * Contact predictable */
	if (sa_port(&tp->addr) == 0)
		sa_set_port(&tp->addr, 5060);
	tp->max_msg = lim->max_msg;
	tp->partial_ms = lim->partial_ms;
	tp->tq = tq;
	tp->recvh = recvh;
	tp->arg = arg;
	list_init(&tp->le);
	list_init(&tp->conns);
	fake_tp.open++;
	*tpp = tp;
	return 0;
}

static int record(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		  size_t len)
{
	if (tp->closed) {
		fake_tp.sends_after_close++;
		return -ECANCELED;
	}
	if (fake_tp.nsent >= FAKE_TP_MAX_SENT)
		return -ENOBUFS;  /* the test sees the count stop and fails */
	struct fake_tp_sent *r = &fake_tp.sent[fake_tp.nsent];
	r->buf = malloc(len + 1);
	if (!r->buf)
		return -ENOMEM;
	memcpy(r->buf, buf, len);
	r->buf[len] = '\0';
	r->len = len;
	r->at = tp->tq ? tp->tq->now : 0;
	r->proto = tp->proto;
	memset(&r->dst, 0, sizeof(r->dst));
	sip_peer_copy(&r->dst, dst);
	r->m = NULL;
	fake_tp.nsent++;
	return fake_tp.send_err;
}

int sip_tp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		size_t len, sip_sent_h *sent_h, void *sent_arg)
{
	/* sent_h is never called: a stream send that returned 0 went out */
	return record(tp, dst, buf, len);
}

void sip_tp_close(struct sip_transport *tp)
{
	if (!tp || tp->closed)
		return;
	tp->closed = true;
	list_unlink(&tp->le);
	fake_tp.open--;
	mem_deref(tp);
}

int sip_tcp_listen(struct sip_transport *tp, uv_loop_t *uv)
{
	return 0;
}

int sip_tcp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		 size_t len, sip_sent_h *sent_h, void *sent_arg)
{
	return record(tp, dst, buf, len);
}

void sip_tcp_close_conns(struct sip_transport *tp)
{
}

bool sip_conn_open(const struct sip_conn *c)
{
	return false;  /* the fake makes no connections */
}
