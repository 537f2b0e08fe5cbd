/* One sendmmsg(2) per turn of the loop for a UDP transport. */
#define _GNU_SOURCE  /* sendmmsg */
#include "sip/udp_batch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH_MAX 64                /* datagrams per sendmmsg */
#define ARENA (64 * 1024)           /* their bytes */

struct udp_batch {
	uv_check_t check;           /* after the I/O callbacks of this turn */
	uv_timer_t soon;            /* due at once: the loop cannot block first */
	unsigned open;              /* handles not yet closed */
	uv_udp_t *u;
	int fd;
	unsigned n;
	size_t used;
	unsigned long dropped;
	union sa dst[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct mmsghdr mh[BATCH_MAX];
	char arena[ARENA];
};

struct queued {
	uv_udp_send_t req;
	char data[];
};

static void on_queued_sent(uv_udp_send_t *req, int status)
{
	free(req);
}

/* The socket buffer is full: libuv sends a copy when it has room. */
static void queue(struct udp_batch *b, const union sa *dst, const char *buf, size_t len)
{
	struct queued *q = malloc(sizeof(*q) + len);
	if (!q) {
		b->dropped++;
		return;
	}
	memcpy(q->data, buf, len);
	uv_buf_t ub = uv_buf_init(q->data, (unsigned)len);
	if (uv_udp_send(&q->req, b->u, &ub, 1, &dst->sa, on_queued_sent) != 0) {
		free(q);
		b->dropped++;
	}
}

static void disarm(struct udp_batch *b)
{
	uv_timer_stop(&b->soon);
	uv_check_stop(&b->check);
}

void udp_batch_flush(struct udp_batch *b)
{
	unsigned i = 0;
	while (i < b->n) {
		int r = sendmmsg(b->fd, b->mh + i, b->n - i, 0);
		if (r > 0) {
			i += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			for (; i < b->n; i++)
				queue(b, &b->dst[i], b->iov[i].iov_base, b->iov[i].iov_len);
		} else {
			b->dropped++;  /* this datagram's own error: the rest may go */
			i++;
		}
	}
	b->n = 0;
	b->used = 0;
	disarm(b);
}

static void on_soon(uv_timer_t *h)
{
	udp_batch_flush(h->data);
}

static void on_check(uv_check_t *h)
{
	udp_batch_flush(h->data);
}

int udp_batch_new(struct udp_batch **bp, uv_loop_t *uv, uv_udp_t *u)
{
	struct udp_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	uv_os_fd_t fd;
	int err = uv_fileno((uv_handle_t *)u, &fd);
	if (err) {
		free(b);
		return err;
	}
	b->fd = fd;
	b->u = u;
	uv_timer_init(uv, &b->soon);
	uv_check_init(uv, &b->check);
	b->soon.data = b->check.data = b;
	b->open = 2;
	*bp = b;
	return 0;
}

int udp_batch_add(struct udp_batch *b, const union sa *dst, const char *buf, size_t len)
{
	if (len > ARENA) {
		/* bigger than the whole batch: after what waits, on its own */
		udp_batch_flush(b);
		uv_buf_t ub = uv_buf_init((char *)buf, (unsigned)len);
		int n = uv_udp_try_send(b->u, &ub, 1, &dst->sa);
		if (n == UV_EAGAIN)
			queue(b, dst, buf, len);
		else if (n < 0)
			b->dropped++;
		return 0;
	}
	if (b->n == BATCH_MAX || b->used + len > ARENA)
		udp_batch_flush(b);
	if (b->n == 0) {
		/* the check phase sends what the I/O callbacks queued; what a
		 * timer or a prepare callback queued would wait there for the
		 * poll to end, so a timer due now keeps the poll from blocking */
		uv_check_start(&b->check, on_check);
		uv_timer_start(&b->soon, on_soon, 0, 0);
	}
	unsigned i = b->n++;
	char *p = b->arena + b->used;
	memcpy(p, buf, len);
	b->used += len;
	b->dst[i] = *dst;
	b->iov[i] = (struct iovec){ .iov_base = p, .iov_len = len };
	b->mh[i] = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &b->dst[i].sa,
		.msg_namelen = dst->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							     : sizeof(struct sockaddr_in),
		.msg_iov = &b->iov[i],
		.msg_iovlen = 1,
	} };
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct udp_batch *b = h->data;
	if (--b->open == 0)
		free(b);
}

void udp_batch_close(struct udp_batch *b)
{
	if (!b)
		return;
	udp_batch_flush(b);
	uv_close((uv_handle_t *)&b->soon, on_closed);
	uv_close((uv_handle_t *)&b->check, on_closed);
}

unsigned long udp_batch_dropped(const struct udp_batch *b)
{
	return b->dropped;
}
