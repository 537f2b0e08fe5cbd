/* sip.core: the loop, the clock, timers, tracing, and the one way C calls
 * back into Lua. */
#include "lsip.h"
#include "luasip.h"
#include "sip/name_addr.h"
#include "sip/sdp.h"
#include "sip/uri_headers.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* RTP port pairs kept open for the next calls. Under load the number of
 * calls in progress swings by hundreds within a second (a caller's ACKs and
 * BYEs come in bursts); a pool smaller than the swing closes pairs that are
 * bound again a moment later (at 21600 calls/s with 64 spares, a quarter of
 * the calls paid two sockets, binds, epoll registrations and closes). A
 * spare holds two descriptors: the spares take at most an eighth of the
 * process's limit, so a script that opens files and connections of its own
 * is not starved by them. */
#define RTP_SPARES_MIN 16
#define RTP_SPARES_MAX 1024

/* The media clock's question: is the process behind on its SIP sockets? */
static bool signalling_behind(void *arg)
{
	return sip_loop_behind(arg);
}

static unsigned rtp_spares_max(void)
{
	struct rlimit rl;
	rlim_t fds = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		fds = rl.rlim_cur;
	rlim_t pairs = fds / 16;
	if (pairs < RTP_SPARES_MIN)
		return RTP_SPARES_MIN;
	return pairs > RTP_SPARES_MAX ? RTP_SPARES_MAX : (unsigned)pairs;
}

struct lsip *lsip;

uv_loop_t *luasip_loop(void)
{
	return lsip ? &lsip->uv : NULL;
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	luaL_traceback(L, L, msg, 1);
	return 1;
}

bool lsip_pcall(lua_State *L, int nargs)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	int st = lua_pcall(L, nargs, 0, base);
	if (st != LUA_OK) {
		fprintf(stderr, "luasip: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_remove(L, base);
	return st == LUA_OK;
}

void lsip_push_ref(lua_State *L, int ref)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
}

const char *lsip_errname(int err)
{
	if (err == -ETIMEDOUT)
		return "timeout";
	if (err == -ECANCELED)
		return "closed";
	if (err == -EHOSTUNREACH)
		return "EHOSTUNREACH";
	if (err == -EPROTONOSUPPORT)
		return "EPROTONOSUPPORT";
	if (err == -EAFNOSUPPORT)
		return "EAFNOSUPPORT";
	return uv_err_name(err);
}

int lsip_push_failure(lua_State *L, int err, const struct sip_msg *resp)
{
	lua_pushnil(L);
	if (resp) {
		lua_pushinteger(L, resp->status);
		lua_pushstring(L, resp->reason);
	} else if (err == -ETIMEDOUT) {
		/* Timer F/B: the request timed out as if a 408 came (§8.1.3.1) */
		lua_pushinteger(L, 408);
		lua_pushstring(L, "Request Timeout");
	} else if (err == -ECANCELED) {
		lua_pushstring(L, "closed");
		lua_pushstring(L, "the endpoint was closed");
	} else if (err == -EINVAL || err == -EHOSTUNREACH || err == -EPROTONOSUPPORT ||
		   err == -EAFNOSUPPORT) {
		lua_pushstring(L, lsip_errname(err));
		lua_pushstring(L, err == -EHOSTUNREACH ? "host is not an IP address (no DNS)"
			       : err == -EAFNOSUPPORT ? "no transport for that address"
			       : err == -EINVAL ? "bad URI" : "unsupported transport or scheme");
	} else {
		/* a transport failure is a 503 (§8.1.3.1) */
		lua_pushinteger(L, 503);
		lua_pushfstring(L, "Service Unavailable (%s)", uv_strerror(err));
	}
	return 3;
}

void lsip_check_clean(lua_State *L, const char *what, const char *field, const char *s,
		      const char *bad)
{
	if (s && strpbrk(s, bad))
		luaL_error(L, "%s: %s '%s' has a character it may not have", what, field, s);
}

