/* From bytes to a checked struct sip_msg (RFC 3261 §7, §18.3; RFC 4475). */
#include "sip/msg_struct.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void msg_destroy(void *arg)
{
	struct sip_msg *m = arg;
	if (!osip_arena_holds_all(&m->arena)) {
		/* some of the trees are on the heap: osip frees what is */
		if (m->top_via)
			osip_via_free(m->top_via);
		if (m->from)
			osip_from_free(m->from);
		if (m->to)
			osip_to_free(m->to);
		if (m->content_type)
			osip_content_type_free(m->content_type);
		if (m->lazy)
			osip_message_free(m->lazy);
		if (m->contact)
			osip_contact_free(m->contact);
		if (m->ruri_parsed)
			osip_uri_free(m->ruri_parsed);
	}
	osip_arena_release(&m->arena);
	mem_deref(m->buf);
	mem_deref(m->method);
	mem_deref(m->ruri);
	mem_deref(m->reason);
	mem_deref(m->call_id);
	mem_deref(m->cseq_method);
	mem_deref(m->hdrs);
	sip_peer_clear(&m->src);
}

static bool is_token_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("-.!%*_+`'~", c));
}

/* Finds the end of the header section; returns the offset of the first body
 * byte, or 0 when there is no empty line. */
static size_t header_end(const char *buf, size_t len)
{
	for (const char *p = buf, *end = buf + len;
	     (p = memchr(p, '\n', (size_t)(end - p))) && p + 1 < end; p++) {
		if (p[1] == '\n')
			return (size_t)(p - buf) + 2;
		if (p[1] == '\r' && p + 2 < end && p[2] == '\n')
			return (size_t)(p - buf) + 3;
	}
	return 0;
}

/* Parses a decimal number of at most max; false on anything else. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Content-Length as the raw header says it (RFC 4475 §3.1.2.2, 3.1.2.3,
 * 3.3.9): -1 absent, -2 malformed or given twice with different values.
 * Folds one more Content-Length line h into cl, what the lines before said. */
static long content_length_add(long cl, const struct sip_hdr *h)
{
	char v[32];
	uint64_t n;
	if (cl == -2 || h->value_len >= sizeof(v))
		return -2;
	if (!parse_uint(v, sip_hdr_unfold(h, v), 1u << 30, &n))
		return -2;
	if (cl >= 0 && (uint64_t)cl != n)
		return -2;
	return (long)n;
}

/* From the index of a decoded message. */
static long indexed_content_length(const struct sip_msg *m)
{
	long cl = -1;
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == SIP_HDR_CONTENT_LENGTH)
			cl = content_length_add(cl, &m->hdrs[i]);
	return cl;
}

/* From the text of a stream's next message, not yet cut out. */
static long raw_content_length(const struct sip_msg *view)
{
	struct sip_hdr h;
	size_t pos = 0;
	long cl = -1;
	while (sip_hdr_next(view, &pos, &h))
		if (h.id == SIP_HDR_CONTENT_LENGTH)
			cl = content_length_add(cl, &h);
	return cl;
}

static void fail(struct sip_msg *m, int status, const char *why)
{
	if (!m->error_status) {
		m->error_status = status;
		m->error_reason = why;
	}
}

