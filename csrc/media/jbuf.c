/* The jitter buffer. */
#include "media/jbuf.h"

#include <string.h>

#define MASK (JBUF_SAMPLES - 1)
#define FADE_FRAMES 3               /* concealment repeats fade over 60 ms */

static bool is_filled(const struct jbuf *jb, uint32_t at)
{
	return jb->filled[at >> 3] & (1u << (at & 7));
}

static void set_filled(struct jbuf *jb, uint32_t at, bool on)
{
	if (on)
		jb->filled[at >> 3] |= (uint8_t)(1u << (at & 7));
	else
		jb->filled[at >> 3] &= (uint8_t)~(1u << (at & 7));
}

void jbuf_init(struct jbuf *jb, unsigned depth_frames)
{
	memset(jb, 0, sizeof(*jb));
	jb->depth = depth_frames;
}

static void restart(struct jbuf *jb, uint32_t ts)
{
	memset(jb->filled, 0, sizeof(jb->filled));
	memset(jb->last, 0, sizeof(jb->last));  /* the delay after it is quiet */
	jb->play_ts = ts - jb->depth * JBUF_FRAME;
	jb->started = true;
}

void jbuf_put(struct jbuf *jb, uint32_t ts, const int16_t *pcm, size_t n)
{
	if (n > JBUF_SAMPLES / 2)
		n = JBUF_SAMPLES / 2;
	if (!jb->started)
		restart(jb, ts);
	/* signed distance on the 32-bit timestamp circle, held in 64 bits so
	 * that adding the length or negating it cannot overflow at the far
	 * side of the circle (a peer's timestamps are anything) */
	int64_t ahead = (int32_t)(ts - jb->play_ts);
	if (ahead + (int64_t)n > JBUF_SAMPLES) {
		/* far ahead: a new talkspurt after silence, or the peer's clock
		 * jumped; what is buffered is older than anything to come */
		restart(jb, ts);
		ahead = (int32_t)(ts - jb->play_ts);
	}
	size_t skip = 0;
	if (ahead < 0) {
		/* too late for what was already taken out */
		skip = (size_t)-ahead < n ? (size_t)-ahead : n;
		jb->late += skip;
		if (ahead < -(int64_t)(JBUF_SAMPLES / 2)) {
			/* so late that it is rather a timestamp jump backwards */
			jb->late -= skip;
			restart(jb, ts);
			skip = 0;
		}
	}
	for (size_t i = skip; i < n; i++) {
		uint32_t at = (ts + (uint32_t)i) & MASK;
		jb->ring[at] = pcm[i];
		set_filled(jb, at, true);
	}
}

bool jbuf_get(struct jbuf *jb, int16_t out[JBUF_FRAME])
{
	if (!jb->started)
		return false;
	unsigned have = 0;
	for (unsigned i = 0; i < JBUF_FRAME; i++) {
		uint32_t at = (jb->play_ts + i) & MASK;
		if (is_filled(jb, at)) {
			out[i] = jb->ring[at];
			set_filled(jb, at, false);
			have++;
		} else {
			out[i] = 0;
		}
	}
	jb->play_ts += JBUF_FRAME;
	if (have == 0) {
		/* nothing came for this frame: the last one, fading, then quiet */
		jb->concealed++;
		if (jb->concealed_run < FADE_FRAMES) {
			int shift = (int)jb->concealed_run + 1;
			for (unsigned i = 0; i < JBUF_FRAME; i++)
				out[i] = (int16_t)(jb->last[i] >> shift);
		}
		jb->concealed_run++;  /* last stays the frame that was heard */
		return true;
	}
	jb->concealed_run = 0;
	memcpy(jb->last, out, sizeof(jb->last));
	return true;
}
