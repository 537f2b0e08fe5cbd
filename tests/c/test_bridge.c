/* The bridge (csrc/media/bridge.c) between the media of two calls, each
 * with a real socket pair on loopback, and a far end for each leg: a
 * plain UDP socket that sends what that leg's party says and reads what
 * it hears. The media clock runs on virtual time, one tick at a time
 * (mclock_tick), so a packet that arrives without a tick was relayed in
 * the socket callback, and one that needs a tick was mixed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/bridge.h"
#include "media/call_media.h"
#include "media/dtmf.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/tone.h"
#include "sip/sdp.h"
#include "util/mem.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct far {
	int fd;
	union sa addr;
	uint16_t seq;
	uint32_t ts;
};

struct world {
	uv_loop_t uv;
	struct mclock clock;
	struct tmrq tq;
	uint64_t now;
	struct call_media *leg[2];
	struct far far[2];
	struct media_bridge *b;
};

static const struct call_media_handlers no_handlers = { 0 };

static uint64_t vnow;

static uint64_t virtual_now(void)
{
	return vnow;
}

static void open_far(struct far *f)
{
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->fd >= 0);
	sa_set(&f->addr, "127.0.0.1", 0);
	assert_int_equal(bind(f->fd, &f->addr.sa, sizeof(f->addr.in)), 0);
	socklen_t len = sizeof(f->addr.in);
	assert_int_equal(getsockname(f->fd, &f->addr.sa, &len), 0);
	f->seq = 1000;
	f->ts = 50000;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	assert_int_equal(mclock_init(&w->clock, &w->uv), 0);
	/* an hour ahead: the clock's own timer never fires, ticks are ours */
	vnow = uv_hrtime() + 3600 * 1000000000ull;
	w->clock.now = virtual_now;
	tmrq_init(&w->tq, 0);
	for (int i = 0; i < 2; i++) {
		union sa ip;
		struct rtp_sock *sock;
		sa_set(&ip, "127.0.0.1", 0);
		assert_int_equal(rtp_sock_alloc(&sock, NULL, &w->uv, &ip, 30000, 40000), 0);
		assert_int_equal(call_media_alloc(&w->leg[i], &w->clock, &w->tq, sock, &no_handlers,
						  w),
				 0);
		open_far(&w->far[i]);
	}
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	for (int i = 0; i < 2; i++) {
		if (w->leg[i])
			call_media_close(w->leg[i], false, false);
		close(w->far[i].fd);
	}
	tmrq_close(&w->tq);
	mclock_close(&w->clock, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

/* Leg i's agreed stream: to its far end in law pt, telephone-events te
 * (-1 none); held: the far end holds us (it sends sendonly). */
static void agree(struct world *w, int i, int pt, int te, bool held)
{
	struct sdp_result r = { .remote = w->far[i].addr, .dir = held ? SDP_RECVONLY : SDP_SENDRECV,
				.pt = pt, .rtp_pt = pt, .te_pt = te, .ptime = 20,
				.hold_by_peer = held };
	call_media_set(w->leg[i], &r, (struct media_flow){ true, !held, true });
}

static void nothing(uv_timer_t *t)
{
}

/* One pass of the loop that reads what loopback has queued (a datagram
 * is there when its sendto returns). */
static void read_arrivals(struct world *w)
{
	uv_timer_t hold;
	uv_timer_init(&w->uv, &hold);
	uv_timer_start(&hold, nothing, 3600 * 1000, 0);
	uv_run(&w->uv, UV_RUN_NOWAIT);
	uv_close((uv_handle_t *)&hold, NULL);
	uv_run(&w->uv, UV_RUN_NOWAIT);
}

static void tick(struct world *w)
{
	vnow += 20 * 1000000ull;
	mclock_tick(&w->clock);
	read_arrivals(w);
	tmrq_run(&w->tq, ++w->now);
}

/* Far end i says one packet (payload of len octets, payload type pt). */
static void say(struct world *w, int i, int pt, bool marker, const uint8_t *payload, size_t len)
{
	struct far *f = &w->far[i];
	struct rtp_hdr h = { .marker = marker, .pt = (uint8_t)pt, .seq = f->seq++, .ts = f->ts,
			     .ssrc = 0xfa0 + (uint32_t)i };
	f->ts += 160;
	uint8_t pkt[RTP_HEADER_SIZE + 512];
	size_t n = rtp_encode(pkt, sizeof(pkt), &h, payload, len);
	const union sa *to = &w->leg[i]->sock->addr;
	assert_int_equal(sendto(f->fd, pkt, n, 0, &to->sa, sizeof(to->in)), (ssize_t)n);
	read_arrivals(w);
}

/* What far end i heard: the next packet, or false. */
static bool heard(struct world *w, int i, struct rtp_hdr *h, uint8_t *payload, size_t *len)
{
	uint8_t pkt[2048];
	ssize_t n = recv(w->far[i].fd, pkt, sizeof(pkt), MSG_DONTWAIT);
	if (n <= 0)
		return false;
	const uint8_t *p;
	size_t plen;
	assert_int_equal(rtp_decode(pkt, (size_t)n, h, &p, &plen), 0);
	memcpy(payload, p, plen);
	*len = plen;
	return true;
}

static unsigned drain(struct world *w, int i)
{
	struct rtp_hdr h;
	uint8_t p[2048];
	size_t len;
	unsigned n = 0;
	while (heard(w, i, &h, p, &len))
		n++;
	return n;
}

static void join(struct world *w, struct media_clip *music)
{
	assert_int_equal(media_bridge_join(&w->b, w->leg[0], w->leg[1], music), 0);
}

/* The power of f Hz in n samples (Goertzel), relative to the signal's. */
static double share_of(const int16_t *pcm, size_t n, double f)
{
	double k = 2 * cos(2 * M_PI * f / 8000), s1 = 0, s2 = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		double s = pcm[i] + k * s1 - s2;
		s2 = s1;
		s1 = s;
		total += (double)pcm[i] * pcm[i];
	}
	double power = s1 * s1 + s2 * s2 - k * s1 * s2;
	return total > 0 ? power / (total * n / 2) : 0;
}

