/* Responses composed from the raw request (RFC 3261 §8.2.6.2): the copied
 * headers are the octets the client sent, so it matches them whatever our
 * parser made of them. */
#include "sip/msg.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <string.h>
#include <strings.h>

const char *sip_reason_phrase(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	}
	if (status < 200) return "Trying";
	if (status < 300) return "OK";
	if (status < 400) return "Redirect";
	if (status < 500) return "Client Error";
	if (status < 600) return "Server Error";
	return "Global Failure";
}

/* True when a raw To value already carries a tag parameter: one after the
 * closing '>' of a name-addr, or anywhere in a bare addr-spec. */
static bool raw_has_tag(const char *v, size_t n)
{
	const char *gt = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '>')
			gt = v + i;
	size_t start = gt ? (size_t)(gt - v) : 0;
	for (size_t i = start; i + 4 < n; i++) {
		if (v[i] != ';')
			continue;
		size_t j = i + 1;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		if (j + 4 <= n && strncasecmp(v + j, "tag", 3) == 0) {
			j += 3;
			while (j < n && (v[j] == ' ' || v[j] == '\t'))
				j++;
			if (j < n && v[j] == '=')
				return true;
		}
	}
	return false;
}

static void copy_header(struct sbuf *b, const char *name, const struct sip_hdr *h)
{
	sbuf_puts(b, name);
	sbuf_add(b, ": ", 2);
	sbuf_add(b, h->value, h->value_len);
	sbuf_add(b, "\r\n", 2);
}

/* End of the first value of a Via line (several may share it). */
static size_t first_value_end(const char *v, size_t n)
{
	bool quoted = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"')
			quoted = !quoted;
		else if (v[i] == ',' && !quoted)
			return i;
	}
	return n;
}

/* Offset just after a valueless ";rport" in v, or 0. */
static size_t find_bare_rport(const char *v, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++) {
		if (v[i] != ';' || strncasecmp(v + i + 1, "rport", 5) != 0)
			continue;
		size_t j = i + 6;
		while (j < n && (v[j] == ' ' || v[j] == '\t'))
			j++;
		if (j == n || v[j] == ';' || v[j] == ',')
			return i + 6;
	}
	return 0;
}

/* The top Via as the server saw it arrive (RFC 3261 §18.2.1, RFC 3581):
 * received= when the source differs from sent-by or rport asks for it, and
 * rport filled in with the source port. */
static void copy_top_via(struct sbuf *b, const struct sip_msg *req, const struct sip_hdr *h)
{
	const char *v = h->value;
	size_t end = first_value_end(v, h->value_len);
	size_t rport = req->via.rport ? find_bare_rport(v, end) : 0;
	char src[64] = "";
	if (req->src.addr.sa.sa_family && req->via.host)
		sa_host(&req->src.addr, src, sizeof(src));
	bool received = src[0] && !req->via.received &&
			(req->via.rport || strcasecmp(src, req->via.host) != 0);

	sbuf_add(b, "Via: ", 5);
	if (rport && src[0]) {
		sbuf_add(b, v, rport);
		sbuf_puts(b, "=");
		sbuf_uint(b, sa_port(&req->src.addr));
		sbuf_add(b, v + rport, end - rport);
	} else {
		sbuf_add(b, v, end);
	}
	if (received)
		sbuf_cat(b, ";received=", src, NULL);
	sbuf_add(b, v + end, h->value_len - end);
	sbuf_add(b, "\r\n", 2);
}

char *sip_reply_text(const struct sip_msg *req, int status, const char *reason,
		     const char *to_tag, const char *extra, const char *body,
		     size_t body_len, size_t *len)
{
	struct sbuf b;
	struct sip_hdr h;

	sbuf_init(&b);
	sbuf_add(&b, "SIP/2.0 ", 8);
	sbuf_uint(&b, (unsigned)status);
	sbuf_add(&b, " ", 1);
	sbuf_puts(&b, reason ? reason : sip_reason_phrase(status));
	sbuf_add(&b, "\r\n", 2);
	/* every Via, in order (several values may share one line) */
	for (unsigned i = 0; sip_msg_hdr_id(req, SIP_HDR_VIA, i, &h); i++) {
		if (i == 0)
			copy_top_via(&b, req, &h);
		else
			copy_header(&b, "Via", &h);
	}
	if (sip_msg_hdr_id(req, SIP_HDR_FROM, 0, &h))
		copy_header(&b, "From", &h);
	if (sip_msg_hdr_id(req, SIP_HDR_TO, 0, &h)) {
		sbuf_add(&b, "To: ", 4);
		sbuf_add(&b, h.value, h.value_len);
		if (status > 100 && to_tag && !raw_has_tag(h.value, h.value_len))
			sbuf_cat(&b, ";tag=", to_tag, NULL);
		sbuf_add(&b, "\r\n", 2);
	}
	if (sip_msg_hdr_id(req, SIP_HDR_CALL_ID, 0, &h))
		copy_header(&b, "Call-ID", &h);
	if (sip_msg_hdr_id(req, SIP_HDR_CSEQ, 0, &h))
		copy_header(&b, "CSeq", &h);
	if (status == 100 && sip_msg_hdr_id(req, SIP_HDR_TIMESTAMP, 0, &h))
		copy_header(&b, "Timestamp", &h);  /* RFC 3261 §8.2.6.1 */
	if (extra)
		sbuf_puts(&b, extra);
	sbuf_add(&b, "Content-Length: ", 16);
	sbuf_uint(&b, body ? body_len : 0);
	sbuf_add(&b, "\r\n\r\n", 4);
	if (body && body_len)
		sbuf_add(&b, body, body_len);
	return sbuf_take(&b, len);
}
