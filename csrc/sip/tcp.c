/* TCP for SIP (RFC 3261 §18): connections made and accepted, reused for
 * every message to the same peer, framed by Content-Length. */
#include "sip/msg.h"
#include "sip/transport.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sip_conn {
	struct le le;               /* in tp->conns while open */
	struct sip_transport *tp;
	uv_tcp_t h;
	uv_connect_t connect;
	union sa peer;
	bool connected, closed;
	struct tmr partial;         /* half a message waits for its rest */
	char *rbuf;
	size_t rlen, rcap;
	struct le pending;          /* writes waiting for the connection */
};

struct conn_write {
	uv_write_t req;
	struct le le;
	struct sip_conn *conn;
	sip_sent_h *sent_h;
	void *sent_arg;
	size_t len;
	char data[];
};

static void conn_destroy(void *arg)
{
	struct sip_conn *c = arg;
	free(c->rbuf);
}

static void write_done(struct conn_write *w, int err)
{
	if (w->sent_h)
		w->sent_h(err, w->sent_arg);
	mem_deref(w->sent_arg);
	free(w);
}

static void on_conn_closed(uv_handle_t *h)
{
	mem_deref(h->data);
}

static void conn_close(struct sip_conn *c, int err)
{
	if (c->closed)
		return;
	c->closed = true;
	tmr_cancel(&c->partial);
	list_unlink(&c->le);
	struct le *e, *tmp;
	list_each_safe(e, tmp, &c->pending) {
		list_unlink(e);
		write_done(container_of(e, struct conn_write, le), err ? err : -ECONNRESET);
	}
	/* writes in flight end with UV_ECANCELED before the close callback */
	uv_close((uv_handle_t *)&c->h, on_conn_closed);  /* the list's reference */
}

bool sip_conn_open(const struct sip_conn *c)
{
	return c && !c->closed;
}

static void on_written(uv_write_t *req, int status)
{
	struct conn_write *w = container_of(req, struct conn_write, req);
	struct sip_conn *c = w->conn;
	write_done(w, status);
	if (status && !c->closed)
		conn_close(c, status);
	mem_deref(c);
}

static int conn_write(struct sip_conn *c, struct conn_write *w)
{
	uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
	w->conn = mem_ref(c);
	int err = uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written);
	if (err)
		mem_deref(c);
	return err;
}

static void read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sip_conn *c = h->data;
	if (c->rcap - c->rlen < 4096) {
		size_t cap = c->rcap ? c->rcap * 2 : 8192;
		char *p = realloc(c->rbuf, cap);
		if (!p) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	buf->base = c->rbuf + c->rlen;
	buf->len = c->rcap - c->rlen;
}

