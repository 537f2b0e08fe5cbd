/* Message parsing and validation (RFC 3261 §7, §18.3, §8.2.6; RFC 4475),
 * response composition, and the timer heap everything else runs on. */
#include "fake.h"

#include "util/mem.h"
#include "util/tmr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct sip_msg *decode(const char *text, bool stream)
{
	return sip_msg_decode(text, strlen(text), stream);
}

/* A torture message from tests/data/rfc4475 (run from the repository root). */
static char *load(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/rfc4475/%s", name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s (run from the repository root)", path);
	char *buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65535, fp);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

static struct sip_msg *decode_file(const char *name)
{
	size_t len;
	char *buf = load(name, &len);
	struct sip_msg *m = sip_msg_decode(buf, len, false);
	free(buf);
	return m;
}

static char *hdr(const struct sip_msg *m, const char *name, unsigned idx)
{
	static char buf[1024];
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, idx, &h))
		return NULL;
	assert_true(h.value_len < sizeof(buf));
	sip_hdr_unfold(&h, buf);
	return buf;
}

/* The raw value, as the octets on the wire. */
static char *raw_hdr(const struct sip_msg *m, const char *name, unsigned idx)
{
	static char buf[1024];
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, idx, &h))
		return NULL;
	assert_true(h.value_len < sizeof(buf));
	memcpy(buf, h.value, h.value_len);
	buf[h.value_len] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* parsing                                                                  */

static void test_decode_request(void **state)
{
	const char *text =
		"INVITE sip:carol@example.com;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKabc;rport;received=192.0.2.1\r\n"
		"Max-Forwards: 69\r\n"
		"From: \"Bob\" <sip:bob@example.org>;tag=ft\r\n"
		"To: <sip:carol@example.com>\r\n"
		"Call-ID: abc@host\r\n"
		"CSeq: 42 INVITE\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 5\r\n"
		"\r\n"
		"hello";
	struct sip_msg *m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_true(m->request);
	assert_string_equal(m->method, "INVITE");
	assert_string_equal(m->ruri, "sip:carol@example.com;transport=udp");
	assert_non_null(m->ruri_parsed);
	assert_string_equal(m->ruri_parsed->host, "example.com");
	assert_int_equal(m->via.proto, SIP_UDP);
	assert_string_equal(m->via.host, "2001:db8::9");
	assert_int_equal(m->via.port, 5070);
	assert_string_equal(m->via.branch, "z9hG4bKabc");
	assert_true(m->via.rport);
	assert_int_equal(m->via.rport_value, 0);
	assert_string_equal(m->via.received, "192.0.2.1");
	assert_string_equal(m->call_id, "abc@host");
	assert_int_equal(m->cseq, 42);
	assert_string_equal(m->cseq_method, "INVITE");
	assert_string_equal(m->from_tag, "ft");
	assert_null(m->to_tag);
	assert_int_equal(m->max_forwards, 69);
	assert_int_equal(m->body_len, 5);
	assert_memory_equal(m->body, "hello", 5);
	assert_int_equal(m->hdr_len, strlen(text) - 5);
	assert_int_equal(m->len, strlen(text));
	mem_deref(m);
}

static void test_decode_response(void **state)
{
	const char *text =
		"SIP/2.0 180 Ringing Now\r\n"
		"Via: SIP/2.0/TCP 192.0.2.4:5061;branch=z9hG4bKresp\r\n"
		"From: <sip:bob@example.org>;tag=ft\r\n"
		"To: <sip:carol@example.com>;tag=tt\r\n"
		"Call-ID: resp@host\r\n"
		"CSeq: 9 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_msg *m = decode(text, true);
	assert_non_null(m);
	assert_false(m->request);
	assert_int_equal(m->status, 180);
	assert_string_equal(m->reason, "Ringing Now");
	assert_string_equal(m->method, "INVITE");  /* the CSeq method */
	assert_int_equal(m->via.proto, SIP_TCP);
	assert_int_equal(m->via.port, 5061);
	assert_string_equal(m->via.branch, "z9hG4bKresp");
	assert_string_equal(m->to_tag, "tt");
	assert_int_equal(m->max_forwards, -1);
	assert_int_equal(m->body_len, 0);
	mem_deref(m);
}

