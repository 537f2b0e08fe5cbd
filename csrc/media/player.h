/* A player: a source port (port.h) giving the frames of one sound, once or
 * in a loop. A clip holds the sound as PCM and in G.711 of both laws,
 * shared by every call that plays it, so a player feeding a stream hands
 * over the bytes it sends, and one feeding a mixer the samples it adds. A
 * tone is a player of a rendered clip. The end is told through the SIP
 * timer queue rather than from inside the clock's tick, so the owner may
 * start, stop or free streams from its handler. */
#ifndef LUASIP_PLAYER_H
#define LUASIP_PLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/port.h"
#include "util/tmr.h"

struct sound;

/* A sound ready to play: 8 kHz, n samples, as PCM and in both laws. A
 * mem object; the player holds a reference while it plays. */
struct media_clip {
	const int16_t *pcm;
	const uint8_t *ulaw, *alaw;
	size_t n;
	struct sound *sound;        /* the decoded file it shows, or NULL */
	void *own;                  /* the samples and laws of a rendered tone, or NULL */
};

/* From 8 kHz PCM (copied and encoded); a mem object. */
struct media_clip *media_clip_from_pcm(const int16_t *pcm, size_t n);
/* Over a sound of the cache (sound.h), holding a reference to it. */
struct media_clip *media_clip_from_sound(struct sound *snd);

struct player {
	struct port port;           /* a source: get only */
	struct media_clip *clip;    /* a reference while playing, else NULL */
	size_t pos;
	bool loop;
	struct tmrq *tq;
	struct tmr done_tmr;
	void (*done_h)(void *arg);
	void *arg;
};

void player_init(struct player *p, struct tmrq *tq, void (*done_h)(void *arg), void *arg);
/* Plays clip from its start, replacing what played (which is not told). */
void player_start(struct player *p, struct media_clip *clip, bool loop);
/* Stops without telling; true when something played. */
bool player_stop(struct player *p);
bool player_playing(const struct player *p);

#endif
