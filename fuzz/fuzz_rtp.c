/* libFuzzer target: RTP and RTCP packets from the network, without sockets.
 *
 * Every datagram a peer sends to a call goes through rtp_decode (which also
 * tells RTCP on the same port apart, RFC 5761) and rtcp_decode, then, for
 * the call's stream, through the receive paths of csrc/media/stream.c: on
 * the RTP port the source check of symmetric RTP, the sequence and jitter
 * statistics of RFC 3550 appendix A, G.711 decoding into the jitter buffer
 * (csrc/media/jbuf.c) and the telephone-event de-duplication of RFC 4733;
 * on the RTCP port the reports (loss, jitter, round trip). The jitter
 * buffer's frames come out on the clock's ticks and go through the in-band
 * DTMF detector's sink port, as csrc/media/call_media.c has them.
 *
 * stream.c reaches the network only through rtp_sock_recv, rtp_sock_send
 * and their RTCP twins, and the clock only through mclock_add and
 * mclock_remove, so this file defines those (instead of linking rtp_sock.c
 * and mclock.c): the handlers the stream registers are called with the
 * fuzzer's datagrams directly, and its clock ticks are run by hand in the
 * clock's phases (the read phase's frame to the stream's sink port, then
 * the send phase's from its source port, then the flush), so sending
 * (audio, silence, telephone-events, reports) and the jitter buffer's
 * output interleave with receiving as on a live call.
 * rand_u64 is defined here as well (instead of util/rand.c) so that an input
 * replays the same way.
 *
 * Input: one configuration byte, then records of
 *   [op][len_hi][len_lo][len bytes]
 * where op chooses what happens (an RTP-port datagram from the signalled
 * peer, from another port of its host, from another host; an RTCP-port
 * datagram; clock ticks; a re-negotiation; queued digits; playing on or
 * off) and the len bytes are the datagram, the digits or a count. Every
 * datagram is also decoded on its own, and the invariants of the parsers
 * and of the stream's counters are checked with abort(), which libFuzzer
 * reports as a crash.
 *
 * fuzz/run_rtp.sh builds it with clang -fsanitize=fuzzer,address,undefined.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/dtmf.h"
#include "media/g711.h"
#include "media/mclock.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/rtp_sock.h"
#include "media/stream.h"
#include "util/rand.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ---- what stream.c needs from the world, faked ---- */

static struct {
	rtp_sock_recv_h *recvh, *rtcph;
	void *arg, *rtcp_arg;
	struct mclock_client *clk[MCLOCK_PHASES];
	uint64_t sent, sent_bytes;
	uint64_t rng;
} w;

int rtp_sock_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg)
{
	w.recvh = h;
	w.arg = arg;
	return 0;
}

int rtp_sock_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len)
{
	/* what we send must parse as what we meant: our own packets are the
	 * ones peers fuzz us back with */
	struct rtp_hdr h;
	const uint8_t *p;
	size_t plen;
	CHECK(len >= RTP_HEADER_SIZE && len <= RTP_HEADER_SIZE + RTP_FRAME);
	CHECK(rtp_decode(buf, len, &h, &p, &plen) == 0);
	CHECK(h.cc == 0 && !h.ext && plen == len - RTP_HEADER_SIZE);
	w.sent++;
	w.sent_bytes += len;
	return 0;
}

int rtp_sock_rtcp_recv(struct rtp_sock *r, rtp_sock_recv_h *h, void *arg)
{
	w.rtcph = h;
	w.rtcp_arg = arg;
	return 0;
}

int rtp_sock_rtcp_send(struct rtp_sock *r, const union sa *dst, const uint8_t *buf, size_t len)
{
	/* our reports parse as RTCP, and never as RTP (RFC 5761 §4) */
	struct rtcp_info info;
	struct rtp_hdr h;
	const uint8_t *p;
	size_t plen;
	CHECK(rtcp_decode(buf, len, 0, &info) == 0);
	CHECK(rtp_decode(buf, len, &h, &p, &plen) == -EPROTO);
	return 0;
}

/* one stream: at most one client a phase */
void mclock_add(struct mclock *c, struct mclock_client *cl)
{
	CHECK(w.clk[cl->phase] == NULL || w.clk[cl->phase] == cl);
	w.clk[cl->phase] = cl;
}

void mclock_remove(struct mclock *c, struct mclock_client *cl)
{
	if (w.clk[cl->phase] == cl)
		w.clk[cl->phase] = NULL;
}

/* The clock's time (what streams stamp arrivals with): the fuzzer's own,
 * 20 ms further at each tick, so that an input replays the same way. */
static uint64_t fuzz_ns;
static uint64_t fuzz_now(void)
{
	return fuzz_ns;
}

