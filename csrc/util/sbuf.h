/* A growing string for composing messages. An allocation failure sticks in
 * err, so a message can be built in one go and checked once at the end.
 *
 * A builder lives on the stack, and so does its first buffer: most
 * messages fit in it and are built without an allocation, and the text
 * handed over is one allocation of its own size. (Growing a heap buffer by
 * doubling made a 1 KB request of nearly every message, which sends
 * malloc down its slow path for large chunks; and what a transaction
 * keeps for 32 s had the slack.) Hence a builder is never copied: d may
 * point into it. */
#ifndef LUASIP_SBUF_H
#define LUASIP_SBUF_H

#include <stdarg.h>
#include <stddef.h>

#define SBUF_INLINE 1536  /* a request or response with SDP fits */

struct sbuf {
	char *d;                 /* NUL-terminated: local, or a heap buffer */
	size_t len, cap;
	int err;
	char local[SBUF_INLINE];
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The strings given, up to a NULL: a message or key put together
 * without printf's parsing of a format. */
void sbuf_cat(struct sbuf *b, ...) __attribute__((sentinel));
/* A decimal number, without printf (messages are full of them). */
void sbuf_uint(struct sbuf *b, unsigned long long v);
/* Hands the NUL-terminated text over as a mem object (util/mem.h) of its
 * own size, and starts the builder over empty. */
char *sbuf_take(struct sbuf *b, size_t *len);

#endif
