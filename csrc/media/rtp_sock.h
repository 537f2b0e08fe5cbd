/* The UDP port pair of one RTP stream (RFC 3550 §11: RTP on an even port,
 * RTCP on the next one), bound from the endpoint's range so that the port
 * our SDP announces is really ours. The media layer sends and receives on
 * it; while nobody listens, what arrives is read and dropped.
 *
 * A pair a call is done with goes back to a pool of spares, and the next
 * call in the same range takes it from there, emptied of what arrived
 * meanwhile: a new pair costs six system calls (two sockets, two binds,
 * the epoll registrations) and two more to close, a spare one none (or a
 * poll when it was released in this pass of the loop or the last). */
#ifndef LUASIP_RTP_SOCK_H
#define LUASIP_RTP_SOCK_H

#include <stdint.h>
#include <uv.h>

#include "sip/addr.h"
#include "util/list.h"

typedef void (rtp_sock_recv_h)(void *arg, const uint8_t *buf, size_t len, const union sa *src);

/* Pairs kept open for the next calls, at most max of them. */
struct rtp_pool {
	struct le idle;
	unsigned n, max;
	const uint64_t *turns;      /* the loop's pass count (sip_loop.turns), or NULL */
};

struct rtp_sock {
	uv_poll_t rtp, rtcp;        /* readable: one recvmmsg each time */
	int rtp_fd, rtcp_fd;        /* ours: bound, read and sent on without libuv */
	struct le le;               /* in the pool while spare */
	struct rtp_pool *pool;      /* where it goes back to; NULL: closed */
	union sa addr;              /* the RTP address and port as bound */
	unsigned open;              /* poll handles not yet closed */
	rtp_sock_recv_h *recvh, *rtcp_recvh;
	void *arg, *rtcp_arg;
	uint64_t released;          /* the loop pass it became spare in */
};

/* turns counts the passes of the loop the pairs read on, each counted
 * before the loop polls (sip_loop.turns): a pair spare since two passes
 * has had what arrived for its last call read and dropped by the loop, and
 * is reused without looking. NULL: every spare is emptied when taken. */
void rtp_pool_init(struct rtp_pool *p, unsigned max, const uint64_t *turns);
/* Closes the spare pairs whose RTP port is in [min, max]. */
void rtp_pool_flush(struct rtp_pool *p, uint16_t min, uint16_t max);
/* Closes every spare pair. */
void rtp_pool_close(struct rtp_pool *p);

/* A spare pair of pool (may be NULL) bound on ip in [min, max], else binds
 * the first free pair in the range, starting at a random place:
 * -EADDRINUSE when the range is full. */
int rtp_sock_alloc(struct rtp_sock **rp, struct rtp_pool *pool, uv_loop_t *uv,
		   const union sa *ip, uint16_t min, uint16_t max);
/* Hands every RTP datagram to h; h NULL drops them. The socket does not
 * keep the loop alive by itself. */
int rtp_sock_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg);
/* The same for RTCP, on the pair's odd port. */
int rtp_sock_rtcp_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg);
int rtp_sock_rtcp_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len);
/* Sends one datagram now; a full socket buffer drops it (late audio is
 * worth nothing). */
int rtp_sock_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len);
/* The call is done with the pair: back to its pool while there is room,
 * else closed. */
void rtp_sock_release(struct rtp_sock *r);
/* Closes both sockets; the memory goes when libuv is done with them. */
void rtp_sock_close(struct rtp_sock *r);

#endif
