/* sip.core's REFER subscriptions (csrc/sip/sub.h) for Lua, both sides of a
 * transfer. lua/sip/transfer.lua makes call:transfer and the transferee of
 * them.
 *
 * The transferor's call:refer(refer_to, no_subscription, timeout_ms, fn)
 * sends the REFER; fn hears
 *   fn("notify", status, reason, final)   a NOTIFY's sipfrag (status 0: none)
 *   fn("ended", why, status, reason)      the end, once (sip_sub_end_name)
 * The transferee's call:accept_refer(req, fn) answers a REFER 202 and sends
 * NOTIFY 100 Trying; sub:notify(status, reason) says how the referred call
 * goes, a final status ending it; fn hears fn("ended", why). A REFER with
 * Refer-Sub: false is answered 200 and makes no subscription (false).
 *
 * A subscription that is not over stays alive without a Lua reference;
 * sub:release() (or the collector, once it is over) lets it go. */
#include "lsip.h"
#include "sip/sess.h"
#include "sip/sub.h"
#include "util/mem.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define SUB_MT "sip.sub"

struct lsub {
	struct sip_sub *s;          /* until released */
	int cb_ref;                 /* the events function */
	int self_ref;               /* a subscription not over stays alive */
};

static struct lsub *check_sub(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, SUB_MT);
}

/* Nothing more will be told: the collector may have it. */
static void forget(lua_State *L, struct lsub *ls)
{
	luaL_unref(L, LUA_REGISTRYINDEX, ls->cb_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, ls->self_ref);
	ls->cb_ref = ls->self_ref = LUA_NOREF;
}

static void on_notified(void *arg, int status, const char *reason, bool final)
{
	struct lsub *ls = arg;
	lua_State *L = lsip->L;
	if (ls->cb_ref == LUA_NOREF)
		return;
	lsip_push_ref(L, ls->cb_ref);
	lua_pushstring(L, "notify");
	lua_pushinteger(L, status);
	lua_pushstring(L, reason);
	lua_pushboolean(L, final);
	lsip_pcall(L, 4);
}

static void on_ended(void *arg, enum sip_sub_end why, int status)
{
	struct lsub *ls = arg;
	lua_State *L = lsip->L;
	if (ls->cb_ref != LUA_NOREF) {
		lsip_push_ref(L, ls->cb_ref);
		lua_pushstring(L, "ended");
		lua_pushstring(L, sip_sub_end_name(why));
		if (status) {
			lua_pushinteger(L, status);
			lua_pushstring(L, sip_reason_phrase(status));
		} else {
			lua_pushnil(L);
			lua_pushnil(L);
		}
		lsip_pcall(L, 4);
	}
	forget(L, ls);
}

static const struct sip_sub_handlers sub_handlers = {
	.notified = on_notified,
	.ended = on_ended,
};

/* A new subscription object on the stack, told to the function at fn_idx. */
static struct lsub *new_sub(lua_State *L, int fn_idx)
{
	struct lsub *ls = lua_newuserdatauv(L, sizeof(*ls), 0);
	ls->s = NULL;
	ls->cb_ref = ls->self_ref = LUA_NOREF;
	luaL_setmetatable(L, SUB_MT);
	lua_pushvalue(L, fn_idx);
	ls->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return ls;
}

static void keep_alive(lua_State *L, struct lsub *ls)
{
	lua_pushvalue(L, -1);
	ls->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static int push_error(lua_State *L, int err)
{
	lua_pushnil(L);
	lua_pushstring(L, lsip_errname(err));
	return 2;
}

/* call:refer(refer_to, no_subscription, timeout_ms, fn) -> sub | nil, errname */
int lsip_call_refer(lua_State *L)
{
	struct sip_sess *s = lsip_check_sess(L, 1);
	struct sip_refer_params p = {0};
	p.refer_to = luaL_checkstring(L, 2);
	p.no_subscription = lua_toboolean(L, 3);
	lua_Integer timeout = luaL_checkinteger(L, 4);
	luaL_checktype(L, 5, LUA_TFUNCTION);
	lsip_check_clean(L, "call:transfer", "target", p.refer_to, "\r\n");
	p.timeout = timeout > 0 && timeout < UINT32_MAX ? (uint32_t)timeout : 0;
	p.user = sip_sess_user(s);
	p.password = sip_sess_password(s);
	struct sip_dialog *dlg = sip_sess_dialog(s);
	if (!dlg || sip_sess_state_of(s) != SIP_SESS_CONFIRMED)
		return push_error(L, -ENOTCONN);
	struct lsub *ls = new_sub(L, 5);
	sip_loop_update(&lsip->loop);
	int err = sip_sub_refer(&ls->s, dlg, &p, &sub_handlers, ls);
	if (err) {
		forget(L, ls);
		return push_error(L, err);
	}
	keep_alive(L, ls);
	return 1;
}

/* call:accept_refer(req, fn) -> sub | false (Refer-Sub: false: 200, no
 * subscription) | nil, errname (answered 400 when malformed) */
int lsip_call_accept_refer(lua_State *L)
{
	struct sip_sess *s = lsip_check_sess(L, 1);
	const struct sip_msg *req;
	struct sip_strans *st;
	luaL_checktype(L, 3, LUA_TFUNCTION);
	if (!lsip_msg_request(L, 2, &req, &st) || !sip_method_is(req, "REFER"))
		return luaL_error(L, "call:accept_refer: expected a REFER not answered yet");
	if (!sip_sess_dialog(s))
		return push_error(L, -ENOTCONN);
	struct lsub *ls = new_sub(L, 3);
	sip_loop_update(&lsip->loop);
	int err = sip_sub_accept_refer(&ls->s, sip_sess_dialog(s), st, req, 0, &sub_handlers, ls);
	if (err || !ls->s) {
		forget(L, ls);
		if (err)
			return push_error(L, err);
		lua_pushboolean(L, 0);
		return 1;
	}
	keep_alive(L, ls);
	return 1;
}

/* sub:notify(status, reason) -> true | nil, errname */
static int l_notify(lua_State *L)
{
	struct lsub *ls = check_sub(L, 1);
	lua_Integer status = luaL_checkinteger(L, 2);
	const char *reason = luaL_optstring(L, 3, NULL);
	if (reason && strpbrk(reason, "\r\n"))
		return luaL_error(L, "sub:notify: the reason may not hold line breaks");
	if (!ls->s)
		return push_error(L, -ENOTCONN);
	sip_loop_update(&lsip->loop);
	int err = sip_sub_notify(ls->s, (int)status, reason);
	if (err)
		return push_error(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* sub:active() -> whether it is not over */
static int l_active(lua_State *L)
{
	struct lsub *ls = check_sub(L, 1);
	lua_pushboolean(L, ls->s && sip_sub_active(ls->s));
	return 1;
}

static void release(lua_State *L, struct lsub *ls)
{
	struct sip_sub *s = ls->s;
	ls->s = NULL;
	forget(L, ls);
	sip_sub_release(s);  /* a notifier's says terminated, with its last status */
}

static int l_release(lua_State *L)
{
	release(L, check_sub(L, 1));
	return 0;
}

void lsip_open_sub(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"notify", l_notify},
		{"active", l_active},
		{"release", l_release},
		{NULL, NULL},
	};
	static const luaL_Reg meta[] = {
		{"__gc", l_release},
		{NULL, NULL},
	};
	if (luaL_newmetatable(L, SUB_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
