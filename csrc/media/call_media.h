/* The media of one call: its RTP socket pair, its stream and the ports
 * around it (port.h), owned here in C and reference counted (util/mem.h).
 * The call's owner (the Lua call, csrc/lua/l_call.c) holds a pointer and
 * one reference, as luv's handles are held, and hears what happens
 * through its handlers; a bridge or a conference that joins the call will
 * hold a reference of its own.
 *
 *   far end --RTP--> stream --> rx (fan-out) --> recorder
 *                                            \-> DTMF detector (a peer
 *                                                without telephone-events)
 *   far end <--RTP-- stream <-- player (a clip: a file or a tone)
 *
 * Lifetime: call_media_alloc gives the owner its reference; the stream is
 * a client of the media clock while it sends or receives and the socket's
 * receive handler points at it. call_media_close detaches the stream from
 * the clock and the socket, stops the player, closes a recording, lets the
 * socket go and drops the owner's reference: the memory goes with the last
 * reference, never with the owner's. The handlers run from the SIP timer
 * queue (a recording that a close ends is told by the close), never from
 * inside the clock's tick or a socket's callback, so they may close the
 * call's media, or another's, as they please. */
#ifndef LUASIP_CALL_MEDIA_H
#define LUASIP_CALL_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include "media/dtmf.h"
#include "media/flow.h"
#include "media/player.h"
#include "media/stream.h"
#include "util/tmr.h"

struct media_bridge;
struct recorder;
struct sdp_result;

struct call_media_handlers {
	/* A digit, as telephone-events or heard in-band. */
	void (*digit)(void *arg, char digit);
	/* What call_media_play started has played to its end. */
	void (*played)(void *arg);
	/* A recording is over (its maximum, silence, a failed write, or the
	 * call's end when call_media_close tells): its seconds, and 0 or the
	 * -errno of a failed write with a message naming the file. */
	void (*recorded)(void *arg, double secs, int err, const char *msg);
};

#define CALL_MEDIA_DIGITS 16        /* digits heard and not yet told */

struct call_media {
	struct rtp_stream stream;
	struct player player;
	struct port tx;             /* the stream's source: the player, mixed with feed */
	struct port rx;             /* the stream's sink: fans out to the ones below */
	struct recorder *rec;       /* while recording */
	struct port *rec_port;      /* its sink */
	/* recording both directions: what the far end said this tick, kept
	 * until what it hears is known (the send phase) */
	int16_t *both_rx;
	bool both_have;
	/* in a bridge (bridge.h): what it gives this call's party in mixed
	 * mode, and where this call's audio goes for the other leg */
	struct media_bridge *bridge;
	struct port *feed, *tap;
	bool peer_holds;            /* the far end holds us (RFC 3264 §8.4) */
	struct dtmf_sink *det;      /* from the first frame of a peer without events */
	struct rtp_sock *sock;
	bool closed;
	/* what happened in the clock's tick, told from the timer queue */
	struct tmrq *tq;
	struct tmr tell_tmr;
	char digits[CALL_MEDIA_DIGITS];
	unsigned ndigits;
	bool rec_over;
	const struct call_media_handlers *h;
	void *arg;
};

/* Takes the socket pair sock (released by call_media_close); *mp is set
 * only on success: 0 or -ENOMEM (then sock is still the caller's). */
int call_media_alloc(struct call_media **mp, struct mclock *clock, struct tmrq *tq,
		     struct rtp_sock *sock, const struct call_media_handlers *h, void *arg);
/* The stream follows what offer and answer agreed (r) in the direction
 * the rules give (flow.h): started, moved, held or stopped. r is read only
 * when f.on, and may be NULL (no offer/answer yet) when it is not. */
void call_media_set(struct call_media *m, const struct sdp_result *r, struct media_flow f);
/* Plays clip from its start, replacing what played (untold). */
void call_media_play(struct call_media *m, struct media_clip *clip, bool loop);
/* Stops without telling; true when something played. */
bool call_media_stop_play(struct call_media *m);
/* Records what the far end sends to path (both: and what it hears,
 * mixed): -EBUSY when a recording runs, or recorder_open's -errno with
 * its message in err. */
int call_media_record(struct call_media *m, const char *path, double max_s, double silence_s,
		      bool both, char *err, size_t errlen);
bool call_media_recording(const struct call_media *m);
/* Ends the recording untold: its seconds, and 0 or the -errno of a write
 * that failed with a message in err. */
int call_media_stop_record(struct call_media *m, double *secs, char *err, size_t errlen);
/* Sends digits as telephone-events: -ENOTCONN while the stream does not
 * send, else rtp_stream_dtmf's errors. */
int call_media_dtmf(struct call_media *m, const char *digits);
void call_media_stats(const struct call_media *m, struct rtp_stats *st);
/* What a bridge gives this call's party (in mixed mode), played over
 * what the player plays; NULL: the player alone. */
void call_media_feed(struct call_media *m, struct port *feed);
/* The end of the call's media (see above). spare: the socket pair goes
 * back to its pool for the next call, else it closes. tell: a recording
 * in progress is told to the recorded handler. m is not to be used after. */
void call_media_close(struct call_media *m, bool spare, bool tell);

#endif
