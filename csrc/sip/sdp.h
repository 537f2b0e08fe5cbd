/* SDP offer/answer (RFC 3264, RFC 4566) for one audio stream, on libosip2's
 * SDP parser: G.711 (PCMU 0, PCMA 8) and telephone-event (RFC 4733),
 * direction attributes, o= versions, declined streams (port 0). The media
 * layer reads the negotiated result (struct sdp_result); nothing here sends
 * or receives RTP. */
#ifndef LUASIP_SDP_H
#define LUASIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/addr.h"

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

#define SDP_MAX_CODECS 4
/* An offer with more m= lines is refused (-ENOTSUP): the answer repeats
 * every line, so this bounds what one peer can make us compose. */
#define SDP_MAX_MEDIA 16

/* Our side of the session: what we offer and what we can accept. */
struct sdp_local {
	union sa addr;              /* RTP address and port; port 0 disables audio */
	union sa origin;            /* o= address: addr at init, fixed for the
	                               session like the id (RFC 3264 §8) */
	uint64_t sess_id;           /* o= session id, fixed for the session */
	uint64_t version;           /* o= version of the next SDP (see sdp_local_changed) */
	enum sdp_dir dir;           /* what we want: sendrecv, or sendonly to hold */
	uint8_t codecs[SDP_MAX_CODECS];  /* static payload types, preferred first */
	unsigned ncodecs;
	uint8_t te_pt;              /* telephone-event payload type we offer (0: none) */
	uint32_t ptime;             /* ms, 20 by default */
	char *last;                 /* the last SDP we sent (mem), for re-sending */
	uint64_t last_version;      /* its o= version */
};

/* What offer and answer agreed, seen from our side. */
struct sdp_result {
	union sa remote;            /* where RTP goes; port 0: the stream is off */
	enum sdp_dir dir;           /* our direction after negotiation */
	int pt;                     /* the codec both use (0 or 8), -1 none */
	int rtp_pt;                 /* its number in RTP headers: pt, or the
	                               dynamic number the offer bound G.711 to
	                               with an rtpmap (RFC 3264 §6.1); -1 none */
	int te_pt;                  /* the peer's telephone-event type, -1 none */
	uint32_t ptime;
	bool hold_by_peer;          /* the peer sends sendonly/inactive or c=0.0.0.0;
	                               in an answer only when our offer let the
	                               peer receive (we offered sendrecv/sendonly) */
};

/* Sets defaults: PCMU, PCMA, telephone-event 101, ptime 20, sendrecv, a
 * random session id, version 1. */
void sdp_local_init(struct sdp_local *l, const union sa *rtp);
void sdp_local_close(struct sdp_local *l);
/* Our next SDP gets a new version: one above the last one sent, however
 * often this is called in between (RFC 3264 §8). sdp_offer and sdp_answer
 * also raise the version by themselves when the SDP they compose differs
 * from the last one, and keep it when it is the same (a re-INVITE without
 * change), so calling this is only needed to force a new version. */
void sdp_local_changed(struct sdp_local *l);

/* Composes an offer and keeps it in l->last. *sdp is a mem string (a
 * reference of its own); -EINVAL when there is no codec to offer or a
 * codec other than 0 and 8. */
int sdp_offer(struct sdp_local *l, char **sdp, size_t *len);

/* Reads an offer and composes the answer (RFC 3264 §6): one m= line per
 * offered line, in order; the first audio stream with a codec we support is
 * accepted, every other stream declined with port 0. Keeps the answer in
 * l->last. r is set only on success.
 * 0; -EBADMSG when the SDP is malformed (answer 400 with a Warning): osip
 * cannot parse it, no v=, o= or m= line, a port that is not a number, an
 * m= line without formats, an active stream without c=;
 * -ENOTSUP when nothing is acceptable (answer 488): no audio stream over
 * RTP/AVP(F) with a codec of ours, a c= that is no IP literal or of
 * another family than l->addr, more than SDP_MAX_MEDIA m= lines, or
 * audio disabled here (port 0 in l->addr). */
int sdp_answer(struct sdp_local *l, const char *offer, size_t offer_len,
	       struct sdp_result *r, char **sdp, size_t *len);

/* Reads the answer to our last offer (one audio m= line). Same errors as
 * sdp_answer; also -EBADMSG when the answer does not have exactly one m=
 * line of type audio. A declined stream (port 0) returns 0 with r->remote
 * of port 0 and r->pt -1: the call layer decides. */
int sdp_accept(struct sdp_local *l, const char *answer, size_t answer_len,
	       struct sdp_result *r);

const char *sdp_dir_name(enum sdp_dir d);

#endif
