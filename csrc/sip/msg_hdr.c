/* Raw access to header lines, independent of what libosip2 understood: the
 * receive path counts and copies headers with it, and scripts read any
 * header by name through it. */
#include "sip/msg.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* The known names by id, with their compact forms (RFC 3261 §7.3.3 and
 * later RFCs). */
static const struct {
	const char *name;
	unsigned char len;
	char compact;
} known[SIP_HDR_COUNT] = {
#define N(id, text, c) [id] = { text, sizeof(text) - 1, c }
	N(SIP_HDR_ACCEPT, "Accept", 0),
	N(SIP_HDR_ACCEPT_CONTACT, "Accept-Contact", 'a'),
	N(SIP_HDR_ALLOW, "Allow", 0),
	N(SIP_HDR_ALLOW_EVENTS, "Allow-Events", 'u'),
	N(SIP_HDR_CALL_ID, "Call-ID", 'i'),
	N(SIP_HDR_CONTACT, "Contact", 'm'),
	N(SIP_HDR_CONTENT_ENCODING, "Content-Encoding", 'e'),
	N(SIP_HDR_CONTENT_LENGTH, "Content-Length", 'l'),
	N(SIP_HDR_CONTENT_TYPE, "Content-Type", 'c'),
	N(SIP_HDR_CSEQ, "CSeq", 0),
	N(SIP_HDR_EVENT, "Event", 'o'),
	N(SIP_HDR_EXPIRES, "Expires", 0),
	N(SIP_HDR_FROM, "From", 'f'),
	N(SIP_HDR_IDENTITY, "Identity", 'y'),
	N(SIP_HDR_MAX_FORWARDS, "Max-Forwards", 0),
	N(SIP_HDR_MIN_EXPIRES, "Min-Expires", 0),
	N(SIP_HDR_MIN_SE, "Min-SE", 0),
	N(SIP_HDR_PROXY_AUTHENTICATE, "Proxy-Authenticate", 0),
	N(SIP_HDR_RACK, "RAck", 0),
	N(SIP_HDR_RECORD_ROUTE, "Record-Route", 0),
	N(SIP_HDR_REFER_TO, "Refer-To", 'r'),
	N(SIP_HDR_REFERRED_BY, "Referred-By", 'b'),
	N(SIP_HDR_REJECT_CONTACT, "Reject-Contact", 'j'),
	N(SIP_HDR_REQUEST_DISPOSITION, "Request-Disposition", 'd'),
	N(SIP_HDR_REQUIRE, "Require", 0),
	N(SIP_HDR_ROUTE, "Route", 0),
	N(SIP_HDR_RSEQ, "RSeq", 0),
	N(SIP_HDR_SESSION_EXPIRES, "Session-Expires", 'x'),
	N(SIP_HDR_SUBJECT, "Subject", 's'),
	N(SIP_HDR_SUPPORTED, "Supported", 'k'),
	N(SIP_HDR_TIMESTAMP, "Timestamp", 0),
	N(SIP_HDR_TO, "To", 't'),
	N(SIP_HDR_VIA, "Via", 'v'),
	N(SIP_HDR_WWW_AUTHENTICATE, "WWW-Authenticate", 0),
#undef N
};

/* The ids of the long names by their first letter, made once: a lookup
 * then compares the two or three names that begin like it. */
static unsigned char by_letter[26][SIP_HDR_COUNT];
static unsigned char compact_id[26];
static bool by_letter_made;

static void make_by_letter(void)
{
	unsigned char n[26] = {0};
	for (unsigned id = 1; id < SIP_HDR_COUNT; id++) {
		unsigned l = (unsigned)(tolower((unsigned char)known[id].name[0]) - 'a');
		by_letter[l][n[l]++] = (unsigned char)id;
		if (known[id].compact)
			compact_id[known[id].compact - 'a'] = (unsigned char)id;
	}
	by_letter_made = true;
}

