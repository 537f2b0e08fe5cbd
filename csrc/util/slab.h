/* Small blocks by size class, kept on free lists: the library's own objects
 * (mem_alloc), the chunks of osip's arenas (sip/osip_arena.h) and, where it
 * is allowed, the Lua state's.
 *
 * An answered call allocates and frees some hundred small blocks: its
 * messages, transactions, keys, the Lua call object, its task and
 * closures. Through malloc these were a sixth of the answering process's
 * time under load (perf at 10,000 calls/s: _int_malloc, the consolidation
 * of fast bins that every 1 KB request triggers, unlink_chunk): glibc's
 * per-thread cache holds only seven blocks of a size. Here a freed block
 * goes on the free list of its class and is the next one handed out.
 *
 * Blocks come from one reserved address range, touched as it is used, so
 * that slab_owns() tells a slab block from a heap one by its address (a
 * Lua allocator that is installed after the state began must still hand
 * the older blocks to the allocator that made them). Memory stays with
 * its class: the most blocks of a size ever in use at once stay
 * allocated. When the range is used up, or under AddressSanitizer (which
 * checks each malloc'ed block), slab_alloc returns NULL and the caller
 * uses malloc. Single-threaded, like the loop. */
#ifndef LUASIP_SLAB_H
#define LUASIP_SLAB_H

#include <stdbool.h>
#include <stddef.h>

#define SLAB_MAX 2048   /* larger requests go to malloc */

/* A block of at least n octets (n <= SLAB_MAX), 16-aligned; NULL when the
 * slab cannot serve it. */
void *slab_alloc(size_t n);
/* Gives back p, asked for with a size of n or more (a block shrunk in
 * place may be given back under its smaller size). */
void slab_free(void *p, size_t n);
bool slab_owns(const void *p);
/* The size of the block that serves a request of n octets (n <= SLAB_MAX):
 * a block may grow in place up to it. */
size_t slab_block_size(size_t n);

#endif