void lsip_check_from(lua_State *L, const char *what, const char *field, const char *s)
{
	const char *why;
	if (s && sip_name_addr_check(s, &why) != 0)
		luaL_error(L, "%s: %s: %s ('%s')", what, field, why, s);
}

void lsip_check_uri_headers(lua_State *L, const char *what, const char *uri, bool has_body)
{
	struct sip_uri_headers uh;
	char why[200];
	int err = sip_uri_headers_split(uri, &uh, why, sizeof(why));
	bool body = uh.body != NULL;
	sip_uri_headers_free(&uh);
	if (err == -ENOMEM)
		luaL_error(L, "%s: out of memory", what);
	if (err)
		luaL_error(L, "%s: %s ('%s')", what, why, uri);
	if (body && has_body)
		luaL_error(L, "%s: the request has a body, and the URI's body= would be another "
			   "('%s')", what, uri);
}

const char *lsip_optfield_string(lua_State *L, int idx, const char *key)
{
	int t = lua_getfield(L, idx, key);
	const char *s = NULL;
	if (t == LUA_TSTRING || t == LUA_TNUMBER)
		s = lua_tostring(L, -1);
	else if (t != LUA_TNIL)
		luaL_error(L, "option '%s' must be a string, got %s", key, lua_typename(L, t));
	lua_pop(L, 1);  /* the string stays alive in the table */
	return s;
}

void lsip_check_keys(lua_State *L, int idx, const char *what, const char *const keys[])
{
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		bool ok = false;
		if (lua_type(L, -1) == LUA_TSTRING)
			for (int i = 0; keys[i] && !ok; i++)
				ok = strcmp(keys[i], lua_tostring(L, -1)) == 0;
		if (!ok)
			luaL_error(L, "%s: unknown option '%s'", what, luaL_tolstring(L, -1, NULL));
	}
}

void lsip_trace(bool out, enum sip_proto proto, const union sa *peer, const char *buf,
		size_t len)
{
	lua_State *L = lsip->L;
	if (lsip->trace_ref == LUA_NOREF)
		return;
	char host[64];
	lsip_push_ref(L, lsip->trace_ref);
	lua_createtable(L, 0, 6);
	lua_pushstring(L, out ? "out" : "in");
	lua_setfield(L, -2, "dir");
	lua_pushstring(L, proto == SIP_TCP ? "tcp" : "udp");
	lua_setfield(L, -2, "transport");
	lua_pushstring(L, sa_host(peer, host, sizeof(host)));
	lua_setfield(L, -2, "addr");
	lua_pushinteger(L, sa_port(peer));
	lua_setfield(L, -2, "port");
	lua_pushlstring(L, buf, len);
	lua_setfield(L, -2, "text");
	lua_pushnumber(L, (double)uv_hrtime() / 1e9);
	lua_setfield(L, -2, "time");
	lsip_pcall(L, 1);
}

/* core.trace(fn | nil) */
static int l_trace(lua_State *L)
{
	if (lsip->trace_ref != LUA_NOREF)
		luaL_unref(L, LUA_REGISTRYINDEX, lsip->trace_ref);
	lsip->trace_ref = LUA_NOREF;
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TFUNCTION);
		lua_pushvalue(L, 1);
		lsip->trace_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	return 0;
}

static int l_now(lua_State *L)
{
	lua_pushnumber(L, (double)uv_hrtime() / 1e9);
	return 1;
}

/* core.run(): runs the loop until nothing keeps it alive or core.stop(). */
static int l_run(lua_State *L)
{
	if (lua_pushthread(L) != 1)
		return luaL_error(L, "sip.run must be called from the main thread, not a task");
	sip_loop_update(&lsip->loop);
	uv_run(&lsip->uv, UV_RUN_DEFAULT);
	return 0;
}

static int l_stop(lua_State *L)
{
	uv_stop(&lsip->uv);
	return 0;
}

/* A one-shot timer on the SIP timer queue. While pending it is anchored in
 * the registry and keeps the loop running, so a sleeping task is not left
 * behind by sip.run. */
