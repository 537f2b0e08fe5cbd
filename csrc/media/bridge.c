/* The bridge of bridge.h: relaying, mixing, and the choice between them. */
#include "media/bridge.h"
#include "media/call_media.h"
#include "media/dtmf.h"
#include "media/rtp.h"
#include "media/tone.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIGIT_MS 100                 /* an in-band digit's tones ... */
#define DIGIT_GAP_MS 60              /* ... and the pause after it */
#define DIGIT_LEVEL (-10.0)          /* dBm0 of each tone, as our telephone-events say */

static struct bridge_leg *other(struct bridge_leg *l)
{
	return l == &l->b->leg[0] ? &l->b->leg[1] : &l->b->leg[0];
}

/* ---- mixed mode: on the media clock ---- */

/* A leg's decoded frame, this tick (read phase), for the other's out. */
static void in_put(struct port *p, struct frame *f)
{
	struct bridge_leg *l = container_of(p, struct bridge_leg, in);
	memcpy(l->pcm, frame_pcm(f), sizeof(l->pcm));
	l->have = true;
}

/* What a leg's party hears in mixed mode (send phase): the music while
 * the other leg holds us, else the other leg's frame of this tick; and
 * over either, a digit played in-band. */
static bool out_get(struct port *p, struct frame *f)
{
	struct bridge_leg *l = container_of(p, struct bridge_leg, out), *o = other(l);
	bool got = false;
	if (o->m->peer_holds) {
		got = port_get(&l->music.port, f);
		o->have = false;
	} else if (o->have) {
		memcpy(f->pcm, o->pcm, sizeof(f->pcm));
		f->has_pcm = true;
		o->have = false;
		got = true;
	}
	if (player_playing(&l->tone)) {
		struct frame t;
		frame_init(&t, PORT_PCM);
		if (port_get(&l->tone.port, &t)) {
			if (got)
				frame_add(f, &t);
			else
				*f = t;
			got = true;
		}
	}
	return got;
}

/* ---- digits ---- */

/* A digit's two tones for DIGIT_MS, then DIGIT_GAP_MS of silence. */
static struct media_clip *digit_clip(char digit)
{
	static const uint16_t row[4] = { 697, 770, 852, 941 }, col[4] = { 1209, 1336, 1477, 1633 };
	static const char keys[] = "123A456B789C*0#D";
	const char *k = strchr(keys, digit);
	if (!digit || !k)
		return NULL;
	struct tone_spec t = { .freqs = { row[(k - keys) / 4], col[(k - keys) % 4] }, .nfreqs = 2,
			       .level_dbm0 = DIGIT_LEVEL };
	int16_t *pcm;
	size_t n, on = DIGIT_MS * 8, all = (DIGIT_MS + DIGIT_GAP_MS) * 8;
	if (tone_render(&t, &pcm, &n) != 0)
		return NULL;
	if (n < all) {
		free(pcm);
		return NULL;
	}
	memset(pcm + on, 0, (all - on) * sizeof(*pcm));
	struct media_clip *c = media_clip_from_pcm(pcm, all);
	free(pcm);
	return c;
}

/* The next digit waiting for a leg that takes no telephone-events. */
static void next_digit(struct bridge_leg *l)
{
	while (l->ndigits && !player_playing(&l->tone)) {
		char d = l->digits[0];
		memmove(l->digits, l->digits + 1, --l->ndigits);
		struct media_clip *c = digit_clip(d);
		if (c) {
			player_start(&l->tone, c, false);
			mem_deref(c);
		}
	}
}

static void on_tone_done(void *arg)
{
	struct bridge_leg *l = arg;
	next_digit(l);
	media_bridge_update(l->b);
}

/* A digit the other leg sent as telephone-events, for this leg: as our
 * own events where it takes them and we cannot relay (mixed mode), as
 * tones where it takes none. */
static void pass_digit(struct bridge_leg *l, char digit)
{
	struct rtp_stream *s = &l->m->stream;
	if (s->te_pt >= 0) {
		char d[2] = { digit, 0 };
		rtp_stream_dtmf(s, d);
		return;
	}
	if (l->ndigits < sizeof(l->digits))
		l->digits[l->ndigits++] = digit;
	if (!player_playing(&l->tone)) {
		next_digit(l);
		media_bridge_update(l->b);
	}
}

/* ---- relay mode: in the socket callback ---- */