static struct media_clip *tone_clip(uint16_t hz)
{
	struct tone_spec t = { .freqs = { hz }, .nfreqs = 1, .level_dbm0 = -13 };
	int16_t *pcm;
	size_t n;
	assert_int_equal(tone_render(&t, &pcm, &n), 0);
	struct media_clip *c = media_clip_from_pcm(pcm, n);
	free(pcm);
	return c;
}

/* Same codec: each packet goes out on the other leg as it arrives (no
 * tick runs in between), in that leg's SSRC and in sequence, the payload
 * untouched, the timestamps 160 apart, the marker kept; a packet lost on
 * the way in is a gap on the way out. Both ways. */
static void test_relays_same_codec_as_it_arrives(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, 101, false);
	join(w, NULL);
	drain(w, 0);
	drain(w, 1);
	uint8_t voice[160];
	struct rtp_hdr h, prev = { 0 };
	uint8_t got[2048];
	size_t len;
	for (int k = 0; k < 5; k++) {
		for (int j = 0; j < 160; j++)
			voice[j] = (uint8_t)(k * 31 + j);
		if (k == 3)
			w->far[0].seq++;  /* lost on the way in */
		say(w, 0, 0, k == 0, voice, sizeof(voice));
		assert_true(heard(w, 1, &h, got, &len));
		assert_int_equal(len, 160);
		assert_memory_equal(got, voice, 160);
		assert_int_equal(h.ssrc, w->leg[1]->stream.ssrc);
		assert_int_equal(h.pt, 0);
		assert_int_equal(h.marker, k == 0);
		if (k > 0) {
			assert_int_equal((uint16_t)(h.seq - prev.seq), k == 3 ? 2 : 1);
			assert_int_equal(h.ts - prev.ts, 160);
		}
		prev = h;
		assert_false(heard(w, 1, &h, got, &len));  /* once */
	}
	/* the other way, into leg 0's own space */
	say(w, 1, 0, false, voice, sizeof(voice));
	assert_true(heard(w, 0, &h, got, &len));
	assert_int_equal(h.ssrc, w->leg[0]->stream.ssrc);
	assert_memory_equal(got, voice, 160);
	/* the ticks send nothing of their own over a relayed direction */
	for (int k = 0; k < 10; k++)
		tick(w);
	assert_int_equal(drain(w, 0), 0);
	assert_int_equal(drain(w, 1), 0);
}

