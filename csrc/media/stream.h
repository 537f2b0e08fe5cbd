/* The RTP stream of a call (RFC 3550, RFC 3551, RFC 4733): one G.711
 * audio stream and its telephone-events, sent on the media clock's ticks
 * and received from the call's RTP socket. The owner says what the SDP
 * agreed (where to, which payload types, which directions) and connects
 * two ports (port.h): in the clock's send phase the stream gets what it
 * sends from its source, in the read phase it puts what it received (the
 * jitter buffer's frame) into its sink. Digits received as
 * telephone-events go to the digit handler. */
#ifndef LUASIP_STREAM_H
#define LUASIP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/jbuf.h"
#include "media/mclock.h"
#include "media/port.h"
#include "media/rtp.h"
#include "media/rtp_sock.h"

#define RTP_FRAME 160               /* samples (and G.711 octets) in 20 ms */

struct rtp_hdr;

/* A packet of the agreed codec (event false) or a telephone-event, as
 * it came: its header, its payload in the stream's law (pt). */
typedef void (rtp_stream_relay_h)(void *arg, const struct rtp_hdr *h, const uint8_t *payload,
				  size_t len, bool event);

struct rtp_stream_handlers {
	/* A DTMF digit received as telephone-events, once per event (from
	 * the socket's callback, never from the clock's tick). */
	void (*digit)(void *arg, char digit);
};

struct rtp_stats {
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t rx_lost;               /* expected but never seen (RFC 3550 A.3) */
	uint64_t rx_dropped;            /* from another source, or not ours */
	double jitter_ms;               /* interarrival jitter (RFC 3550 A.8) */
	/* from the peer's RTCP reports about our packets */
	bool have_remote;
	double rtt_ms;                  /* round trip (§6.4.1), -1 until known */
	int32_t remote_lost;
	double remote_jitter_ms;
};

/* The fields a tick reads for a stream that sends come first, packed
 * into the fewest cache lines: with thousands of streams each one is cold
 * by its next tick, and every line it spans is a miss (docs/performance-
 * media.md). What only receiving, digits or reports use comes after. */
struct rtp_stream {
	struct mclock_client clk;       /* send phase, while it sends or receives */
	struct mclock *clock;
	struct rtp_sock *sock;
	/* What it sends: one frame a tick, in the law of pt; nothing (NULL,
	 * or a get that says false): silence for a second, then nothing. */
	struct port *source;
	/* What it sends comes from a relay (rtp_stream_relay), packet by
	 * packet as another stream receives it: the tick sends no audio of
	 * its own (digits of its own still go). */
	bool relayed;

	/* what the SDP agreed */
	bool running;
	bool send, recv;
	bool latched;
	int pt, rtp_pt, te_pt;          /* codec (0, 8), its number on the wire, events (-1) */

	/* sending */
	bool marker;                    /* the next audio packet starts a talkspurt */
	bool opening;                   /* warmup ticks are the first second's, not a tail */
	uint16_t seq;
	uint32_t ssrc, ts;
	unsigned warmup;                /* ticks of silence still sent without a sound */
	unsigned dtmf_len;              /* digits waiting to be sent */
	int dtmf_event;                 /* the event being sent, -1 none */
	unsigned dtmf_gap;
	size_t tx_len, tx_payload;      /* 0: none */
	uint64_t rtcp_tick;             /* the tick the next RTCP report is due */
	union sa remote;                /* signalled */
	union sa peer;                  /* where packets come from, once latched */
	uint8_t tx[RTP_HEADER_SIZE + RTP_FRAME];   /* this tick's packet, sent at the flush */

	const struct rtp_stream_handlers *h;
	void *arg;
	char dtmf[64];
	uint32_t dtmf_ts;
	uint16_t dtmf_dur;
	unsigned dtmf_ends;

