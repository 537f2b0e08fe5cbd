/* Frames: the conversions between PCM and G.711, made once per frame. */
#include "media/port.h"
#include "media/g711.h"

const int16_t *frame_pcm_slow(struct frame *f)
{
	if (f->law >= 0)
		g711_decode(f->law, f->g711, f->pcm, PORT_FRAME);
	else
		for (int i = 0; i < PORT_FRAME; i++)
			f->pcm[i] = 0;  /* a frame nobody filled: silence */
	f->has_pcm = true;
	return f->pcm;
}

const uint8_t *frame_g711_slow(struct frame *f, int law)
{
	g711_encode(law, frame_pcm(f), f->g711, PORT_FRAME);
	f->law = (int8_t)law;
	return f->g711;
}

void frame_add(struct frame *f, struct frame *g)
{
	const int16_t *a = frame_pcm(f), *b = frame_pcm(g);
	for (int i = 0; i < PORT_FRAME; i++) {
		int32_t v = (int32_t)a[i] + b[i];
		f->pcm[i] = (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
	}
	f->law = -1;  /* the G.711 it held is not the sum */
}
