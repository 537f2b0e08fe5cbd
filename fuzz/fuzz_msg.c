/* libFuzzer target: the SIP receive path without sockets.
 *
 * Each input is decoded twice, as a UDP datagram (sip_msg_decode) and as
 * bytes on a TCP stream (sip_frame cutting as many messages as it can), and
 * every message that decodes goes through a transaction layer (struct
 * sip_stack) with a fake transport and virtual time. The application answers
 * from the request's CSeq number: 200 at once, nothing at all, 180 then 486
 * with a body, or later, after time has passed. Two client transactions wait
 * with the branch z9hG4bKfuzz, so responses have something to match. Then
 * the timers run far into the future, every transaction ends, and all memory
 * is freed: a leak is a failure (LeakSanitizer).
 *
 * fuzz/run.sh builds it with clang -fsanitize=fuzzer,address,undefined
 * together with the core (csrc/util, csrc/sip) and runs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip/msg.h"
#include "sip/stack.h"
#include "util/mem.h"
#include "util/sbuf.h"
#include "util/tmr.h"

#define MAX_MSG 65535
#define MAX_HELD 8

/* One client transaction the responses in the input can match. */
struct client {
	struct sip_ctrans *ct;
};

struct fuzz {
	struct tmrq tq;
	struct sip_stack stack;
	struct sip_strans *held[MAX_HELD];  /* answered later */
	unsigned nheld;
	unsigned unanswered;        /* requests the TU never answers */
	unsigned sent;
	struct client inv, opt;
};

static int fake_send(void *arg, const struct sip_peer *dst, const char *buf, size_t len,
		     sip_sent_h *sent_h, void *sent_arg)
{
	struct fuzz *f = arg;
	f->sent++;  /* records nothing; a reliable send "succeeds" silently */
	return 0;
}

static void on_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct fuzz *f = arg;
	/* the message picks the answer, so an input replays the same way */
	switch (req->cseq % 4) {
	case 0:
		sip_strans_reply(st, 200, NULL, "Contact: <sip:fuzz@127.0.0.1>\r\n", NULL, 0);
		break;
	case 1:
		f->unanswered++;  /* never answered: the stack's close ends it */
		break;
	case 2:
		sip_strans_reply(st, 180, NULL, NULL, NULL, 0);
		sip_strans_reply(st, 486, "Busy Here", "Retry-After: 5\r\n", "busy\r\n", 6);
		break;
	case 3:
		if (f->nheld < MAX_HELD)
			f->held[f->nheld++] = mem_ref(st);
		else
			sip_strans_reply(st, 200, NULL, NULL, NULL, 0);
		break;
	}
}

static void on_cancel(void *arg, struct sip_strans *st)
{
	struct fuzz *f = arg;
	if (sip_strans_request(st)->cseq % 4 == 1)
		f->unanswered--;  /* answered after all */
	sip_strans_reply(st, 487, NULL, NULL, NULL, 0);
}

static void on_stray(void *arg, const struct sip_msg *msg)
{
	/* what a dialog layer would read */
	struct sip_hdr h;
	(void)sip_msg_hdr(msg, "Contact", 0, &h);
}

static const struct sip_stack_ops ops = {
	.send = fake_send,
	.request = on_request,
	.cancel = on_cancel,
	.stray = on_stray,
};

static void on_response(int err, const struct sip_msg *resp, void *arg)
{
	/* the machines are what is checked; the TU only listens */
}

