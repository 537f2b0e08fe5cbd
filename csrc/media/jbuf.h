/* The receive side's jitter buffer: packets are placed by their RTP
 * timestamp into a ring of samples and taken out one 20 ms frame per clock
 * tick, a fixed delay behind the first packet, so reordered packets come
 * out in order and packets of any length (20 ms, SIPp's 30 ms ...) make
 * even frames. A missing frame is concealed: the last one again, fading,
 * then silence. What arrives later than its frame was taken is dropped. */
#ifndef LUASIP_JBUF_H
#define LUASIP_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBUF_SAMPLES 2048           /* 256 ms at 8 kHz, a power of two: a few
                                       packets of delay and reordering, in
                                       4.3 KB per call */
#define JBUF_FRAME 160

struct jbuf {
	int16_t ring[JBUF_SAMPLES];
	uint8_t filled[JBUF_SAMPLES / 8];  /* a bit per sample */
	bool started;
	uint32_t play_ts;               /* the timestamp of the next frame out */
	unsigned depth;                 /* frames of delay */
	int16_t last[JBUF_FRAME];
	unsigned concealed_run;         /* frames in a row made up */
	uint64_t late, concealed;       /* samples dropped, frames made up */
};

void jbuf_init(struct jbuf *jb, unsigned depth_frames);
/* Puts n samples that start at RTP timestamp ts. */
void jbuf_put(struct jbuf *jb, uint32_t ts, const int16_t *pcm, size_t n);
/* The next frame; false before the first packet. */
bool jbuf_get(struct jbuf *jb, int16_t out[JBUF_FRAME]);

#endif
