/* A bridge: the media of two calls connected both ways, as a B2BUA
 * connects a caller to the callee it forwarded to.
 *
 * Each direction (from one leg to the other) is in one of two modes:
 *
 * - relay: every packet the leg receives goes out on the other leg in the
 *   socket callback it arrives in (rtp_stream_relay): no jitter buffer, no
 *   decoding, no wait for the clock, so the bridge adds no delay and no
 *   jitter of its own. Each leg keeps its own SSRC, sequence and
 *   timestamp space and the marker bit is kept; PCMU and PCMA are
 *   transcoded octet by octet; telephone-events go out with the other
 *   leg's payload type.
 * - mixed: what the other leg's party hears is made on the media clock
 *   (port.h): this leg's decoded frames, summed with what plays into the
 *   other leg (call_media_play), the in-band tones of digits for a leg
 *   that takes no telephone-events, or, while this leg holds us, the
 *   music instead of its audio (or silence).
 *
 * A direction relays unless something must be added to it: the other
 * leg plays something, records both directions, hears a digit in-band,
 * or this leg holds us. The choice is made again whenever one of those
 * changes (call_media tells media_bridge_update). Digits are still told
 * on the leg that sent them, by its own call_media.
 *
 *            relay (socket callback)
 *   leg A  -------------------------->  leg B
 *   stream --put--> in[A] --> out[B] <--get-- stream     (mixed, on the clock)
 *                             + B's player, music, in-band digits
 *
 * Lifetime: media_bridge_join gives the bridge to the two legs, each of
 * which points at it (call_media.bridge) while the bridge holds a
 * reference to each. media_bridge_part undoes it, from either leg's
 * close (its call ended) or its owner (unbridge); the memory goes then. */
#ifndef LUASIP_BRIDGE_H
#define LUASIP_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "media/player.h"
#include "media/port.h"

struct call_media;

#define BRIDGE_DIGITS 16             /* in-band digits waiting to be played */

/* One leg, and what its party hears: out is its stream's feed in mixed
 * mode; in takes the leg's decoded frames for the other leg. */
struct bridge_leg {
	struct call_media *m;
	struct media_bridge *b;
	struct port in;             /* sink: this leg's audio, this tick */
	struct port out;            /* source: what this leg's party hears (mixed) */
	int16_t pcm[PORT_FRAME];    /* what in took this tick, for the other's out */
	bool have;
	bool mixed;                 /* what this leg hears is made on the clock */
	struct player music;        /* to this leg while the other holds us */
	struct player tone;         /* in-band digits to this leg */
	char digits[BRIDGE_DIGITS];
	unsigned ndigits;
	bool event_seen;            /* the last telephone-event this leg sent ... */
	uint32_t event_ts;          /* ... by its timestamp, so each is played once */
};

struct media_bridge {
	struct bridge_leg leg[2];
	struct media_clip *music;   /* a reference, or NULL: silence */
	bool parted;
};

/* Joins the media of two calls (neither in a bridge): -EBUSY when one is,
 * -EINVAL for the same call twice, -ENOMEM. music (may be NULL) is what a
 * leg hears while the other holds us. */
int media_bridge_join(struct media_bridge **bp, struct call_media *a, struct call_media *b,
		      struct media_clip *music);
/* Parts the legs: each goes back to its own player and stream, both
 * calls untouched. b is not to be used after. */
void media_bridge_part(struct media_bridge *b);
/* Chooses each direction's mode again after a leg changed (its SDP, what
 * plays or records into it). */
void media_bridge_update(struct media_bridge *b);

#endif
