/* Transport objects and UDP (RFC 3261 §18); TCP connections are in tcp.c. */
#include "sip/transport.h"
#include "sip/loop.h"
#include "sip/udp_batch.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UDP_MAX 65535
/* With recvmmsg libuv reads as many datagrams at once as the buffer has
 * slots of 64 KB (at most 20): one system call for a loaded endpoint's
 * datagrams of a turn instead of one each and a last one that finds
 * nothing. Only the pages datagrams land in are ever touched. */
#define UDP_SLOT (64 * 1024)
#define UDP_SLOTS 20

static void tp_destroy(void *arg)
{
	struct sip_transport *tp = arg;
	free(tp->rbuf);
}

static void on_closed(uv_handle_t *h)
{
	mem_deref(h->data);
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip_transport *tp = h->data;
	buf->base = tp->rbuf;
	buf->len = tp->rbuf_len;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *from, unsigned flags)
{
	struct sip_transport *tp = h->data;
	/* the end of a recvmmsg batch (the buffer is the transport's, nothing
	 * to free): a full one means more is queued, the endpoint is behind */
	if (flags & UV_UDP_MMSG_FREE) {
		if (tp->batch_n >= UDP_SLOTS && tp->loop)
			sip_loop_note_backlog(tp->loop);
		tp->batch_n = 0;
		return;
	}
	if (flags & UV_UDP_MMSG_CHUNK)
		tp->batch_n++;
	if (n <= 0 || !from || (flags & UV_UDP_PARTIAL) || tp->closed)
		return;
	if ((size_t)n > tp->max_msg)
		return;  /* over the limit: dropped, never half-read */
	struct sip_peer src = { .proto = SIP_UDP };
	memcpy(&src.addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in));
	tp->recvh(tp->arg, tp, &src, buf->base, (size_t)n);
}

static int udp_listen(struct sip_transport *tp, uv_loop_t *uv)
{
	int err = uv_udp_init_ex(uv, &tp->h.udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (err)
		return err;
	tp->h.handle.data = tp;  /* from here the caller closes it on failure */
	tp->rbuf_len = uv_udp_using_recvmmsg(&tp->h.udp) ? UDP_SLOT * UDP_SLOTS : UDP_MAX;
	tp->rbuf = malloc(tp->rbuf_len);
	if (!tp->rbuf)
		return -ENOMEM;
	err = uv_udp_bind(&tp->h.udp, &tp->addr.sa,
			  tp->addr.sa.sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (!err) {
		/* room for bursts: a loaded endpoint must not drop requests */
		int size = 4 << 20;
		uv_recv_buffer_size(&tp->h.handle, &size);
		size = 4 << 20;
		uv_send_buffer_size(&tp->h.handle, &size);
		err = uv_udp_recv_start(&tp->h.udp, udp_alloc, udp_recv);
	}
	if (!err)
		err = udp_batch_new(&tp->batch, uv, &tp->h.udp);
	return err;
}

/* Datagrams go out in one batch per turn of the loop (udp_batch.h); only a
 * destination the socket cannot reach at all is an error here. */
static int udp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		    size_t len)
{
	if (dst->addr.sa.sa_family != tp->addr.sa.sa_family)
		return -EAFNOSUPPORT;
	return udp_batch_add(tp->batch, &dst->addr, buf, len);
}

int sip_tp_listen(struct sip_transport **tpp, uv_loop_t *uv, struct tmrq *tq,
		  enum sip_proto proto, const union sa *addr, const struct sip_tp_limits *lim,
		  sip_tp_recv_h *recvh, void *arg)
{
	struct sip_transport *tp = mem_alloc(sizeof(*tp), tp_destroy);
	if (!tp)
		return -ENOMEM;
	tp->proto = proto;
	tp->addr = *addr;
	tp->max_msg = lim->max_msg;
	tp->partial_ms = lim->partial_ms;
	tp->tq = tq;
	tp->recvh = recvh;
	tp->arg = arg;
	list_init(&tp->le);
	list_init(&tp->conns);
	int err = proto == SIP_UDP ? udp_listen(tp, uv) : sip_tcp_listen(tp, uv);
	if (tp->h.handle.data) {
		int len = sizeof(tp->addr);
		if (!err)
			err = proto == SIP_UDP
				? uv_udp_getsockname(&tp->h.udp, &tp->addr.sa, &len)
				: uv_tcp_getsockname(&tp->h.tcp, &tp->addr.sa, &len);
	}
	if (err) {
		tp->closed = true;
		if (tp->h.handle.data)
			uv_close(&tp->h.handle, on_closed);  /* frees tp */
		else
			mem_deref(tp);
		return err;
	}
	*tpp = tp;
	return 0;
}

int sip_tp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		size_t len, sip_sent_h *sent_h, void *sent_arg)
{
	if (tp->closed)
		return -ECANCELED;
	if (tp->proto == SIP_UDP)
		return udp_send(tp, dst, buf, len);
	return sip_tcp_send(tp, dst, buf, len, sent_h, sent_arg);
}

void sip_tp_close(struct sip_transport *tp)
{
	if (!tp || tp->closed)
		return;
	tp->closed = true;
	list_unlink(&tp->le);
	if (tp->proto == SIP_TCP)
		sip_tcp_close_conns(tp);
	udp_batch_close(tp->batch);  /* what waits goes first */
	tp->batch = NULL;
	uv_close(&tp->h.handle, on_closed);  /* drops the owner's reference */
}
