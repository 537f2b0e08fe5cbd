/* Arenas for libosip2's parse trees: see osip_arena.h. */
#include "sip/osip_arena.h"
#include "util/slab.h"

#include <osipparser2/osip_port.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_OFF 1
#endif
#endif

/* OSIP_ARENA_CHUNK (in the header): SIPp's INVITE takes 1.6 KB for its
 * Via, From, To and Request-URI, 1.9 KB with its Contact: one chunk. An
 * established call keeps its INVITE, so a larger chunk would be mostly
 * slack held for the whole call. Chunks are slab blocks (util/slab.h):
 * whatever osip frees inside the slab is an arena's, since what osip
 * allocates outside an arena comes from malloc. */
#define CHUNK_SIZE OSIP_ARENA_CHUNK
#define ALIGN 16u
#define HEADER ALIGN             /* the size of the allocation, for realloc */

/* The link to the chunk before sits at the start of each chunk. */
#define CHUNK_START ALIGN

static struct osip_arena *current;

#ifndef ARENA_OFF
/* n octets from the current arena, or NULL when it cannot serve them. */
static void *arena_alloc(size_t n)
{
	struct osip_arena *a = current;
	size_t need = HEADER + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
	if (need > CHUNK_SIZE - CHUNK_START)
		return NULL;
	if (!a->chunk || a->used + need > CHUNK_SIZE) {
		char *c = slab_alloc(CHUNK_SIZE);
		if (!c)
			return NULL;
		memcpy(c, &a->chunk, sizeof(char *));
		a->chunk = c;
		a->used = CHUNK_START;
	}
	char *p = a->chunk + a->used;
	a->used += need;
	memcpy(p, &n, sizeof(n));
	return p + HEADER;
}

static void *osip_arena_malloc(size_t n)
{
	if (!current)
		return malloc(n);
	void *p = arena_alloc(n);
	if (p)
		return p;
	current->spilled = true;
	return malloc(n);
}

static void osip_arena_free(void *p)
{
	if (!slab_owns(p))
		free(p);
	/* an arena's memory goes with the arena */
}

static void *osip_arena_realloc(void *p, size_t n)
{
	if (!p)
		return osip_arena_malloc(n);
	if (!slab_owns(p))
		return realloc(p, n);
	size_t old;
	memcpy(&old, (char *)p - HEADER, sizeof(old));
	void *q = osip_arena_malloc(n);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}
#endif

void osip_arena_install(void)
{
#ifndef ARENA_OFF
	osip_set_allocators(osip_arena_malloc, osip_arena_realloc, osip_arena_free);
#endif
}

struct osip_arena *osip_arena_enter(struct osip_arena *a)
{
	struct osip_arena *before = current;
	current = a;
	return before;
}

void osip_arena_leave(struct osip_arena *before)
{
	current = before;
}

bool osip_arena_holds_all(const struct osip_arena *a)
{
#ifdef ARENA_OFF
	(void)a;
	return false;
#else
	return !a->spilled;
#endif
}

void osip_arena_release(struct osip_arena *a)
{
	while (a->chunk) {
		char *c = a->chunk;
		memcpy(&a->chunk, c, sizeof(char *));
		slab_free(c, CHUNK_SIZE);
	}
	a->used = 0;
	a->spilled = false;
}
