/* RTP/RTCP port pairs from a range, and the pool of spare pairs. */
#include "media/rtp_sock.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

static void on_closed(uv_handle_t *h)
{
	struct rtp_sock *r = h->data;
	if (--r->open == 0)
		mem_deref(r);
}

/* One receive buffer for every socket: libuv reads one datagram and hands
 * it to on_recv, which is done with it before the loop reads the next, so
 * no socket needs its own (2 KB less for every call). The loop runs on one
 * thread, as the whole library does. */
static uint8_t rbuf[2048];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	*buf = uv_buf_init((char *)rbuf, sizeof(rbuf));
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *src,
		    unsigned flags)
{
	struct rtp_sock *r = h->data;
	bool rtcp = h == &r->rtcp;
	rtp_sock_recv_h *cb = rtcp ? r->rtcp_recvh : r->recvh;
	if (n <= 0 || !src || (flags & UV_UDP_PARTIAL) || !cb)
		return;
	union sa from;
	memcpy(&from, src, src->sa_family == AF_INET6 ? sizeof(from.in6) : sizeof(from.in));
	cb(rtcp ? r->rtcp_arg : r->arg, (const uint8_t *)buf->base, (size_t)n, &from);
}

/* A pair reads from the moment it is bound to the moment it closes, with
 * or without a handler: a stream that starts and stops (hold, a call that
 * ends and a pair that goes back to the pool) changes no epoll set. */
static int start(uv_udp_t *u)
{
	int err = uv_udp_recv_start(u, on_alloc, on_recv);
	uv_unref((uv_handle_t *)u);
	return err;
}

int rtp_sock_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg)
{
	r->recvh = h;
	r->arg = arg;
	return 0;
}

int rtp_sock_rtcp_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg)
{
	r->rtcp_recvh = h;
	r->rtcp_arg = arg;
	return 0;
}

/* sendto(2) on the socket itself: nothing is ever queued in libuv for
 * these handles (a datagram that does not fit is dropped, not kept), so
 * uv_udp_try_send's checks and its sendmsg, which copies a message header
 * and an iovec in, were only cost: some 0.4 us of the 6.6 us a packet
 * cost at 2000 streams (perf). The descriptor is the one kept at bind:
 * uv_fileno was another 1.3% of the process at 3000 streams. */
static int send_on(int fd, const union sa *dst, const uint8_t *buf, size_t len)
{
	ssize_t n;
	do
		n = sendto(fd, buf, len, 0, &dst->sa, sa_len(dst));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int rtp_sock_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len)
{
	return send_on(r->rtp_fd, dst, buf, len);
}

int rtp_sock_rtcp_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len)
{
	return send_on(r->rtcp_fd, dst, buf, len);
}

void rtp_sock_close(struct rtp_sock *r)
{
	if (!r)
		return;
	if (le_linked(&r->le)) {
		list_unlink(&r->le);
		r->pool->n--;
	}
	r->pool = NULL;
	r->recvh = r->rtcp_recvh = NULL;
	/* uv_close closes the descriptors now; a number kept would name
	 * whatever opens next */
	r->rtp_fd = r->rtcp_fd = -1;
	uv_close((uv_handle_t *)&r->rtp, on_closed);
	uv_close((uv_handle_t *)&r->rtcp, on_closed);
}

void rtp_sock_release(struct rtp_sock *r)
{
	if (!r)
		return;
	struct rtp_pool *p = r->pool;
	if (!p || p->n >= p->max || le_linked(&r->le)) {
		rtp_sock_close(r);
		return;
	}
	r->recvh = r->rtcp_recvh = NULL;
	r->released = p->turns ? *p->turns : 0;
	list_append(&p->idle, &r->le);
	p->n++;
}

void rtp_pool_init(struct rtp_pool *p, unsigned max, const uint64_t *turns)
{
	list_init(&p->idle);
	p->n = 0;
	p->max = max;
	p->turns = turns;
}

