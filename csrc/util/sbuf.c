#include "util/sbuf.h"
#include "util/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b)
{
	b->d = b->local;
	b->d[0] = '\0';
	b->len = 0;
	b->cap = sizeof(b->local);
	b->err = 0;
}

static bool on_heap(const struct sbuf *b)
{
	return b->d != b->local;
}

void sbuf_free(struct sbuf *b)
{
	if (on_heap(b))
		free(b->d);
	sbuf_init(b);
}

static int grow(struct sbuf *b, size_t n)
{
	if (b->err)
		return b->err;
	size_t cap = b->cap * 2;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = on_heap(b) ? realloc(b->d, cap) : malloc(cap);
	if (!d)
		return b->err = -ENOMEM;
	if (!on_heap(b))
		memcpy(d, b->d, b->len + 1);
	b->d = d;
	b->cap = cap;
	return 0;
}

/* Room for n more octets and the NUL; the common case is inline. */
static inline int reserve(struct sbuf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap && !b->err)
		return 0;
	return grow(b, n);
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

void sbuf_cat(struct sbuf *b, ...)
{
	va_list ap;
	va_start(ap, b);
	for (const char *s; (s = va_arg(ap, const char *));)
		sbuf_add(b, s, strlen(s));
	va_end(ap);
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
	char *s = b->err ? NULL : mem_strndup(b->d, b->len);
	if (s && len)
		*len = b->len;
	sbuf_free(b);
	return s;
}