/* "SIP/2.0" exactly; other versions get 505 (RFC 4475 §3.1.2.16). */
static int check_version(const char *v, size_t n)
{
	if (n == 7 && strncasecmp(v, "SIP/2.0", 7) == 0)
		return 0;
	if (n > 4 && strncasecmp(v, "SIP/", 4) == 0)
		return 505;
	return 400;
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF, one SP each
 * (RFC 4475 §3.1.2.7 to 3.1.2.10 are rejected). */
static int parse_request_line(struct sip_msg *m, const char *s, size_t n)
{
	size_t i = 0;
	/* trailing white space is ignored, as RFC 4475 §3.1.2.10 allows */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && is_token_char((unsigned char)s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return -EBADMSG;
	m->request = true;
	m->method = mem_strndup(s, i);
	size_t u = ++i;
	while (i < n && s[i] != ' ' && (unsigned char)s[i] > ' ')
		i++;
	if (i >= n || s[i] != ' ' || i == u) {
		fail(m, 400, "Malformed Request-Line");
		return 0;
	}
	m->ruri = mem_strndup(s + u, i - u);
	i++;
	int st = check_version(s + i, n - i);
	if (st)
		fail(m, st, st == 505 ? "Version Not Supported" : "Malformed Request-Line");
	if (s[u] == '<')
		fail(m, 400, "Request-URI in <>");
	return 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF */
static int parse_status_line(struct sip_msg *m, const char *s, size_t n)
{
	if (n < 12 || strncasecmp(s, "SIP/2.0 ", 8) != 0 || s[11] != ' ')
		return -EBADMSG;
	uint64_t code;
	if (!parse_uint(s + 8, 3, 699, &code) || code < 100)
		return -EBADMSG;
	m->status = (int)code;
	m->reason = mem_strndup(s + 12, n - 12);
	return 0;
}

static const char *via_param(osip_via_t *via, const char *name)
{
	osip_generic_param_t *p = NULL;
	if (osip_via_param_get_byname(via, (char *)name, &p) != 0 || !p)
		return NULL;
	return p->gvalue ? p->gvalue : "";
}

static const char *strip_brackets(char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

static int check_via(struct sip_msg *m)
{
	osip_via_t *via = m->top_via;
	if (!via || !via->host || !via->protocol)
		return -EBADMSG;
	struct sip_via *v = &m->via;
	v->transport = via->protocol;
	if (sip_proto_parse(via->protocol, &v->proto) != 0)
		v->proto = SIP_UDP;
	v->host = strip_brackets(via->host);
	if (via->port) {
		uint64_t port;
		if (!parse_uint(via->port, strlen(via->port), 65535, &port) || port == 0)
			return -EBADMSG;
		v->port = (uint16_t)port;
	}
	v->branch = via_param(via, "branch");
	v->received = via_param(via, "received");
	if (v->received)
		strip_brackets((char *)v->received);
	v->maddr = via_param(via, "maddr");
	const char *rport = via_param(via, "rport");
	if (rport) {
		uint64_t port = 0;
		v->rport = true;
		if (*rport && parse_uint(rport, strlen(rport), 65535, &port))
			v->rport_value = (uint16_t)port;
	}
	return 0;
}

/* Headers that may appear once only (RFC 4475 §3.3.8). */
static const enum sip_hdr_id single_headers[] = {
	SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID, SIP_HDR_CSEQ, SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_TYPE,
};

static void check_headers(struct sip_msg *m)
{
	unsigned counts[SIP_HDR_COUNT] = {0};
	for (unsigned i = 0; i < m->nhdrs; i++) {
		if (!m->hdrs[i].name_len)
			fail(m, 400, "Malformed header line");
		counts[m->hdrs[i].id]++;
	}
	for (size_t i = 0; i < sizeof(single_headers) / sizeof(single_headers[0]); i++)
		if (counts[single_headers[i]] > 1)
			fail(m, 400, "Header given more than once");
	struct sip_hdr h;
	if (sip_msg_hdr_id(m, SIP_HDR_MAX_FORWARDS, 0, &h)) {
		char v[32];
		uint64_t mf;
		if (h.value_len < sizeof(v) && parse_uint(v, sip_hdr_unfold(&h, v), 255, &mf))
			m->max_forwards = (int)mf;
		/* an overlarge Max-Forwards is treated as absent (RFC 4475 §3.1.2.4) */
	}
}

static int check_structure(struct sip_msg *m)
{
	if (check_via(m) != 0)
		return -EBADMSG;
	int err = sip_msg_parse_cseq(m);
	if (err == -ENOMEM)
		return err;
	if (err) {
		fail(m, 400, "Bad CSeq");
		return m->request ? 0 : -EBADMSG;
	}
	if (!m->from || !m->to || !m->cseq_method ||
	    !sip_msg_hdr_id_count(m, SIP_HDR_CALL_ID)) {
		fail(m, 400, "Missing mandatory header");
		return 0;
	}
	if (m->request && strcmp(m->cseq_method, m->method) != 0)
		fail(m, 400, "CSeq method does not match the Request-Line");
	if (!m->request)
		m->method = mem_strdup(m->cseq_method);

	osip_generic_param_t *tag = NULL;
	if (osip_from_param_get_byname(m->from, "tag", &tag) == 0 && tag && tag->gvalue)
		m->from_tag = tag->gvalue;
	tag = NULL;
	if (osip_to_param_get_byname(m->to, "tag", &tag) == 0 && tag && tag->gvalue)
		m->to_tag = tag->gvalue;

	struct sip_hdr h;
	if (sip_msg_hdr_id(m, SIP_HDR_CALL_ID, 0, &h)) {
		m->call_id = mem_alloc(h.value_len + 1, NULL);
		if (m->call_id)
			sip_hdr_unfold(&h, m->call_id);
	}
	if (!m->call_id || !*m->call_id)
		fail(m, 400, "Bad Call-ID");

	/* A branch that is only the magic cookie identifies nothing (§3.2.1). */
	if (m->via.branch && strcmp(m->via.branch, "z9hG4bK") == 0)
		fail(m, 400, "Bad Via branch");

	if (m->request && m->ruri &&
	    (strncasecmp(m->ruri, "sip:", 4) == 0 || strncasecmp(m->ruri, "sips:", 5) == 0)) {
		uint64_t port;
		const char *p = NULL;
		struct osip_arena *before = osip_arena_enter(&m->arena);
		bool parsed = osip_uri_init(&m->ruri_parsed) == 0 &&
			      osip_uri_parse(m->ruri_parsed, m->ruri) == 0;
		osip_arena_leave(before);
		if (!parsed || !m->ruri_parsed->host ||
		    ((p = m->ruri_parsed->port) && *p && !parse_uint(p, strlen(p), 65535, &port)) ||
		    (strchr(m->ruri_parsed->host, ':') && !strchr(m->ruri, '['))) {
			/* e.g. an IPv6 reference without brackets (RFC 5118 §4.2) */
			fail(m, 400, "Bad Request-URI");
		}
	}
	return 0;
}

struct sip_msg *sip_msg_decode(const char *buf, size_t len, bool stream)
{
	/* keep-alive CRLFs before a message (RFC 5626 §3.5.1) */
	while (len > 0 && (*buf == '\r' || *buf == '\n')) {
		buf++;
		len--;
	}
	if (len < 10)
		return NULL;

	struct sip_msg *m = mem_alloc(sizeof(*m), msg_destroy);
	if (!m)
		return NULL;
	m->max_forwards = -1;

	size_t hdr_len = header_end(buf, len);
	if (!hdr_len)
		hdr_len = len;  /* a datagram without the empty line: all headers */

	/* The whole datagram is copied and indexed; the body ends where
	 * Content-Length says (octets after it are not ours, §18.3). */
	m->buf = mem_strndup(buf, len);
	if (!m->buf)
		return mem_deref(m);
	m->hdr_len = hdr_len;
	if (sip_msg_index(m) != 0)
		return mem_deref(m);
	long cl = indexed_content_length(m);
	size_t body_len = len - hdr_len;
	if (cl == -2) {
		fail(m, 400, "Bad Content-Length");
		body_len = 0;
	} else if (cl >= 0) {
		if ((size_t)cl > body_len)
			fail(m, 400, "Content-Length larger than the message");
		else
			body_len = (size_t)cl;
	} else if (stream) {
		fail(m, 400, "Missing Content-Length");
	}
	m->len = hdr_len + body_len;
	m->buf[m->len] = '\0';
	m->body = m->buf + hdr_len;
	m->body_len = body_len;

	const char *nl = memchr(m->buf, '\n', hdr_len);
	size_t sl_len = nl ? (size_t)(nl - m->buf) : hdr_len;
	if (sl_len > 0 && m->buf[sl_len - 1] == '\r')
		sl_len--;
	int err = strncasecmp(m->buf, "SIP/", 4) == 0
		? parse_status_line(m, m->buf, sl_len)
		: parse_request_line(m, m->buf, sl_len);
	if (err || (!m->request && m->error_status))
		return mem_deref(m);

	check_headers(m);
	if (!m->request && m->error_status)
		return mem_deref(m);
	/* No Via: nobody to answer. Requests without one are dropped. */
	if (!sip_msg_hdr_id_count(m, SIP_HDR_VIA))
		return mem_deref(m);

	/* The structured parse also covers an invalid request: its Via, From,
	 * To and tags make a better error answer when they are readable. */
	int parsed = sip_msg_parse_headers(m);
	if (parsed == -ENOMEM)
		return mem_deref(m);
	if (parsed != 0 || check_structure(m) != 0) {
		if (!m->request)
			return mem_deref(m);
		fail(m, 400, "Malformed message");
	}
	if (!m->request && m->error_status)
		return mem_deref(m);
	return m;
}

static void osip_quiet(const char *file, int line, osip_trace_level_t level,
		       const char *fmt, va_list ap)
{
}

void sip_msg_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	osip_arena_install();
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, osip_quiet);
}

bool sip_method_is(const struct sip_msg *m, const char *method)
{
	return m->method && strcmp(m->method, method) == 0;
}

long sip_frame(const char *buf, size_t len, size_t max_size)
{
	size_t skip = 0;
	while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
		skip++;
	if (skip == len)
		return (long)skip;  /* only keep-alives: the caller drops them */
	size_t hdr = header_end(buf + skip, len - skip);
	if (!hdr)
		return len - skip > max_size ? -1 : 0;
	struct sip_msg view = { .buf = (char *)buf + skip, .hdr_len = hdr, .len = hdr };
	long cl = raw_content_length(&view);
	if (cl < 0 || hdr + (size_t)cl > max_size)
		return -1;  /* RFC 3261 §18.3: a stream needs Content-Length */
	if (len - skip < hdr + (size_t)cl)
		return 0;
	return (long)(skip + hdr + (size_t)cl);
}
