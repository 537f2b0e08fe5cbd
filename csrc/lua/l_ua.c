/* sip.core.ua: an endpoint for Lua. The Lua module (lua/sip/init.lua) turns
 * its callbacks into tasks; here each C event becomes one Lua call. */
#include "lsip.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UA_MT "sip.ua"

struct lua_ua {
	struct sip_ua *ua;
	int handler_ref;            /* function(req) for every incoming request */
	int methods_ref;            /* { METHOD = true } that the handler takes */
	int self_ref;               /* keeps an open endpoint from the collector */
};

static struct lua_ua *check_ua(lua_State *L, int idx)
{
	struct lua_ua *u = luaL_checkudata(L, idx, UA_MT);
	if (!u->ua || sip_ua_closed(u->ua))
		luaL_error(L, "the endpoint is closed");
	return u;
}

static bool ua_handles(void *arg, const char *method)
{
	struct lua_ua *u = arg;
	lua_State *L = lsip->L;
	if (u->methods_ref == LUA_NOREF)
		return false;
	lsip_push_ref(L, u->methods_ref);
	lua_getfield(L, -1, method);
	bool yes = lua_toboolean(L, -1);
	lua_pop(L, 2);
	return yes;
}

static void ua_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct lua_ua *u = arg;
	lua_State *L = lsip->L;
	if (u->handler_ref == LUA_NOREF) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, 0);
		return;
	}
	lsip_push_ref(L, u->handler_ref);
	if (sip_method_is(req, "INVITE")) {
		/* a new call: the handler gets the INVITE and its session */
		lsip_push_msg(L, (struct sip_msg *)req, NULL, u->ua);
		if (!lsip_push_incoming_call(L, u->ua, st, req)) {
			lua_pop(L, 2);
			return;
		}
		lsip_pcall(L, 2);
		return;
	}
	lsip_push_msg(L, (struct sip_msg *)req, st, u->ua);
	if (!lsip_pcall(L, 1) && !sip_strans_answered(st))
		sip_strans_reply(st, 500, NULL, NULL, NULL, 0);
}

static void ua_trace(void *arg, bool out, enum sip_proto proto, const union sa *peer,
		     const char *buf, size_t len)
{
	lsip_trace(out, proto, peer, buf, len);
}

static const struct sip_ua_handlers ua_handlers = {
	.request = ua_request,
	.handles = ua_handles,
	.trace = ua_trace,
};

/* core.ua(identity) */
int lsip_ua_new(lua_State *L)
{
	const char *identity = luaL_optstring(L, 1, NULL);
	lsip_check_from(L, "sip.ua", "uri", identity);
	struct lua_ua *u = lua_newuserdatauv(L, sizeof(*u), 0);
	memset(u, 0, sizeof(*u));
	u->handler_ref = u->methods_ref = u->self_ref = LUA_NOREF;
	luaL_setmetatable(L, UA_MT);
	int err = sip_ua_alloc(&u->ua, &lsip->loop, identity, &ua_handlers, u);
	if (err)
		return luaL_error(L, "cannot create the endpoint: %s", lsip_errname(err));
	lua_pushvalue(L, -1);
	u->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

/* ua:listen("udp" | "tcp", host, port) -> true | nil, errname */
static int l_listen(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	enum sip_proto proto;
	const char *ps = luaL_checkstring(L, 2);
	const char *host = luaL_checkstring(L, 3);
	lua_Integer port = luaL_checkinteger(L, 4);
	union sa addr;
	if (sip_proto_parse(ps, &proto) != 0)
		return luaL_error(L, "unknown transport '%s' (udp or tcp)", ps);
	if (port < 0 || port > 65535)
		return luaL_error(L, "port %d out of range", (int)port);
	if (sa_set(&addr, host, (uint16_t)port) != 0)
		return luaL_error(L, "'%s' is not an IPv4 or IPv6 address", host);
	int err = sip_ua_listen(u->ua, proto, &addr);
	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, lsip_errname(err));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ua:address("udp" | "tcp") -> host, port */
static int l_address(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	enum sip_proto proto;
	const char *ps = luaL_optstring(L, 2, "udp");
	if (sip_proto_parse(ps, &proto) != 0)
		return luaL_error(L, "unknown transport '%s' (udp or tcp)", ps);
	struct sip_transport *tp = sip_ua_transport(u->ua, proto, 0);
	if (!tp)
		return 0;
	char host[64];
	lua_pushstring(L, sa_host(&tp->addr, host, sizeof(host)));
	lua_pushinteger(L, sa_port(&tp->addr));
	return 2;
}

/* ua:handler(fn, methods) */
static int l_handler(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_checktype(L, 3, LUA_TTABLE);
	luaL_unref(L, LUA_REGISTRYINDEX, u->handler_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, u->methods_ref);
	lua_pushvalue(L, 2);
	u->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, 3);
	u->methods_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	sip_ua_handlers_changed(u->ua);
	return 0;
}

