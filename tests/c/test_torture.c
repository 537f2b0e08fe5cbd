/* The RFC 4475 and RFC 5118 torture messages through the real receive path.
 *
 * Each message goes from a real client socket to a real endpoint (sip_ua on
 * UDP and TCP over 127.0.0.1) whose application handles INVITE, REGISTER,
 * OPTIONS and MESSAGE by answering 200. What comes back (an answer, nothing,
 * a closed connection) is checked against what the RFC says of the message,
 * as tests/data/rfc4475/SOURCE.md and tests/data/rfc5118/SOURCE.md sum it up.
 *
 * A UDP answer goes to the source address at the port of the top Via (RFC
 * 3261 §18.2.2), so the client socket is bound to that port: run this in a
 * private network namespace (tests/c/torture.sh does), where fixed ports
 * cannot collide and nothing can reach the public hosts the messages name.
 *
 * Every message gets a new endpoint, so a transaction left by one message
 * can never make the next one look like a retransmission.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <uv.h>

#include "sip/loop.h"
#include "sip/ua_priv.h"
#include "util/mem.h"

/* Outcomes other than a status code. */
enum {
	ACCEPTED = 1,    /* the application saw it and its 2xx came back */
	DROPPED,         /* no answer (and a TCP connection left open) */
	CLOSED,          /* TCP: the connection closed without an answer */
	WAIT_CLOSE,      /* TCP: no answer, the connection kept open for more
			  * bytes for a while, then closed (RFC 4475 §3.1.2.2) */
	APP_NO_ANSWER,   /* the application saw it but its answer never came */
};

#define MAX_OUTCOMES 4

struct torture_case {
	const char *file;          /* under tests/data */
	uint16_t via_port;         /* of the top Via: where a UDP answer goes */
	int udp[MAX_OUTCOMES];     /* allowed over UDP */
	int tcp[MAX_OUTCOMES];     /* allowed over TCP; empty: not sent over TCP */
	bool tcp_must_close;       /* over TCP the connection must end too */
	const char *answer_has;    /* text the final answer must carry */
	const char *app_method;    /* the method the application must see */
	const char *rfc;           /* what the RFC expects, for the failure text */
};

#define V 5060  /* a Via without a port */

/* Over TCP go the messages whose top Via says TCP, and the three framing
 * cases for which the RFC says what a stream does. */