	/* receiving */
	struct mclock_client rd;        /* read phase, while it has frames for its sink */
	/* What the far end sends, decoded, one frame a tick from the jitter
	 * buffer (in order, gaps concealed) while the stream receives. */
	struct port *sink;
	bool rx_started;
	uint32_t rx_ssrc;
	uint16_t rx_max_seq;
	uint32_t rx_cycles, rx_base;
	uint64_t rx_received;
	double jitter;                  /* timestamp units */
	uint32_t last_transit;          /* arrival - timestamp, modulo 2^32 */
	bool te_seen;
	uint32_t te_ts;                 /* the last event reported, by its timestamp */
	struct jbuf *jb;                /* from the first audio packet on */
	/* A relay (a bridge): every audio and telephone-event packet
	 * received, as it arrives, before the jitter buffer; decode false:
	 * only there (nothing here needs the audio as frames). */
	rtp_stream_relay_h *relay_h;
	void *relay_arg;
	bool decode;
	/* how the packets relayed into this stream map into its own
	 * sequence and timestamp space (each leg keeps its own, RFC 3550 §7) */
	bool relay_synced;
	uint32_t relay_ssrc;            /* the source being relayed */
	uint16_t relay_seq_off;
	uint32_t relay_ts_off;

	/* RTCP */
	uint32_t rx_expected_prior;     /* for the fraction lost of each report */
	uint64_t rx_received_prior;
	uint32_t peer_lsr;              /* the middle of the NTP time of its last SR */
	uint64_t peer_lsr_at;           /* when it came (uv_hrtime) */
	uint32_t tx_packets_prior;

	struct rtp_stats st;
};

void rtp_stream_init(struct rtp_stream *s, struct mclock *clock, struct rtp_sock *sock,
		     const struct rtp_stream_handlers *h, void *arg);
/* Connects what the stream sends and where what it receives goes (either
 * may be NULL). */
void rtp_stream_attach(struct rtp_stream *s, struct port *source, struct port *sink);
/* What offer and answer agreed; starts (or stops) sending and receiving.
 * A new remote address forgets the latched source. */
void rtp_stream_set(struct rtp_stream *s, const union sa *remote, int pt, int rtp_pt, int te_pt,
		    bool send, bool recv);
void rtp_stream_stop(struct rtp_stream *s);
/* Stops and frees what the stream holds (its jitter buffer). */
void rtp_stream_close(struct rtp_stream *s);
/* Queues digits to send as telephone-events (0-9 * # A-D): -EINVAL for
 * another character, -ENOTSUP when the peer takes no events, -ENOSPC when
 * the queue is full. */
int rtp_stream_dtmf(struct rtp_stream *s, const char *digits);
bool rtp_stream_dtmf_busy(const struct rtp_stream *s);
void rtp_stream_stats(const struct rtp_stream *s, struct rtp_stats *st);

/* Hands every packet received to h (NULL: none) as it arrives; decode:
 * audio also goes on to the jitter buffer and the sink. */
void rtp_stream_tap(struct rtp_stream *s, rtp_stream_relay_h *h, void *arg, bool decode);
/* relayed: what the stream sends comes from rtp_stream_relay and its
 * ticks send no audio; off again, the next audio of its own starts a
 * talkspurt. */
void rtp_stream_set_relayed(struct rtp_stream *s, bool relayed);
/* Sends now a packet another stream received (h, payload in law: 0 or
 * 8), in this stream's payload types, SSRC, sequence and timestamp space:
 * audio transcoded when the laws differ, an event with this stream's
 * event type. The marker bit is kept; a new source (or the first packet,
 * or one after a packet of our own) starts a talkspurt, mapped to follow
 * on what was sent before. -ENOTCONN while the stream does not send,
 * -ENOTSUP for an event the peer takes none of, -EMSGSIZE for a payload
 * over 1024 octets. */
int rtp_stream_relay(struct rtp_stream *s, const struct rtp_hdr *h, const uint8_t *payload,
		     size_t len, int law, bool event);

#endif
