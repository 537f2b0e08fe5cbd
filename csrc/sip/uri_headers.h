/* The headers of a SIP URI (RFC 3261 §19.1.1, §19.1.5): in
 * "sip:bob@host?Subject=hi&Replaces=a%40h%3Bto-tag%3D1%3Bfrom-tag%3D2" the
 * part after '?' asks that a request made from the URI carry those header
 * fields; they never go into its Request-URI. */
#ifndef LUASIP_URI_HEADERS_H
#define LUASIP_URI_HEADERS_H

#include <stddef.h>

struct sip_uri_headers {
	char *uri;                  /* the URI without its headers (mem) */
	char *lines;                /* "Name: value\r\n" for each header taken,
	                               unescaped (mem); NULL when none */
	char *body;                 /* the body= value, unescaped (mem), or NULL */
	size_t body_len;
};

/* Splits uri. 0; -EINVAL when its headers are malformed (a name without
 * '=', a bad %-escape, a name that is no token, a line break in a value);
 * -EPERM for a header field that must not come from a URI (From, To,
 * Call-ID, CSeq, Via, Record-Route, Route, Contact and those this
 * endpoint writes itself). why (may be NULL) then says what. */
int sip_uri_headers_split(const char *uri, struct sip_uri_headers *out, char *why,
			  size_t why_size);
void sip_uri_headers_free(struct sip_uri_headers *h);

#endif