/* ua:methods_changed(): the methods table of ua:handler changed (on a
 * closed endpoint too: nothing to do then) */
static int l_methods_changed(lua_State *L)
{
	struct lua_ua *u = luaL_checkudata(L, 1, UA_MT);
	if (u->ua)
		sip_ua_handlers_changed(u->ua);
	return 0;
}

/* ua:timers(t1, t2, t4) in milliseconds */
static int l_timers(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	lua_Integer t[3];
	for (int i = 0; i < 3; i++) {
		t[i] = luaL_checkinteger(L, 2 + i);
		if (t[i] < 1 || t[i] > 600000)
			return luaL_error(L, "timer values must be between 1 ms and 600 s");
	}
	sip_ua_set_timers(u->ua, (uint32_t)t[0], (uint32_t)t[1], (uint32_t)t[2]);
	return 0;
}

/* ua:max_message(bytes): larger messages are dropped (set before listen) */
static int l_max_message(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	lua_Integer n = luaL_checkinteger(L, 2);
	if (n < 1024 || n > 65535)
		return luaL_error(L, "max_message must be between 1024 and 65535 bytes");
	sip_ua_set_max_msg(u->ua, (size_t)n);
	return 0;
}

/* ua:rtp_ports(min, max): the range RTP port pairs come from */
static int l_rtp_ports(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
	if (lo < 1024 || hi > 65535 || hi < lo + 1)
		return luaL_error(L, "rtp_ports must be {min, max} with 1024 <= min < max <= 65535");
	sip_ua_set_rtp_ports(u->ua, (uint16_t)lo, (uint16_t)hi);
	return 0;
}

/* ua:max_calls(n): an INVITE beyond n calls in progress gets 503 */
static int l_max_calls(lua_State *L)
{
	struct lua_ua *u = check_ua(L, 1);
	lua_Integer n = luaL_checkinteger(L, 2);
	if (n < 1 || n > 1000000)
		return luaL_error(L, "max_calls must be between 1 and 1000000");
	sip_ua_set_max_sessions(u->ua, (unsigned)n);
	return 0;
}

/* Values that go into the message as they are must not break its syntax. */
/* ua:request({method=, uri=, to=, from=, headers=, body=, user=, password=,
 *            contact=}, fn(resp | nil, code, reason)) -> true | nil, code, reason */
