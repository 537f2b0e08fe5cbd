/* RTP streams on loopback with the real media clock: audio goes out every
 * 20 ms with timestamps exactly 160 apart and arrives in order, digits
 * sent as telephone-events are reported once each, packets from a source
 * other than the latched one are dropped (no RTP bleed), direction
 * attributes are obeyed, and the loss and jitter statistics are kept.
 *
 * The media clock runs on virtual time (mclock_advance) and the loop is run
 * after each tick until every packet sent has been read: what is counted
 * (packets a tick, frames heard, the jitter of packets that arrive exactly
 * a period apart) is exact, whatever the machine's speed. The sockets are
 * real, bound from a range on loopback, in a network namespace of the
 * test's own (netns.h). */
#define _GNU_SOURCE  /* unshare (netns.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/g711.h"
#include "media/rtp.h"
#include "media/stream.h"
#include "util/mem.h"
#include "netns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct end {
	struct rtp_stream s;
	struct rtp_sock *sock;
	unsigned frames_in;
	int16_t last_pcm[RTP_FRAME];
	char digits[32];
	unsigned ndigits;
	unsigned fills;
	unsigned out_of_order;      /* frames heard that were not the next one sent */
};

#define TICK_NS (MCLOCK_PTIME_MS * 1000000ull)

/* Frames of one µ-law code each (never silence: codes 0x01-0x7e decode to
 * loud negative samples), a different code per frame. */
static bool fill(void *arg, uint8_t *frame, int pt)
{
	struct end *e = arg;
	memset(frame, (int)(e->fills++ % 0x7e + 1), RTP_FRAME);
	return true;
}

/* Counts the frames that carry audio (the jitter buffer's delay and its
 * concealment give frames of silence too) and keeps the last one. */
static void audio(void *arg, const int16_t *pcm, size_t n)
{
	struct end *e = arg;
	bool heard = false;
	for (size_t i = 0; i < n; i++)
		heard |= pcm[i] != 0;
	if (!heard)
		return;
	/* the k-th frame heard is the k-th one fill made at the other end */
	if (pcm[0] != g711_ulaw_decode((uint8_t)(e->frames_in % 0x7e + 1)))
		e->out_of_order++;
	e->frames_in++;
	memcpy(e->last_pcm, pcm, sizeof(e->last_pcm));
}

static void digit(void *arg, char d)
{
	struct end *e = arg;
	if (e->ndigits < sizeof(e->digits) - 1)
		e->digits[e->ndigits++] = d;
}

static const struct rtp_stream_handlers handlers = { fill, audio, digit };

struct world {
	uv_loop_t uv;
	struct mclock clock;
	struct end a, b;
	uint64_t now;               /* the clock's virtual time */
	uint64_t injected;          /* packets the test sent to a or b itself */
};

