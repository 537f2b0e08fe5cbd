/* The Replaces header value (RFC 3891 §6.1):
 *   Replaces = callid *(SEMI replaces-param)
 *   replaces-param = to-tag / from-tag / early-flag / generic-param
 * A Replaces that came inside a URI (a Refer-To's ?Replaces=) was
 * unescaped with the URI's headers already (uri_headers.c). */
#include "sip/replaces.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SPACE " \t\r\n"

static const char *skip_space(const char *p)
{
	return p + strspn(p, SPACE);
}

/* Copies p[0..n) without the spaces at its end; false when it is empty or
 * does not fit. */
static bool copy_trimmed(char *dst, size_t size, const char *p, size_t n)
{
	while (n && strchr(SPACE, p[n - 1]))
		n--;
	if (n == 0 || n >= size)
		return false;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

static bool set_tag(char *dst, size_t size, const char *v, size_t n)
{
	if (dst[0])
		return false;  /* exactly one of each (§6.1) */
	if (!copy_trimmed(dst, size, v, n))
		return false;
	return strcspn(dst, SPACE ";=,\"") == strlen(dst);  /* a token */
}

int sip_replaces_parse(const char *value, struct sip_replaces *r)
{
	memset(r, 0, sizeof(*r));
	const char *p = skip_space(value);
	size_t n = strcspn(p, ";");
	if (!copy_trimmed(r->call_id, sizeof(r->call_id), p, n) ||
	    strcspn(r->call_id, SPACE) != strlen(r->call_id))
		return -EINVAL;
	p += n;
	while (*p == ';') {
		p = skip_space(p + 1);
		size_t len = strcspn(p, ";");
		const char *eq = memchr(p, '=', len);
		size_t name_len = eq ? (size_t)(eq - p) : len;
		while (name_len && strchr(SPACE, p[name_len - 1]))
			name_len--;
		const char *v = eq ? skip_space(eq + 1) : NULL;
		size_t vlen = eq ? len - (size_t)(v - p) : 0;
		if (name_len == 6 && strncasecmp(p, "to-tag", 6) == 0) {
			if (!v || !set_tag(r->to_tag, sizeof(r->to_tag), v, vlen))
				return -EINVAL;
		} else if (name_len == 8 && strncasecmp(p, "from-tag", 8) == 0) {
			if (!v || !set_tag(r->from_tag, sizeof(r->from_tag), v, vlen))
				return -EINVAL;
		} else if (name_len == 10 && strncasecmp(p, "early-only", 10) == 0) {
			r->early_only = true;
		} else if (name_len == 0) {
			return -EINVAL;
		}
		p += len;
	}
	if (*p || !r->to_tag[0] || !r->from_tag[0])
		return -EINVAL;
	return 0;
}
