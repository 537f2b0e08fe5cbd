/* Which way a call's audio flows: the rules between the INVITE session
 * and the RTP stream, in one place.
 *
 * - Nothing flows without an agreed audio stream (no SDP yet, a declined
 *   stream with port 0, no common codec) or once the call has ended.
 * - Confirmed: the directions offer and answer agreed (RFC 3264 §6.1): we
 *   send when ours is sendrecv or sendonly and receive when it is sendrecv
 *   or recvonly; a peer that holds us (sendonly, inactive or c=0.0.0.0,
 *   RFC 3264 §8.4) gets nothing, and neither does a port 0 address.
 * - Early media (RFC 3960): a caller hears what comes after a 183 with SDP
 *   (an early dialog with an answer) but sends nothing until the call is
 *   confirmed (the gateway model, §3.1); a callee that sent its SDP in a
 *   183 or in the 2xx sends and receives from then on, and one whose offer
 *   goes in the 2xx (an INVITE without SDP) waits for the ACK's answer. */
#ifndef LUASIP_FLOW_H
#define LUASIP_FLOW_H

#include <stdbool.h>

struct sip_sess;

struct media_flow {
	bool on;                    /* the stream follows the agreed SDP; false: stopped */
	bool send, recv;            /* when on; both false: on hold both ways (inactive) */
};

/* sdp_sent: an incoming call's SDP has gone in a 183 or the 2xx (not an
 * offer waiting for the ACK's answer); unused for outgoing calls.
 * early_send: an outgoing call sends in early media too (RFC 3960 §3: the
 * caller's digits to an IVR that answered with early media). */
struct media_flow media_flow(const struct sip_sess *s, bool sdp_sent, bool early_send);

#endif
