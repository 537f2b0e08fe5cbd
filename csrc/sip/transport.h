/* SIP transports on libuv (RFC 3261 §18): a UDP socket, or a TCP listener
 * with the connections made to it and from it. A transport hands each framed
 * message up as bytes with the peer it came from; it never parses SIP. */
#ifndef LUASIP_TRANSPORT_H
#define LUASIP_TRANSPORT_H

#include <uv.h>

#include "sip/addr.h"
#include "util/list.h"
#include "util/tmr.h"

struct sip_transport;
struct sip_loop;

typedef void (sip_tp_recv_h)(void *arg, struct sip_transport *tp, const struct sip_peer *src,
			     const char *buf, size_t len);

struct sip_transport {
	struct le le;               /* in the endpoint's list */
	enum sip_proto proto;
	union sa addr;              /* as bound (port 0 resolved) */
	size_t max_msg;
	struct tmrq *tq;            /* for connection timers */
	uint32_t partial_ms;        /* a started message must complete in this */
	sip_tp_recv_h *recvh;
	void *arg;
	bool closed;
	union {
		uv_handle_t handle;
		uv_udp_t udp;
		uv_tcp_t tcp;
	} h;
	struct le conns;            /* struct sip_conn, TCP only */
	char *rbuf;                 /* UDP receive buffer */
	size_t rbuf_len;
	unsigned batch_n;           /* UDP: datagrams of the recvmmsg batch being read */
	struct sip_loop *loop;      /* told when a batch comes back full (may be NULL) */
	struct udp_batch *batch;    /* UDP: what this turn of the loop sends */
};

struct sip_tp_limits {
	size_t max_msg;             /* bytes; a larger message is dropped (UDP) or
	                             * closes its connection (TCP) */
	uint32_t partial_ms;        /* TCP: how long half a message may wait for
	                             * its rest before the connection is closed */
};

int sip_tp_listen(struct sip_transport **tpp, uv_loop_t *uv, struct tmrq *tq,
		  enum sip_proto proto, const union sa *addr, const struct sip_tp_limits *lim,
		  sip_tp_recv_h *recvh, void *arg);
/* Sends on dst->conn when it is open, else (TCP) on a connection to
 * dst->addr, made if needed. sent_h as in addr.h. */
int sip_tp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		size_t len, sip_sent_h *sent_h, void *sent_arg);
/* Closes the socket and every connection; memory goes when libuv is done. */
void sip_tp_close(struct sip_transport *tp);

/* tcp.c */
int sip_tcp_listen(struct sip_transport *tp, uv_loop_t *uv);
int sip_tcp_send(struct sip_transport *tp, const struct sip_peer *dst, const char *buf,
		 size_t len, sip_sent_h *sent_h, void *sent_arg);
void sip_tcp_close_conns(struct sip_transport *tp);
bool sip_conn_open(const struct sip_conn *c);

#endif