struct ltimer {
	struct tmr tmr;
	int fn_ref, self_ref;
};

static bool timer_disarm(lua_State *L, struct ltimer *t)
{
	if (t->fn_ref == LUA_NOREF)
		return false;
	tmr_cancel(&t->tmr);
	luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);
	t->self_ref = LUA_NOREF;
	sip_loop_release(&lsip->loop);
	return true;
}

static void on_timer(void *arg)
{
	struct ltimer *t = arg;
	lua_State *L = lsip->L;
	int fn = t->fn_ref;
	timer_disarm(L, t);
	t->fn_ref = LUA_NOREF;
	lsip_push_ref(L, fn);
	luaL_unref(L, LUA_REGISTRYINDEX, fn);
	lsip_pcall(L, 0);
}

/* timer:cancel(): true when it was still pending */
static int l_timer_cancel(lua_State *L)
{
	struct ltimer *t = luaL_checkudata(L, 1, "sip.timer");
	bool pending = timer_disarm(L, t);
	if (pending) {
		luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
		t->fn_ref = LUA_NOREF;
	}
	lua_pushboolean(L, pending);
	return 1;
}

/* core.timer(seconds, fn) -> timer */
static int l_timer(lua_State *L)
{
	double secs = luaL_checknumber(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (!(secs > 0))
		secs = 0;
	struct ltimer *t = lua_newuserdatauv(L, sizeof(*t), 0);
	tmr_init(&t->tmr);
	luaL_setmetatable(L, "sip.timer");
	lua_pushvalue(L, 2);
	t->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, -1);
	t->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	sip_loop_update(&lsip->loop);
	sip_loop_hold(&lsip->loop);
	tmr_start(&lsip->loop.tq, &t->tmr, (uint64_t)(secs * 1000.0 + 0.5), on_timer, t);
	return 1;
}

