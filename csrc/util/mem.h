/* Reference-counted allocations.
 *
 * An object that outlives the call that made it (a transaction waiting for its
 * timers, a connection with writes in flight) is allocated with mem_alloc and
 * released with mem_deref. The destructor runs when the last reference goes,
 * so a callback may drop its own object without freeing memory under its feet.
 */
#ifndef LUASIP_MEM_H
#define LUASIP_MEM_H

#include <stddef.h>

typedef void (mem_destroy_h)(void *obj);

void *mem_alloc(size_t size, mem_destroy_h *destroy);  /* zeroed, 1 reference */
void *mem_ref(void *obj);
void *mem_deref(void *obj);                             /* always returns NULL */
unsigned mem_refs(const void *obj);
/* Resizes an object only its maker holds (one reference, not yet shared),
 * keeping its contents and destructor; NULL obj allocates (not zeroed).
 * NULL on failure, obj then unchanged. */
void *mem_realloc(void *obj, size_t size);
char *mem_strdup(const char *s);                        /* a mem object */
char *mem_strndup(const char *s, size_t n);

#endif