void rtp_pool_flush(struct rtp_pool *p, uint16_t min, uint16_t max)
{
	struct le *e, *t;
	list_each_safe(e, t, &p->idle) {
		struct rtp_sock *r = container_of(e, struct rtp_sock, le);
		uint16_t port = sa_port(&r->addr);
		if (port >= min && port <= max)
			rtp_sock_close(r);
	}
}

void rtp_pool_close(struct rtp_pool *p)
{
	rtp_pool_flush(p, 0, UINT16_MAX);
}

/* What the sockets hold from the pair's last call (late packets of its
 * peer) must not reach the next one. One poll asks both whether they hold
 * anything (nearly always not), instead of a read of each that fails. */
static void drain(struct rtp_sock *r)
{
	struct pollfd pf[2] = { { .fd = r->rtp_fd, .events = POLLIN },
				{ .fd = r->rtcp_fd, .events = POLLIN } };
	if (poll(pf, 2, 0) <= 0)
		return;
	for (int k = 0; k < 2; k++) {
		if (!(pf[k].revents & POLLIN))
			continue;
		/* bounded: whatever is left after it reaches the new call's
		 * stream, which takes only what comes from its own peer */
		for (int i = 0; i < 256; i++)
			if (recv(pf[k].fd, rbuf, sizeof(rbuf), MSG_DONTWAIT) < 0)
				break;
	}
}

static struct rtp_sock *take_spare(struct rtp_pool *p, const union sa *ip, uint16_t min,
				   uint16_t max)
{
	struct le *e;
	for (e = p->idle.next; e != &p->idle; e = e->next) {
		struct rtp_sock *r = container_of(e, struct rtp_sock, le);
		uint16_t port = sa_port(&r->addr);
		if (port >= min && port < max && sa_same_host(&r->addr, ip)) {
			list_unlink(&r->le);
			p->n--;
			/* The sockets read all the time, with a handler or
			 * without: once a whole pass of the loop began after the
			 * release, its poll saw what had come by then and the
			 * loop dropped it (up to libuv's 32 datagrams a socket
			 * and pass, more than a peer sends in a pass). What comes
			 * later reaches the new call's stream as it would after
			 * a drain: that takes only what comes from its own peer.
			 * The busy case, a pair reused in the pass that released
			 * it or the next, still asks the sockets: one poll a call
			 * less under load. */
			if (!p->turns || *p->turns - r->released < 2)
				drain(r);
			return r;
		}
	}
	return NULL;
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
	r->rtp_fd = r->rtcp_fd = -1;
	r->open = 2;
	union sa a = *ip, b = *ip;
	sa_set_port(&a, port);
	sa_set_port(&b, (uint16_t)(port + 1));
	list_init(&r->le);
	int err = uv_udp_bind(&r->rtp, &a.sa, 0);
	if (!err)
		err = uv_udp_bind(&r->rtcp, &b.sa, 0);
	if (!err)
		err = uv_fileno((uv_handle_t *)&r->rtp, &r->rtp_fd);
	if (!err)
		err = uv_fileno((uv_handle_t *)&r->rtcp, &r->rtcp_fd);
	if (!err)
		err = start(&r->rtp);
	if (!err)
		err = start(&r->rtcp);
	if (err) {
		rtp_sock_close(r);
		return err;
	}
	r->addr = a;
	*rp = r;
	return 0;
}

int rtp_sock_alloc(struct rtp_sock **rp, struct rtp_pool *pool, uv_loop_t *uv,
		   const union sa *ip, uint16_t min, uint16_t max)
{
	if (min & 1)
		min++;
	if (max < min + 1)
		return -EINVAL;
	if (pool && (*rp = take_spare(pool, ip, min, max)) != NULL)
		return 0;  /* a spare still names its pool */
	unsigned pairs = (unsigned)(max - min + 1) / 2;
	unsigned first = (unsigned)(rand_u64() % pairs);
	int err = -EADDRINUSE;
	for (unsigned i = 0; i < pairs; i++) {
		err = try_pair(rp, uv, ip, (uint16_t)(min + 2 * ((first + i) % pairs)));
		if (err != UV_EADDRINUSE)
			break;
	}
	if (!err)
		(*rp)->pool = pool;
	return err;
}