static void open_end(struct world *w, struct end *e)
{
	union sa ip;
	memset(e, 0, sizeof(*e));
	sa_set(&ip, "127.0.0.1", 0);
	assert_int_equal(rtp_sock_alloc(&e->sock, NULL, &w->uv, &ip, 30000, 40000), 0);
	rtp_stream_init(&e->s, &w->clock, e->sock, &handlers, e);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	mclock_init(&w->clock, &w->uv);
	mclock_advance(&w->clock, 0);
	open_end(w, &w->a);
	open_end(w, &w->b);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	rtp_stream_close(&w->a.s);
	rtp_stream_close(&w->b.s);
	rtp_sock_close(w->a.sock);
	rtp_sock_close(w->b.sock);
	mclock_close(&w->clock, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

static uint64_t sent(const struct world *w)
{
	return w->a.s.st.tx_packets + w->b.s.st.tx_packets + w->injected;
}

static uint64_t received(const struct world *w)
{
	return w->a.s.st.rx_packets + w->a.s.st.rx_dropped + w->b.s.st.rx_packets +
	       w->b.s.st.rx_dropped;
}

static void on_hang(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until done(w); the sockets do not keep it alive, a timer
 * does, and stops a hung test after 10 s (it is not what is waited for). */
static void run_until(struct world *w, bool (*done)(const struct world *w))
{
	bool hung = false;
	uv_timer_t t;
	uv_timer_init(&w->uv, &t);
	t.data = &hung;
	uv_timer_start(&t, on_hang, 10000, 0);
	while (!done(w) && !hung)
		uv_run(&w->uv, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&w->uv, UV_RUN_NOWAIT);
	assert_false(hung);
}

static bool all_read(const struct world *w)
{
	return received(w) >= sent(w);
}

/* n ticks of the media clock, each followed by the reading of every packet
 * sent so far: packet k arrives before tick k + 1, as on an idle host. */
static void ticks(struct world *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w->now += TICK_NS;
		mclock_advance(&w->clock, w->now);
		run_until(w, all_read);
		assert_int_equal(received(w), sent(w));
	}
}

static void connect_ends(struct world *w, bool a_sends, bool b_sends)
{
	rtp_stream_set(&w->a.s, &w->b.sock->addr, 0, 0, 101, a_sends, true);
	rtp_stream_set(&w->b.s, &w->a.sock->addr, 0, 0, 101, b_sends, true);
}

/* Frames sent but not heard yet: a tick's packet is read after that tick
 * took its frame out of the jitter buffer, which then holds two (40 ms). */
#define HELD 3

static void test_audio_both_ways(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	uint32_t ts0 = w->a.s.ts;
	ticks(w, 15);
	struct rtp_stats st;
	rtp_stream_stats(&w->a.s, &st);
	/* one packet a tick, each read before the next tick: every frame sent
	 * is heard, in order, but those the jitter buffer still holds */
	assert_int_equal(st.tx_packets, 15);
	assert_int_equal(w->b.frames_in, 15 - HELD);
	assert_int_equal(w->a.frames_in, 15 - HELD);
	assert_int_equal(w->a.out_of_order + w->b.out_of_order, 0);
	/* the timestamp advanced by exactly 160 per tick sent */
	assert_int_equal((uint32_t)(w->a.s.ts - ts0), 160u * st.tx_packets);
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_packets, 15);
	assert_int_equal(st.rx_lost, 0);
	assert_int_equal(st.rx_dropped, 0);
	/* every packet came exactly one period of the clock after the last */
	assert_true(st.jitter_ms == 0.0);
	assert_true(w->b.s.latched);
	assert_true(sa_equal(&w->b.s.peer, &w->a.sock->addr));
}

static void test_directions(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, false);     /* a sendonly, b recvonly */
	ticks(w, 10);
	assert_int_equal(w->b.frames_in, 10 - HELD);
	assert_int_equal(w->a.frames_in, 0);
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.tx_packets, 0);
	rtp_stream_stats(&w->a.s, &st);
	assert_int_equal(st.tx_packets, 10);
	assert_int_equal(st.rx_packets, 0);
}

static void test_dtmf_events(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	assert_int_equal(rtp_stream_dtmf(&w->a.s, "12#"), 0);
	assert_int_equal(rtp_stream_dtmf(&w->a.s, "x"), -EINVAL);
	assert_true(rtp_stream_dtmf_busy(&w->a.s));
	/* 3 digits of 100 ms, 3 end packets and 60 ms gaps each: 33 ticks */
	unsigned n = 0;
	while (rtp_stream_dtmf_busy(&w->a.s) && n < 100) {
		ticks(w, 1);
		n++;
	}
	assert_false(rtp_stream_dtmf_busy(&w->a.s));
	assert_true(n >= 30 && n <= 36);
	w->b.digits[w->b.ndigits] = '\0';
	assert_string_equal(w->b.digits, "12#");
	/* a stream whose peer takes no events says so */
	rtp_stream_set(&w->b.s, &w->a.sock->addr, 0, 0, -1, true, true);
	assert_int_equal(rtp_stream_dtmf(&w->b.s, "1"), -ENOTSUP);
}

/* A third socket on the same host sends to b after a has latched it: its
 * packets are dropped, a's are heard. */
static void test_no_bleed(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	ticks(w, 5);
	unsigned before = w->b.frames_in;
	assert_true(before > 0);
	struct end intruder;
	open_end(w, &intruder);
	uint8_t pkt[RTP_HEADER_SIZE + RTP_FRAME], payload[RTP_FRAME];
	memset(payload, 0x80, sizeof(payload));  /* µ-law for +32124: unlike a's */
	struct rtp_hdr h = { .pt = 0, .seq = 1, .ts = 1, .ssrc = 99 };
	size_t n = rtp_encode(pkt, sizeof(pkt), &h, payload, sizeof(payload));
	for (int i = 0; i < 5; i++)
		assert_int_equal(rtp_sock_send(intruder.sock, &w->b.sock->addr, pkt, n), 0);
	w->injected += 5;
	ticks(w, 5);
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_dropped, 5);
	assert_int_equal(w->b.frames_in, before + 5);
	assert_int_equal(w->b.out_of_order, 0);  /* still a's (negative) audio */
	assert_true(w->b.last_pcm[0] < 0);
	rtp_sock_close(intruder.sock);
}

/* A peer whose timestamps wrap past 2^32 during the call: 20 ms packets
 * 160 apart keep the jitter at nothing across the wrap. */
