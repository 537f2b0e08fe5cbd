#include "util/sbuf.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SBUF_SLACK 128  /* unused bytes a taken text may keep */

void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void sbuf_free(struct sbuf *b)
{
	mem_deref(b->d);
	sbuf_init(b);
}

static int reserve(struct sbuf *b, size_t n)
{
	if (b->err)
		return b->err;
	if (b->len + n + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = mem_realloc(b->d, cap);
	if (!d)
		return b->err = -ENOMEM;
	b->d = d;
	b->cap = cap;
	return 0;
}

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	/* format straight into the room left; only a text longer than that
	 * is formatted a second time, into a larger buffer (messages are
	 * composed of many short pieces: one pass is the common case) */
	if (reserve(b, 64))
		return;
	va_list ap;
	va_start(ap, fmt);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->d + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->d[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		if (reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->d + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void sbuf_uint(struct sbuf *b, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sbuf_add(b, tmp + i, sizeof(tmp) - i);
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
	if (b->err) {
		sbuf_free(b);
		return NULL;
	}
	/* the buffer is a mem object already: handed over, not copied; a
	 * text kept for long (a transaction's key, the response it repeats
	 * for 32 s) gives back the room it did not use (shrinking in place
	 * copies nothing) */
	char *s = b->d ? b->d : mem_strdup("");
	if (b->d && b->cap - b->len > SBUF_SLACK) {
		char *fit = mem_realloc(b->d, b->len + 1);
		if (fit)
			s = fit;
	}
	if (len)
		*len = b->len;
	sbuf_init(b);
	return s;
}