static const struct torture_case cases[] = {
	/* RFC 4475 §3.1.1: valid messages */
	/* valid, but its To tag names a dialog this endpoint does not have:
	 * RFC 3261 §12.2.2 answers 481 (having parsed every odd header) */
	{ "rfc4475/wsinv.dat", V, {481}, {0}, false, NULL, NULL,
	  "3.1.1.1 valid; in a dialog that does not exist: 481" },
	{ "rfc4475/intmeth.dat", V, {501}, {501}, false, NULL, NULL,
	  "3.1.1.2 valid; the method is unknown: 501" },
	{ "rfc4475/esc01.dat", V, {ACCEPTED}, {0}, false, NULL, "INVITE",
	  "3.1.1.3 valid" },
	{ "rfc4475/escnull.dat", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "3.1.1.4 valid" },
	{ "rfc4475/esc02.dat", V, {501}, {501}, false, NULL, NULL,
	  "3.1.1.5 valid; RE%47IST%45R is an unknown method, not REGISTER: 501" },
	{ "rfc4475/lwsdisp.dat", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "3.1.1.6 accept as well formed" },
	{ "rfc4475/longreq.dat", V, {ACCEPTED}, {ACCEPTED}, false, NULL, "INVITE",
	  "3.1.1.7 valid" },
	{ "rfc4475/dblreq.dat", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "3.1.1.8 valid REGISTER; the INVITE after it is ignored" },
	{ "rfc4475/semiuri.dat", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "3.1.1.9 valid" },
	{ "rfc4475/transports.dat", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "3.1.1.10 valid" },
	{ "rfc4475/mpart01.dat", 5070, {ACCEPTED}, {0}, false, NULL, "MESSAGE",
	  "3.1.1.11 valid" },
	{ "rfc4475/unreason.dat", V, {DROPPED}, {0}, false, NULL, NULL,
	  "3.1.1.12 valid response, matches no transaction: dropped" },
	{ "rfc4475/noreason.dat", V, {DROPPED}, {0}, false, NULL, NULL,
	  "3.1.1.13 valid response, matches no transaction: dropped" },

	/* §3.1.2: invalid messages */
	{ "rfc4475/badinv01.dat", V, {400}, {0}, false, NULL, NULL, "3.1.2.1 400" },
	{ "rfc4475/clerr.dat", V, {400}, {WAIT_CLOSE}, false, NULL, NULL,
	  "3.1.2.2 UDP 400; TCP wait for more data, then close" },
	{ "rfc4475/ncl.dat", V, {400}, {CLOSED, 400}, true, NULL, NULL,
	  "3.1.2.3 an error; TCP close the connection" },
	{ "rfc4475/scalar02.dat", V, {400}, {400}, false, NULL, NULL,
	  "3.1.2.4 400 (CSeq)" },
	{ "rfc4475/scalarlg.dat", V, {DROPPED}, {DROPPED}, false, NULL, NULL,
	  "3.1.2.5 invalid response: discard" },
	{ "rfc4475/quotbal.dat", 5050, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.6 400, or infer the quote" },
	{ "rfc4475/ltgtruri.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.7 400, or ignore the <>" },
	{ "rfc4475/lwsruri.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.8 400, or ignore the LWS" },
	{ "rfc4475/lwsstart.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.9 reject, or ignore the extra SP" },
	{ "rfc4475/trws.dat", V, {400, ACCEPTED}, {400, ACCEPTED}, false, NULL, NULL,
	  "3.1.2.10 reject, or ignore the trailing SP" },
	{ "rfc4475/escruri.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.11 400, or ignore the headers" },
	{ "rfc4475/baddate.dat", V, {ACCEPTED}, {0}, false, NULL, "INVITE",
	  "3.1.2.12 the Date does not matter to an endpoint: ignore it" },
	{ "rfc4475/regbadct.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.13 400, or infer the <>" },
	{ "rfc4475/badaspec.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.14 400, or ignore the spaces" },
	{ "rfc4475/baddn.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.1.2.15 400, or infer the quotes" },
	{ "rfc4475/badvers.dat", V, {505}, {0}, false, NULL, NULL, "3.1.2.16 505" },
	{ "rfc4475/mismatch01.dat", V, {400}, {0}, false, NULL, NULL, "3.1.2.17 400" },
	{ "rfc4475/mismatch02.dat", V, {501, 400}, {0}, false, NULL, NULL,
	  "3.1.2.18 501 preferred, 400 acceptable" },
	{ "rfc4475/bigcode.dat", V, {DROPPED}, {0}, false, NULL, NULL,
	  "3.1.2.19 invalid response: drop" },

	/* §3.2, §3.3, §3.4 */
	{ "rfc4475/badbranch.dat", V, {400, ACCEPTED}, {0}, false, NULL, NULL,
	  "3.2.1 400, or RFC 2543 matching" },
	{ "rfc4475/insuf.dat", V, {400}, {0}, false, NULL, NULL, "3.3.1 ideally 400" },
	{ "rfc4475/unkscm.dat", V, {416}, {416}, false, NULL, NULL, "3.3.2 416" },
	{ "rfc4475/novelsc.dat", V, {416, 404}, {416, 404}, false, NULL, NULL,
	  "3.3.3 416 (or 404)" },
	/* parses; the 400 is a registrar's: this application is none */
	{ "rfc4475/unksm2.dat", 5060, {ACCEPTED, 400}, {0}, false, NULL, NULL,
	  "3.3.4 parses; a registrar answers 400" },
	{ "rfc4475/bext01.dat", V, {420}, {0}, false, "Unsupported: nothingSupportsThis, nothingSupportsThisEither",
	  NULL, "3.3.5 420 with Unsupported listing the Require tokens" },
	{ "rfc4475/invut.dat", V, {415}, {0}, false, "Accept:", NULL, "3.3.6 415" },
	{ "rfc4475/regaut01.dat", V, {ACCEPTED, 401}, {ACCEPTED, 401}, false, NULL, NULL,
	  "3.3.7 a registrar ignores the header or answers 401" },
	{ "rfc4475/multi01.dat", V, {400}, {0}, false, NULL, NULL, "3.3.8 400" },
	{ "rfc4475/mcl01.dat", V, {400}, {CLOSED, 400}, true, NULL, NULL,
	  "3.3.9 an error; TCP close the connection" },
	{ "rfc4475/bcast.dat", V, {DROPPED}, {0}, false, NULL, NULL,
	  "3.3.10 an endpoint discards it" },
	{ "rfc4475/zeromf.dat", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "3.3.11 an endpoint processes it normally" },
	{ "rfc4475/cparam01.dat", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "3.3.12 the REGISTER succeeds" },
	{ "rfc4475/cparam02.dat", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "3.3.13 the REGISTER succeeds" },
	{ "rfc4475/regescrt.dat", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "3.3.14 the REGISTER succeeds" },
	{ "rfc4475/sdp01.dat", V, {406, 400}, {0}, false, NULL, NULL,
	  "3.3.15 406 Not Acceptable (or 400): it accepts no SDP answer" },
	{ "rfc4475/inv2543.dat", V, {ACCEPTED}, {0}, false, NULL, "INVITE",
	  "3.4.1 accept for backward compatibility" },
	/* no SIP-Version, no Via: nobody to answer */
	{ "rfc4475/test.dat", V, {DROPPED, 400}, {0}, false, NULL, NULL,
	  "not in the RFC; no Via, no version" },

	/* RFC 5118 (converted to wire form in memory, see SOURCE.md) */
	{ "rfc5118/ipv6-good", V, {ACCEPTED}, {0}, false, NULL, "REGISTER", "4.1 valid" },
	{ "rfc5118/ipv6-bad", V, {400}, {0}, false, NULL, NULL,
	  "4.2 Request-URI sip:2001:db8::10 has no brackets: 400" },
	{ "rfc5118/port-ambiguous", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "4.3 well formed" },
	{ "rfc5118/port-unambiguous", V, {ACCEPTED}, {0}, false, NULL, "REGISTER",
	  "4.4 valid" },
	/* a BYE: parses; this application handles no BYE (405), none matches a
	 * dialog (481) */
	{ "rfc5118/via-received-param-with-delim", V, {405, 481}, {0}, false, NULL, NULL,
	  "4.5 must parse" },
	{ "rfc5118/via-received-param-no-delim", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "4.5 must parse" },
	{ "rfc5118/ipv6-in-sdp", V, {ACCEPTED}, {0}, false, NULL, "INVITE", "4.6 valid" },
	{ "rfc5118/mult-ip-in-header", 6050, {405, 481}, {0}, false, NULL, NULL,
	  "4.7 valid (a BYE)" },
	{ "rfc5118/mult-ip-in-sdp", V, {ACCEPTED}, {0}, false, NULL, "INVITE", "4.8 valid" },
	{ "rfc5118/ipv4-mapped-ipv6", 19823, {ACCEPTED}, {0}, false, NULL, "INVITE",
	  "4.9 must parse" },
	{ "rfc5118/ipv6-bug-abnf-3-colons", V, {ACCEPTED, 400}, {0}, false, NULL, NULL,
	  "4.10 tolerate (RFC 5954 lets it be rejected)" },
	{ "rfc5118/ipv6-correct-abnf-2-colons", V, {ACCEPTED}, {0}, false, NULL, "OPTIONS",
	  "4.10 valid" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* How long to wait for silence, and (clerr over TCP) how long after the
 * bytes went out the endpoint may keep a connection with half a message
 * before it closes it: the endpoint's limit (partial_ms, 64*T1 by default,
 * shortened here so the suite stays quick) and a margin. */
static uint64_t wait_ms = 500;
static uint32_t partial_ms = 1500;
static uint64_t idle_ms = 3000;

struct harness {
	uv_loop_t uv;
	struct sip_loop loop;
};

static struct harness H;

/* One message sent once: the endpoint, the client and what each saw. */
struct run {
	struct sip_ua *ua;
	uv_timer_t timer;
	bool timeout;
	/* the application */
	unsigned app_count;
	char app_method[64];
	/* what the endpoint sent (its trace), for the failure text */
	unsigned sent_count;
	char sent_to[64];
	/* the client */
	uv_udp_t udp;
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	bool connected, closed;
	int connect_err;
	char *rbuf;
	size_t rlen, rcap;
	unsigned provisional;
	int final;
	char *answer;              /* the first final answer (malloc) */
};

/* ---- the application ---- */

static const char *const app_methods[] = { "INVITE", "REGISTER", "OPTIONS", "MESSAGE", NULL };

static bool app_handles(void *arg, const char *method)
{
	for (int i = 0; app_methods[i]; i++)
		if (strcmp(app_methods[i], method) == 0)
			return true;
	return false;
}

static void app_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct run *r = arg;
	if (r->app_count++ == 0)
		snprintf(r->app_method, sizeof(r->app_method), "%s", req->method);
	sip_strans_reply(st, 200, NULL, NULL, NULL, 0);
}

static void app_trace(void *arg, bool out, enum sip_proto proto, const union sa *peer,
		      const char *buf, size_t len)
{
	struct run *r = arg;
	if (!out)
		return;
	r->sent_count++;
	char hp[64];
	snprintf(r->sent_to, sizeof(r->sent_to), "%s %s", sip_proto_name(proto),
		 sa_hostport(peer, hp, sizeof(hp)));
}

static const struct sip_ua_handlers app_handlers = {
	.request = app_request,
	.handles = app_handles,
	.trace = app_trace,
};

/* ---- answers as the client reads them ---- */

static void got_answer(struct run *r, const char *buf, size_t len)
{
	if (len < 12 || strncmp(buf, "SIP/2.0 ", 8) != 0)
		return;
	int status = atoi(buf + 8);
	if (status < 200) {
		r->provisional++;
		return;
	}
	if (r->final)
		return;
	r->final = status;
	r->answer = malloc(len + 1);
	if (r->answer) {
		memcpy(r->answer, buf, len);
		r->answer[len] = '\0';
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct run *r = h->data;
	if (r->rcap - r->rlen < 4096) {
		size_t cap = r->rcap ? r->rcap * 2 : 16384;
		char *p = realloc(r->rbuf, cap);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		r->rbuf = p;
		r->rcap = cap;
	}
	*buf = uv_buf_init(r->rbuf + r->rlen, (unsigned)(r->rcap - r->rlen));
}

static void on_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	if (n > 0)
		got_answer(h->data, buf->base, (size_t)n);
}

/* The length of the first whole answer in a stream, 0 if it is not all in. */
static size_t stream_answer_len(const char *buf, size_t len)
{
	const char *end = NULL;
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 4;
			break;
		}
	if (!end)
		return 0;
	size_t hdr = (size_t)(end - buf);
	size_t cl = 0;
	for (const char *p = buf; p < end; p++) {
		if ((p == buf || p[-1] == '\n') &&
		    strncasecmp(p, "Content-Length:", 15) == 0) {
			cl = strtoul(p + 15, NULL, 10);
			break;
		}
	}
	return hdr + cl <= len ? hdr + cl : 0;
}

