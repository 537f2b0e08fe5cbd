/* RTP/RTCP port pairs from a range, and the pool of spare pairs. */
#define _GNU_SOURCE                  /* recvmmsg */
#include "media/rtp_sock.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_closed(uv_handle_t *h)
{
	struct rtp_sock *r = h->data;
	if (--r->open == 0)
		mem_deref(r);
}

/* The datagrams one readiness of a socket takes in one recvmmsg, into
 * buffers shared by every socket: the handlers are done with them before
 * the next read, and the loop runs on one thread, as the whole library
 * does (2 KB less for every call than a buffer each). */
#define RECV_BATCH 8
static uint8_t rbufs[RECV_BATCH][2048];
/* their headers, set up once: a read resets only what recvmmsg wrote */
static struct mmsghdr msgs[RECV_BATCH];
static struct iovec iov[RECV_BATCH];
static union sa from[RECV_BATCH];

static void init_msgs(void)
{
	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i] = (struct iovec){ rbufs[i], sizeof(rbufs[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_iov = &iov[i],
						   .msg_iovlen = 1 };
	}
}

/* Readable: one recvmmsg, whatever it brings, and back to the loop. The
 * poll is level-triggered, so what is left wakes it again; libuv's UDP
 * handles read until the socket is empty instead, which costs every lone
 * packet (a call's 50 a second) a second read that fails. The handler
 * may close the pair: the reference keeps the memory, the descriptor
 * says whether it is still open. */
static void on_readable(uv_poll_t *h, int status, int events)
{
	struct rtp_sock *r = h->data;
	bool rtcp = h == &r->rtcp;
	int fd = rtcp ? r->rtcp_fd : r->rtp_fd;
	if (status < 0 || fd < 0)
		return;
	if (!msgs[0].msg_hdr.msg_iov)
		init_msgs();
	for (int i = 0; i < RECV_BATCH; i++)
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	int n;
	do
		n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	mem_ref(r);
	for (int i = 0; i < n && (rtcp ? r->rtcp_fd : r->rtp_fd) >= 0; i++) {
		rtp_sock_recv_h *cb = rtcp ? r->rtcp_recvh : r->recvh;
		if (!cb || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
			continue;
		cb(rtcp ? r->rtcp_arg : r->arg, rbufs[i], msgs[i].msg_len, &from[i]);
	}
	mem_deref(r);
}

/* A pair reads from the moment it is bound to the moment it closes, with
 * or without a handler: a stream that starts and stops (hold, a call that
 * ends and a pair that goes back to the pool) changes no epoll set. */
static int start(uv_loop_t *uv, struct rtp_sock *r, uv_poll_t *p, int fd)
{
	int err = uv_poll_init_socket(uv, p, fd);
	if (err)
		return err;
	p->data = r;
	r->open++;
	err = uv_poll_start(p, UV_READABLE, on_readable);
	uv_unref((uv_handle_t *)p);
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

/* sendto(2) on the socket itself: a datagram that does not fit is
 * dropped, not kept (libuv's uv_udp_try_send, when these were libuv UDP
 * handles, added its checks and a sendmsg that copies a message header
 * and an iovec in: some 0.4 us of the 6.6 us a packet cost at 2000
 * streams). */
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
	/* the polls stop at uv_close; the descriptors are ours to close (a
	 * number kept would name whatever opens next) */
	if (r->open) {
		uv_close((uv_handle_t *)&r->rtp, on_closed);
		if (r->open == 2)
			uv_close((uv_handle_t *)&r->rtcp, on_closed);
	}
	for (int k = 0; k < 2; k++) {
		int *fd = k ? &r->rtcp_fd : &r->rtp_fd;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (!r->open)
		mem_deref(r);
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
		uint8_t scrap[2048];
		for (int i = 0; i < 256; i++)
			if (recv(pf[k].fd, scrap, sizeof(scrap), MSG_DONTWAIT) < 0)
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
			 * loop dropped it (up to RECV_BATCH datagrams a socket
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

/* A UDP socket bound to a: its descriptor, or -errno. */
static int bound(const union sa *a)
{
	int fd = socket(a->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, &a->sa, sa_len(a)) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Binds a new pair at port and port + 1. */
static int try_pair(struct rtp_sock **rp, uv_loop_t *uv, const union sa *ip, uint16_t port)
{
	struct rtp_sock *r = mem_alloc(sizeof(*r), NULL);
	if (!r)
		return -ENOMEM;
	r->open = 0;
	r->recvh = r->rtcp_recvh = NULL;
	r->pool = NULL;
	list_init(&r->le);
	union sa a = *ip, b = *ip;
	sa_set_port(&a, port);
	sa_set_port(&b, (uint16_t)(port + 1));
	r->rtp_fd = bound(&a);
	r->rtcp_fd = r->rtp_fd < 0 ? -1 : bound(&b);
	int err = r->rtp_fd < 0 ? r->rtp_fd : r->rtcp_fd < 0 ? r->rtcp_fd : 0;
	if (!err)
		err = start(uv, r, &r->rtp, r->rtp_fd);
	if (!err)
		err = start(uv, r, &r->rtcp, r->rtcp_fd);
	if (err) {
		/* a descriptor not had is -1 for the close, not an errno */
		r->rtp_fd = r->rtp_fd < 0 ? -1 : r->rtp_fd;
		r->rtcp_fd = r->rtcp_fd < 0 ? -1 : r->rtcp_fd;
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
		if (err != -EADDRINUSE)
			break;
	}
	if (!err)
		(*rp)->pool = pool;
	return err;
}
