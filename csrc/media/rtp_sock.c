/* RTP/RTCP port pairs from a range. */
#include "media/rtp_sock.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>

static void on_closed(uv_handle_t *h)
{
	struct rtp_sock *r = h->data;
	if (--r->open == 0)
		mem_deref(r);
}

void rtp_sock_close(struct rtp_sock *r)
{
	if (!r)
		return;
	uv_close((uv_handle_t *)&r->rtp, on_closed);
	uv_close((uv_handle_t *)&r->rtcp, on_closed);
}

/* Binds a new pair at port and port + 1. */
static int try_pair(struct rtp_sock **rp, uv_loop_t *uv, const union sa *ip, uint16_t port)
{
	struct rtp_sock *r = mem_alloc(sizeof(*r), NULL);
	if (!r)
		return -ENOMEM;
	uv_udp_init(uv, &r->rtp);
	uv_udp_init(uv, &r->rtcp);
	r->rtp.data = r->rtcp.data = r;
	r->open = 2;
	union sa a = *ip, b = *ip;
	sa_set_port(&a, port);
	sa_set_port(&b, (uint16_t)(port + 1));
	int err = uv_udp_bind(&r->rtp, &a.sa, 0);
	if (!err)
		err = uv_udp_bind(&r->rtcp, &b.sa, 0);
	if (err) {
		rtp_sock_close(r);
		return err;
	}
	r->addr = a;
	*rp = r;
	return 0;
}

int rtp_sock_alloc(struct rtp_sock **rp, uv_loop_t *uv, const union sa *ip, uint16_t min,
		   uint16_t max)
{
	if (min & 1)
		min++;
	if (max < min + 1)
		return -EINVAL;
	unsigned pairs = (unsigned)(max - min + 1) / 2;
	unsigned first = (unsigned)(rand_u64() % pairs);
	int err = -EADDRINUSE;
	for (unsigned i = 0; i < pairs; i++) {
		err = try_pair(rp, uv, ip, (uint16_t)(min + 2 * ((first + i) % pairs)));
		if (err != UV_EADDRINUSE)
			break;
	}
	return err;
}