enum sip_hdr_id sip_hdr_id(const char *name, size_t len)
{
	if (len == 0)
		return SIP_HDR_OTHER;
	if (!by_letter_made)
		make_by_letter();
	unsigned l = (unsigned)(tolower((unsigned char)name[0]) - 'a');
	if (l >= 26)
		return SIP_HDR_OTHER;
	if (len == 1)
		return (enum sip_hdr_id)compact_id[l];
	for (const unsigned char *id = by_letter[l]; *id; id++)
		if (known[*id].len == len && strncasecmp(known[*id].name, name, len) == 0)
			return (enum sip_hdr_id)*id;
	return SIP_HDR_OTHER;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

bool sip_hdr_next(const struct sip_msg *m, size_t *pos, struct sip_hdr *h)
{
	const char *buf = m->buf;
	size_t end = m->hdr_len;
	size_t p = *pos;

	if (p == 0) {  /* skip the start line */
		const char *nl = memchr(buf, '\n', end);
		if (!nl)
			return false;
		p = (size_t)(nl - buf) + 1;
	}
	for (;;) {
		if (p >= end || buf[p] == '\r' || buf[p] == '\n')
			return false;  /* the empty line */
		size_t line = p;
		/* the header runs to the first line end not followed by LWS */
		size_t q = p;
		for (;;) {
			const char *nl = memchr(buf + q, '\n', end - q);
			q = nl ? (size_t)(nl - buf) + 1 : end;
			if (q >= end || !is_wsp(buf[q]))
				break;
		}
		*pos = q;
		size_t stop = q;
		while (stop > line && (buf[stop - 1] == '\n' || buf[stop - 1] == '\r'))
			stop--;
		size_t n = line;
		while (n < stop && buf[n] != ':' && !is_wsp(buf[n]))
			n++;
		size_t c = n;
		while (c < stop && is_wsp(buf[c]))
			c++;
		if (c >= stop || buf[c] != ':' || n == line) {
			p = q;  /* not a header line: the decoder reports it */
			h->name = buf + line;
			h->name_len = 0;
			h->value = buf + line;
			h->value_len = stop - line;
			h->id = SIP_HDR_OTHER;
			return true;
		}
		c++;
		while (c < stop && (is_wsp(buf[c]) || buf[c] == '\r' || buf[c] == '\n'))
			c++;
		h->name = buf + line;
		h->name_len = n - line;
		h->value = buf + c;
		h->value_len = stop - c;
		h->id = sip_hdr_id(h->name, h->name_len);
		return true;
	}
}

/* Same name: the same known id, or the same text for other names. */
static bool same_name(const char *a, size_t alen, enum sip_hdr_id aid,
		      const char *b, size_t blen, enum sip_hdr_id bid)
{
	if (aid != bid || alen == 0 || blen == 0)
		return false;
	return aid != SIP_HDR_OTHER || (alen == blen && strncasecmp(a, b, alen) == 0);
}

bool sip_hdr_is(const struct sip_hdr *h, const char *name)
{
	size_t len = strlen(name);
	return same_name(h->name, h->name_len, sip_hdr_id(h->name, h->name_len),
			 name, len, sip_hdr_id(name, len));
}

int sip_msg_index(struct sip_msg *m)
{
	/* every header takes at least one line: the line ends bound the count */
	unsigned lines = 0;
	for (const char *p = m->buf, *end = m->buf + m->hdr_len;
	     (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	m->hdrs = mem_alloc((lines ? lines : 1) * sizeof(*m->hdrs), NULL);
	if (!m->hdrs)
		return -ENOMEM;
	size_t pos = 0;
	m->nhdrs = 0;
	while (m->nhdrs < lines && sip_hdr_next(m, &pos, &m->hdrs[m->nhdrs]))
		m->nhdrs++;
	return 0;
}

bool sip_msg_hdr_id(const struct sip_msg *m, enum sip_hdr_id id, unsigned idx, struct sip_hdr *h)
{
	for (unsigned i = 0; i < m->nhdrs; i++)
		if (m->hdrs[i].id == id && idx-- == 0) {
			*h = m->hdrs[i];
			return true;
		}
	return false;
}

unsigned sip_msg_hdr_id_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nhdrs; i++)
		n += m->hdrs[i].id == id;
	return n;
}

bool sip_msg_hdr(const struct sip_msg *m, const char *name, unsigned idx, struct sip_hdr *h)
{
	size_t len = strlen(name);
	enum sip_hdr_id id = sip_hdr_id(name, len);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr_id(m, id, idx, h);
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *x = &m->hdrs[i];
		if (same_name(x->name, x->name_len, x->id, name, len, id) && idx-- == 0) {
			*h = *x;
			return true;
		}
	}
	return false;
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, const char *name)
{
	size_t len = strlen(name);
	enum sip_hdr_id id = sip_hdr_id(name, len);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr_id_count(m, id);
	unsigned n = 0;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *x = &m->hdrs[i];
		n += same_name(x->name, x->name_len, x->id, name, len, id);
	}
	return n;
}

size_t sip_hdr_unfold(const struct sip_hdr *h, char *dst)
{
	size_t n = 0;
	if (!memchr(h->value, '\n', h->value_len) && !memchr(h->value, '\r', h->value_len)) {
		/* one line, as nearly every header is: a copy */
		memcpy(dst, h->value, h->value_len);
		n = h->value_len;
	} else {
		bool fold = false;  /* inside a line break and the LWS after it */
		for (size_t i = 0; i < h->value_len; i++) {
			char c = h->value[i];
			if (c == '\r' || c == '\n') {
				fold = true;
				continue;
			}
			if (fold && is_wsp(c))
				continue;
			if (fold && n > 0 && dst[n - 1] != ' ')
				dst[n++] = ' ';
			fold = false;
			dst[n++] = c;
		}
	}
	while (n > 0 && is_wsp(dst[n - 1]))
		n--;
	dst[n] = '\0';
	return n;
}
