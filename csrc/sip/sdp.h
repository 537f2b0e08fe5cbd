/* SDP offer/answer (RFC 3264, RFC 4566) for one audio stream, on libosip2's
 * SDP parser: G.711 (PCMU 0, PCMA 8) and telephone-event (RFC 4733),
 * direction attributes, o= versions, declined streams (port 0). The other
 * m= lines of a session (a phone's video) are declined and kept, so every
 * later offer and answer carries them (struct sdp_mlines). The media layer
 * reads the negotiated result (struct sdp_result); nothing here sends or
 * receives RTP. */
#ifndef LUASIP_SDP_H
#define LUASIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/addr.h"

/* The media type of a session description (RFC 4566 §8.1), spelled
 * here only: our Content-Type, the Accept of a 415 or 406, and the check
 * that a body is an offer or answer all come from it. */
#define SDP_MEDIA_TYPE "application/sdp"
#define SDP_CONTENT_TYPE "Content-Type: " SDP_MEDIA_TYPE "\r\n"
#define SDP_ACCEPT "Accept: " SDP_MEDIA_TYPE "\r\n"
/* Whether a Content-Type's type and subtype (as libosip2 parses them,
 * NULL when absent) name SDP; case does not matter (RFC 2045 §5.1). */
bool sdp_is_media_type(const char *type, const char *subtype);

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

#define SDP_MAX_CODECS 4
/* An offer with more m= lines is refused (-ENOTSUP): the answer repeats
 * every line, and the session keeps them, so this bounds what one peer can
 * make us compose and keep. */
#define SDP_MAX_MEDIA 16

/* The m= lines of the session, in order: the one place that knows them.
 * RFC 3264 §8: a new offer has at least the m= lines of the previous SDP,
 * in the same order, a declined stream still there with port 0; §6: an
 * answer has exactly the lines of its offer. So our offers write all of
 * them, and an answer to ours must have as many, of the same media types.
 * One line is our audio stream; the others we declined (or never had) and
 * write as kept here. Set by our first offer (audio alone) or by an offer
 * we answer (its lines, each audio line but the one we took declined); an
 * offer of the peer with fewer lines than before is answered as it is
 * (the answer mirrors the offer) and the list becomes its lines. */
struct sdp_mlines {
	unsigned n;                 /* 0 until the first offer or answer */
	unsigned audio;             /* the index of our audio stream */
	char proto[16];             /* its profile as first written: RTP/AVP(F) */
	char *declined[SDP_MAX_MEDIA];  /* each other line as we write it,
	                               "m=video 0 RTP/AVP 96" (mem); NULL at audio */
};

/* Our side of the session: what we offer and what we can accept. */
struct sdp_local {
	union sa addr;              /* RTP address and port; port 0 disables audio */
	union sa origin;            /* o= address: addr at init, fixed for the
	                               session like the id (RFC 3264 §8) */
	uint64_t sess_id;           /* o= session id, fixed for the session */
	uint64_t version;           /* o= version of the next SDP (see sdp_local_changed) */
	enum sdp_dir dir;           /* what we want: sendrecv, or sendonly to hold */
	bool held;                  /* the peer holds us (struct sdp_result's
	                               hold_by_peer of the last offer/answer): our
	                               offers then do not send (RFC 6337 §5.1),
	                               and the answer to an offer of ours that did
	                               not let the peer receive keeps it */
	uint8_t codecs[SDP_MAX_CODECS];  /* static payload types, preferred first */
	unsigned ncodecs;
	uint8_t te_pt;              /* telephone-event payload type we offer (0: none) */
	uint32_t ptime;             /* ms, 20 by default */
	char *last;                 /* the last SDP we sent (mem), for re-sending */
	uint64_t last_version;      /* its o= version */
	struct sdp_mlines mlines;   /* the session's m= lines */
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
	                               peer receive (we offered sendrecv/sendonly):
	                               the answer to our recvonly or inactive says
	                               nothing, and the hold stays as it was */
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

/* Composes an offer and keeps it in l->last: the session's m= lines, our
 * audio stream with every codec of ours and the others at port 0; audio
 * alone when there is no session yet. Its direction is l->dir, without the
 * sending while the peer holds us (l->held): a hold of ours offers
 * inactive then, and taking it back recvonly (RFC 6337 §5.1, §5.3). *sdp is a mem string (a reference of
 * its own); -EINVAL when there is no codec to offer or a codec other than
 * 0 and 8. */
int sdp_offer(struct sdp_local *l, char **sdp, size_t *len);

/* Reads an offer and composes the answer (RFC 3264 §6): one m= line per
 * offered line, in order; the first audio stream with a codec we support is
 * accepted, every other stream declined with port 0 (its media, profile
 * and formats repeated). Keeps the answer in l->last and its lines in
 * l->mlines. r and l->mlines are set only on success.
 * 0; -EBADMSG when the SDP is malformed (answer 400 with a Warning): osip
 * cannot parse it, no v=, o= or m= line, a port that is not a number, an
 * m= line without formats, an active stream without c=;
 * -ENOTSUP when nothing is acceptable (answer 488): no audio stream over
 * RTP/AVP(F) with a codec of ours, a c= that is no IP literal or of
 * another family than l->addr, more than SDP_MAX_MEDIA m= lines, or
 * audio disabled here (port 0 in l->addr). */
int sdp_answer(struct sdp_local *l, const char *offer, size_t offer_len,
	       struct sdp_result *r, char **sdp, size_t *len);

/* Reads the answer to our last offer. Same errors as sdp_answer; also
 * -EBADMSG when the answer does not have exactly the m= lines of the offer
 * (l->mlines): as many, each of the same media type in the same order.
 * Only our audio line is read for media; what the answer says of a line we
 * declined is ignored. A declined audio stream (port 0) returns 0 with
 * r->remote of port 0 and r->pt -1: the call layer decides. */
int sdp_accept(struct sdp_local *l, const char *answer, size_t answer_len,
	       struct sdp_result *r);

const char *sdp_dir_name(enum sdp_dir d);

#endif
