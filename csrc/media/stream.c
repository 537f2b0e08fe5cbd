/* An RTP stream: sending on the clock, receiving with symmetric RTP
 * (RFC 4961: we send where the peer's packets come from) and the
 * statistics of RFC 3550 appendix A. */
#include "media/stream.h"
#include "media/dtmf.h"
#include "media/g711.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "util/rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DTMF_MS 100                  /* each digit's tone, and ... */
#define DTMF_GAP_TICKS 3             /* ... 60 ms between digits */
#define DTMF_ENDS 3                  /* the end packet goes three times (RFC 4733 §2.5.1.4) */
#define DTMF_VOLUME 10               /* -10 dBm0 */
#define WARMUP_TICKS 50              /* one second of silence at the start */
#define TAIL_TICKS 10                /* and 200 ms after each sound or digit */
#define RTCP_TICKS 250               /* a report every 5 s (RFC 3550 §6.2 for one peer) */
#define JB_DEPTH 2                   /* 40 ms of jitter buffer */

static void on_tick(struct mclock_client *cl, uint64_t tick);
static void on_read(struct mclock_client *cl, uint64_t tick);
static void on_flush(struct mclock_client *cl);
static void on_packet(void *arg, const uint8_t *buf, size_t len, const union sa *src);
static void on_rtcp(void *arg, const uint8_t *buf, size_t len, const union sa *src);
static void send_rtcp(struct rtp_stream *s, bool bye);

void rtp_stream_init(struct rtp_stream *s, struct mclock *clock, struct rtp_sock *sock,
		     const struct rtp_stream_handlers *h, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->clk.tick = on_tick;
	s->clk.flush = on_flush;
	s->clk.phase = MCLOCK_SEND;
	s->rd.tick = on_read;
	s->rd.phase = MCLOCK_READ;
	s->clock = clock;
	s->sock = sock;
	s->h = h;
	s->arg = arg;
	s->pt = s->rtp_pt = s->te_pt = -1;
	s->dtmf_event = -1;
	/* random starts make a known-plaintext attack harder (RFC 3550 §5.1) */
	s->ssrc = (uint32_t)rand_u64();
	s->seq = (uint16_t)rand_u64();
	s->ts = (uint32_t)rand_u64();
	s->marker = true;
	s->st.rtt_ms = -1;
	s->decode = true;
}

/* The read phase is only for a stream with frames to give: one that
 * receives, has had audio (its jitter buffer) and somewhere to put it. A
 * stream that only plays costs the clock's read phase nothing. */
static void read_phase(struct rtp_stream *s)
{
	bool want = s->running && s->recv && s->jb && s->sink && s->decode;
	if (want && !le_linked(&s->rd.le))
		mclock_add(s->clock, &s->rd);
	else if (!want)
		mclock_remove(s->clock, &s->rd);
}

void rtp_stream_attach(struct rtp_stream *s, struct port *source, struct port *sink)
{
	s->source = source;
	s->sink = sink;
	read_phase(s);
}

static void run(struct rtp_stream *s, bool on)
{
	if (on == s->running)
		return;
	s->running = on;
	s->tx_len = 0;  /* a packet queued by a tick that stopped us is not sent */
	if (on) {
		mclock_add(s->clock, &s->clk);
		rtp_sock_recv(s->sock, on_packet, s);
		rtp_sock_rtcp_recv(s->sock, on_rtcp, s);
		s->rtcp_tick = 0;  /* the first report half an interval in (§6.2) */
	} else {
		/* a stream that sent says goodbye (§6.6) */
		if (s->st.tx_packets && sa_port(&s->remote))
			send_rtcp(s, true);
		mclock_remove(s->clock, &s->clk);
		rtp_sock_recv(s->sock, NULL, NULL);
		rtp_sock_rtcp_recv(s->sock, NULL, NULL);
	}
	read_phase(s);
}

void rtp_stream_set(struct rtp_stream *s, const union sa *remote, int pt, int rtp_pt, int te_pt,
		    bool send, bool recv)
{
	if (!sa_equal(remote, &s->remote)) {
		s->remote = *remote;
		s->latched = false;  /* the media moved: latch anew */
		s->warmup = WARMUP_TICKS;
		s->opening = true;
	}
	s->pt = pt;
	s->rtp_pt = rtp_pt;
	s->te_pt = te_pt;
	s->send = send && pt >= 0 && sa_port(remote) != 0;
	s->recv = recv && pt >= 0;
	if (!s->send)
		s->marker = true;
	run(s, s->send || s->recv);
	read_phase(s);
}

