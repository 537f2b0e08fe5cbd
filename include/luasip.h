/* luasip: scriptable SIP user agents for Lua 5.4.
 *
 * The one public C header. `require "sip"` loads the Lua module, which loads
 * the C part `sip.core` through luaopen_sip_core. A host program that embeds
 * Lua can open it itself with luaL_requiref(L, "sip.core", luaopen_sip_core, 0).
 */
#ifndef LUASIP_H
#define LUASIP_H

#include <lua.h>
#include <uv.h>

#define LUASIP_VERSION "0.1.0"

int luaopen_sip_core(lua_State *L);

/* The libuv loop luasip runs on, for a host that wants to add handles of
 * its own to it (valid once sip.core is open). */
uv_loop_t *luasip_loop(void);

#endif
