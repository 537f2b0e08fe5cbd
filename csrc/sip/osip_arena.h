/* libosip2's allocations while one message is parsed come from an arena
 * that goes with the message.
 *
 * Parsing the Via, From, To and Request-URI of a request is some fifty
 * small allocations in libosip2 (every URI part and parameter on its
 * own), and as many frees when the message goes: malloc and free were a
 * sixth of the instructions of an answered call. While an arena is
 * current, osip's allocations are cut from its chunks; osip's frees of
 * them do nothing, and the chunks go back to the slab at once when the
 * message is destroyed. Outside an arena (osip_uri_to_str for a dialog,
 * say) osip allocates from the heap as before.
 *
 * Chunks are slab blocks (util/slab.h), so a free can tell an arena's
 * pointer from a heap one by its address. When the slab cannot serve a
 * chunk, or a request is too large for one, the heap serves it. Under
 * AddressSanitizer no arena is used, so that osip's parse stays checked
 * allocation by allocation. */
#ifndef LUASIP_OSIP_ARENA_H
#define LUASIP_OSIP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define OSIP_ARENA_CHUNK 2048u   /* octets of a chunk, its link included */

struct osip_arena {
	char *chunk;                /* the newest chunk; each links the one before */
	size_t used;                /* octets used in it */
	bool spilled;               /* the heap served some of its allocations */
};

/* Sets libosip2's allocators; idempotent (sip_msg_init calls it). */
void osip_arena_install(void);
/* Makes a the arena of osip's allocations; returns the one before, for
 * osip_arena_leave. */
struct osip_arena *osip_arena_enter(struct osip_arena *a);
void osip_arena_leave(struct osip_arena *before);
/* Whether every allocation made while a was current came from a: then
 * its parse trees need no osip_*_free, only osip_arena_release (without
 * an arena, as under AddressSanitizer, false). */
bool osip_arena_holds_all(const struct osip_arena *a);
/* Gives a's chunks back; what osip allocated in it must be unused. */
void osip_arena_release(struct osip_arena *a);

#endif
