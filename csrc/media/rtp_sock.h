/* The UDP port pair of one RTP stream (RFC 3550 §11: RTP on an even port,
 * RTCP on the next one), bound from the endpoint's range so that the port
 * our SDP announces is really ours. The media layer sends and receives on
 * it; until then what arrives waits in the kernel and is dropped there. */
#ifndef LUASIP_RTP_SOCK_H
#define LUASIP_RTP_SOCK_H

#include <stdint.h>
#include <uv.h>

#include "sip/addr.h"

typedef void (rtp_sock_recv_h)(void *arg, const uint8_t *buf, size_t len, const union sa *src);

struct rtp_sock {
	uv_udp_t rtp, rtcp;
	union sa addr;              /* the RTP address and port as bound */
	unsigned open;              /* handles not yet closed */
	rtp_sock_recv_h *recvh, *rtcp_recvh;
	void *arg, *rtcp_arg;
};

/* Binds the first free pair in [min, max] on ip, starting at a random
 * place: -EADDRINUSE when the range is full. */
int rtp_sock_alloc(struct rtp_sock **rp, uv_loop_t *uv, const union sa *ip, uint16_t min,
		   uint16_t max);
/* Hands every RTP datagram to h; h NULL stops reading. The socket does
 * not keep the loop alive by itself. */
int rtp_sock_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg);
/* The same for RTCP, on the pair's odd port. */
int rtp_sock_rtcp_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg);
int rtp_sock_rtcp_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len);
/* Sends one datagram now; a full socket buffer drops it (late audio is
 * worth nothing). */
int rtp_sock_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len);
/* Closes both sockets; the memory goes when libuv is done with them. */
void rtp_sock_close(struct rtp_sock *r);

#endif