static void on_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct run *r = s->data;
	if (n < 0) {
		r->closed = true;  /* EOF or reset: the endpoint closed it */
		uv_read_stop(s);
		return;
	}
	r->rlen += (size_t)n;
	size_t off = 0, len;
	while ((len = stream_answer_len(r->rbuf + off, r->rlen - off)) > 0) {
		got_answer(r, r->rbuf + off, len);
		off += len;
	}
	memmove(r->rbuf, r->rbuf + off, r->rlen - off);
	r->rlen -= off;
}

static void on_written(uv_write_t *w, int status)
{
}

/* ---- running the loop ---- */

static void on_timeout(uv_timer_t *t)
{
	struct run *r = t->data;
	r->timeout = true;
}

/* Runs the loop until an answer (and with want_close the end of the
 * connection too), a closed connection, or ms milliseconds. */
static void run_until(struct run *r, uint64_t ms, bool want_close)
{
	r->timeout = false;
	uv_timer_start(&r->timer, on_timeout, ms, 0);
	while (!r->timeout) {
		if (r->closed || r->connect_err)
			break;
		if (r->final && !want_close)
			break;
		uv_run(&H.uv, UV_RUN_ONCE);
	}
	uv_timer_stop(&r->timer);
}

static void on_connect(uv_connect_t *c, int status)
{
	struct run *r = c->data;
	if (status < 0) {
		r->connect_err = status;
		return;
	}
	r->connected = true;
}