static void start_client(struct fuzz *f, struct client *c, const char *method,
			 enum sip_proto proto)
{
	struct sip_peer dst = { .proto = proto };
	sa_set(&dst.addr, "127.0.0.1", 5060);
	struct sbuf b;
	sbuf_init(&b);
	sbuf_printf(&b,
		    "%s sip:fuzz@127.0.0.1 SIP/2.0\r\n"
		    "Via: SIP/2.0/%s 127.0.0.1:5070;branch=z9hG4bKfuzz;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <sip:me@127.0.0.1>;tag=f1\r\n"
		    "To: <sip:fuzz@127.0.0.1>\r\n"
		    "Call-ID: fuzz-call\r\n"
		    "CSeq: 1 %s\r\n"
		    "Route: <sip:127.0.0.1;lr>\r\n"
		    "Content-Length: 0\r\n\r\n",
		    method, sip_proto_name(proto), method);
	size_t len;
	char *req = sbuf_take(&b, &len);
	if (req)
		sip_ctrans_start(&c->ct, &f->stack, &dst, method, "z9hG4bKfuzz", req, len,
				 on_response, c);
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_msg: %s\n", what);
		abort();
	}
}

static void deliver(struct fuzz *f, const char *buf, size_t len, enum sip_proto proto)
{
	struct sip_msg *m = sip_msg_decode(buf, len, proto == SIP_TCP);
	if (!m)
		return;
	m->src.proto = proto;
	sa_set(&m->src.addr, "192.0.2.1", 5060);
	sip_stack_recv(&f->stack, m);
	mem_deref(m);
}

/* As tcp.c cuts a stream: message after message until one is incomplete
 * or cannot be framed. */
static void deliver_stream(struct fuzz *f, const char *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		long fl = sip_frame(buf + off, len - off, MAX_MSG);
		if (fl <= 0)
			break;
		const char *msg = buf + off;
		size_t n = (size_t)fl;
		off += n;
		while (n > 0 && (*msg == '\r' || *msg == '\n')) {
			msg++;
			n--;
		}
		if (n > 0)
			deliver(f, msg, n, SIP_TCP);
	}
}

/* Moves virtual time by ms, firing every timer due on the way. */
static void advance(struct fuzz *f, uint64_t ms)
{
	uint64_t end = f->tq.now + ms;
	for (unsigned guard = 0; guard < 100000; guard++) {
		int64_t next = tmrq_next(&f->tq);
		if (next < 0 || f->tq.now + (uint64_t)next > end)
			break;
		tmrq_run(&f->tq, f->tq.now + (uint64_t)next);
	}
	tmrq_run(&f->tq, end);
}

/* libosip2 logs every parse error it meets. */
static void osip_quiet(const char *file, int line, osip_trace_level_t level, const char *fmt,
		       va_list ap)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, osip_quiet);  /* a log line per input otherwise */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz f;
	if (size > MAX_MSG)
		return -1;
	memset(&f, 0, sizeof(f));
	tmrq_init(&f.tq, 0);
	if (sip_stack_init(&f.stack, &f.tq, &ops, &f) != 0) {
		tmrq_close(&f.tq);
		return 0;
	}
	start_client(&f, &f.inv, "INVITE", SIP_UDP);
	start_client(&f, &f.opt, "OPTIONS", SIP_TCP);

	const char *buf = (const char *)data;
	deliver(&f, buf, size, SIP_UDP);
	advance(&f, 600);  /* a retransmission or two of each side */
	deliver_stream(&f, buf, size);
	/* the same datagram again: a retransmission, an ACK, a CANCEL ... */
	deliver(&f, buf, size, SIP_UDP);

	/* the late answers */
	for (unsigned i = 0; i < f.nheld; i++) {
		sip_strans_reply(f.held[i], 183, NULL, NULL, NULL, 0);
		sip_strans_reply(f.held[i], 603, NULL, NULL, NULL, 0);
		f.held[i] = mem_deref(f.held[i]);
	}
	sip_ctrans_release(f.inv.ct);
	sip_ctrans_release(f.opt.ct);

	/* far beyond 64*T1 and Timer D: every transaction ends by itself,
	 * but a server one the TU never answered (a released INVITE that got
	 * a provisional answer ends 64*T1 after its release) */
	advance(&f, 10 * 60 * 1000);
	check(f.stack.strans.count == f.unanswered, "a server transaction outlived its timers");
	check(f.stack.ctrans.count == 0, "a client transaction outlived its timers");
	sip_stack_close(&f.stack);
	tmrq_close(&f.tq);
	return 0;
}