void rtp_stream_stop(struct rtp_stream *s)
{
	s->send = s->recv = false;
	run(s, false);
}

void rtp_stream_close(struct rtp_stream *s)
{
	rtp_stream_stop(s);
	free(s->jb);
	s->jb = NULL;
}

int rtp_stream_dtmf(struct rtp_stream *s, const char *digits)
{
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++)
		if (dtmf_event(digits[i]) < 0)
			return -EINVAL;
	if (s->te_pt < 0)
		return -ENOTSUP;
	if (s->dtmf_len + n > sizeof(s->dtmf))
		return -ENOSPC;
	memcpy(s->dtmf + s->dtmf_len, digits, n);
	s->dtmf_len += (unsigned)n;
	return 0;
}

bool rtp_stream_dtmf_busy(const struct rtp_stream *s)
{
	return s->dtmf_len || s->dtmf_event >= 0 || s->dtmf_gap;
}

void rtp_stream_stats(const struct rtp_stream *s, struct rtp_stats *st)
{
	*st = s->st;
	if (s->rx_started) {
		uint64_t ext_max = (uint64_t)s->rx_cycles + s->rx_max_seq;
		uint64_t expected = ext_max - s->rx_base + 1;
		st->rx_lost = expected > s->rx_received ? expected - s->rx_received : 0;
	}
	st->jitter_ms = s->jitter / 8.0;
}

static void send_packet(struct rtp_stream *s, int pt, bool marker, uint32_t ts,
			const uint8_t *payload, size_t len)
{
	struct rtp_hdr h = { .marker = marker, .pt = (uint8_t)pt, .seq = s->seq++, .ts = ts,
			     .ssrc = s->ssrc };
	size_t n = rtp_encode(s->tx, sizeof(s->tx), &h, payload, len);
	s->tx_len = n;          /* at most one a tick: audio or an event */
	s->tx_payload = len;
	s->relay_synced = false;  /* relayed packets map anew to follow this one */
}

static void on_flush(struct mclock_client *cl)
{
	struct rtp_stream *s = container_of(cl, struct rtp_stream, clk);
	if (!s->tx_len)
		return;
	const union sa *dst = s->latched ? &s->peer : &s->remote;
	if (rtp_sock_send(s->sock, dst, s->tx, s->tx_len) == 0) {
		s->st.tx_packets++;
		s->st.tx_bytes += s->tx_payload;
	}
	s->tx_len = 0;
}

/* One tick of telephone-events: true when it sent one (instead of audio). */
static bool dtmf_tick(struct rtp_stream *s)
{
	if (s->dtmf_event < 0) {
		if (s->dtmf_gap) {
			s->dtmf_gap--;
			return false;
		}
		if (!s->dtmf_len)
			return false;
		s->dtmf_event = dtmf_event(s->dtmf[0]);
		memmove(s->dtmf, s->dtmf + 1, --s->dtmf_len);
		s->dtmf_ts = s->ts;  /* an event keeps the timestamp of its start */
		s->dtmf_dur = 0;
		s->dtmf_ends = 0;
	}
	struct te_payload te = { .event = (uint8_t)s->dtmf_event, .volume = DTMF_VOLUME };
	bool first = s->dtmf_dur == 0;
	if (s->dtmf_dur < DTMF_MS * 8)
		s->dtmf_dur += RTP_FRAME;
	te.duration = s->dtmf_dur;
	te.end = s->dtmf_dur >= DTMF_MS * 8;
	uint8_t p[4];
	te_encode(&te, p);
	send_packet(s, s->te_pt, first, s->dtmf_ts, p, sizeof(p));
	if (te.end && ++s->dtmf_ends >= DTMF_ENDS) {
		s->dtmf_event = -1;
		s->dtmf_gap = DTMF_GAP_TICKS;
		s->marker = true;
		if (s->warmup < TAIL_TICKS)
			s->warmup = TAIL_TICKS;
		s->opening = false;
	}
	return true;
}

