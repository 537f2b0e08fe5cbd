/* A registration for Lua: ua:register(params, fn) calls fn(resp | nil, code,
 * reason) for every outcome: the first REGISTER, each refresh, the
 * unregistration. */
#include "lsip.h"
#include "sip/reg.h"

#include <string.h>

#define REG_MT "sip.registration"

struct lua_reg {
	struct sip_reg *reg;
	int cb_ref;
	int self_ref;               /* a live registration refreshes on its own */
};

static void reg_release(lua_State *L, struct lua_reg *r)
{
	if (r->reg) {
		sip_reg_close(r->reg);
		r->reg = NULL;
	}
	luaL_unref(L, LUA_REGISTRYINDEX, r->cb_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, r->self_ref);
	r->cb_ref = r->self_ref = LUA_NOREF;
}

static void on_outcome(int err, const struct sip_msg *resp, void *arg)
{
	struct lua_reg *r = arg;
	lua_State *L = lsip->L;
	int cb = r->cb_ref;
	if (cb == LUA_NOREF)
		return;
	lsip_push_ref(L, cb);
	if (err == -ECANCELED) {
		/* the endpoint closed: nothing more will come */
		reg_release(L, r);
	}
	if (err || resp->status >= 300)
		lsip_push_failure(L, err, resp);
	else {
		lsip_push_msg(L, (struct sip_msg *)resp, NULL, NULL);
		lua_pushinteger(L, resp->status);
		lua_pushstring(L, resp->reason);
	}
	lsip_pcall(L, 3);
}

/* ua:register({registrar=, aor=, user=, password=, expires=}, fn) -> reg */
int lsip_ua_register(lua_State *L)
{
	static const char *const keys[] = { "registrar", "aor", "user", "password", "expires",
		NULL };
	struct sip_ua *ua = lsip_check_ua(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TFUNCTION);
	lsip_check_keys(L, 2, "register", keys);
	struct sip_reg_params p = {0};
	p.registrar = lsip_optfield_string(L, 2, "registrar");
	p.aor = lsip_optfield_string(L, 2, "aor");
	p.user = lsip_optfield_string(L, 2, "user");
	p.password = lsip_optfield_string(L, 2, "password");
	lua_getfield(L, 2, "expires");
	lua_Integer expires = luaL_optinteger(L, -1, 3600);
	lua_pop(L, 1);
	if (!p.registrar)
		return luaL_error(L, "register: registrar is required");
	if (expires < 1 || expires > 0x7fffffff)
		return luaL_error(L, "register: expires must be a positive number of seconds");
	p.expires = (uint32_t)expires;

	struct lua_reg *r = lua_newuserdatauv(L, sizeof(*r), 0);
	memset(r, 0, sizeof(*r));
	r->cb_ref = r->self_ref = LUA_NOREF;
	luaL_setmetatable(L, REG_MT);
	sip_loop_update(&lsip->loop);
	int err = sip_reg_start(&r->reg, ua, &p, on_outcome, r);
	if (err)
		return lsip_push_failure(L, err, NULL);
	lua_pushvalue(L, 3);
	r->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, -1);
	r->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

static int l_unregister(lua_State *L)
{
	struct lua_reg *r = luaL_checkudata(L, 1, REG_MT);
	if (!r->reg)
		return luaL_error(L, "the registration is closed");
	int err = sip_reg_unregister(r->reg);
	if (err)
		return lsip_push_failure(L, err, NULL);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_expires(lua_State *L)
{
	struct lua_reg *r = luaL_checkudata(L, 1, REG_MT);
	lua_pushinteger(L, r->reg ? sip_reg_expires(r->reg) : 0);
	return 1;
}

static int l_close(lua_State *L)
{
	reg_release(L, luaL_checkudata(L, 1, REG_MT));
	return 0;
}

void lsip_open_reg(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"unregister", l_unregister},
		{"expires", l_expires},
		{"close", l_close},
		{NULL, NULL},
	};
	if (luaL_newmetatable(L, REG_MT)) {
		lua_pushcfunction(L, l_close);
		lua_setfield(L, -2, "__gc");
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