static void open_timer(lua_State *L)
{
	static const luaL_Reg methods[] = { {"cancel", l_timer_cancel}, {NULL, NULL} };
	if (luaL_newmetatable(L, "sip.timer")) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* The Lua state closes: endpoints were finalised before (their userdata came
 * later), so what is left are close callbacks to run and the loop itself. */
static int l_shutdown(lua_State *L)
{
	if (!lsip)
		return 0;
	mclock_close(&lsip->clock, NULL);
	rtp_pool_close(&lsip->rtp_spares);
	lsip_media_close();
	sip_loop_close(&lsip->loop);
	for (int i = 0; uv_loop_close(&lsip->uv) == UV_EBUSY; i++) {
		if (i == 100)
			uv_walk(&lsip->uv, close_any, NULL);
		if (i > 200)
			return 0;  /* a handle that will not close: leave it */
		uv_run(&lsip->uv, UV_RUN_NOWAIT);
	}
	if (lsip->trace_ref != LUA_NOREF)
		luaL_unref(L, LUA_REGISTRYINDEX, lsip->trace_ref);
	free(lsip);
	lsip = NULL;
	return 0;
}

/* The media clock's lateness, for benchmarks: a histogram of how late each
 * tick ran, in 10 µs steps up to 100 ms (the last step holds the rest). */
#define LATE_STEPS 10000
static uint32_t late_hist[LATE_STEPS];
static uint64_t late_ticks;

static void on_late(void *arg, uint64_t late_ns)
{
	uint64_t step = late_ns / 10000;
	late_hist[step < LATE_STEPS ? step : LATE_STEPS - 1]++;
	late_ticks++;
}

static double late_quantile(double q)
{
	uint64_t want = (uint64_t)(q * (double)late_ticks), seen = 0;
	for (unsigned i = 0; i < LATE_STEPS; i++) {
		seen += late_hist[i];
		if (seen > want)
			return (i + 1) * 0.01;  /* ms, the step's upper end */
	}
	return LATE_STEPS * 0.01;
}

/* core.media_stats([reset]) -> {ticks=, streams=, skipped=, late_max=,
 * late_p50=, late_p99=, late_p999=} (milliseconds) */
static int l_media_stats(lua_State *L)
{
	struct mclock *c = &lsip->clock;
	c->late_h = on_late;
	lua_createtable(L, 0, 7);
	lua_pushinteger(L, (lua_Integer)late_ticks);
	lua_setfield(L, -2, "ticks");
	lua_pushinteger(L, c->nclients);
	lua_setfield(L, -2, "streams");
	lua_pushinteger(L, (lua_Integer)c->skipped);
	lua_setfield(L, -2, "skipped");
	lua_pushnumber(L, (double)c->late_max_ns / 1e6);
	lua_setfield(L, -2, "late_max");
	lua_pushnumber(L, late_ticks ? late_quantile(0.5) : 0);
	lua_setfield(L, -2, "late_p50");
	lua_pushnumber(L, late_ticks ? late_quantile(0.99) : 0);
	lua_setfield(L, -2, "late_p99");
	lua_pushnumber(L, late_ticks ? late_quantile(0.999) : 0);
	lua_setfield(L, -2, "late_p999");
	if (lua_toboolean(L, 1)) {
		memset(late_hist, 0, sizeof(late_hist));
		late_ticks = 0;
		c->late_max_ns = 0;
		c->skipped = 0;
	}
	return 1;
}

static const luaL_Reg core_funcs[] = {
	{"media_stats", l_media_stats},
	{"now", l_now},
	{"run", l_run},
	{"stop", l_stop},
	{"timer", l_timer},
	{"trace", l_trace},
	{"ua", lsip_ua_new},
	{"tone", lsip_tone},
	{"sound", lsip_sound},
	{NULL, NULL},
};

int luaopen_sip_core(lua_State *L)
{
	if (!lsip) {
		lsip = calloc(1, sizeof(*lsip));
		if (!lsip || uv_loop_init(&lsip->uv) != 0 ||
		    sip_loop_init(&lsip->loop, &lsip->uv) != 0)
			return luaL_error(L, "luasip: cannot start the event loop");
		sip_msg_init();
		lsip_use_slab(L);
		if (mclock_init(&lsip->clock, &lsip->uv) != 0)
			return luaL_error(L, "luasip: cannot start the media clock");
		lsip->clock.pressure = signalling_behind;
		lsip->clock.pressure_arg = &lsip->loop;
		rtp_pool_init(&lsip->rtp_spares, rtp_spares_max(), &lsip->loop.turns);
		/* Calls live across a few young collections (a call in
		 * progress at one and at the next is old), so in the
		 * generational mode lua5.4 starts in they pile up, with the C
		 * they hold, until a major collection: at 19200 calls/s the Lua
		 * heap grew 1.5 KB a call and the CPU per call 25%, and the
		 * answerer fell behind. The incremental mode keeps the heap at
		 * its working size (docs/performance.md). A script may set the
		 * mode back after require. */
		lua_gc(L, LUA_GCINC, 0, 0, 0);
		lsip->trace_ref = LUA_NOREF;
		/* a guard whose finaliser, the first one set, runs last */
		lua_newuserdatauv(L, 1, 0);
		lua_newtable(L);
		lua_pushcfunction(L, l_shutdown);
		lua_setfield(L, -2, "__gc");
		lua_setmetatable(L, -2);
		lua_setfield(L, LUA_REGISTRYINDEX, "luasip.shutdown");
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	lsip->L = lua_tothread(L, -1);
	lua_pop(L, 1);
	open_timer(L);
	lsip_open_msg(L);
	lsip_open_ua(L);
	lsip_open_reg(L);
	lsip_open_call(L);
	lsip_open_media(L);
	luaL_newlib(L, core_funcs);
	lua_pushstring(L, LUASIP_VERSION);
	lua_setfield(L, -2, "version");
	lsip_push_call_methods(L);
	lua_setfield(L, -2, "call_methods");
	lua_pushstring(L, SDP_MEDIA_TYPE);
	lua_setfield(L, -2, "sdp_media_type");
	return 1;
}
