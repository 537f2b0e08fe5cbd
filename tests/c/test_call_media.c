/* A call's media object (csrc/media/call_media.c) on the media clock run
 * by hand: what the far end sends reaches the recorder and, for a peer
 * without telephone-events, the in-band DTMF detector, both as sinks of
 * the stream; what the clock's tick finds is told from the timer queue,
 * never from inside the tick; the close path takes the stream off the
 * clock and the socket and frees the memory with the last reference, even
 * when the owner closes from inside its own handler (run these under ASan
 * to see the use after free they would catch). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/call_media.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/tone.h"
#include "sip/sdp.h"
#include "util/mem.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct world {
	uv_loop_t uv;
	struct mclock clock;
	struct tmrq tq;
	uint64_t now;
	struct call_media *m;
	union sa far;               /* the far end (nothing listens: packets go nowhere) */
	char digits[32];
	unsigned ndigits;
	unsigned played, recorded;
	double rec_secs;
	int rec_err;
	bool close_on_digit;        /* the owner lets go from inside its handler */
	bool in_tick;
};

static void on_digit(void *arg, char d)
{
	struct world *w = arg;
	assert_false(w->in_tick);
	w->digits[w->ndigits++] = d;
	w->digits[w->ndigits] = 0;
	if (w->close_on_digit && w->m) {
		struct call_media *m = w->m;
		w->m = NULL;
		call_media_close(m, false, false);
	}
}

static void on_played(void *arg)
{
	struct world *w = arg;
	assert_false(w->in_tick);
	w->played++;
}

static void on_recorded(void *arg, double secs, int err, const char *msg)
{
	struct world *w = arg;
	assert_false(w->in_tick);
	w->recorded++;
	w->rec_secs = secs;
	w->rec_err = err;
}

