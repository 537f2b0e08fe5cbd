/* Ports: the one interface of every element a call's audio passes through.
 * A port gives 20 ms of 8 kHz audio (a source: a player, a tone, later the
 * output of a bridge or a mixer) or takes 20 ms (a sink: a recorder, the
 * in-band DTMF detector, later the input of a bridge or a mixer). pjmedia's
 * get_frame/put_frame ports and re's aumix sources are the model.
 *
 * RTP streams are where frames enter and leave the graph, and the media
 * clock runs them in phases (mclock.h): in the read phase every stream
 * puts what it received this tick (its jitter buffer's frame) into its
 * sink; in the mix phase the ports that combine (a bridge with something
 * played into it, a conference mixer) work on what they were given; in
 * the send phase every stream gets the frame it sends from its source. So
 * what one leg receives reaches another leg's send exactly one tick later,
 * whatever order the streams are in.
 *
 *   far end --RTP--> stream --put--> sink      (read phase)
 *                    stream <--get-- source    (send phase)
 *
 * The clocked path is for audio that is made or combined here. A bridge
 * of two legs with the same codec and nothing played into either
 * direction is no port: it relays each packet as it arrives, and joins
 * the graph (a sink of one leg, the source of the other) only while
 * something is played into a direction.
 *
 * A frame carries its audio in the form its maker had it: 16-bit PCM, or
 * G.711 already encoded (a clip holds both laws, so a player feeding a
 * stream of the same law hands over the bytes it sends, encoding
 * nothing). The taker says which law it would like (want) and reads the
 * form it needs through frame_pcm or frame_g711, which convert once when
 * the frame holds the other form. */
#ifndef LUASIP_PORT_H
#define LUASIP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#define PORT_FRAME 160              /* samples in 20 ms at 8 kHz */
#define PORT_PCM (-1)               /* want: 16-bit PCM rather than a law */

struct frame {
	int16_t pcm[PORT_FRAME];
	uint8_t g711[PORT_FRAME];
	int8_t law;                 /* the law g711 holds: 0 µ-law, 8 A-law, -1 none */
	bool has_pcm;               /* pcm holds the samples */
	int8_t want;                /* the taker's form: 0, 8 or PORT_PCM (a hint) */
};

struct port {
	/* A source: this tick's 20 ms into f, in either form (set law or
	 * has_pcm, at least one); false when it has nothing this tick (the
	 * taker then sends silence or nothing). Once a tick at most. */
	bool (*get)(struct port *p, struct frame *f);
	/* A sink: this tick's 20 ms. The frame is the sink's to read, and to
	 * fill in the other form of (several sinks share one decoding). */
	void (*put)(struct port *p, struct frame *f);
};

/* An empty frame for a taker that wants want. */
static inline void frame_init(struct frame *f, int want)
{
	f->law = -1;
	f->has_pcm = false;
	f->want = (int8_t)want;
}

const int16_t *frame_pcm_slow(struct frame *f);
const uint8_t *frame_g711_slow(struct frame *f, int law);

/* The frame as PCM, decoded from its G.711 the first time it is asked. */
static inline const int16_t *frame_pcm(struct frame *f)
{
	return f->has_pcm ? f->pcm : frame_pcm_slow(f);
}

/* The frame in law (0, 8): as it came when it came in that law, else
 * encoded from its PCM (a frame of the other law is decoded first). */
static inline const uint8_t *frame_g711(struct frame *f, int law)
{
	return f->law == law ? f->g711 : frame_g711_slow(f, law);
}

/* f becomes f + g as PCM, each sample saturated to 16 bits (a frame
 * mixed from two). */
void frame_add(struct frame *f, struct frame *g);

static inline bool port_get(struct port *p, struct frame *f)
{
	return p->get(p, f);
}

static inline void port_put(struct port *p, struct frame *f)
{
	p->put(p, f);
}

#endif
