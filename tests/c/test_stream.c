/* RTP streams on loopback driven by the media clock: audio goes out every
 * tick with timestamps exactly 160 apart and arrives in order, digits
 * sent as telephone-events are reported once each, packets from a source
 * other than the latched one are dropped (no RTP bleed), direction
 * attributes are obeyed, and the loss and jitter statistics are kept.
 *
 * The clock runs on virtual time that the test moves a tick at a time
 * (struct mclock's now, its timer fd woken by the test), so what is
 * counted is exact whatever the machine's speed; the sockets are real and
 * what one tick sent has been read before the next one runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/rtp.h"
#include "media/stream.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#define TICK_NS (MCLOCK_PTIME_MS * 1000000ull)

struct end {
	struct rtp_stream s;
	struct rtp_sock *sock;
	struct port src, snk;       /* the stream's ports, over fill and audio */
	bool (*fill)(void *arg, uint8_t *frame, int pt);
	unsigned frames_in;
	int16_t last_pcm[RTP_FRAME];
	char digits[32];
	unsigned ndigits;
	unsigned fills;
};

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
	e->frames_in++;
	memcpy(e->last_pcm, pcm, sizeof(e->last_pcm));
}

static void digit(void *arg, char d)
{
	struct end *e = arg;
	if (e->ndigits < sizeof(e->digits) - 1)
		e->digits[e->ndigits++] = d;
}

static const struct rtp_stream_handlers handlers = { digit };

static bool src_get(struct port *p, struct frame *f)
{
	struct end *e = container_of(p, struct end, src);
	f->law = f->want;
	return e->fill && e->fill(e, f->g711, f->want);
}

static void snk_put(struct port *p, struct frame *f)
{
	audio(container_of(p, struct end, snk), frame_pcm(f), PORT_FRAME);
}

struct world {
	uv_loop_t uv;
	struct mclock clock;
	struct end a, b;
};

static void open_end(struct world *w, struct end *e)
{
	union sa ip;
	memset(e, 0, sizeof(*e));
	sa_set(&ip, "127.0.0.1", 0);
	assert_int_equal(rtp_sock_alloc(&e->sock, NULL, &w->uv, &ip, 30000, 40000), 0);
	rtp_stream_init(&e->s, &w->clock, e->sock, &handlers, e);
	e->fill = fill;
	e->src.get = src_get;
	e->snk.put = snk_put;
	rtp_stream_attach(&e->s, &e->src, &e->snk);
}

/* Virtual time: an hour ahead of the real clock, so that the timer fd the
 * clock arms at its deadlines never fires by itself. */
static uint64_t vnow;

static uint64_t virtual_now(void)
{
	return vnow;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	mclock_init(&w->clock, &w->uv);
	vnow = uv_hrtime() + 3600 * 1000000000ull;
	w->clock.now = virtual_now;
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

static void nothing(uv_timer_t *t)
{
}

/* Reads what has arrived: loopback has queued a datagram by the time its
 * sendto returns, so one pass of the loop that polls without waiting
 * reads everything sent before it (the sockets do not hold the loop by
 * themselves: a timer of ours does, for that pass). */
static void read_arrivals(struct world *w)
{
	uv_timer_t hold;
	uv_timer_init(&w->uv, &hold);
	uv_timer_start(&hold, nothing, 3600 * 1000, 0);
	uv_run(&w->uv, UV_RUN_NOWAIT);
	uv_close((uv_handle_t *)&hold, NULL);
	uv_run(&w->uv, UV_RUN_NOWAIT);
}

/* Runs n ticks of the clock, each at its deadline on virtual time, and
 * reads what each one sent before the next. With no stream on the clock,
 * virtual time moves on all the same. */
static void ticks(struct world *w, unsigned n)
{
	struct mclock *c = &w->clock;
	for (unsigned i = 0; i < n; i++) {
		if (!c->nclients) {
			vnow += TICK_NS;
			read_arrivals(w);
			continue;
		}
		vnow = c->start_ns + c->next * TICK_NS;
		/* the timer fd set to a deadline long past is readable at once */
		struct itimerspec past = { .it_value = { .tv_sec = 0, .tv_nsec = 1 } };
		assert_int_equal(timerfd_settime(c->fd, TFD_TIMER_ABSTIME, &past, NULL), 0);
		/* the clock does not hold the loop by itself: held while it ticks */
		uint64_t next = c->next;
		uv_ref((uv_handle_t *)&c->wake);
		for (int pass = 0; pass < 100 && c->next == next && c->nclients; pass++)
			uv_run(&w->uv, UV_RUN_ONCE);
		uv_unref((uv_handle_t *)&c->wake);
		assert_true(c->next > next || !c->nclients);
		read_arrivals(w);
	}
}

static void connect_ends(struct world *w, bool a_sends, bool b_sends)
{
	rtp_stream_set(&w->a.s, &w->b.sock->addr, 0, 0, 101, a_sends, true);
	rtp_stream_set(&w->b.s, &w->a.sock->addr, 0, 0, 101, b_sends, true);
}

static void test_audio_both_ways(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	uint32_t ts0 = w->a.s.ts;
	ticks(w, 15);
	/* a packet a tick; a frame is heard three ticks after the one that
	 * sent it (read after its tick, then the jitter buffer's two frames of
	 * delay): of the 15, 12 have been heard by the last tick */
	struct rtp_stats st;
	rtp_stream_stats(&w->a.s, &st);
	assert_int_equal(st.tx_packets, 15);
	assert_int_equal(w->b.frames_in, 12);
	assert_int_equal(w->a.frames_in, 12);
	/* the timestamp advanced by exactly 160 per tick sent */
	assert_int_equal((uint32_t)(w->a.s.ts - ts0), 160u * st.tx_packets);
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_packets, 15);
	assert_int_equal(st.rx_lost, 0);
	assert_int_equal(st.rx_dropped, 0);
	/* each packet arrived one tick after the one before, 160 later: on the
	 * clock's time, no jitter at all */
	assert_true(st.jitter_ms == 0.0);
	assert_true(w->b.s.latched);
	assert_true(sa_equal(&w->b.s.peer, &w->a.sock->addr));
}