static const struct call_media_handlers handlers = { on_digit, on_played, on_recorded };

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	assert_int_equal(mclock_init(&w->clock, &w->uv), 0);
	tmrq_init(&w->tq, 0);
	union sa ip;
	struct rtp_sock *sock;
	sa_set(&ip, "127.0.0.1", 0);
	assert_int_equal(rtp_sock_alloc(&sock, NULL, &w->uv, &ip, 30000, 40000), 0);
	assert_int_equal(call_media_alloc(&w->m, &w->clock, &w->tq, sock, &handlers, w), 0);
	sa_set(&w->far, "127.0.0.1", 9);  /* discard: nothing answers */
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	if (w->m)
		call_media_close(w->m, false, false);
	tmrq_close(&w->tq);
	mclock_close(&w->clock, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

/* The agreed stream: PCMU to the far end, with or without telephone-events. */
static void agree(struct world *w, int te_pt)
{
	struct sdp_result r = { .remote = w->far, .dir = SDP_SENDRECV, .pt = 0, .rtp_pt = 0,
				.te_pt = te_pt, .ptime = 20 };
	call_media_set(w->m, &r, (struct media_flow){ true, true, true });
}

/* n packets of µ-law audio from the far end, each handed to the socket's
 * handler and followed by a tick, then the timer queue's turn. */
static void far_sends(struct world *w, const uint8_t *ulaw, size_t n, uint16_t seq0)
{
	for (size_t i = 0; i < n && w->m; i++) {
		uint8_t pkt[RTP_HEADER_SIZE + RTP_FRAME];
		uint16_t seq = (uint16_t)(seq0 + i);
		struct rtp_hdr h = { .pt = 0, .seq = seq, .ts = 160u * seq, .ssrc = 7 };
		size_t len = rtp_encode(pkt, sizeof(pkt), &h, ulaw + i * RTP_FRAME, RTP_FRAME);
		struct rtp_sock *sock = w->m->sock;
		sock->recvh(sock->arg, pkt, len, &w->far);
		w->in_tick = true;
		mclock_tick(&w->clock);
		w->in_tick = false;
	}
}

static void timers(struct world *w)
{
	tmrq_run(&w->tq, ++w->now);
}

/* frames of a DTMF digit's two tones (µ-law) */
static uint8_t *dtmf_frames(uint16_t lo, uint16_t hi, size_t frames)
{
	struct tone_spec t = { .freqs = { lo, hi }, .nfreqs = 2, .level_dbm0 = -10 };
	int16_t *cycle;
	size_t n;
	assert_int_equal(tone_render(&t, &cycle, &n), 0);
	int16_t *pcm = malloc(frames * RTP_FRAME * sizeof(*pcm));
	for (size_t i = 0; i < frames * RTP_FRAME; i++)
		pcm[i] = cycle[i % n];
	uint8_t *u = malloc(frames * RTP_FRAME);
	g711_encode(0, pcm, u, frames * RTP_FRAME);
	free(pcm);
	free(cycle);
	return u;
}

/* A peer without telephone-events presses 5 (770 + 1336 Hz): the
 * detector, a sink of the stream, hears it in the tick, and the owner is
 * told from the timer queue, once. */
static void test_inband_digit_told_after_tick(void **state)
{
	struct world *w = *state;
	agree(w, -1);
	uint8_t *u = dtmf_frames(770, 1336, 15);
	far_sends(w, u, 15, 1);
	assert_int_equal(w->ndigits, 0);  /* heard, not yet told */
	assert_non_null(w->m->det);
	timers(w);
	assert_string_equal(w->digits, "5");
	free(u);
}

/* A peer with telephone-events gets no detector: its tones are not
 * digits. */
static void test_no_detector_with_events(void **state)
{
	struct world *w = *state;
	agree(w, 101);
	uint8_t *u = dtmf_frames(770, 1336, 15);
	far_sends(w, u, 15, 1);
	timers(w);
	assert_null(w->m->det);
	assert_int_equal(w->ndigits, 0);
	free(u);
}

/* The recorder as the stream's sink: what the far end sent reaches the
 * file until max; the end is told from the timer queue with the seconds,
 * and the frames after it are not written. */
static void test_recorder_sink_until_max(void **state)
{
	struct world *w = *state;
	char path[] = "/tmp/test_call_media_XXXXXX.wav";
	int fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	agree(w, 101);
	assert_int_equal(call_media_record(w->m, path, 0.1, 0, false, err, sizeof(err)), 0);
	assert_int_equal(call_media_record(w->m, path, 0.1, 0, false, err, sizeof(err)), -EBUSY);
	uint8_t u[12 * RTP_FRAME];
	memset(u, 0x20, sizeof(u));
	far_sends(w, u, 12, 1);
	assert_int_equal(w->recorded, 0);
	assert_true(call_media_recording(w->m));
	timers(w);
	assert_int_equal(w->recorded, 1);
	assert_int_equal(w->rec_err, 0);
	assert_true(w->rec_secs > 0.099 && w->rec_secs < 0.101);
	assert_false(call_media_recording(w->m));
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	assert_non_null(f);
	assert_int_equal(info.frames, 800);
	int16_t pcm[800];
	assert_int_equal(sf_read_short(f, pcm, 800), 800);
	sf_close(f);
	/* the frames that came out of the jitter buffer: the far end's audio */
	assert_int_equal(pcm[799], g711_ulaw_decode(0x20));
	unlink(path);
}

/* The owner closes the media from its digit handler with more digits
 * waiting: nothing more is told and nothing touches the freed memory. */
static void test_close_from_handler(void **state)
{
	struct world *w = *state;
	agree(w, 101);
	w->close_on_digit = true;
	/* three telephone-events, queued from the socket's handler */
	for (uint16_t i = 0; i < 3; i++) {
		uint8_t pkt[RTP_HEADER_SIZE + 4], te[4] = { (uint8_t)(1 + i), 0x0a, 0, 160 };
		struct rtp_hdr h = { .pt = 101, .seq = i, .ts = 1000u * i, .ssrc = 7, .marker = true };
		size_t len = rtp_encode(pkt, sizeof(pkt), &h, te, sizeof(te));
		w->m->sock->recvh(w->m->sock->arg, pkt, len, &w->far);
	}
	assert_int_equal(w->ndigits, 0);
	timers(w);
	assert_string_equal(w->digits, "1");
	assert_null(w->m);
	assert_int_equal(w->clock.nclients, 0);
	timers(w);
	assert_string_equal(w->digits, "1");
}

/* A second holder (a bridge, later) keeps the memory past the owner's
 * close; the closed media is off the clock and plays nothing, and goes
 * with that last reference. */
static void test_close_keeps_memory_for_other_holders(void **state)
{
	struct world *w = *state;
	agree(w, 101);
	int16_t tone[800] = { 0 };
	struct media_clip *clip = media_clip_from_pcm(tone, 800);
	call_media_play(w->m, clip, false);
	mclock_tick(&w->clock);
	assert_true(w->clock.nclients > 0);
	struct call_media *held = mem_ref(w->m);
	call_media_close(w->m, false, false);
	w->m = NULL;
	assert_int_equal(mem_refs(held), 1);
	assert_true(held->closed);
	assert_int_equal(w->clock.nclients, 0);
	assert_null(held->player.clip);
	mclock_tick(&w->clock);
	timers(w);
	assert_int_equal(w->played, 0);
	mem_deref(held);
	mem_deref(clip);
}

/* The call ends while it records: the close tells the recording's seconds
 * (the Lua task hears them with the hangup); a close that does not tell
 * (the Lua object collected) closes the file all the same. */
static void test_close_while_recording(void **state)
{
	struct world *w = *state;
	char path[] = "/tmp/test_call_media_XXXXXX.wav";
	int fd = mkstemps(path, 4);
	close(fd);
	char err[256];
	agree(w, 101);
	assert_int_equal(call_media_record(w->m, path, 0, 0, false, err, sizeof(err)), 0);
	uint8_t u[5 * RTP_FRAME];
	memset(u, 0x20, sizeof(u));
	far_sends(w, u, 5, 1);
	call_media_close(w->m, false, true);
	w->m = NULL;
	assert_int_equal(w->recorded, 1);
	assert_true(w->rec_secs > 0.05);
	unlink(path);
}

/* The end of a play is told from the timer queue. */
static void test_played_told_from_timers(void **state)
{
	struct world *w = *state;
	agree(w, 101);
	int16_t pcm[320] = { 0 };
	struct media_clip *clip = media_clip_from_pcm(pcm, 320);
	call_media_play(w->m, clip, false);
	mem_deref(clip);  /* the player holds its own */
	for (int i = 0; i < 4; i++) {
		w->in_tick = true;
		mclock_tick(&w->clock);
		w->in_tick = false;
	}
	assert_int_equal(w->played, 0);
	timers(w);
	assert_int_equal(w->played, 1);
	assert_false(call_media_stop_play(w->m));
	assert_int_equal(call_media_dtmf(w->m, "1"), 0);
	struct sdp_result r = { .remote = w->far, .pt = 0, .rtp_pt = 0, .te_pt = 101 };
	call_media_set(w->m, &r, (struct media_flow){ true, false, true });
	assert_int_equal(call_media_dtmf(w->m, "1"), -ENOTCONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inband_digit_told_after_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_detector_with_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_sink_until_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_from_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_keeps_memory_for_other_holders, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_while_recording, setup, teardown),
		cmocka_unit_test_setup_teardown(test_played_told_from_timers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