/* PCMU on one leg, PCMA on the other: transcoded packet by packet, still
 * without waiting for a tick. */
static void test_transcodes_pcmu_to_pcma(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 8, 101, false);
	join(w, NULL);
	drain(w, 1);
	struct media_clip *c = tone_clip(1000);
	say(w, 0, 0, true, c->ulaw, 160);
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	assert_true(heard(w, 1, &h, got, &len));
	assert_int_equal(h.pt, 8);
	assert_int_equal(len, 160);
	int16_t in[160], out[160];
	g711_decode(0, c->ulaw, in, 160);
	g711_decode(8, got, out, 160);
	for (int j = 0; j < 160; j++)
		assert_true(abs(in[j] - out[j]) <= abs(in[j]) / 16 + 16);
	mem_deref(c);
}

/* A telephone-event goes out with the other leg's payload type, whole. */
static void test_event_takes_other_payload_type(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, 96, false);
	join(w, NULL);
	drain(w, 1);
	struct te_payload te = { .event = 5, .volume = 10, .duration = 160 };
	uint8_t p[4];
	te_encode(&te, p);
	say(w, 0, 101, true, p, 4);
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	assert_true(heard(w, 1, &h, got, &len));
	assert_int_equal(h.pt, 96);
	assert_int_equal(len, 4);
	assert_memory_equal(got, p, 4);
}

/* A leg that takes no telephone-events hears the digit as its two tones
 * (770 + 1336 Hz for 5), made on the clock; then relaying resumes. */
static void test_event_to_leg_without_events_is_tones(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, -1, false);
	join(w, NULL);
	drain(w, 1);
	struct te_payload te = { .event = 5, .volume = 10, .duration = 160 };
	uint8_t p[4];
	te_encode(&te, p);
	for (int k = 0; k < 3; k++) {  /* one event: its updates share a timestamp */
		say(w, 0, 101, k == 0, p, 4);
		w->far[0].ts -= 160;
	}
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	assert_false(heard(w, 1, &h, got, &len));  /* not relayed */
	int16_t pcm[160 * 5];
	size_t n = 0;
	for (int k = 0; k < 5; k++) {
		tick(w);
		assert_true(heard(w, 1, &h, got, &len));
		g711_decode(0, got, pcm + n, len);
		n += len;
	}
	assert_true(share_of(pcm, n, 770) > 0.3);
	assert_true(share_of(pcm, n, 1336) > 0.3);
	/* the tone played out (100 ms and its pause), back to relaying */
	for (int k = 0; k < 10; k++)
		tick(w);
	drain(w, 1);
	uint8_t voice[160];
	memset(voice, 0x42, sizeof(voice));
	say(w, 0, 0, false, voice, sizeof(voice));
	assert_true(heard(w, 1, &h, got, &len));
	assert_memory_equal(got, voice, 160);
}

/* A leg that holds us is not heard and gets nothing; its partner hears
 * the music, on the clock. When it resumes, the relay is back. */