/* ---- wire form ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)n;
	return buf;
}

/* RFC 5118's archive bytes to wire bytes, as its SOURCE.md says: LF to
 * CRLF, the missing empty line added, and Content-Length recomputed for
 * a body. Nothing else changes. */
static char *wire_form(const char *raw, size_t n, size_t *len)
{
	size_t cap = 2 * n + 64;
	char *crlf = malloc(cap);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			crlf[k++] = '\r';
		crlf[k++] = raw[i];
	}
	const char *end = NULL;
	for (size_t i = 0; i + 3 < k; i++)
		if (memcmp(crlf + i, "\r\n\r\n", 4) == 0) {
			end = crlf + i + 4;
			break;
		}
	if (!end) {  /* the §4.10 files: headers never ended */
		if (k < 2 || memcmp(crlf + k - 2, "\r\n", 2) != 0) {
			crlf[k++] = '\r';
			crlf[k++] = '\n';
		}
		crlf[k++] = '\r';
		crlf[k++] = '\n';
		*len = k;
		return crlf;
	}
	size_t hdr = (size_t)(end - crlf), body = k - hdr;
	if (body == 0) {
		*len = k;
		return crlf;
	}
	char *out = malloc(k + 32);
	size_t o = 0;
	for (size_t p = 0; p < hdr;) {
		const char *nl = memchr(crlf + p, '\n', hdr - p);
		size_t line = (size_t)(nl - crlf) + 1 - p;
		if (strncasecmp(crlf + p, "Content-Length:", 15) == 0) {
			o += (size_t)sprintf(out + o, "Content-Length: %zu\r\n", body);
		} else {
			memcpy(out + o, crlf + p, line);
			o += line;
		}
		p += line;
	}
	memcpy(out + o, end, body);
	o += body;
	free(crlf);
	*len = o;
	return out;
}

