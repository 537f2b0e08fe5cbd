/* The player and the sounds it plays. */
#include "media/player.h"
#include "media/g711.h"
#include "media/sound.h"
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
	c->own = malloc(2 * (n ? n : 1));
	if (!c->own)
		return mem_deref(c);
	g711_encode(0, pcm, c->own, n);
	g711_encode(8, pcm, c->own + n, n);
	c->ulaw = c->own;
	c->alaw = c->own + n;
	c->n = n;
	return c;
}

struct media_clip *media_clip_from_sound(struct sound *snd)
{
	struct media_clip *c = mem_alloc(sizeof(*c), clip_destroy);
	if (!c)
		return NULL;
	c->sound = mem_ref(snd);
	c->ulaw = snd->ulaw;
	c->alaw = snd->alaw;
	c->n = snd->n;
	return c;
}

void player_init(struct player *p, struct tmrq *tq, void (*done_h)(void *arg), void *arg)
{
	memset(p, 0, sizeof(*p));
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

bool player_fill(struct player *p, uint8_t *frame, size_t len, int pt)
{
	struct media_clip *c = p->clip;
	if (!c)
		return false;
	const uint8_t *src = pt == 8 ? c->alaw : c->ulaw;
	size_t off = 0;
	while (off < len) {
		if (p->pos >= c->n) {
			if (!p->loop || c->n == 0) {
				/* the rest of the last frame is silence */
				memset(frame + off, pt == 8 ? 0xd5 : 0xff, len - off);
				p->clip = mem_deref(p->clip);
				tmr_start(p->tq, &p->done_tmr, 0, on_done, p);
				return true;
			}
			p->pos = 0;
		}
		size_t take = c->n - p->pos < len - off ? c->n - p->pos : len - off;
		memcpy(frame + off, src + p->pos, take);
		p->pos += take;
		off += take;
	}
	return true;
}
