/* The Lua state's small blocks from the slab (util/slab.h).
 *
 * Each call makes some thirty Lua objects (the call table, its task, the
 * closures that wait, the message objects) and the collector frees them
 * soon after; through malloc half of the allocator's time under load was
 * Lua's, much of it in consolidating glibc's fast bins whenever a task's
 * stack grew past 1 KB. The allocator is replaced only when the state
 * still has the one luaL_newstate gives (its user data is NULL): a host
 * that brought an allocator of its own, to count or limit memory, keeps
 * it. Blocks made before, and those larger than the slab serves, stay
 * with the allocator before. */
#define _GNU_SOURCE  /* dladdr */
#include "lsip.h"
#include "util/slab.h"

#include <dlfcn.h>
#include <string.h>

static lua_Alloc prev_alloc;
static void *prev_ud;

static void *slab_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	if (ptr && !slab_owns(ptr))
		return prev_alloc(prev_ud, ptr, osize, nsize);
	if (nsize == 0) {
		if (ptr)
			slab_free(ptr, osize);
		return NULL;
	}
	if (ptr && nsize <= slab_block_size(osize))
		return ptr;  /* shrinking, or growing within the block */
	void *q = nsize <= SLAB_MAX ? slab_alloc(nsize) : NULL;
	if (!q)
		q = prev_alloc(prev_ud, NULL, ptr ? 0 : osize, nsize);
	if (q && ptr) {
		memcpy(q, ptr, osize);
		slab_free(ptr, osize);
	}
	return q;
}

void lsip_use_slab(lua_State *L)
{
	void *ud;
	lua_Alloc f = lua_getallocf(L, &ud);
	if (f == slab_lua_alloc || ud != NULL)
		return;
	/* The state frees its last blocks after its finalisers have run,
	 * the one that unloads C modules among them: this module must stay
	 * loaded for that, as the allocator's code. */
	Dl_info info;
	if (!dladdr((void *)slab_lua_alloc, &info) || !info.dli_fname ||
	    !dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
		return;
	prev_alloc = f;
	prev_ud = ud;
	lua_setallocf(L, slab_lua_alloc, NULL);
}