/* Every packet leg `from` receives. Audio goes on when the other leg
 * relays; an event is relayed with the other leg's payload type when it
 * can be, else its digit is passed on once (at the event's first packet
 * we see: all of an event's packets have its start's timestamp). */
static void on_packet(void *arg, const struct rtp_hdr *h, const uint8_t *payload, size_t len,
		      bool event)
{
	struct bridge_leg *from = arg, *to = other(from);
	struct rtp_stream *in = &from->m->stream, *out = &to->m->stream;
	if (from->m->peer_holds)
		return;  /* a leg that holds us is not heard: its partner has music */
	if (!event) {
		if (!to->mixed)
			rtp_stream_relay(out, h, payload, len, in->pt, false);
		return;
	}
	if (!to->mixed && out->te_pt >= 0) {
		rtp_stream_relay(out, h, payload, len, in->pt, true);
		return;
	}
	struct te_payload te;
	if (te_decode(payload, len, &te) != 0 || (from->event_seen && h->ts == from->event_ts))
		return;
	from->event_seen = true;
	from->event_ts = h->ts;
	char digit = dtmf_digit(te.event);
	if (digit)
		pass_digit(to, digit);
}

/* ---- the choice of modes ---- */

/* What leg l hears is made on the clock when something is added to it:
 * a play or a recording of both directions on its call, a digit in-band,
 * or the other leg holding us (music or silence instead of its audio). */
static bool wants_mix(struct bridge_leg *l)
{
	struct call_media *m = l->m;
	return player_playing(&m->player) || m->both_rx || player_playing(&l->tone) ||
	       other(l)->m->peer_holds;
}

void media_bridge_update(struct media_bridge *b)
{
	if (b->parted)
		return;
	for (int i = 0; i < 2; i++) {
		struct bridge_leg *l = &b->leg[i], *o = other(l);
		bool mix = wants_mix(l);
		if (mix != l->mixed) {
			l->mixed = mix;
			l->have = o->have = false;  /* no frame of before goes out late */
		}
		call_media_feed(l->m, mix ? &l->out : NULL);
		rtp_stream_set_relayed(&l->m->stream, !mix);
		/* the music while the other leg holds us, from where it was */
		bool music = o->m->peer_holds && b->music;
		if (music && !player_playing(&l->music))
			player_start(&l->music, b->music, true);
		else if (!music)
			player_stop(&l->music);
	}
	for (int i = 0; i < 2; i++) {
		struct bridge_leg *l = &b->leg[i];
		struct call_media *m = l->m;
		/* a leg's audio is decoded only when someone takes it as
		 * frames: the other leg mixing it, this leg's recording, or
		 * the in-band detector of a peer without telephone-events */
		bool decode = (other(l)->mixed && !m->peer_holds) || m->rec || m->stream.te_pt < 0;
		rtp_stream_tap(&m->stream, on_packet, l, decode);
	}
}

static void destroy(void *arg)
{
	struct media_bridge *b = arg;
	mem_deref(b->music);
}

int media_bridge_join(struct media_bridge **bp, struct call_media *a, struct call_media *c,
		      struct media_clip *music)
{
	if (a == c)
		return -EINVAL;
	if (a->bridge || c->bridge)
		return -EBUSY;
	struct media_bridge *b = mem_alloc(sizeof(*b), destroy);
	if (!b)
		return -ENOMEM;
	b->music = mem_ref(music);
	struct call_media *legs[2] = { a, c };
	for (int i = 0; i < 2; i++) {
		struct bridge_leg *l = &b->leg[i];
		l->b = b;
		l->m = mem_ref(legs[i]);
		l->in.put = in_put;
		l->out.get = out_get;
		player_init(&l->music, legs[i]->tq, NULL, NULL);
		player_init(&l->tone, legs[i]->tq, on_tone_done, l);
		legs[i]->bridge = b;
		legs[i]->tap = &l->in;
	}
	media_bridge_update(b);
	*bp = b;
	return 0;
}

void media_bridge_part(struct media_bridge *b)
{
	if (b->parted)
		return;
	b->parted = true;
	for (int i = 0; i < 2; i++) {
		struct bridge_leg *l = &b->leg[i];
		struct call_media *m = l->m;
		player_stop(&l->music);
		player_stop(&l->tone);
		m->bridge = NULL;
		m->tap = NULL;
		call_media_feed(m, NULL);
		rtp_stream_tap(&m->stream, NULL, NULL, true);
		rtp_stream_set_relayed(&m->stream, false);
		l->m = NULL;
		mem_deref(m);
	}
	mem_deref(b);
}
