/* The player and the sounds it plays. */
#include "media/player.h"
#include "media/g711.h"
#include "media/sound.h"
#include "util/list.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

static void clip_destroy(void *arg)
{
	struct media_clip *c = arg;
	free(c->own);
	mem_deref(c->sound);
}

struct media_clip *media_clip_from_pcm(const int16_t *pcm, size_t n)
{
	struct media_clip *c = mem_alloc(sizeof(*c), clip_destroy);
	if (!c)
		return NULL;
	/* one block: the samples, then both laws */
	c->own = malloc(4 * (n ? n : 1));
	if (!c->own)
		return mem_deref(c);
	int16_t *own_pcm = c->own;
	uint8_t *laws = (uint8_t *)(own_pcm + n);
	memcpy(own_pcm, pcm, n * sizeof(*pcm));
	g711_encode(0, pcm, laws, n);
	g711_encode(8, pcm, laws + n, n);
	c->pcm = own_pcm;
	c->ulaw = laws;
	c->alaw = laws + n;
	c->n = n;
	return c;
}

struct media_clip *media_clip_from_sound(struct sound *snd)
{
	struct media_clip *c = mem_alloc(sizeof(*c), clip_destroy);
	if (!c)
		return NULL;
	c->sound = mem_ref(snd);
	c->pcm = snd->pcm;
	c->ulaw = snd->ulaw;
	c->alaw = snd->alaw;
	c->n = snd->n;
	return c;
}

static bool player_get(struct port *port, struct frame *f);

void player_init(struct player *p, struct tmrq *tq, void (*done_h)(void *arg), void *arg)
{
	memset(p, 0, sizeof(*p));
	p->port.get = player_get;
	p->tq = tq;
	p->done_h = done_h;
	p->arg = arg;
	tmr_init(&p->done_tmr);
}

bool player_stop(struct player *p)
{
	bool was = p->clip != NULL;
	p->clip = mem_deref(p->clip);
	tmr_cancel(&p->done_tmr);
	return was;
}

void player_start(struct player *p, struct media_clip *clip, bool loop)
{
	player_stop(p);
	p->clip = mem_ref(clip);
	p->pos = 0;
	p->loop = loop;
}

bool player_playing(const struct player *p)
{
	return p->clip != NULL;
}

static void on_done(void *arg)
{
	struct player *p = arg;
	if (p->done_h)
		p->done_h(p->arg);
}

/* Copies the next frame of elements of size octets from src (the clip in
 * one of its forms) to dst; silence (octets of quiet) after the end of a
 * clip played once. */
static void take(struct player *p, void *dst, const void *src, size_t size, int quiet)
{
	struct media_clip *c = p->clip;
	size_t off = 0;
	while (off < PORT_FRAME) {
		if (p->pos >= c->n) {
			if (!p->loop || c->n == 0) {
				memset((char *)dst + off * size, quiet, (PORT_FRAME - off) * size);
				p->clip = mem_deref(p->clip);
				tmr_start(p->tq, &p->done_tmr, 0, on_done, p);
				return;
			}
			p->pos = 0;
		}
		size_t n = c->n - p->pos < PORT_FRAME - off ? c->n - p->pos : PORT_FRAME - off;
		memcpy((char *)dst + off * size, (const char *)src + p->pos * size, n * size);
		p->pos += n;
		off += n;
	}
}

/* The next frame, in the form the taker wants: a law straight from the
 * clip (no coding per frame), or its samples. */
static bool player_get(struct port *port, struct frame *f)
{
	struct player *p = container_of(port, struct player, port);
	struct media_clip *c = p->clip;
	if (!c)
		return false;
	if (f->want == 0 || f->want == 8) {
		take(p, f->g711, f->want == 8 ? c->alaw : c->ulaw, 1, f->want == 8 ? 0xd5 : 0xff);
		f->law = f->want;
	} else {
		take(p, f->pcm, c->pcm, sizeof(int16_t), 0);
		f->has_pcm = true;
	}
	return true;
}
