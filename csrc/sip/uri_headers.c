/* The headers of a SIP URI (RFC 3261 §19.1.1, §19.1.5): split from the
 * URI, unescaped, checked, and turned into header lines. A header that
 * must not come from a URI is refused, not dropped, so that whoever gave
 * the URI hears why the request was not made. */
#include "sip/uri_headers.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Header fields a request never takes from a URI, long and compact form
 * (§7.3.3). §19.1.5 names From, Call-ID, CSeq, Via and Record-Route as
 * dangerous, Route as an attack, and Accept, Allow, Contact, Organization,
 * Supported, User-Agent ... as a false account of where we are and what
 * we can do. To is the URI itself, and Max-Forwards and Content-Length
 * are ours to write: a second one would make the request invalid. */
static const char *const refused[] = {
	"From", "f", "To", "t", "Call-ID", "i", "CSeq", "Via", "v", "Record-Route", "Route",
	"Contact", "m", "Max-Forwards", "Content-Length", "l", "Accept", "Accept-Encoding",
	"Accept-Language", "Allow", "Organization", "Supported", "k", "User-Agent", NULL,
};

static bool is_refused(const char *name)
{
	for (int i = 0; refused[i]; i++)
		if (strcasecmp(refused[i], name) == 0)
			return true;
	return false;
}

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) with %XX undone into out (at least n+1 octets); its length, or
 * -1 for a '%' not followed by two hex digits. */
static long unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		int a = hex_digit(s[i + 1]), b = hex_digit(s[i + 2]);
		if (a < 0 || b < 0)
			return -1;
		out[o++] = (char)(a * 16 + b);
		i += 2;
	}
	out[o] = '\0';
	return (long)o;
}

static int fail(int err, char *why, size_t size, const char *fmt, ...)
{
	if (why && size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return err;
}

void sip_uri_headers_free(struct sip_uri_headers *h)
{
	h->uri = mem_deref(h->uri);
	h->lines = mem_deref(h->lines);
	h->body = mem_deref(h->body);
	h->body_len = 0;
}

/* One "name=value" of the headers, n octets: its line added to b, or the
 * body set. */
static int take_header(const char *s, size_t n, struct sbuf *b, struct sip_uri_headers *out,
		       char *why, size_t why_size)
{
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return fail(-EINVAL, why, why_size, "the URI header \"%.*s\" has no '='",
			    (int)n, s);
	size_t nlen = (size_t)(eq - s), vlen = n - nlen - 1;
	char name[128];
	if (nlen == 0 || nlen >= sizeof(name))
		return fail(-EINVAL, why, why_size, "a URI header has %s name",
			    nlen ? "too long a" : "no");
	long nn = unescape(s, nlen, name);
	if (nn <= 0)
		return fail(-EINVAL, why, why_size, "the URI header name \"%.*s\" is badly escaped",
			    (int)nlen, s);
	for (long i = 0; i < nn; i++)
		if (!is_token_char(name[i]))
			return fail(-EINVAL, why, why_size,
				    "the URI header name \"%s\" is not a token", name);
	char *value = mem_alloc(vlen + 1, NULL);
	if (!value)
		return -ENOMEM;
	long vn = unescape(eq + 1, vlen, value);
	int err = 0;
	if (vn < 0) {
		err = fail(-EINVAL, why, why_size, "the value of the URI header %s is badly escaped",
			   name);
	} else if (strcasecmp(name, "body") == 0) {
		/* §19.1.1: the body of the request, any octets */
		if (out->body)
			err = fail(-EINVAL, why, why_size, "the URI has body= twice");
		else
			out->body = mem_ref(value), out->body_len = (size_t)vn;
	} else if (is_refused(name)) {
		err = fail(-EPERM, why, why_size,
			   "the header %s cannot come from a URI (RFC 3261 §19.1.5)", name);
	} else if (memchr(value, '\r', (size_t)vn) || memchr(value, '\n', (size_t)vn) ||
		   strlen(value) != (size_t)vn) {
		/* one value, not a second header smuggled in */
		err = fail(-EINVAL, why, why_size,
			   "the value of the URI header %s has a line break or a NUL", name);
	} else {
		sbuf_cat(b, name, ": ", value, "\r\n", NULL);
	}
	mem_deref(value);
	return err;
}

int sip_uri_headers_split(const char *uri, struct sip_uri_headers *out, char *why,
			  size_t why_size)
{
	memset(out, 0, sizeof(*out));
	if (why && why_size)
		why[0] = '\0';
	/* '?' may be in the user part (§25.1 user-unreserved): a '?' whose
	 * next name ends at an '@' is one; a header name ends at '=' (and
	 * its value may hold an '@' a sender did not escape) */
	const char *q = strchr(uri, '?');
	while (q && q[1 + strcspn(q + 1, "@=&")] == '@')
		q = strchr(q + 1, '?');
	if (!q) {
		out->uri = mem_strdup(uri);
		return out->uri ? 0 : -ENOMEM;
	}
	out->uri = mem_strndup(uri, (size_t)(q - uri));
	if (!out->uri)
		return -ENOMEM;
	struct sbuf b;
	sbuf_init(&b);
	int err = 0;
	const char *p = q + 1;
	if (!*p)
		err = fail(-EINVAL, why, why_size, "the URI has a '?' and no header after it");
	while (!err && *p) {
		size_t n = strcspn(p, "&");
		if (n == 0)
			err = fail(-EINVAL, why, why_size, "the URI has an empty header");
		else
			err = take_header(p, n, &b, out, why, why_size);
		p += n;
		if (*p == '&' && !*++p && !err)
			err = fail(-EINVAL, why, why_size, "the URI's headers end with '&'");
	}
	if (!err && b.err)
		err = -ENOMEM;
	if (err) {
		sbuf_free(&b);
		sip_uri_headers_free(out);
		return err;
	}
	out->lines = b.len ? sbuf_take(&b, NULL) : (sbuf_free(&b), NULL);
	return 0;
}