static char *load_case(const struct torture_case *c, size_t *len)
{
	char path[512];
	const char *dir = getenv("TORTURE_DATA");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", c->file);
	size_t n = 0;
	char *raw = read_file(path, &n);
	if (!raw || strncmp(c->file, "rfc5118/", 8) != 0) {
		*len = n;
		return raw;
	}
	char *wire = wire_form(raw, n, len);
	free(raw);
	return wire;
}

/* ---- one send ---- */

static const char *outcome_name(int o, char *buf, size_t size)
{
	switch (o) {
	case ACCEPTED: return "accepted";
	case DROPPED: return "dropped";
	case CLOSED: return "closed";
	case WAIT_CLOSE: return "wait-then-close";
	case APP_NO_ANSWER: return "reached the application, no answer came back";
	}
	snprintf(buf, size, "%d", o);
	return buf;
}

static void outcomes_text(const int *list, char *buf, size_t size)
{
	size_t n = 0;
	char tmp[16];
	buf[0] = '\0';
	for (int i = 0; i < MAX_OUTCOMES && list[i] && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " or " : "",
				      outcome_name(list[i], tmp, sizeof(tmp)));
}

static bool allowed(const int *list, int o)
{
	for (int i = 0; i < MAX_OUTCOMES && list[i]; i++)
		if (list[i] == o)
			return true;
	return false;
}

static bool has_outcome(const int *list, int o)
{
	return allowed(list, o);
}

/* Silence is waited for wait_ms; an answer is awaited longer, since the
 * wait ends when it comes. */
