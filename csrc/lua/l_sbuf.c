/* A message builder for a binding that raises while it builds.
 *
 * luaL_error and every Lua call that may raise (a __tostring, a memory
 * error) leave the C function by a longjmp: a builder on the C stack that
 * grew onto the heap would be lost with it. This one lives in a userdata,
 * marked to be closed, so that an error closes it and frees what it
 * holds, as lauxlib's luaL_Buffer keeps its box. The userdata does not
 * move, so the builder's inline buffer may be pointed into. */
#include "lsip.h"
#include "util/sbuf.h"

#define SBUF_MT "sip.sbuf"

static int l_sbuf_free(lua_State *L)
{
	sbuf_free(luaL_checkudata(L, 1, SBUF_MT));
	return 0;
}

struct sbuf *lsip_sbuf_new(lua_State *L)
{
	struct sbuf *b = lua_newuserdatauv(L, sizeof(*b), 0);
	sbuf_init(b);
	if (luaL_newmetatable(L, SBUF_MT)) {
		lua_pushcfunction(L, l_sbuf_free);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_sbuf_free);
		lua_setfield(L, -2, "__close");
	}
	lua_setmetatable(L, -2);
	lua_toclose(L, -1);
	return b;
}
