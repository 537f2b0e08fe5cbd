/* A request of ours in flight for Lua (ua:request, call:send): the Lua
 * callback is kept in the registry and called once with the final outcome,
 * (response, status, reason) or (nil, code, reason), then let go. */
#include "lsip.h"

#include <stdlib.h>

struct lsip_req *lsip_req_new(lua_State *L, int fn_idx)
{
	luaL_checktype(L, fn_idx, LUA_TFUNCTION);
	/* the reference first: luaL_ref may raise, and nothing is held yet */
	lua_pushvalue(L, fn_idx);
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	struct lsip_req *r = calloc(1, sizeof(*r));
	if (!r) {
		luaL_unref(L, LUA_REGISTRYINDEX, ref);
		luaL_error(L, "out of memory");
	}
	r->cb_ref = ref;
	return r;
}

void lsip_req_free(lua_State *L, struct lsip_req *r)
{
	luaL_unref(L, LUA_REGISTRYINDEX, r->cb_ref);
	free(r);
}

void lsip_req_outcome(int err, const struct sip_msg *resp, void *arg)
{
	struct lsip_req *r = arg;
	lua_State *L = lsip->L;
	if (!err && resp->status < 200)
		return;
	lsip_push_ref(L, r->cb_ref);
	if (err)
		lsip_push_failure(L, err, NULL);
	else {
		lsip_push_msg(L, (struct sip_msg *)resp, NULL, NULL);
		lua_pushinteger(L, resp->status);
		lua_pushstring(L, resp->reason);
	}
	sip_uac_release(r->uac);
	lsip_req_free(L, r);
	lsip_pcall(L, 3);
}