static uint64_t answer_wait(const int *want)
{
	return has_outcome(want, DROPPED) ? wait_ms : 4 * wait_ms;
}

static void on_closed(uv_handle_t *h)
{
}

static int run_setup(struct run *r)
{
	memset(r, 0, sizeof(*r));
	int err = sip_ua_alloc(&r->ua, &H.loop, "sip:torture@127.0.0.1", &app_handlers, r);
	if (err)
		return err;
	r->ua->limits.partial_ms = partial_ms;
	union sa any;
	sa_set(&any, "127.0.0.1", 0);
	err = sip_ua_listen(r->ua, SIP_UDP, &any);
	if (!err)
		err = sip_ua_listen(r->ua, SIP_TCP, &any);
	uv_timer_init(&H.uv, &r->timer);
	r->timer.data = r;
	return err;
}

static void run_teardown(struct run *r)
{
	if (!uv_is_closing((uv_handle_t *)&r->timer))
		uv_close((uv_handle_t *)&r->timer, on_closed);
	if (r->udp.data)
		uv_close((uv_handle_t *)&r->udp, on_closed);
	if (r->tcp.data)
		uv_close((uv_handle_t *)&r->tcp, on_closed);
	if (r->ua) {
		sip_ua_close(r->ua);
		mem_deref(r->ua);
	}
	/* every handle of this run closes; the loop's own are unreferenced */
	uv_run(&H.uv, UV_RUN_DEFAULT);
	free(r->rbuf);
	free(r->answer);
}

static int classify(const struct run *r)
{
	if (r->final >= 200 && r->final < 300)
		return ACCEPTED;
	if (r->final)
		return r->final;
	if (r->app_count)
		return APP_NO_ANSWER;
	if (r->closed)
		return CLOSED;
	return DROPPED;
}

/* Sends buf to a fresh endpoint; returns true when the outcome is allowed,
 * else false with why in err. */
static bool send_one(const struct torture_case *c, bool tcp, const char *buf, size_t len,
		     char *err, size_t errsize)
{
	struct run r;
	const int *want = tcp ? c->tcp : c->udp;
	char wants[128], tmp[16];
	outcomes_text(want, wants, sizeof(wants));
	bool ok = true;
	int got = 0;
	const char *extra = "";

	if (run_setup(&r) != 0) {
		snprintf(err, errsize, "endpoint set-up failed");
		run_teardown(&r);
		return false;
	}
	struct sip_transport *tp = sip_ua_transport(r.ua, tcp ? SIP_TCP : SIP_UDP, AF_INET);

	if (!tcp) {
		union sa local;
		sa_set(&local, "127.0.0.1", c->via_port);
		uv_udp_init(&H.uv, &r.udp);
		r.udp.data = &r;
		int e = uv_udp_bind(&r.udp, &local.sa, UV_UDP_REUSEADDR);
		if (!e)
			e = uv_udp_recv_start(&r.udp, on_alloc, on_udp_recv);
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
		if (!e)
			e = uv_udp_try_send(&r.udp, &b, 1, &tp->addr.sa);
		if (e < 0) {
			snprintf(err, errsize, "UDP client on port %u: %s", c->via_port,
				 uv_strerror(e));
			run_teardown(&r);
			return false;
		}
		run_until(&r, answer_wait(want), false);
	} else {
		uv_tcp_init(&H.uv, &r.tcp);
		r.tcp.data = &r;
		r.connect.data = &r;
		uv_tcp_connect(&r.connect, &r.tcp, &tp->addr.sa, on_connect);
		while (!r.connected && !r.connect_err)
			uv_run(&H.uv, UV_RUN_ONCE);
		if (r.connect_err) {
			snprintf(err, errsize, "TCP connect: %s", uv_strerror(r.connect_err));
			run_teardown(&r);
			return false;
		}
		uv_read_start((uv_stream_t *)&r.tcp, on_alloc, on_tcp_read);
		uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
		uv_write(&r.write, (uv_stream_t *)&r.tcp, &b, 1, on_written);
		if (has_outcome(want, WAIT_CLOSE)) {
			/* it must wait for the rest of the message ... */
			run_until(&r, wait_ms, false);
			got = classify(&r);
			if (got == DROPPED) {
				/* ... and give up on it in reasonable time */
				run_until(&r, idle_ms > wait_ms ? idle_ms - wait_ms : 1, true);
				got = classify(&r);
				if (got == CLOSED)
					got = WAIT_CLOSE;
				else if (got == DROPPED)
					extra = "; the connection was still open after the wait";
			} else if (got == CLOSED) {
				extra = "; closed at once instead of waiting for more data";
			}
		} else {
			run_until(&r, answer_wait(want), c->tcp_must_close);
		}
	}
	if (!got)
		got = classify(&r);

	if (!allowed(want, got)) {
		ok = false;
	} else if (tcp && c->tcp_must_close && !r.closed) {
		ok = false;
		extra = "; the connection stayed open";
	} else if (got == ACCEPTED && r.app_count && c->app_method &&
		   (r.app_count != 1 || strcmp(r.app_method, c->app_method) != 0)) {
		ok = false;
		extra = "; the application saw the wrong request(s)";
	} else if (c->answer_has && r.answer && !strstr(r.answer, c->answer_has)) {
		ok = false;
		extra = "; the answer lacks the header it needs";
	}
	if (!ok) {
		snprintf(err, errsize,
			 "%s: got %s%s, RFC expects %s (%s); app saw %u (%s), endpoint sent %u, last to %s%s%s",
			 tcp ? "TCP" : "UDP", outcome_name(got, tmp, sizeof(tmp)), extra, wants,
			 c->rfc, r.app_count, r.app_method, r.sent_count,
			 r.sent_count ? r.sent_to : "-", r.answer ? "\n--- answer:\n" : "",
			 r.answer ? r.answer : "");
	}
	if (getenv("TORTURE_VERBOSE"))
		printf("RESULT %s %s %s\n", c->file, tcp ? "tcp" : "udp",
		       outcome_name(got, tmp, sizeof(tmp)));
	run_teardown(&r);
	return ok;
}