static void on_partial_timeout(void *arg)
{
	conn_close(arg, -ETIMEDOUT);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sip_conn *c = s->data;
	struct sip_transport *tp = c->tp;
	if (n < 0) {
		conn_close(c, (int)n);
		return;
	}
	c->rlen += (size_t)n;
	mem_ref(c);  /* the handler may close it */
	size_t off = 0;
	while (!c->closed && off < c->rlen) {
		long fl = sip_frame(c->rbuf + off, c->rlen - off, tp->max_msg);
		if (fl == 0)
			break;
		if (fl < 0) {
			/* no framing can be trusted after this (RFC 4475 §3.1.2.3) */
			conn_close(c, -EBADMSG);
			break;
		}
		struct sip_peer src = { .proto = SIP_TCP, .addr = c->peer, .conn = c };
		const char *msg = c->rbuf + off;
		size_t len = (size_t)fl;
		off += len;
		while (len > 0 && (*msg == '\r' || *msg == '\n')) {
			msg++;
			len--;
		}
		if (len > 0)
			tp->recvh(tp->arg, tp, &src, msg, len);
		else if (fl >= 4)  /* "\r\n\r\n" ping, RFC 5626 §4.4.1: pong */
			sip_tcp_send(tp, &src, "\r\n", 2, NULL, NULL);
	}
	if (!c->closed && off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	/* a message begun must be completed in time (RFC 4475 §3.1.2.2: wait
	 * for the rest, then close); the timer runs from its first bytes */
	if (!c->closed && c->rlen == 0)
		tmr_cancel(&c->partial);
	else if (!c->closed && (off > 0 || !tmr_running(&c->partial)))
		tmr_start(tp->tq, &c->partial, tp->partial_ms, on_partial_timeout, c);
	mem_deref(c);
}

static struct sip_conn *conn_new(struct sip_transport *tp, uv_loop_t *uv)
{
	struct sip_conn *c = mem_alloc(sizeof(*c), conn_destroy);
	if (!c)
		return NULL;
	c->tp = tp;
	list_init(&c->le);
	list_init(&c->pending);
	if (uv_tcp_init(uv, &c->h) != 0) {
		mem_deref(c);
		return NULL;
	}
	c->h.data = c;
	uv_tcp_nodelay(&c->h, 1);
	list_append(&tp->conns, &c->le);
	return c;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct sip_transport *tp = server->data;
	if (status < 0 || tp->closed)
		return;
	struct sip_conn *c = conn_new(tp, server->loop);
	if (!c)
		return;
	int len = sizeof(c->peer);
	if (uv_accept(server, (uv_stream_t *)&c->h) != 0 ||
	    uv_tcp_getpeername(&c->h, &c->peer.sa, &len) != 0 ||
	    uv_read_start((uv_stream_t *)&c->h, read_alloc, on_read) != 0) {
		conn_close(c, -ECONNABORTED);
		return;
	}
	c->connected = true;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sip_conn *c = req->data;
	if (c->closed)
		return;
	if (status < 0 || uv_read_start((uv_stream_t *)&c->h, read_alloc, on_read) != 0) {
		conn_close(c, status < 0 ? status : -ECONNRESET);
		return;
	}
	c->connected = true;
	struct le *e, *tmp;
	list_each_safe(e, tmp, &c->pending) {
		struct conn_write *w = container_of(e, struct conn_write, le);
		list_unlink(e);
		int err = conn_write(c, w);
		if (err)
			write_done(w, err);
	}
}

int sip_tcp_listen(struct sip_transport *tp, uv_loop_t *uv)
{
	int err = uv_tcp_init(uv, &tp->h.tcp);
	if (err)
		return err;
	tp->h.handle.data = tp;
	err = uv_tcp_bind(&tp->h.tcp, &tp->addr.sa,
			  tp->addr.sa.sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	if (!err)
		err = uv_listen((uv_stream_t *)&tp->h.tcp, 128, on_connection);
	return err;
}

static struct sip_conn *conn_find(struct sip_transport *tp, const union sa *peer)
{
	struct le *e, *tmp;
	list_each_safe(e, tmp, &tp->conns) {
		struct sip_conn *c = container_of(e, struct sip_conn, le);
		if (sa_equal(&c->peer, peer))
			return c;
	}
	return NULL;
}

int sip_tcp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		 size_t len, sip_sent_h *sent_h, void *sent_arg)
{
	struct sip_conn *c = sip_conn_open(dst->conn) ? dst->conn : conn_find(tp, &dst->addr);
	if (!c) {
		c = conn_new(tp, tp->h.handle.loop);
		if (!c)
			return -ENOMEM;
		c->peer = dst->addr;
		c->connect.data = c;
		int err = uv_tcp_connect(&c->connect, &c->h, &dst->addr.sa, on_connect);
		if (err) {
			conn_close(c, err);
			return err;
		}
	}
	struct conn_write *w = malloc(sizeof(*w) + len);
	if (!w)
		return -ENOMEM;
	memcpy(w->data, buf, len);
	w->len = len;
	w->sent_h = sent_h;
	w->sent_arg = mem_ref(sent_arg);
	list_init(&w->le);
	if (!c->connected) {
		list_append(&c->pending, &w->le);
		return 0;
	}
	int err = conn_write(c, w);
	if (err) {
		w->sent_h = NULL;  /* failed now: the caller hears it from the return */
		write_done(w, err);
	}
	return err;
}

void sip_tcp_close_conns(struct sip_transport *tp)
{
	struct le *e, *tmp;
	list_each_safe(e, tmp, &tp->conns)
		conn_close(container_of(e, struct sip_conn, le), -ECANCELED);
}