static void test_hold_gives_partner_music(void **state)
{
	struct world *w = *state;
	struct media_clip *music = tone_clip(1000);
	agree(w, 0, 0, 101, true);
	agree(w, 1, 0, 101, false);
	join(w, music);
	drain(w, 0);
	drain(w, 1);
	uint8_t voice[160];
	memset(voice, 0x42, sizeof(voice));
	say(w, 0, 0, true, voice, sizeof(voice));
	say(w, 1, 0, true, voice, sizeof(voice));
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	assert_false(heard(w, 1, &h, got, &len));
	assert_false(heard(w, 0, &h, got, &len));
	int16_t pcm[160 * 10];
	for (int k = 0; k < 10; k++) {
		tick(w);
		assert_true(heard(w, 1, &h, got, &len));
		g711_decode(0, got, pcm + k * 160, 160);
	}
	assert_true(share_of(pcm, 1600, 1000) > 0.8);
	assert_int_equal(drain(w, 0), 0);
	/* resumed: relayed again, no music */
	agree(w, 0, 0, 101, false);
	say(w, 0, 0, false, voice, sizeof(voice));
	assert_true(heard(w, 1, &h, got, &len));
	assert_memory_equal(got, voice, 160);
	tick(w);
	assert_int_equal(drain(w, 1), 0);
	mem_deref(music);
}

/* What plays into a bridged leg is heard over what the bridge brings:
 * that direction is mixed on the clock while it plays. */
static void test_play_mixes_over_relay(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, 101, false);
	join(w, NULL);
	drain(w, 1);
	struct media_clip *tone = tone_clip(1000), *voice = tone_clip(400);
	call_media_play(w->leg[1], tone, true);
	int16_t pcm[160 * 10];
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	for (int k = 0; k < 10; k++) {
		say(w, 0, 0, false, voice->ulaw + k * 160, 160);
		assert_false(heard(w, 1, &h, got, &len));  /* not relayed */
		tick(w);
		assert_true(heard(w, 1, &h, got, &len));
		g711_decode(0, got, pcm + k * 160, 160);
	}
	/* the jitter buffer holds the first frames back: the later ones mix */
	assert_true(share_of(pcm + 800, 800, 1000) > 0.2);
	assert_true(share_of(pcm + 800, 800, 400) > 0.2);
	call_media_stop_play(w->leg[1]);
	drain(w, 1);
	say(w, 0, 0, false, voice->ulaw, 160);
	assert_true(heard(w, 1, &h, got, &len));
	assert_memory_equal(got, voice->ulaw, 160);
	mem_deref(tone);
	mem_deref(voice);
}

/* Parting leaves both calls as they were: nothing relayed, each leg's
 * player its own again. */
static void test_part_stops_relay(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, 101, false);
	join(w, NULL);
	assert_int_equal(media_bridge_join(&w->b, w->leg[0], w->leg[1], NULL), -EBUSY);
	media_bridge_part(w->b);
	assert_null(w->leg[0]->bridge);
	assert_null(w->leg[1]->bridge);
	drain(w, 1);
	uint8_t voice[160];
	memset(voice, 0x42, sizeof(voice));
	say(w, 0, 0, false, voice, sizeof(voice));
	assert_int_equal(drain(w, 1), 0);
	struct media_clip *tone = tone_clip(1000);
	call_media_play(w->leg[1], tone, true);
	tick(w);
	struct rtp_hdr h;
	uint8_t got[2048];
	size_t len;
	assert_true(heard(w, 1, &h, got, &len));
	assert_memory_equal(got, tone->ulaw, 160);
	mem_deref(tone);
}

/* A leg whose call ends parts the bridge; the other goes on alone. */
static void test_close_of_one_leg_parts(void **state)
{
	struct world *w = *state;
	agree(w, 0, 0, 101, false);
	agree(w, 1, 0, 101, false);
	join(w, NULL);
	call_media_close(w->leg[0], false, false);
	w->leg[0] = NULL;
	assert_null(w->leg[1]->bridge);
	assert_null(w->leg[1]->feed);
	assert_false(w->leg[1]->stream.relayed);
	tick(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relays_same_codec_as_it_arrives, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transcodes_pcmu_to_pcma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_takes_other_payload_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_to_leg_without_events_is_tones, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_gives_partner_music, setup, teardown),
		cmocka_unit_test_setup_teardown(test_play_mixes_over_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_part_stops_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_of_one_leg_parts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