static void test_case(void **state)
{
	const struct torture_case *c = *state;
	size_t len;
	char *buf = load_case(c, &len);
	if (!buf)
		fail_msg("cannot read tests/data/%s", c->file);
	char err_udp[4096] = "", err_tcp[4096] = "";
	bool ok = send_one(c, false, buf, len, err_udp, sizeof(err_udp));
	if (c->tcp[0])
		ok &= send_one(c, true, buf, len, err_tcp, sizeof(err_tcp));
	free(buf);
	if (!ok)
		fail_msg("%s%s%s", err_udp, *err_udp && *err_tcp ? "\n" : "", err_tcp);
}

/* libosip2 logs every parse error it meets. */
static void osip_quiet(const char *file, int line, osip_trace_level_t level, const char *fmt,
		       va_list ap)
{
}

static int group_setup(void **state)
{
	parser_init();  /* libosip2's header tables; the Lua module does this in luaopen */
	osip_trace_initialize_func(OSIP_FATAL, osip_quiet);  /* its chatter on stdout */
	if (uv_loop_init(&H.uv) != 0)
		return -1;
	return sip_loop_init(&H.loop, &H.uv);
}

static int group_teardown(void **state)
{
	sip_loop_close(&H.loop);
	uv_run(&H.uv, UV_RUN_DEFAULT);
	return uv_loop_close(&H.uv) == 0 ? 0 : -1;
}

static uint64_t env_ms(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

int main(void)
{
	struct CMUnitTest tests[NCASES];
	wait_ms = env_ms("TORTURE_WAIT_MS", wait_ms);
	idle_ms = env_ms("TORTURE_TCP_IDLE_MS", idle_ms);
	for (size_t i = 0; i < NCASES; i++) {
		const char *slash = strrchr(cases[i].file, '/');
		tests[i] = (struct CMUnitTest){
			.name = slash ? slash + 1 : cases[i].file,
			.test_func = test_case,
			.initial_state = (void *)&cases[i],
		};
	}
	return _cmocka_run_group_tests("torture", tests, NCASES, group_setup, group_teardown);
}
