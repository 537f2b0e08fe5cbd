/* Raw access to header lines, independent of what libosip2 understood: the
 * receive path counts and copies headers with it, and scripts read any
 * header by name through it. */
#include "sip/msg.h"
#include "util/mem.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* RFC 3261 §7.3.3 compact forms and a few from later RFCs. */
static const struct { char c; const char *name; } compact[] = {
	{'a', "Accept-Contact"}, {'b', "Referred-By"}, {'c', "Content-Type"},
	{'d', "Request-Disposition"}, {'e', "Content-Encoding"}, {'f', "From"},
	{'i', "Call-ID"}, {'j', "Reject-Contact"}, {'k', "Supported"},
	{'l', "Content-Length"}, {'m', "Contact"}, {'o', "Event"},
	{'r', "Refer-To"}, {'s', "Subject"}, {'t', "To"},
	{'u', "Allow-Events"}, {'v', "Via"}, {'x', "Session-Expires"},
	{'y', "Identity"},
};

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
			return true;
		}
		c++;
		while (c < stop && (is_wsp(buf[c]) || buf[c] == '\r' || buf[c] == '\n'))
			c++;
		h->name = buf + line;
		h->name_len = n - line;
		h->value = buf + c;
		h->value_len = stop - c;
		return true;
	}
}

bool sip_hdr_is(const struct sip_hdr *h, const char *name)
{
	size_t len = strlen(name);
	if (h->name_len == len && strncasecmp(h->name, name, len) == 0)
		return true;
	char c = 0;
	if (h->name_len == 1)
		c = (char)tolower((unsigned char)h->name[0]);
	else if (len == 1)
		c = (char)tolower((unsigned char)name[0]);
	else
		return false;
	for (size_t i = 0; i < sizeof(compact) / sizeof(compact[0]); i++) {
		if (compact[i].c != c)
			continue;
		const char *full = compact[i].name;
		size_t flen = strlen(full);
		if (h->name_len == 1)
			return len == flen && strncasecmp(name, full, len) == 0;
		return h->name_len == flen && strncasecmp(h->name, full, flen) == 0;
	}
	return false;
}

void sip_msg_index(struct sip_msg *m)
{
	struct sip_hdr h;
	size_t pos = 0;
	unsigned n = 0;
	while (sip_hdr_next(m, &pos, &h))
		n++;
	m->hdrs = mem_alloc((n ? n : 1) * sizeof(*m->hdrs), NULL);
	if (!m->hdrs)
		return;  /* lookups scan the text instead */
	pos = 0;
	for (unsigned i = 0; i < n && sip_hdr_next(m, &pos, &m->hdrs[i]); i++)
		m->nhdrs = i + 1;
}

bool sip_msg_hdr(const struct sip_msg *m, const char *name, unsigned idx, struct sip_hdr *h)
{
	if (m->hdrs) {
		for (unsigned i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].name_len && sip_hdr_is(&m->hdrs[i], name) && idx-- == 0) {
				*h = m->hdrs[i];
				return true;
			}
		return false;
	}
	size_t pos = 0;
	while (sip_hdr_next(m, &pos, h))
		if (h->name_len && sip_hdr_is(h, name) && idx-- == 0)
			return true;
	return false;
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, const char *name)
{
	unsigned n = 0;
	if (m->hdrs) {
		for (unsigned i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].name_len && sip_hdr_is(&m->hdrs[i], name))
				n++;
		return n;
	}
	struct sip_hdr h;
	size_t pos = 0;
	while (sip_hdr_next(m, &pos, &h))
		if (h.name_len && sip_hdr_is(&h, name))
			n++;
	return n;
}

size_t sip_hdr_unfold(const struct sip_hdr *h, char *dst)
{
	size_t n = 0;
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
	while (n > 0 && is_wsp(dst[n - 1]))
		n--;
	dst[n] = '\0';
	return n;
}