static void test_header_folding(void **state)
{
	const char *text =
		"OPTIONS sip:carol@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKfold\r\n"
		"From: <sip:bob@example.org>\r\n"
		"   ;tag=folded\r\n"
		"To: <sip:carol@example.com>\r\n"
		"Call-ID: fold@host\r\n"
		"CSeq: 1\r\n"
		"\tOPTIONS\r\n"
		"Subject: first line\r\n"
		" \t second line  \r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_msg *m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_string_equal(m->from_tag, "folded");
	assert_int_equal(m->cseq, 1);
	assert_string_equal(m->cseq_method, "OPTIONS");
	assert_string_equal(hdr(m, "Subject", 0), "first line second line");
	assert_int_equal(sip_msg_hdr_count(m, "Subject"), 1);
	assert_int_equal(sip_msg_hdr_count(m, "From"), 1);
	mem_deref(m);

	/* RFC 4475 §3.1.1.1: a valid message with folding and odd whitespace */
	m = decode_file("wsinv.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_string_equal(m->method, "INVITE");
	assert_string_equal(m->to_tag, "1918181833n");
	assert_string_equal(m->from_tag, "98asjd8");
	assert_int_equal(m->cseq, 9);
	assert_string_equal(m->cseq_method, "INVITE");
	assert_int_equal(m->max_forwards, 68);
	assert_string_equal(m->call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_string_equal(m->via.host, "192.0.2.2");
	assert_string_equal(m->via.branch, "390skdjuw");
	assert_int_equal(m->via.proto, SIP_UDP);
	assert_int_equal(m->body_len, 150);
	assert_string_equal(hdr(m, "NewFangledHeader", 0),
			    "newfangled value continued newfangled value");
	assert_int_equal(sip_msg_hdr_count(m, "Via"), 2);  /* "Via" and "v" */
	mem_deref(m);
}

static void test_compact_forms(void **state)
{
	const char *text =
		"OPTIONS sip:carol@example.com SIP/2.0\r\n"
		"v: SIP/2.0/TCP 192.0.2.4:5060;branch=z9hG4bKcompact\r\n"
		"f: <sip:bob@example.org>;tag=ff\r\n"
		"t: <sip:carol@example.com>;tag=tt\r\n"
		"i: compact@host\r\n"
		"CSeq: 3 OPTIONS\r\n"
		"m: <sip:bob@192.0.2.4>\r\n"
		"l: 4\r\n"
		"\r\n"
		"bodyEXTRA";
	struct sip_msg *m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_int_equal(m->via.proto, SIP_TCP);
	assert_string_equal(m->via.branch, "z9hG4bKcompact");
	assert_string_equal(m->from_tag, "ff");
	assert_string_equal(m->to_tag, "tt");
	assert_string_equal(m->call_id, "compact@host");
	assert_string_equal(hdr(m, "Contact", 0), "<sip:bob@192.0.2.4>");
	assert_string_equal(hdr(m, "Content-Length", 0), "4");
	assert_string_equal(hdr(m, "l", 0), "4");
	assert_int_equal(sip_msg_hdr_count(m, "Via"), 1);
	assert_int_equal(m->body_len, 4);  /* l: frames the datagram */
	assert_memory_equal(m->body, "body", 4);

	/* and both ways round in sip_hdr_is */
	struct sip_hdr h = { .name = "i", .name_len = 1 };
	assert_true(sip_hdr_is(&h, "Call-ID"));
	assert_true(sip_hdr_is(&h, "call-id"));
	assert_false(sip_hdr_is(&h, "Contact"));
	h = (struct sip_hdr){ .name = "Content-Type", .name_len = 12 };
	assert_true(sip_hdr_is(&h, "c"));
	assert_false(sip_hdr_is(&h, "l"));
	mem_deref(m);
}

static void test_datagram_framing(void **state)
{
	static const char head[] =
		"MESSAGE sip:carol@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKdg\r\n"
		"From: <sip:bob@example.org>;tag=ft\r\n"
		"To: <sip:carol@example.com>\r\n"
		"Call-ID: dg@host\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Max-Forwards: 70\r\n";
	char text[1024];

	/* extra octets after Content-Length are not part of the message */
	snprintf(text, sizeof(text), "%sContent-Length: 3\r\n\r\nabcJUNK\r\n", head);
	struct sip_msg *m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_int_equal(m->body_len, 3);
	assert_memory_equal(m->body, "abc", 3);
	assert_int_equal(m->len, strlen(text) - strlen("JUNK\r\n"));
	assert_int_equal(strlen(m->buf), m->len);
	mem_deref(m);

	/* no Content-Length on a datagram: the body runs to the end */
	snprintf(text, sizeof(text), "%s\r\nabcdef", head);
	m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_int_equal(m->body_len, 6);
	mem_deref(m);

	/* but a stream needs one */
	m = decode(text, true);
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* a datagram shorter than Content-Length says (RFC 4475 §3.1.2.1) */
	snprintf(text, sizeof(text), "%sContent-Length: 10\r\n\r\nabc", head);
	m = decode(text, false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* malformed, or given twice with two values */
	snprintf(text, sizeof(text), "%sContent-Length: 3x\r\n\r\nabc", head);
	m = decode(text, false);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);
	snprintf(text, sizeof(text), "%sContent-Length: 3\r\nl: 2\r\n\r\nabc", head);
	m = decode(text, false);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* RFC 4475: clerr (too large), ncl (negative) */
	m = decode_file("clerr.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);
	m = decode_file("ncl.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* RFC 4475 §3.1.2.17 dblreq: a REGISTER and then an INVITE in one
	 * datagram; only the REGISTER is the message */
	m = decode_file("dblreq.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_string_equal(m->method, "REGISTER");
	assert_int_equal(m->body_len, 0);
	assert_null(strstr(m->buf, "INVITE"));
	mem_deref(m);

	/* a response that is too short is dropped, not answered */
	m = decode("SIP/2.0 200 OK\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKr\r\n"
		   "From: <sip:bob@example.org>;tag=ft\r\n"
		   "To: <sip:carol@example.com>;tag=tt\r\n"
		   "Call-ID: r@host\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 50\r\n\r\nabc", false);
	assert_null(m);

	/* keep-alive CRLFs before a datagram are skipped */
	snprintf(text, sizeof(text), "\r\n\r\n%sContent-Length: 0\r\n\r\n", head);
	m = decode(text, false);
	assert_non_null(m);
	assert_string_equal(m->method, "MESSAGE");
	mem_deref(m);
}

static void test_stream_framing(void **state)
{
	static const char msg[] =
		"MESSAGE sip:carol@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKst\r\n"
		"From: <sip:bob@example.org>;tag=ft\r\n"
		"To: <sip:carol@example.com>\r\n"
		"Call-ID: st@host\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"l: 11\r\n"
		"\r\n"
		"hello world";
	const size_t n = strlen(msg);
	char buf[4096];

	assert_int_equal(sip_frame(msg, n, 65536), (long)n);
	/* every partial prefix asks for more */
	for (size_t i = 0; i < n; i++)
		if (sip_frame(msg, i, 65536) != 0)
			fail_msg("prefix of %zu bytes framed as %ld", i, sip_frame(msg, i, 65536));
	/* two messages back to back: the first one */
	snprintf(buf, sizeof(buf), "%s%s", msg, msg);
	assert_int_equal(sip_frame(buf, 2 * n, 65536), (long)n);
	/* keep-alives: alone they are consumed, before a message they count */
	assert_int_equal(sip_frame("\r\n\r\n", 4, 65536), 4);
	assert_int_equal(sip_frame("\r\n", 2, 65536), 2);
	snprintf(buf, sizeof(buf), "\r\n\r\n%s", msg);
	assert_int_equal(sip_frame(buf, n + 4, 65536), (long)(n + 4));
	assert_int_equal(sip_frame(buf, n + 3, 65536), 0);
	assert_int_equal(sip_frame(buf, 10, 65536), 0);
	/* the framed bytes decode to the message */
	struct sip_msg *m = sip_msg_decode(buf, n + 4, true);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_int_equal(m->body_len, 11);
	mem_deref(m);

	/* no Content-Length: the stream cannot be framed */
	static const char nocl[] = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n\r\n";
	assert_int_equal(sip_frame(nocl, strlen(nocl), 65536), -1);
	/* a bad one neither */
	static const char badcl[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
	assert_int_equal(sip_frame(badcl, strlen(badcl), 65536), -1);
	/* nor two that disagree; two that agree are one */
	static const char twocl[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 2\r\n\r\nabc";
	assert_int_equal(sip_frame(twocl, strlen(twocl), 65536), -1);
	static const char samecl[] = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 3\r\n\r\nabcdef";
	assert_int_equal(sip_frame(samecl, strlen(samecl), 65536), (long)strlen(samecl) - 3);
	/* too big: headers and body over the limit, or headers without end */
	assert_int_equal(sip_frame(msg, n, n - 1), -1);
	assert_int_equal(sip_frame(msg, n, n), (long)n);
	memset(buf, 'a', 200);
	memcpy(buf, "OPTIONS sip:a@b SIP/2.0\r\nX: ", 28);
	assert_int_equal(sip_frame(buf, 200, 100), -1);
	assert_int_equal(sip_frame(buf, 99, 100), 0);
}

static void test_error_status(void **state)
{
	struct sip_msg *m;

	/* mandatory header missing */
	m = decode("OPTIONS sip:carol@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKe1\r\n"
		   "From: <sip:bob@example.org>;tag=ft\r\n"
		   "To: <sip:carol@example.com>\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n", false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	assert_non_null(m->error_reason);
	mem_deref(m);
	m = decode_file("insuf.dat");  /* RFC 4475 §3.3.1: no To, From, Call-ID */
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* CSeq method other than the Request-Line's (RFC 4475 §3.3.6) */
	m = decode_file("mismatch01.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* SIP/7.0 gets 505 (RFC 4475 §3.1.2.16) */
	m = decode_file("badvers.dat");
	assert_non_null(m);
	assert_int_equal(m->error_status, 505);
	mem_deref(m);

	/* the same headers made right are accepted */
	m = decode("OPTIONS sip:t.watson@example.org SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
		   "To: T. Watson <sip:t.watson@example.org>\r\n"
		   "Call-ID: badvers.31417@c.example.com\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "l: 0\r\n\r\n", false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	mem_deref(m);

	/* a header that may appear once, twice (RFC 4475 §3.3.8; libosip2
	 * takes two Max-Forwards without complaint) */
	m = decode("OPTIONS sip:carol@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKe2\r\n"
		   "From: <sip:bob@example.org>;tag=ft\r\n"
		   "To: <sip:carol@example.com>\r\n"
		   "Call-ID: e2@host\r\n"
		   "Max-Forwards: 70\r\n"
		   "Max-Forwards: 69\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n", false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 400);
	mem_deref(m);

	/* no Via: nobody to answer, dropped */
	m = decode("OPTIONS sip:carol@example.com SIP/2.0\r\n"
		   "From: <sip:bob@example.org>;tag=ft\r\n"
		   "To: <sip:carol@example.com>\r\n"
		   "Call-ID: e4@host\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n", false);
	assert_null(m);

	/* an invalid response is dropped, never answered */
	m = decode("SIP/2.0 200 OK\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKe5\r\n"
		   "To: <sip:carol@example.com>;tag=tt\r\n"
		   "Call-ID: e5@host\r\n"
		   "CSeq: 1 OPTIONS\r\n"
		   "Content-Length: 0\r\n\r\n", false);
	assert_null(m);

	/* too little to be anything */
	assert_null(decode("\r\n\r\nOPTI", false));
}

/* ------------------------------------------------------------------------ */
/* sip_reply_text (§8.2.6.2)                                                */

static const char reply_req[] =
	"INVITE sip:carol@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1 , SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
	"Max-Forwards: 70\r\n"
	"v: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3;received=192.0.2.33\r\n"
	"Via: SIP/2.0/TCP [2001:db8::4];branch=z9hG4bK4\r\n"
	"From: \"Bob\"    <sip:bob@example.org>;tag=ft\r\n"
	"To: <sip:carol@example.com;tag=inuri>\r\n"
	"Call-ID: reply-1@host\r\n"
	"CSeq:   7   INVITE\r\n"
	"Timestamp: 54\r\n"
	"Contact: <sip:bob@192.0.2.1>\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static struct sip_msg *reply_of(const struct sip_msg *req, int status, const char *tag,
				const char *extra, const char *body)
{
	size_t len;
	char *text = sip_reply_text(req, status, NULL, tag, extra, body,
				    body ? strlen(body) : 0, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	struct sip_msg *r = sip_msg_decode(text, len, true);
	mem_deref(text);
	assert_non_null(r);
	return r;
}

static void test_reply_copies_headers(void **state)
{
	struct sip_msg *req = decode(reply_req, false);
	assert_non_null(req);
	assert_int_equal(req->error_status, 0);
	struct sip_msg *r = reply_of(req, 180, "tt1", NULL, NULL);
	assert_int_equal(r->status, 180);
	assert_string_equal(r->reason, "Ringing");
	/* every Via line in order, byte for byte */
	assert_int_equal(sip_msg_hdr_count(r, "Via"), 3);
	for (unsigned i = 0; i < 3; i++) {
		char want[256];
		snprintf(want, sizeof(want), "%s", raw_hdr(req, "Via", i));
		assert_string_equal(raw_hdr(r, "Via", i), want);
	}
	assert_string_equal(r->via.branch, "z9hG4bK1");
	char want[256];
	snprintf(want, sizeof(want), "%s", raw_hdr(req, "From", 0));
	assert_string_equal(raw_hdr(r, "From", 0), want);
	assert_string_equal(raw_hdr(r, "Call-ID", 0), "reply-1@host");
	snprintf(want, sizeof(want), "%s", raw_hdr(req, "CSeq", 0));
	assert_string_equal(raw_hdr(r, "CSeq", 0), want);
	assert_int_equal(r->cseq, 7);
	/* a tag inside the URI is not a To tag: ours is added after it */
	assert_string_equal(r->to_tag, "tt1");
	assert_non_null(strstr(raw_hdr(r, "To", 0), "<sip:carol@example.com;tag=inuri>"));
	/* only what §8.2.6.2 lists is copied */
	assert_int_equal(sip_msg_hdr_count(r, "Contact"), 0);
	assert_int_equal(sip_msg_hdr_count(r, "Max-Forwards"), 0);
	assert_int_equal(sip_msg_hdr_count(r, "Timestamp"), 0);  /* 100 only */
	assert_int_equal(r->body_len, 0);
	assert_string_equal(hdr(r, "Content-Length", 0), "0");
	mem_deref(r);
	mem_deref(req);
}

/* The top Via as the request arrived: received when the source is not the
 * sent-by host (RFC 3261 §18.2.1), received and the rport value when rport
 * asks for them (RFC 3581 §4). The other Via values stay as they were. */
static struct sip_msg *reply_from(const char *via, const char *src_host, uint16_t src_port)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "OPTIONS sip:carol@example.com SIP/2.0\r\n"
		 "Via: %s, SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKsecond;rport\r\n"
		 "From: <sip:bob@example.org>;tag=ft\r\n"
		 "To: <sip:carol@example.com>\r\n"
		 "Call-ID: via@host\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n", via);
	struct sip_msg *req = decode(text, false);
	assert_non_null(req);
	struct sip_peer src;
	fake_peer(&src, SIP_UDP, src_host, src_port);
	sip_peer_copy(&req->src, &src);
	struct sip_msg *r = reply_of(req, 200, "t", NULL, NULL);
	mem_deref(req);
	assert_non_null(strstr(raw_hdr(r, "Via", 0),
			       ", SIP/2.0/UDP 192.0.2.8;branch=z9hG4bKsecond;rport"));
	return r;
}

static void test_reply_top_via_received_rport(void **state)
{
	struct sip_msg *r = reply_from("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKv1;rport",
				       "198.51.100.7", 6000);
	assert_string_equal(r->via.branch, "z9hG4bKv1");
	assert_true(r->via.rport);
	assert_int_equal(r->via.rport_value, 6000);
	assert_non_null(r->via.received);
	assert_string_equal(r->via.received, "198.51.100.7");
	mem_deref(r);

	/* rport asks for received even from the sent-by address */
	r = reply_from("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKv2", "192.0.2.1", 5061);
	assert_int_equal(r->via.rport_value, 5061);
	assert_string_equal(r->via.branch, "z9hG4bKv2");
	assert_non_null(r->via.received);
	assert_string_equal(r->via.received, "192.0.2.1");
	mem_deref(r);

	/* no rport: received only when the source differs */
	r = reply_from("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKv3", "192.0.2.1", 5060);
	assert_null(r->via.received);
	assert_false(r->via.rport);
	mem_deref(r);
	r = reply_from("SIP/2.0/UDP client.example.com:5060;branch=z9hG4bKv4", "192.0.2.1", 5060);
	assert_non_null(r->via.received);
	assert_string_equal(r->via.received, "192.0.2.1");
	assert_false(r->via.rport);
	mem_deref(r);
}

static void test_reply_to_tag_only_when_missing(void **state)
{
	struct sip_msg *req = decode(reply_req, false);
	assert_non_null(req);
	/* 100 Trying: no tag, and Timestamp echoed (§8.2.6.1) */
	struct sip_msg *r = reply_of(req, 100, "tt1", NULL, NULL);
	assert_null(r->to_tag);
	assert_string_equal(hdr(r, "Timestamp", 0), "54");
	mem_deref(r);
	mem_deref(req);

	/* a request inside a dialog keeps its tag, none is added */
	req = decode("BYE sip:carol@192.0.2.1 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye\r\n"
		     "From: <sip:bob@example.org>;tag=ft\r\n"
		     "To: <sip:carol@example.com> ; TAG = existing\r\n"
		     "Call-ID: reply-2@host\r\n"
		     "CSeq: 8 BYE\r\n"
		     "Content-Length: 0\r\n\r\n", false);
	assert_non_null(req);
	r = reply_of(req, 200, "tt1", NULL, NULL);
	assert_non_null(r->to_tag);
	assert_string_equal(r->to_tag, "existing");
	assert_null(strstr(raw_hdr(r, "To", 0), "tt1"));
	mem_deref(r);
	mem_deref(req);

	/* a bare addr-spec with its tag */
	req = decode("BYE sip:carol@192.0.2.1 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbye2\r\n"
		     "From: sip:bob@example.org;tag=ft\r\n"
		     "To: sip:carol@example.com;tag=bare\r\n"
		     "Call-ID: reply-3@host\r\n"
		     "CSeq: 8 BYE\r\n"
		     "Content-Length: 0\r\n\r\n", false);
	assert_non_null(req);
	r = reply_of(req, 481, "tt1", NULL, NULL);
	assert_string_equal(r->to_tag, "bare");
	assert_null(strstr(raw_hdr(r, "To", 0), "tt1"));
	mem_deref(r);
	mem_deref(req);
}

static void test_reply_extra_and_body(void **state)
{
	struct sip_msg *req = decode(reply_req, false);
	assert_non_null(req);
	struct sip_msg *r = reply_of(req, 200, "tt2",
				     "Contact: <sip:carol@192.0.2.2>\r\nContent-Type: text/plain\r\n",
				     "v=0\r\n");
	assert_int_equal(r->status, 200);
	assert_string_equal(hdr(r, "Contact", 0), "<sip:carol@192.0.2.2>");
	assert_string_equal(hdr(r, "Content-Type", 0), "text/plain");
	assert_int_equal(r->body_len, 5);
	assert_memory_equal(r->body, "v=0\r\n", 5);
	assert_string_equal(hdr(r, "Content-Length", 0), "5");
	mem_deref(r);
	/* an explicit reason phrase */
	size_t len;
	char *text = sip_reply_text(req, 486, "Gone Fishing", "t", NULL, NULL, 0, &len);
	assert_non_null(text);
	assert_memory_equal(text, "SIP/2.0 486 Gone Fishing\r\n", 26);
	mem_deref(text);
	mem_deref(req);
}

/* ------------------------------------------------------------------------ */
/* the timer heap                                                           */

#define NT 1000

struct fired {
	struct tmr t[NT];
	uint64_t delay[NT];
	bool cancelled[NT];
	int order[NT];
	size_t n;
	struct tmrq *q;
	uint64_t at[NT];
};

static struct fired *g_fired;

static void on_fire(void *arg)
{
	int i = (int)(intptr_t)arg;
	g_fired->order[g_fired->n] = i;
	g_fired->at[g_fired->n] = g_fired->q->now;
	g_fired->n++;
}

static void test_tmr_heap_order(void **state)
{
	struct tmrq q;
	struct fired *fr = calloc(1, sizeof(*fr));
	assert_non_null(fr);
	g_fired = fr;
	fr->q = &q;
	tmrq_init(&q, 1000);
	assert_int_equal(tmrq_next(&q), -1);

	uint32_t x = 12345;
	for (int i = 0; i < NT; i++) {
		x = x * 1103515245u + 12345u;
		fr->delay[i] = (x >> 16) % 500;  /* many equal deadlines */
		tmr_init(&fr->t[i]);
		assert_int_equal(tmr_start(&q, &fr->t[i], fr->delay[i], on_fire,
					   (void *)(intptr_t)i), 0);
	}
	/* cancel a third of them, scattered through the heap */
	for (int i = 1; i < NT; i += 3) {
		tmr_cancel(&fr->t[i]);
		fr->cancelled[i] = true;
		assert_false(tmr_running(&fr->t[i]));
	}
	tmr_cancel(&fr->t[1]);  /* twice is harmless */
	/* restart one running timer later: it moves */
	fr->delay[0] = 777;
	tmr_start(&q, &fr->t[0], 777, on_fire, (void *)(intptr_t)0);
	assert_int_equal(tmr_left(&fr->t[0]), 777);

	uint64_t min = UINT64_MAX;
	for (int i = 0; i < NT; i++)
		if (!fr->cancelled[i] && fr->delay[i] < min)
			min = fr->delay[i];
	assert_int_equal(tmrq_next(&q), (int64_t)min);

	/* half way: only what is due has run */
	tmrq_run(&q, 1000 + 250);
	for (size_t k = 0; k < fr->n; k++)
		assert_true(fr->delay[fr->order[k]] <= 250);
	size_t due = 0;
	for (int i = 0; i < NT; i++)
		if (!fr->cancelled[i] && fr->delay[i] <= 250)
			due++;
	assert_int_equal(fr->n, due);
	tmrq_run(&q, 1000 + 1000);

	size_t live = 0;
	for (int i = 0; i < NT; i++)
		live += !fr->cancelled[i];
	assert_int_equal(fr->n, live);
	for (size_t k = 0; k < fr->n; k++) {
		int i = fr->order[k];
		assert_false(fr->cancelled[i]);
		assert_false(tmr_running(&fr->t[i]));
		if (k > 0) {
			int p = fr->order[k - 1];
			/* deadline order; equal deadlines in start order */
			assert_true(fr->delay[p] <= fr->delay[i]);
			if (fr->delay[p] == fr->delay[i])
				assert_true(p < i);
		}
	}
	assert_int_equal(tmrq_next(&q), -1);
	tmrq_close(&q);
	free(fr);
}

struct chain {
	struct tmrq *q;
	struct tmr a, b, c;
	int fired_a, fired_b, fired_c;
};

static void chain_c(void *arg)
{
	((struct chain *)arg)->fired_c++;
}

static void chain_b(void *arg)
{
	((struct chain *)arg)->fired_b++;
}

static void chain_a(void *arg)
{
	struct chain *ch = arg;
	ch->fired_a++;
	tmr_cancel(&ch->b);                       /* due now too, never runs */
	tmr_start(ch->q, &ch->c, 0, chain_c, ch);  /* due now, next pass */
}

static void test_tmr_cancel_and_start_from_handler(void **state)
{
	struct tmrq q;
	struct chain ch = { .q = &q };
	tmrq_init(&q, 0);
	tmr_start(&q, &ch.a, 10, chain_a, &ch);
	tmr_start(&q, &ch.b, 10, chain_b, &ch);
	assert_int_equal(tmr_left(&ch.a), 10);
	tmrq_run(&q, 9);
	assert_int_equal(ch.fired_a, 0);
	assert_int_equal(tmr_left(&ch.a), 1);
	tmrq_run(&q, 10);
	assert_int_equal(ch.fired_a, 1);
	assert_int_equal(ch.fired_b, 0);
	assert_int_equal(ch.fired_c, 0);  /* a zero-delay start waits a pass */
	assert_int_equal(tmrq_next(&q), 0);
	tmrq_run(&q, 10);
	assert_int_equal(ch.fired_c, 1);
	assert_int_equal(tmrq_next(&q), -1);
	/* time never goes back */
	tmrq_run(&q, 5);
	assert_int_equal(q.now, 10);
	tmrq_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_request),
		cmocka_unit_test(test_decode_response),
		cmocka_unit_test(test_header_folding),
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_datagram_framing),
		cmocka_unit_test(test_stream_framing),
		cmocka_unit_test(test_error_status),
		cmocka_unit_test(test_reply_copies_headers),
		cmocka_unit_test(test_reply_top_via_received_rport),
		cmocka_unit_test(test_reply_to_tag_only_when_missing),
		cmocka_unit_test(test_reply_extra_and_body),
		cmocka_unit_test(test_tmr_heap_order),
		cmocka_unit_test(test_tmr_cancel_and_start_from_handler),
	};
	return cmocka_run_group_tests_name("msg", tests, fake_group_setup, NULL);
}