static void on_tick(struct mclock_client *cl, uint64_t tick)
{
	struct rtp_stream *s = container_of(cl, struct rtp_stream, clk);
	if (s->send && !dtmf_tick(s) && !s->relayed) {
		struct frame f;
		frame_init(&f, s->pt);
		if (s->source && port_get(s->source, &f)) {
			/* a source that had it in our law (a clip) was copied,
			 * not encoded */
			send_packet(s, s->rtp_pt, s->marker, s->ts, frame_g711(&f, s->pt), RTP_FRAME);
			s->marker = false;
			s->warmup = TAIL_TICKS;
			s->opening = false;
		} else if (s->warmup) {
			/* nothing to play: silence for the first second, so the far
			 * end hears us and latches its symmetric RTP, and a short
			 * tail after each sound or digit, so a jitter buffer that
			 * releases a packet only when the next one comes gives out
			 * the end of it; then nothing (silence suppression, RFC
			 * 3551 §4.1), and the next sound starts a talkspurt with the
			 * marker bit. None of the first second while the process
			 * is behind on its signalling: calls whose BYE waits unread
			 * would each send 50 a second, and at the edge of the
			 * endpoint's capacity that was most of the CPU
			 * (docs/performance.md); a tail follows a sound, and goes. */
			s->warmup--;
			if (s->opening && s->clock->pressed) {
				s->marker = true;
			} else {
				memset(f.g711, s->pt == 8 ? 0xd5 : 0xff, RTP_FRAME);
				send_packet(s, s->rtp_pt, s->marker, s->ts, f.g711, RTP_FRAME);
				s->marker = false;
			}
		} else {
			s->marker = true;
		}
	}
	s->ts += RTP_FRAME;  /* the clock of the stream runs on while nothing is sent */
	if (s->rtcp_tick == 0)
		s->rtcp_tick = tick + RTCP_TICKS / 2;
	else if (tick >= s->rtcp_tick) {
		s->rtcp_tick = tick + RTCP_TICKS;
		if (sa_port(&s->remote))
			send_rtcp(s, false);
	}
}

/* The read phase: this tick's frame of what the far end sent goes to the
 * sink before any stream sends, so a port that passes it on to another
 * stream (a bridge, a mixer) adds one tick whatever the order of streams. */
static void on_read(struct mclock_client *cl, uint64_t tick)
{
	struct rtp_stream *s = container_of(cl, struct rtp_stream, rd);
	struct frame f;
	frame_init(&f, PORT_PCM);
	if (jbuf_get(s->jb, f.pcm)) {
		f.has_pcm = true;
		port_put(s->sink, &f);
	}
}

/* RTCP goes to the port above the peer's RTP port (RFC 3550 §11), or the
 * one its RTP latched from plus one. */
static void rtcp_dest(const struct rtp_stream *s, union sa *dst)
{
	*dst = s->latched ? s->peer : s->remote;
	sa_set_port(dst, (uint16_t)(sa_port(dst) + 1));
}

static void send_rtcp(struct rtp_stream *s, bool bye)
{
	struct rtcp_sender snd, *sp = NULL;
	if (s->st.tx_packets != s->tx_packets_prior) {
		snd = (struct rtcp_sender){ .ssrc = s->ssrc, .ntp = rtcp_ntp_now(), .rtp_ts = s->ts,
					    .packets = (uint32_t)s->st.tx_packets,
					    .octets = (uint32_t)s->st.tx_bytes };
		s->tx_packets_prior = (uint32_t)s->st.tx_packets;
		sp = &snd;
	}
	struct rtcp_block blk, *bp = NULL;
	if (s->rx_started) {
		uint32_t ext_max = s->rx_cycles + s->rx_max_seq;
		uint32_t expected = ext_max - s->rx_base + 1;
		uint32_t exp_int = expected - s->rx_expected_prior;
		uint64_t rec_int = s->rx_received - s->rx_received_prior;
		s->rx_expected_prior = expected;
		s->rx_received_prior = s->rx_received;
		int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
		int64_t lost = (int64_t)expected - (int64_t)s->rx_received;
		blk = (struct rtcp_block){
			.ssrc = s->rx_ssrc,
			.fraction_lost = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0,
			.cum_lost = lost > 0x7fffff ? 0x7fffff : (int32_t)lost,
			.ext_max_seq = ext_max,
			.jitter = (uint32_t)s->jitter,
		};
		if (s->peer_lsr) {
			blk.lsr = s->peer_lsr;
			blk.dlsr = (uint32_t)(((uv_hrtime() - s->peer_lsr_at) << 16) / 1000000000ull);
		}
		bp = &blk;
	}
	/* the CNAME names the address media comes from: the same in every
	 * report of the stream, made when needed rather than kept */
	char host[48], cname[64];
	snprintf(cname, sizeof(cname), "luasip@%s", sa_host(&s->sock->addr, host, sizeof(host)));
	uint8_t buf[256];
	size_t n = rtcp_encode(buf, sizeof(buf), s->ssrc, sp, bp, cname, bye);
	union sa dst;
	rtcp_dest(s, &dst);
	if (n)
		rtp_sock_rtcp_send(s->sock, &dst, buf, n);
}