static int l_request(lua_State *L)
{
	static const char *const keys[] = { "method", "uri", "to", "from", "headers", "body",
		"user", "password", "contact", NULL };
	struct lua_ua *u = check_ua(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TFUNCTION);
	lsip_check_keys(L, 2, "ua:request", keys);
	struct sip_uac_params p = {0};
	p.method = lsip_optfield_string(L, 2, "method");
	p.uri = lsip_optfield_string(L, 2, "uri");
	p.to = lsip_optfield_string(L, 2, "to");
	p.from = lsip_optfield_string(L, 2, "from");
	p.user = lsip_optfield_string(L, 2, "user");
	p.password = lsip_optfield_string(L, 2, "password");
	lua_getfield(L, 2, "contact");
	p.contact = lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 2, "body");
	p.body = lua_tolstring(L, -1, &p.body_len);
	lua_pop(L, 1);
	if (!p.method || !p.uri)
		return luaL_error(L, "ua:request: method and uri are required");
	for (const char *c = p.method; *c; c++)
		if (!(*c >= 'A' && *c <= 'Z') && !(*c >= 'a' && *c <= 'z') && !strchr("-.!%*_+`'~", *c))
			return luaL_error(L, "ua:request: bad method '%s'", p.method);
	lsip_check_clean(L, "ua:request", "uri", p.uri, "\r\n <>\"");
	lsip_check_uri_headers(L, "ua:request", p.uri, p.body_len > 0);
	lsip_check_from(L, "ua:request", "from", p.from);
	lsip_check_clean(L, "ua:request", "to", p.to, "\r\n");
	lsip_check_clean(L, "ua:request", "user", p.user, "\r\n\"\\");
	lsip_check_clean(L, "ua:request", "password", p.password, "\r\n\"\\");
	struct sbuf *hb = lsip_sbuf_new(L);
	lua_getfield(L, 2, "headers");
	lsip_add_headers(L, "ua:request", -1, hb);
	lua_pop(L, 1);
	p.headers = hb->d;

	struct lsip_req *r = lsip_req_new(L, 3);
	sip_loop_update(&lsip->loop);  /* timers count from now, not the last loop pass */
	int err = sip_uac_send(&r->uac, u->ua, &p, lsip_req_outcome, r);
	sbuf_free(hb);
	if (err) {
		lsip_req_free(L, r);
		return lsip_push_failure(L, err, NULL);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static void ua_close(lua_State *L, struct lua_ua *u)
{
	if (!u->ua)
		return;
	sip_ua_close(u->ua);
	/* the RTP ports it kept for its next calls are free again */
	uint16_t min, max;
	sip_ua_rtp_ports(u->ua, &min, &max);
	rtp_pool_flush(&lsip->rtp_spares, min, max);
	luaL_unref(L, LUA_REGISTRYINDEX, u->self_ref);
	u->self_ref = LUA_NOREF;
}

static int l_close(lua_State *L)
{
	struct lua_ua *u = luaL_checkudata(L, 1, UA_MT);
	ua_close(L, u);
	return 0;
}

static int l_gc(lua_State *L)
{
	struct lua_ua *u = luaL_checkudata(L, 1, UA_MT);
	ua_close(L, u);
	luaL_unref(L, LUA_REGISTRYINDEX, u->handler_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, u->methods_ref);
	u->handler_ref = u->methods_ref = LUA_NOREF;
	u->ua = mem_deref(u->ua);
	return 0;
}

static int l_closed(lua_State *L)
{
	struct lua_ua *u = luaL_checkudata(L, 1, UA_MT);
	lua_pushboolean(L, !u->ua || sip_ua_closed(u->ua));
	return 1;
}

static int l_tostring(lua_State *L)
{
	struct lua_ua *u = luaL_checkudata(L, 1, UA_MT);
	lua_pushfstring(L, "sip.ua(%s)", u->ua ? sip_ua_identity(u->ua) : "closed");
	return 1;
}

/* Used by l_reg.c */
struct sip_ua *lsip_check_ua(lua_State *L, int idx)
{
	return check_ua(L, idx)->ua;
}

void lsip_open_ua(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"listen", l_listen},
		{"address", l_address},
		{"handler", l_handler},
		{"methods_changed", l_methods_changed},
		{"timers", l_timers},
		{"max_message", l_max_message},
		{"request", l_request},
		{"register", lsip_ua_register},
		{"call", lsip_ua_call},
		{"rtp_ports", l_rtp_ports},
		{"max_calls", l_max_calls},
		{"close", l_close},
		{"closed", l_closed},
		{NULL, NULL},
	};
	static const luaL_Reg meta[] = {
		{"__gc", l_gc},
		{"__close", l_close},
		{"__tostring", l_tostring},
		{NULL, NULL},
	};
	if (luaL_newmetatable(L, UA_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
