/* The port graph (csrc/media/port.h) on the media clock run by hand
 * (mclock_tick, no timer, no waiting): a tick runs its phases in order
 * whatever order the clients came in, so a frame one stream received
 * reaches another stream's packet in the same tick; a frame converts
 * between PCM and the two laws once; a player hands a stream of its
 * clip's law the clip's own bytes (no coding per frame), a mixer its PCM,
 * and tells its end from the timer queue. Streams send on real loopback
 * sockets to a plain UDP socket that stands for the far end; what the far
 * end sends is handed to the stream's socket handler directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/g711.h"
#include "media/mclock.h"
#include "media/player.h"
#include "media/port.h"
#include "media/rtp.h"
#include "media/stream.h"
#include "util/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct world {
	uv_loop_t uv;
	struct mclock clock;
	struct tmrq tq;
	int far;                    /* the far end's socket */
	union sa far_addr;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	assert_int_equal(mclock_init(&w->clock, &w->uv), 0);
	tmrq_init(&w->tq, 0);
	w->far = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(w->far >= 0);
	sa_set(&w->far_addr, "127.0.0.1", 0);
	assert_int_equal(bind(w->far, &w->far_addr.sa, sizeof(w->far_addr.in)), 0);
	socklen_t len = sizeof(w->far_addr.in);
	getsockname(w->far, &w->far_addr.sa, &len);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	close(w->far);
	tmrq_close(&w->tq);
	mclock_close(&w->clock, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

/* The next packet the far end got: its payload length (RTP_FRAME for
 * audio), or -1 when none is waiting. */
static int far_recv(struct world *w, struct rtp_hdr *h, uint8_t payload[RTP_FRAME])
{
	uint8_t buf[2048];
	ssize_t n = recv(w->far, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return -1;
	const uint8_t *p;
	size_t plen;
	assert_int_equal(rtp_decode(buf, (size_t)n, h, &p, &plen), 0);
	memcpy(payload, p, plen < RTP_FRAME ? plen : RTP_FRAME);
	return (int)plen;
}

/* A packet from the far end, as the stream's socket would hand it over. */
static void far_send(struct world *w, struct rtp_sock *sock, uint16_t seq, uint8_t code)
{
	uint8_t pkt[RTP_HEADER_SIZE + RTP_FRAME], payload[RTP_FRAME];
	memset(payload, code, sizeof(payload));
	struct rtp_hdr h = { .pt = 0, .seq = seq, .ts = 1000u + 160u * seq, .ssrc = 42 };
	size_t n = rtp_encode(pkt, sizeof(pkt), &h, payload, sizeof(payload));
	assert_non_null(sock->recvh);
	sock->recvh(sock->arg, pkt, n, &w->far_addr);
}

static struct rtp_sock *open_sock(struct world *w)
{
	union sa ip;
	struct rtp_sock *sock;
	sa_set(&ip, "127.0.0.1", 0);
	assert_int_equal(rtp_sock_alloc(&sock, NULL, &w->uv, &ip, 30000, 40000), 0);
	return sock;
}

static const struct rtp_stream_handlers no_digits = { NULL };

/* ---- phases ---- */

struct probe {
	struct mclock_client cl;
	char name;
};

static char trace[64];
static unsigned ntrace;

static void probe_tick(struct mclock_client *cl, uint64_t tick)
{
	trace[ntrace++] = container_of(cl, struct probe, cl)->name;
}

static void probe_flush(struct mclock_client *cl)
{
	trace[ntrace++] = 'f';
}

/* Added send, mix, read, send, read: each tick runs the reads, the mix,
 * the sends, then the sends' flushes, each phase in the order its
 * clients came. */
static void test_phases_in_order(void **state)
{
	struct world *w = *state;
	struct probe p[5] = {
		{ { .tick = probe_tick, .flush = probe_flush, .phase = MCLOCK_SEND }, 'S' },
		{ { .tick = probe_tick, .phase = MCLOCK_MIX }, 'M' },
		{ { .tick = probe_tick, .phase = MCLOCK_READ }, 'R' },
		{ { .tick = probe_tick, .flush = probe_flush, .phase = MCLOCK_SEND }, 'T' },
		{ { .tick = probe_tick, .phase = MCLOCK_READ }, 'Q' },
	};
	for (int i = 0; i < 5; i++)
		mclock_add(&w->clock, &p[i].cl);
	ntrace = 0;
	mclock_tick(&w->clock);
	mclock_tick(&w->clock);
	trace[ntrace] = 0;
	assert_string_equal(trace, "RQMSTffRQMSTff");
	assert_int_equal(w->clock.nphase[MCLOCK_READ], 2);
	assert_int_equal(w->clock.nphase[MCLOCK_SEND], 2);
	for (int i = 0; i < 5; i++)
		mclock_remove(&w->clock, &p[i].cl);
	assert_int_equal(w->clock.nclients, 0);
}

/* A port between two streams, as a bridge's would be: what one stream's
 * read phase puts in, the other's send phase takes out, in the same tick
 * or not at all. */
struct pipe {
	struct port in, out;
	struct frame f;
	bool fresh;
	unsigned puts, gets;
};

static void pipe_put(struct port *p, struct frame *f)
{
	struct pipe *q = container_of(p, struct pipe, in);
	q->f = *f;
	q->fresh = true;
	q->puts++;
}

static bool pipe_get(struct port *p, struct frame *f)
{
	struct pipe *q = container_of(p, struct pipe, out);
	if (!q->fresh)
		return false;
	q->fresh = false;
	q->gets++;
	int want = f->want;
	*f = q->f;
	f->want = (int8_t)want;
	return true;
}

/* Stream a (PCMU) receives from the far end; what it received goes out on
 * stream b (PCMA) to the far end in the tick a took it from its jitter
 * buffer, transcoded. b was added to the clock first: without the read
 * phase it would send each frame a tick late (or, in its own tick, the
 * frame of the tick before). */
static void test_stream_to_stream_in_one_tick(void **state)
{
	struct world *w = *state;
	struct rtp_sock *sa = open_sock(w), *sb = open_sock(w);
	struct rtp_stream a, b;
	struct pipe q = { .in.put = pipe_put, .out.get = pipe_get };
	rtp_stream_init(&a, &w->clock, sa, &no_digits, NULL);
	rtp_stream_init(&b, &w->clock, sb, &no_digits, NULL);
	rtp_stream_attach(&b, &q.out, NULL);
	rtp_stream_attach(&a, NULL, &q.in);
	rtp_stream_set(&b, &w->far_addr, 8, 8, -1, true, false);
	rtp_stream_set(&a, &w->far_addr, 0, 0, -1, false, true);
	uint8_t code = 0x20;
	uint8_t want = g711_alaw_encode(g711_ulaw_decode(code));
	unsigned audio = 0;
	for (uint16_t i = 0; i < 20; i++) {
		far_send(w, sa, i, code);
		unsigned before = q.puts;
		mclock_tick(&w->clock);
		struct rtp_hdr h;
		uint8_t pl[RTP_FRAME];
		assert_int_equal(far_recv(w, &h, pl), RTP_FRAME);  /* b sends every tick */
		assert_int_equal(h.pt, 8);
		if (q.puts > before) {
			/* a's frame of this tick is in b's packet of this tick */
			assert_int_equal(q.gets, q.puts);
			if (q.f.pcm[0] == g711_ulaw_decode(code)) {
				assert_int_equal(pl[0], want);
				assert_int_equal(pl[RTP_FRAME - 1], want);
				audio++;
			}
		} else {
			assert_int_equal(pl[0], 0xd5);  /* b's silence: nothing came */
		}
		assert_int_equal(far_recv(w, &h, pl), -1);
	}
	/* the jitter buffer holds the first 40 ms back */
	assert_true(audio >= 15);
	rtp_stream_close(&a);
	rtp_stream_close(&b);
	rtp_sock_close(sa);
	rtp_sock_close(sb);
}

/* ---- frames ---- */

static void test_frame_converts_once(void **state)
{
	struct frame f;
	frame_init(&f, 0);
	for (int i = 0; i < PORT_FRAME; i++)
		f.pcm[i] = (int16_t)(i * 200 - 16000);
	f.has_pcm = true;
	uint8_t u[PORT_FRAME], a[PORT_FRAME];
	g711_encode(0, f.pcm, u, PORT_FRAME);
	g711_encode(8, f.pcm, a, PORT_FRAME);
	assert_memory_equal(frame_g711(&f, 0), u, PORT_FRAME);
	assert_int_equal(f.law, 0);
	/* the other law comes from the samples, not from the µ-law */
	assert_memory_equal(frame_g711(&f, 8), a, PORT_FRAME);

	/* a frame that came as A-law: PCM decoded on the first ask */
	frame_init(&f, PORT_PCM);
	memcpy(f.g711, a, PORT_FRAME);
	f.law = 8;
	int16_t pcm[PORT_FRAME];
	g711_decode(8, a, pcm, PORT_FRAME);
	assert_memory_equal(frame_pcm(&f), pcm, sizeof(pcm));
	assert_true(f.has_pcm);
	assert_memory_equal(frame_g711(&f, 8), a, PORT_FRAME);
	g711_encode(0, pcm, u, PORT_FRAME);
	assert_memory_equal(frame_g711(&f, 0), u, PORT_FRAME);
}

/* ---- the player ---- */

/* A clip whose three forms disagree on purpose: silent samples, µ-law
 * bytes 0x11 and A-law bytes 0x22. Whoever encodes the samples instead of
 * taking the clip's bytes sends silence (0xff or 0xd5). */
static int16_t odd_pcm[400];
static uint8_t odd_ulaw[400], odd_alaw[400];

static struct media_clip *odd_clip(size_t n)
{
	struct media_clip *c = mem_alloc(sizeof(*c), NULL);
	for (size_t i = 0; i < n; i++)
		odd_pcm[i] = (int16_t)(1000 + i);
	memset(odd_ulaw, 0x11, n);
	memset(odd_alaw, 0x22, n);
	c->pcm = odd_pcm;
	c->ulaw = odd_ulaw;
	c->alaw = odd_alaw;
	c->n = n;
	return c;
}

static unsigned played;

static void on_played(void *arg)
{
	played++;
}

/* Each form straight from the clip; after a clip played once, the rest of
 * its last frame is silence, the end is told from the timer queue (not
 * from the get), and then the player has nothing. */
static void test_player_gives_each_form(void **state)
{
	struct world *w = *state;
	struct player p;
	player_init(&p, &w->tq, on_played, NULL);
	struct media_clip *c = odd_clip(400);
	player_start(&p, c, false);
	struct frame f;
	frame_init(&f, 0);
	assert_true(port_get(&p.port, &f));
	assert_int_equal(f.law, 0);
	assert_false(f.has_pcm);
	assert_int_equal(f.g711[0], 0x11);
	frame_init(&f, 8);
	assert_true(port_get(&p.port, &f));
	assert_int_equal(f.law, 8);
	assert_int_equal(f.g711[PORT_FRAME - 1], 0x22);
	/* a mixer's take: samples 320-399, then silence */
	frame_init(&f, PORT_PCM);
	played = 0;
	assert_true(port_get(&p.port, &f));
	assert_true(f.has_pcm);
	assert_int_equal(f.law, -1);
	assert_int_equal(f.pcm[0], 1320);
	assert_int_equal(f.pcm[79], 1399);
	assert_int_equal(f.pcm[80], 0);
	assert_int_equal(played, 0);
	tmrq_run(&w->tq, 1);
	assert_int_equal(played, 1);
	frame_init(&f, 0);
	assert_false(port_get(&p.port, &f));
	mem_deref(c);
}

/* A source that has only samples (a mixer's output, later). */
static bool pcm_get(struct port *p, struct frame *f)
{
	for (int i = 0; i < PORT_FRAME; i++)
		f->pcm[i] = (int16_t)(i * 100);
	f->has_pcm = true;
	return true;
}

/* A player feeding a stream: the packet carries the clip's bytes of the
 * stream's law, in both laws, copied and never encoded; a source of
 * samples is encoded into the stream's law. */
static void test_player_feeds_stream_its_law(void **state)
{
	struct world *w = *state;
	struct rtp_sock *sock = open_sock(w);
	struct rtp_stream s;
	struct player p;
	player_init(&p, &w->tq, on_played, NULL);
	struct media_clip *c = odd_clip(400);
	player_start(&p, c, true);
	rtp_stream_init(&s, &w->clock, sock, &no_digits, NULL);
	rtp_stream_attach(&s, &p.port, NULL);
	struct rtp_hdr h;
	uint8_t pl[RTP_FRAME];
	for (int law = 0; law <= 8; law += 8) {
		rtp_stream_set(&s, &w->far_addr, law, law ? 8 : 96, -1, true, false);
		for (int i = 0; i < 3; i++) {
			mclock_tick(&w->clock);
			assert_int_equal(far_recv(w, &h, pl), RTP_FRAME);
			assert_int_equal(h.pt, law ? 8 : 96);
			uint8_t b = law ? 0x22 : 0x11;
			for (int k = 0; k < RTP_FRAME; k++)
				assert_int_equal(pl[k], b);
		}
	}
	struct port samples = { .get = pcm_get };
	rtp_stream_attach(&s, &samples, NULL);
	mclock_tick(&w->clock);
	assert_int_equal(far_recv(w, &h, pl), RTP_FRAME);
	int16_t pcm[PORT_FRAME];
	uint8_t a[PORT_FRAME];
	for (int i = 0; i < PORT_FRAME; i++)
		pcm[i] = (int16_t)(i * 100);
	g711_encode(8, pcm, a, PORT_FRAME);
	assert_memory_equal(pl, a, RTP_FRAME);
	rtp_stream_close(&s);
	player_stop(&p);
	mem_deref(c);
	rtp_sock_close(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_phases_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_to_stream_in_one_tick, setup, teardown),
		cmocka_unit_test(test_frame_converts_once),
		cmocka_unit_test_setup_teardown(test_player_gives_each_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_player_feeds_stream_its_law, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