static void on_rtcp(void *arg, const uint8_t *buf, size_t len, const union sa *src)
{
	struct rtp_stream *s = arg;
	struct rtcp_info info;
	if (!sa_same_host(src, s->latched ? &s->peer : &s->remote) ||
	    rtcp_decode(buf, len, s->ssrc, &info) != 0)
		return;
	if (info.sr) {
		s->peer_lsr = info.sr_ntp_mid;
		s->peer_lsr_at = uv_hrtime();
	}
	if (info.have_block) {
		s->st.have_remote = true;
		s->st.remote_lost = info.block.cum_lost;
		s->st.remote_jitter_ms = info.block.jitter / 8.0;
		if (info.block.lsr) {
			/* §6.4.1: now - LSR - DLSR, in 1/65536 s */
			uint32_t now_mid = (uint32_t)(rtcp_ntp_now() >> 16);
			uint32_t rtt = now_mid - info.block.lsr - info.block.dlsr;
			if (rtt < 0x10000u * 60)  /* a minute: anything more is a clock jump */
				s->st.rtt_ms = rtt * 1000.0 / 65536.0;
		}
	}
}

/* RFC 3550 A.1: a new source, or one that jumped: start its counts over. */
static void rx_init(struct rtp_stream *s, const struct rtp_hdr *h)
{
	s->rx_started = true;
	s->rx_ssrc = h->ssrc;
	s->rx_max_seq = h->seq;
	s->rx_base = h->seq;
	s->rx_cycles = 0;
	s->rx_received = 0;
	s->last_transit = 0;
	s->jitter = 0;
	s->te_seen = false;
	/* the jitter buffer goes on: a new source's timestamps far from the
	 * old ones restart its timeline by themselves, and its frames keep
	 * coming in between (some peers send events from a source of their
	 * own, and a recording is as long as the listening was) */
}

static void rx_seq(struct rtp_stream *s, const struct rtp_hdr *h)
{
	uint16_t delta = (uint16_t)(h->seq - s->rx_max_seq);
	if (delta < 3000) {
		if (h->seq < s->rx_max_seq)
			s->rx_cycles += 65536;  /* wrapped */
		s->rx_max_seq = h->seq;
	} else if (delta > 65536 - 100) {
		/* a late or duplicated packet: counted, the maximum stays */
	} else {
		rx_init(s, h);  /* a big jump: the source restarted */
	}
	s->rx_received++;
}

static void rx_jitter(struct rtp_stream *s, const struct rtp_hdr *h)
{
	/* arrival time in timestamp units (8 kHz), and the transit, modulo
	 * 2^32 as the timestamps are: a peer's timestamps wrap (they start
	 * anywhere), and the difference of two transits is small across it;
	 * on the media clock's time (uv_hrtime, or a test's) */
	uint32_t arrival = (uint32_t)(s->clock->now() / 125000ull);
	uint32_t transit = arrival - h->ts;
	if (s->rx_received > 1) {
		int64_t d = (int32_t)(transit - s->last_transit);
		if (d < 0)
			d = -d;
		s->jitter += ((double)d - s->jitter) / 16.0;
	}
	s->last_transit = transit;
}