static void test_jitter_across_timestamp_wrap(void **state)
{
	struct world *w = *state;
	struct end peer;
	open_end(w, &peer);
	rtp_stream_set(&w->b.s, &peer.sock->addr, 0, 0, 101, false, true);
	uint8_t pkt[RTP_HEADER_SIZE + RTP_FRAME], payload[RTP_FRAME];
	memset(payload, 0x20, sizeof(payload));
	for (uint32_t i = 0; i < 8; i++) {
		struct rtp_hdr h = { .pt = 0, .seq = (uint16_t)i, .ts = 0xfffffd80u + 160 * i,
				     .ssrc = 7 };
		size_t n = rtp_encode(pkt, sizeof(pkt), &h, payload, sizeof(payload));
		assert_int_equal(rtp_sock_send(peer.sock, &w->b.sock->addr, pkt, n), 0);
		w->injected++;
		ticks(w, 1);
	}
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_packets, 8);
	assert_true(st.jitter_ms == 0.0);
	rtp_sock_close(peer.sock);
}

static bool both_reported(const struct world *w)
{
	return w->a.s.st.have_remote && w->b.s.st.have_remote;
}

static bool both_timed(const struct world *w)
{
	return w->a.s.st.rtt_ms >= 0 && w->b.s.st.rtt_ms >= 0;
}

/* After the first reports (2.5 s in, then every 5 s) both sides know the
 * round trip from LSR/DLSR, and what the other saw of their packets. */
static void test_rtcp_round_trip(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	ticks(w, 126);  /* the first reports go on tick 125 (2.5 s), the 126th */
	/* the reports are not counted by ticks(): they are waited for */
	run_until(w, both_reported);
	struct rtp_stats a, b;
	rtp_stream_stats(&w->a.s, &a);
	rtp_stream_stats(&w->b.s, &b);
	/* the first reports carry no LSR yet: the round trip comes from the
	 * second ones; what the peer saw of us is known already */
	assert_true(a.rtt_ms < 0 && b.rtt_ms < 0);
	assert_int_equal(a.remote_lost, 0);
	ticks(w, 250);  /* the second ones on tick 375 (7.5 s) */
	run_until(w, both_timed);
	rtp_stream_stats(&w->a.s, &a);
	rtp_stream_stats(&w->b.s, &b);
	/* LSR, DLSR and the NTP time are the host's real time: the round trip
	 * is loopback's, a few loop passes, far below 50 ms on any load */
	assert_true(a.rtt_ms >= 0 && a.rtt_ms < 50);
	assert_true(b.rtt_ms >= 0 && b.rtt_ms < 50);
}

static const struct rtp_stream_handlers quiet = { NULL, audio, digit };

static bool pressed(void *arg)
{
	return *(bool *)arg;
}

/* With nothing to play a stream sends a second of silence, but none while
 * its clock is under pressure (the process behind on its signalling): the
 * second passes all the same, and the first packet after starts a
 * talkspurt with the marker bit. */
static void test_silence_left_out_under_pressure(void **state)
{
	struct world *w = *state;
	bool press = true;
	w->clock.pressure = pressed;
	w->clock.pressure_arg = &press;
	w->a.s.h = &quiet;
	connect_ends(w, true, false);
	ticks(w, 15);
	struct rtp_stats st;
	rtp_stream_stats(&w->a.s, &st);
	assert_int_equal(st.tx_packets, 0);
	assert_true(w->a.s.marker);
	press = false;
	ticks(w, 15);
	rtp_stream_stats(&w->a.s, &st);
	assert_int_equal(st.tx_packets, 15);
	assert_false(w->a.s.marker);
	ticks(w, 50);
	rtp_stream_stats(&w->a.s, &st);
	/* 50 ticks of silence less the 15 that passed under pressure */
	assert_int_equal(st.tx_packets, 35);
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_packets, 35);
}

/* Five frames of sound, then nothing. */
static bool fill_five(void *arg, uint8_t *frame, int pt)
{
	struct end *e = arg;
	if (e->fills >= 5)
		return false;
	return fill(arg, frame, pt);
}

static const struct rtp_stream_handlers five = { fill_five, audio, digit };

/* Under pressure the tail of silence after a sound still goes: it follows
 * audio (a far end's jitter buffer gives out the sound's end on it), and
 * only the first second is left out. */
static void test_tail_sent_under_pressure(void **state)
{
	struct world *w = *state;
	bool press = true;
	w->clock.pressure = pressed;
	w->clock.pressure_arg = &press;
	w->a.s.h = &five;
	connect_ends(w, true, false);
	ticks(w, 35);
	struct rtp_stats st;
	rtp_stream_stats(&w->a.s, &st);
	/* the five frames and the ten ticks of tail after them */
	assert_int_equal(st.tx_packets, 15);
}

int main(void)
{
	if (netns_enter() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audio_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dtmf_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_bleed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jitter_across_timestamp_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silence_left_out_under_pressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tail_sent_under_pressure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