/* A tick as mclock.c runs it: the phases in their order, then the flush. */
static bool run_tick(uint64_t tick)
{
	static const enum mclock_phase order[] = { MCLOCK_READ, MCLOCK_MIX, MCLOCK_SEND };
	bool any = false;
	fuzz_ns = tick * MCLOCK_PTIME_MS * 1000000ull;
	for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct mclock_client *cl = w.clk[order[i]];
		if (cl) {
			cl->tick(cl, tick);
			any = true;
		}
	}
	struct mclock_client *send = w.clk[MCLOCK_SEND];
	if (send && send->flush)
		send->flush(send);
	return any;
}

uint64_t rand_u64(void)
{
	/* splitmix64, restarted for every input */
	uint64_t z = (w.rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rand_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++)
		buf[i] = hex[rand_u64() & 15];
}

/* ---- the stream's owner, as l_call.c is ---- */

struct owner {
	struct rtp_stream s;
	struct port source, sink;
	struct dtmf_sink det;
	unsigned audio_frames, digits, inband;
	unsigned fills;
	bool play;
};

/* What plays: in the stream's law (as a clip gives it) or, every other
 * frame, as PCM the stream encodes. */
static bool on_get(struct port *p, struct frame *f)
{
	struct owner *o = container_of(p, struct owner, source);
	CHECK(f->want == 0 || f->want == 8);
	if (!o->play)
		return false;
	if (o->fills & 1) {
		for (int i = 0; i < PORT_FRAME; i++)
			f->pcm[i] = (int16_t)(o->fills * 251 + i * 97);
		f->has_pcm = true;
	} else {
		memset(f->g711, (int)(o->fills & 0xff), PORT_FRAME);
		f->law = f->want;
	}
	o->fills++;
	return true;
}

static void on_inband(char digit, void *arg)
{
	struct owner *o = arg;
	CHECK(dtmf_event(digit) >= 0);
	o->inband++;
}

static void on_put(struct port *p, struct frame *f)
{
	struct owner *o = container_of(p, struct owner, sink);
	/* even frames of PCM, whatever the packets were */
	CHECK(f->has_pcm && f->law == -1);
	if (o->s.te_pt < 0)
		port_put(&o->det.port, f);
	o->audio_frames++;
}

static void on_digit(void *arg, char digit)
{
	struct owner *o = arg;
	CHECK(dtmf_event(digit) >= 0);
	o->digits++;
}

static const struct rtp_stream_handlers handlers = { on_digit };

/* ---- the parsers on their own ---- */

/* ssrc: ours, which report blocks are about */
static void parse_alone(const uint8_t *buf, size_t len, uint32_t ssrc)
{
	struct rtcp_info info;
	if (rtcp_decode(buf, len, ssrc, &info) == 0)
		CHECK(len >= 4 && len % 4 == 0);

	struct rtp_hdr h;
	const uint8_t *p = NULL;
	size_t plen = 0;
	int err = rtp_decode(buf, len, &h, &p, &plen);
	if (err != 0)
		return;
	/* the payload lies inside the packet, after the header and CSRCs */
	CHECK(len >= RTP_HEADER_SIZE);
	CHECK(p >= buf + RTP_HEADER_SIZE + 4u * h.cc && p + plen <= buf + len);
	CHECK(h.cc <= 15 && h.pt <= 127);

	/* what decodes encodes back (without CSRCs and extension) to the
	 * same fixed header and payload */
	uint8_t out[RTP_HEADER_SIZE + 2048];
	if (plen <= 2048) {
		struct rtp_hdr h2;
		const uint8_t *p2;
		size_t plen2;
		size_t n = rtp_encode(out, sizeof(out), &h, p, plen);
		CHECK(n == RTP_HEADER_SIZE + plen);
		CHECK(rtp_decode(out, n, &h2, &p2, &plen2) == 0);
		CHECK(h2.pt == h.pt && h2.seq == h.seq && h2.ts == h.ts && h2.ssrc == h.ssrc &&
		      h2.marker == h.marker && plen2 == plen && memcmp(p2, p, plen) == 0);
	}

	struct te_payload te;
	if (te_decode(p, plen, &te) == 0) {
		CHECK(plen >= 4 && te.volume <= 63);
		uint8_t back[4];
		te_encode(&te, back);
		/* the reserved bit is the only one that may not survive */
		CHECK(back[0] == p[0] && (back[1] & 0xbf) == (p[1] & 0xbf) &&
		      back[2] == p[2] && back[3] == p[3]);
		char d = dtmf_digit(te.event);
		CHECK(d == 0 || dtmf_event(d) == te.event);
	}

	/* both laws, and the detector over the payload as audio */
	int16_t pcm[2048];
	size_t n = plen < 2048 ? plen : 2048;
	g711_decode(0, p, pcm, n);
	g711_decode(8, p, pcm, n);
	/* a decoded value encodes back to a code that decodes the same */
	for (size_t i = 0; i < n; i++) {
		int16_t a = g711_alaw_decode(p[i]), u = g711_ulaw_decode(p[i]);
		CHECK(g711_alaw_decode(g711_alaw_encode(a)) == a);
		CHECK(g711_ulaw_decode(g711_ulaw_encode(u)) == u);
	}
	struct dtmf_detector det;
	struct owner dummy = {0};
	dtmf_detector_init(&det);
	dtmf_detect(&det, pcm, n, on_inband, &dummy);
}

