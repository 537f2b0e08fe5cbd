/* A growing string for composing messages. An allocation failure sticks in
 * err, so a message can be built in one go and checked once at the end. */
#ifndef LUASIP_SBUF_H
#define LUASIP_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
	char *d;
	size_t len, cap;
	int err;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A decimal number, without printf (messages are full of them). */
void sbuf_uint(struct sbuf *b, unsigned long long v);
/* Hands the NUL-terminated text over as a mem object (util/mem.h); the
 * buffer is one already, so nothing is copied. */
char *sbuf_take(struct sbuf *b, size_t *len);

#endif