static void on_packet(void *arg, const uint8_t *buf, size_t len, const union sa *src)
{
	struct rtp_stream *s = arg;
	struct rtp_hdr h;
	const uint8_t *payload;
	size_t plen;
	/* symmetric RTP without bleed: before the first packet only the
	 * signalled address may latch us; after it only the latched source
	 * is heard */
	bool from_peer = s->latched ? sa_equal(src, &s->peer)
				    : sa_same_host(src, &s->remote);
	if (!s->recv || !from_peer || rtp_decode(buf, len, &h, &payload, &plen) != 0 ||
	    (h.pt != s->rtp_pt && (s->te_pt < 0 || h.pt != s->te_pt))) {
		s->st.rx_dropped++;
		return;
	}
	if (!s->latched) {
		s->peer = *src;
		s->latched = true;
	}
	if (!s->rx_started || h.ssrc != s->rx_ssrc)
		rx_init(s, &h);
	rx_seq(s, &h);
	rx_jitter(s, &h);
	s->st.rx_packets++;
	s->st.rx_bytes += plen;
	if (h.pt == s->rtp_pt) {
		if (s->relay_h)
			s->relay_h(s->relay_arg, &h, payload, plen, false);
		if (!s->decode)
			return;
		int16_t pcm[JBUF_SAMPLES / 2];
		size_t n = plen < JBUF_SAMPLES / 2 ? plen : JBUF_SAMPLES / 2;
		/* a call that never receives audio never pays for the buffer */
		if (!s->jb) {
			s->jb = malloc(sizeof(*s->jb));
			if (!s->jb)
				return;
			jbuf_init(s->jb, JB_DEPTH);
			read_phase(s);
		}
		g711_decode(s->pt, payload, pcm, n);
		jbuf_put(s->jb, h.ts, pcm, n);
		return;
	}
	/* telephone-event: every packet of an event has its start's
	 * timestamp; the first one we see reports it (RFC 4733 §2.5.2) */
	if (s->relay_h)
		s->relay_h(s->relay_arg, &h, payload, plen, true);
	struct te_payload te;
	if (te_decode(payload, plen, &te) != 0)
		return;
	if (s->te_seen && h.ts == s->te_ts)
		return;  /* the same event again: its updates and end packets */
	char digit = dtmf_digit(te.event);
	s->te_seen = true;
	s->te_ts = h.ts;
	if (digit && s->h->digit)
		s->h->digit(s->arg, digit);
}

void rtp_stream_tap(struct rtp_stream *s, rtp_stream_relay_h *h, void *arg, bool decode)
{
	s->relay_h = h;
	s->relay_arg = arg;
	s->decode = decode;
	read_phase(s);
}

void rtp_stream_set_relayed(struct rtp_stream *s, bool relayed)
{
	if (relayed == s->relayed)
		return;
	s->relayed = relayed;
	s->relay_synced = false;
	/* back on its own: no second of opening silence, and what it plays
	 * next starts a talkspurt */
	s->marker = true;
	s->warmup = 0;
	s->opening = false;
}

#define RELAY_MAX 1024               /* octets of payload: 128 ms of G.711 */

int rtp_stream_relay(struct rtp_stream *s, const struct rtp_hdr *in, const uint8_t *payload,
		     size_t len, int law, bool event)
{
	if (!s->running || !s->send)
		return -ENOTCONN;
	if (event && s->te_pt < 0)
		return -ENOTSUP;
	if (len > RELAY_MAX)
		return -EMSGSIZE;
	uint8_t conv[RELAY_MAX];
	if (!event && law != s->pt) {
		g711_transcode(law, payload, conv, len);
		payload = conv;
	}
	bool marker = in->marker;
	if (!s->relay_synced || in->ssrc != s->relay_ssrc) {
		/* the first packet of a source follows what we sent last: the
		 * next sequence number, and the timestamp our clock is at */
		s->relay_synced = true;
		s->relay_ssrc = in->ssrc;
		s->relay_seq_off = (uint16_t)(s->seq - in->seq);
		s->relay_ts_off = s->ts - in->ts;
		if (!event)
			marker = true;
	}
	struct rtp_hdr h = { .marker = marker, .pt = (uint8_t)(event ? s->te_pt : s->rtp_pt),
			     .seq = (uint16_t)(in->seq + s->relay_seq_off),
			     .ts = in->ts + s->relay_ts_off, .ssrc = s->ssrc };
	/* a packet that came in order moves our sequence on; a late one
	 * keeps its place behind */
	if ((int16_t)(h.seq - s->seq) >= 0)
		s->seq = (uint16_t)(h.seq + 1);
	uint8_t pkt[RTP_HEADER_SIZE + RELAY_MAX];
	size_t n = rtp_encode(pkt, sizeof(pkt), &h, payload, len);
	const union sa *dst = s->latched ? &s->peer : &s->remote;
	if (!n || rtp_sock_send(s->sock, dst, pkt, n) != 0)
		return 0;  /* a full socket buffer drops it, as any packet of ours */
	s->st.tx_packets++;
	s->st.tx_bytes += len;
	return 0;
}