static void test_directions(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, false);     /* a sendonly, b recvonly */
	ticks(w, 10);
	assert_int_equal(w->b.frames_in, 7);  /* 10 sent, each heard three ticks on */
	assert_int_equal(w->a.frames_in, 0);
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.tx_packets, 0);
}

static void test_dtmf_events(void **state)
{
	struct world *w = *state;
	connect_ends(w, true, true);
	assert_int_equal(rtp_stream_dtmf(&w->a.s, "12#"), 0);
	assert_int_equal(rtp_stream_dtmf(&w->a.s, "x"), -EINVAL);
	assert_true(rtp_stream_dtmf_busy(&w->a.s));
	/* 3 digits of 100 ms, 3 end packets and 60 ms gaps each: ~660 ms */
	ticks(w, 45);
	assert_false(rtp_stream_dtmf_busy(&w->a.s));
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
	ticks(w, 5);
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_dropped, 5);
	assert_true(w->b.last_pcm[0] < 0);  /* still a's (negative) audio */
	rtp_sock_close(intruder.sock);
}

/* A peer whose timestamps wrap past 2^32 during the call: 20 ms packets
 * 160 apart, a tick apart on the clock's time, show no jitter across the
 * wrap. */
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
		ticks(w, 1);
	}
	struct rtp_stats st;
	rtp_stream_stats(&w->b.s, &st);
	assert_int_equal(st.rx_packets, 8);
	assert_true(st.jitter_ms == 0.0);
	rtp_sock_close(peer.sock);
}

/* After the first reports (2.5 s in, then every 5 s) both sides know the
 * round trip from LSR/DLSR, and what the other saw of their packets. */
static void test_rtcp_round_trip(void **state)
{
	struct world *w = *state;
	uint64_t t0 = uv_hrtime();
	connect_ends(w, true, true);
	ticks(w, 145);
	struct rtp_stats a, b;
	rtp_stream_stats(&w->a.s, &a);
	rtp_stream_stats(&w->b.s, &b);
	/* the first reports carry no LSR yet: the round trip comes from the
	 * second ones; what the peer saw of us is known already */
	assert_true(a.have_remote && b.have_remote);
	assert_int_equal(a.remote_lost, 0);
	ticks(w, 260);
	rtp_stream_stats(&w->a.s, &a);
	rtp_stream_stats(&w->b.s, &b);
	/* the round trip is on the real clock (NTP time and the delay since
	 * the last report): small on loopback, and never longer than the real
	 * time this test took (a bound that holds however slow the machine) */
	double took_ms = (double)(uv_hrtime() - t0) / 1e6;
	assert_true(a.rtt_ms >= 0 && a.rtt_ms <= took_ms);
	assert_true(b.rtt_ms >= 0 && b.rtt_ms <= took_ms);
}

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
	w->a.fill = NULL;
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

/* Under pressure the tail of silence after a sound still goes: it follows
 * audio (a far end's jitter buffer gives out the sound's end on it), and
 * only the first second is left out. */
static void test_tail_sent_under_pressure(void **state)
{
	struct world *w = *state;
	bool press = true;
	w->clock.pressure = pressed;
	w->clock.pressure_arg = &press;
	w->a.fill = fill_five;
	connect_ends(w, true, false);
	ticks(w, 35);
	struct rtp_stats st;
	rtp_stream_stats(&w->a.s, &st);
	/* the five frames and the ten ticks of tail after them */
	assert_int_equal(st.tx_packets, 15);
}

int main(void)
{
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