/* ---- the input ---- */

enum { OP_PEER, OP_PEER_PORT, OP_OTHER_HOST, OP_TICK, OP_SET, OP_DTMF, OP_PLAY, OP_RTCP,
       OP_NOPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	memset(&w, 0, sizeof(w));
	uint8_t cfg = data[0];
	data++;
	size--;

	static struct owner o;
	memset(&o, 0, sizeof(o));
	struct rtp_sock sock;  /* only its address is read: the fakes above stand for it */
	memset(&sock, 0, sizeof(sock));
	sa_set(&sock.addr, "127.0.0.1", 30000);
	struct mclock clock;
	memset(&clock, 0, sizeof(clock));
	clock.now = fuzz_now;
	fuzz_ns = 0;
	dtmf_sink_init(&o.det, on_inband, &o);
	rtp_stream_init(&o.s, &clock, &sock, &handlers, &o);
	o.source.get = on_get;
	o.sink.put = on_put;
	rtp_stream_attach(&o.s, &o.source, &o.sink);

	union sa remote, remote_rtcp, peer_port, other;
	sa_set(&remote, "127.0.0.1", 40000);
	sa_set(&remote_rtcp, "127.0.0.1", 40001);
	sa_set(&peer_port, "127.0.0.1", 40002);
	sa_set(&other, "192.0.2.7", 40000);
	/* cfg: the law, its number on the wire, telephone-events or not, the
	 * direction */
	int pt = cfg & 1 ? 8 : 0;
	int rtp_pt = cfg & 2 ? 96 + (cfg >> 5) : pt;
	int te_pt = cfg & 4 ? 101 : -1;
	bool send = !(cfg & 8), recv = !(cfg & 16);
	rtp_stream_set(&o.s, &remote, pt, rtp_pt, te_pt, send, recv);

	uint64_t fed = 0, ticks = 0;
	while (size >= 3) {
		uint8_t op = data[0] % OP_NOPS;
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		const uint8_t *d = data;
		data += len;
		size -= len;
		switch (op) {
		case OP_PEER:
		case OP_PEER_PORT:
		case OP_OTHER_HOST:
			parse_alone(d, len, o.s.ssrc);
			if (w.recvh) {
				const union sa *src = op == OP_PEER ? &remote
						      : op == OP_PEER_PORT ? &peer_port : &other;
				w.recvh(w.arg, d, len, src);
				fed++;
			}
			break;
		case OP_TICK:
			/* up to 256 ticks: a second of DTMF, warm-up or playing */
			for (unsigned i = 0; i <= (len ? d[0] : 0u); i++) {
				/* the read phase runs only for a stream that
				 * receives and has had audio */
				CHECK(!w.clk[MCLOCK_READ] || (o.s.recv && o.s.jb && w.clk[MCLOCK_SEND]));
				if (!run_tick(ticks))
					break;
				ticks++;
			}
			break;
		case OP_SET: {
			/* a re-INVITE: new numbers, direction, maybe a new address */
			uint8_t b = len ? d[0] : 0;
			rtp_stream_set(&o.s, b & 0x80 ? &peer_port : &remote, b & 1 ? 8 : 0,
				       b & 2 ? 96 + ((b >> 2) & 7) : (b & 1 ? 8 : 0),
				       b & 0x20 ? -1 : 101, !(b & 0x40), !(b & 0x10));
			break;
		}
		case OP_DTMF: {
			char digits[65];
			size_t n = len < 64 ? len : 64;
			memcpy(digits, d, n);
			digits[n] = 0;
			/* a NUL inside ends the string early, as a C caller would */
			int err = rtp_stream_dtmf(&o.s, digits);
			/* only the errors stream.h lists */
			CHECK(err == 0 || err == -EINVAL || err == -ENOTSUP || err == -ENOSPC);
			break;
		}
		case OP_PLAY:
			o.play = !o.play;
			break;
		case OP_RTCP:
			/* a report from the peer's RTCP port, or from elsewhere */
			parse_alone(d, len, o.s.ssrc);
			if (w.rtcph)
				w.rtcph(w.rtcp_arg, d, len, len & 1 ? &other : &remote_rtcp);
			break;
		}
	}

	struct rtp_stats st;
	rtp_stream_stats(&o.s, &st);
	/* each datagram that reached the handler was counted once, either way */
	CHECK(st.rx_packets + st.rx_dropped == fed);
	CHECK(st.tx_packets == w.sent);
	CHECK(st.jitter_ms >= 0);
	CHECK(o.digits <= st.rx_packets);
	CHECK(o.audio_frames <= ticks);
	rtp_stream_close(&o.s);  /* and its jitter buffer */
	CHECK(w.recvh == NULL && w.rtcph == NULL && w.clk[MCLOCK_READ] == NULL &&
	      w.clk[MCLOCK_SEND] == NULL);
	return 0;
}
