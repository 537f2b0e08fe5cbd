/* sip.core.call: an INVITE session for Lua. Every event of the session
 * becomes one call of the Lua function set with call:events(fn):
 *   fn("progress", status, reason, msg)      a provisional response
 *   fn("established", msg)                   the call is up
 *   fn("modified")                           the far end changed it
 *   fn("modify_done", status | nil, reason)  our modification's outcome
 *   fn("request", req)                       INFO and the like, to answer
 *   fn("ended", why, status, reason, msg, by) the end, once (by: the call
 *                                            that replaced this one)
 *   fn("dtmf", digit)                        a key pressed (RFC 4733 or in-band)
 *   fn("played")                             what call:play started is over
 *   fn("recorded", seconds)                  the recording reached max or silence
 * Two calls' media are bridged with call:bridge(other, music) and parted
 * with call:unbridge() (csrc/media/bridge.h); the bridge parts by itself
 * when either call's media closes.
 * lua/sip/init.lua turns them into the blocking call API. */
#include "lsip.h"
#include "media/bridge.h"
#include "media/call_media.h"
#include "media/flow.h"
#include "media/rtp_sock.h"
#include "sip/sess.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CALL_MT "sip.call"
/* What an ended call holds in C until its Lua object goes: the session
 * with its dialog and SDP, and the parsed INVITE (about 4 KB of it) */
#define CALL_C_KB 6

struct lcall {
	struct sip_sess *s;
	struct call_media *media;   /* until the call ends (call_media.h) */
	int cb_ref;                 /* the events function */
	int self_ref;               /* a call that is not over stays alive */
	bool sdp_sent;              /* incoming: our SDP went in a 183 or the 2xx */
	struct rtp_stats final;     /* the media's counts at its end, for call:stats() */
	bool early_dtmf;            /* outgoing: call:dtmf in early media made us send */
};

static struct lcall *check_call(lua_State *L, int idx)
{
	struct lcall *c = luaL_checkudata(L, idx, CALL_MT);
	if (!c->s)
		luaL_error(L, "the call is released");
	return c;
}

struct sip_sess *lsip_check_sess(lua_State *L, int idx)
{
	return check_call(L, idx)->s;
}

/* Pushes the events function and the event name; false when there is none. */
static bool begin_event(struct lcall *c, const char *name)
{
	lua_State *L = lsip->L;
	if (c->cb_ref == LUA_NOREF)
		return false;
	lsip_push_ref(L, c->cb_ref);
	lua_pushstring(L, name);
	return true;
}

/* ---- media: the stream follows the SDP (flow.h has the rules) ---- */

static void media_update(struct lcall *c)
{
	if (c->media && c->s)
		call_media_set(c->media, sip_sess_media(c->s),
			       media_flow(c->s, c->sdp_sent, c->early_dtmf));
}

static void media_digit(void *arg, char digit)
{
	struct lcall *c = arg;
	char d[2] = { digit, 0 };
	if (begin_event(c, "dtmf")) {
		lua_pushstring(lsip->L, d);
		lsip_pcall(lsip->L, 2);
	}
}

static void media_played(void *arg)
{
	struct lcall *c = arg;
	if (begin_event(c, "played"))
		lsip_pcall(lsip->L, 1);
}

/* "recorded" tells the seconds, and a write that failed as its error
 * name and message. */
static void media_recorded(void *arg, double secs, int err, const char *msg)
{
	struct lcall *c = arg;
	if (!begin_event(c, "recorded"))
		return;
	lua_pushnumber(lsip->L, secs);
	if (!err) {
		lsip_pcall(lsip->L, 2);
		return;
	}
	lua_pushstring(lsip->L, lsip_errname(err));
	lua_pushstring(lsip->L, msg);
	lsip_pcall(lsip->L, 4);
}

static const struct call_media_handlers media_handlers = {
	.digit = media_digit,
	.played = media_played,
	.recorded = media_recorded,
};

/* tell: the call ended (a recording's task hears how long it got), not
 * collected */
static void media_close(struct lcall *c, bool tell)
{
	struct call_media *m = c->media;
	if (!m)
		return;
	call_media_stats(m, &c->final);
	c->media = NULL;  /* a handler run by the close finds no media */
	/* the pair serves the endpoint's next call; an endpoint that closes
	 * takes its spares with it (l_ua.c) and the pairs of its calls */
	struct sip_ua *ua = c->s ? sip_sess_ua(c->s) : NULL;
	call_media_close(m, ua && !sip_ua_closed(ua) && !sip_ua_closing(ua), tell);
}

static void on_progress(void *arg, const struct sip_msg *resp)
{
	struct lcall *c = arg;
	lua_State *L = lsip->L;
	if (!begin_event(c, "progress"))
		return;
	lua_pushinteger(L, resp->status);
	lua_pushstring(L, resp->reason);
	lsip_push_msg(L, (struct sip_msg *)resp, NULL, NULL);
	lsip_pcall(L, 4);
}

static void on_progress_media(void *arg, const struct sip_msg *resp)
{
	media_update(arg);
	on_progress(arg, resp);
}

static void on_established(void *arg, const struct sip_msg *msg)
{
	struct lcall *c = arg;
	lua_State *L = lsip->L;
	media_update(c);
	/* the 2xx or the ACK is not handed on: call.lua reads nothing of it,
	 * and a message object is an allocation and a finaliser per call */
	if (begin_event(c, "established"))
		lsip_pcall(L, 1);
}

static void on_modified(void *arg)
{
	struct lcall *c = arg;
	media_update(c);  /* a re-INVITE that moves the media moves the stream */
	if (begin_event(c, "modified"))
		lsip_pcall(lsip->L, 1);
}

static void on_modify_done(void *arg, int err, const struct sip_msg *resp)
{
	struct lcall *c = arg;
	lua_State *L = lsip->L;
	media_update(c);
	if (!begin_event(c, "modify_done"))
		return;
	if (err == -EBADMSG && resp) {
		lua_pushnil(L);
		lua_pushinteger(L, 488);
		lua_pushstring(L, "the answer had no usable SDP");
	} else if (err || resp->status >= 300) {
		lsip_push_failure(L, err, resp);
	} else {
		lua_pushinteger(L, resp->status);
		lua_pushstring(L, resp->reason);
		lua_pushnil(L);
	}
	lsip_pcall(L, 4);
}

static void on_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct lcall *c = arg;
	lua_State *L = lsip->L;
	if (!begin_event(c, "request")) {
		sip_sess_reply_unhandled(c->s, st);
		return;
	}
	lsip_push_msg(L, (struct sip_msg *)req, st, sip_sess_ua(c->s));
	if (!lsip_pcall(L, 2) && !sip_strans_answered(st))
		sip_strans_reply(st, 500, NULL, NULL, NULL, 0);
}

static const struct sip_sess_handlers call_handlers;

/* Pushes the Lua userdata of the call whose session s is, while that call
 * is not over; false when there is none. */
static bool push_call_of(lua_State *L, const struct sip_sess *s)
{
	const struct lcall *c = s ? sip_sess_arg(s, &call_handlers) : NULL;
	if (!c || c->self_ref == LUA_NOREF)
		return false;
	lsip_push_ref(L, c->self_ref);
	return true;
}

static void on_ended(void *arg, enum sip_sess_end why, int status, const char *reason,
		     const struct sip_msg *msg)
{
	struct lcall *c = arg;
	lua_State *L = lsip->L;
	if (begin_event(c, "ended")) {
		lua_pushstring(L, sip_sess_end_name(why));
		if (status)
			lua_pushinteger(L, status);
		else
			lua_pushnil(L);
		lua_pushstring(L, reason);
		/* the final response of a call we placed is what ua:call returns
		 * with its failure; an incoming call's BYE or CANCEL nobody reads */
		if (msg && sip_sess_outgoing(c->s))
			lsip_push_msg(L, (struct sip_msg *)msg, NULL, NULL);
		else
			lua_pushnil(L);
		/* a call replaced (RFC 3891): the call that took its place */
		if (!push_call_of(L, sip_sess_replaced_by(c->s)))
			lua_pushnil(L);
		lsip_pcall(L, 6);
	}
	/* after the end is told (a recording's task then sees the call's end
	 * reason), the media closes and a recording in progress hears its
	 * length */
	media_close(c, true);
	/* nothing more will happen: the collector may have the call (the
	 * events function refers to the Lua call, which refers to us) */
	luaL_unref(L, LUA_REGISTRYINDEX, c->self_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, c->cb_ref);
	c->self_ref = c->cb_ref = LUA_NOREF;
	/* The collector sees the userdata, not the kilobytes of C the session
	 * and its INVITE hold until the call object is collected: they count
	 * as its debt, as if Lua had allocated them, so that the collector
	 * keeps pace with the calls that end whatever the size of the Lua
	 * heap (in the incremental mode sip.core sets; tests/spec/call_spec.lua). */
	lua_gc(L, LUA_GCSTEP, CALL_C_KB);
}

static const struct sip_sess_handlers call_handlers = {
	.progress = on_progress_media,
	.established = on_established,
	.modified = on_modified,
	.modify_done = on_modify_done,
	.request = on_request,
	.ended = on_ended,
};

/* Binds an RTP pair on the address of the endpoint's transport for proto
 * and family: the SDP then names an address the peer can reach us at. */
static int bind_rtp(struct rtp_sock **rp, struct sip_ua *ua, enum sip_proto proto, int family)
{
	struct sip_transport *tp = sip_ua_transport(ua, proto, family);
	if (!tp)
		tp = sip_ua_transport(ua, proto == SIP_UDP ? SIP_TCP : SIP_UDP, family);
	if (!tp)
		return -EAFNOSUPPORT;
	union sa ip = tp->addr;
	if (sa_is_any(&ip))
		sa_set(&ip, ip.sa.sa_family == AF_INET6 ? "::1" : "127.0.0.1", 0);
	uint16_t min, max;
	sip_ua_rtp_ports(ua, &min, &max);
	return rtp_sock_alloc(rp, &lsip->rtp_spares, lsip->loop.uv, &ip, min, max);
}

static struct lcall *new_call(lua_State *L)
{
	struct lcall *c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	c->cb_ref = c->self_ref = LUA_NOREF;
	c->final.rtt_ms = -1;
	luaL_setmetatable(L, CALL_MT);
	return c;
}

/* The call's media on a socket pair bound for ua: 0 or a negative errno. */
static int new_media(struct lcall *c, struct sip_ua *ua, enum sip_proto proto, int family)
{
	struct rtp_sock *rtp;
	int err = bind_rtp(&rtp, ua, proto, family);
	if (err)
		return err;
	err = call_media_alloc(&c->media, &lsip->clock, &lsip->loop.tq, rtp, &media_handlers, c);
	if (err)
		rtp_sock_release(rtp);
	return err;
}

static void keep_alive(lua_State *L, struct lcall *c)
{
	lua_pushvalue(L, -1);
	c->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* ua:call({uri=, from=, to=, headers=, user=, password=, late_offer=,
 *          follow=}) -> call | nil, code, reason */
int lsip_ua_call(lua_State *L)
{
	static const char *const keys[] = { "uri", "from", "to", "headers", "user", "password",
		"late_offer", "follow", NULL };
	struct sip_ua *ua = lsip_check_ua(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lsip_check_keys(L, 2, "ua:call", keys);
	struct sip_sess_params p = {0};
	p.uri = lsip_optfield_string(L, 2, "uri");
	p.from = lsip_optfield_string(L, 2, "from");
	p.to = lsip_optfield_string(L, 2, "to");
	p.user = lsip_optfield_string(L, 2, "user");
	p.password = lsip_optfield_string(L, 2, "password");
	lua_getfield(L, 2, "late_offer");
	p.late_offer = lua_toboolean(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, 2, "follow");   /* new INVITEs after 3xx, at most */
	p.follow = (unsigned)luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	if (!p.uri)
		return luaL_error(L, "ua:call: uri is required");
	lsip_check_clean(L, "ua:call", "uri", p.uri, "\r\n <>\"");
	/* an INVITE's body is its offer: a URI's body= is never one */
	lsip_check_uri_headers(L, "ua:call", p.uri, true);
	lsip_check_from(L, "ua:call", "from", p.from);
	lsip_check_clean(L, "ua:call", "to", p.to, "\r\n");
	lsip_check_clean(L, "ua:call", "user", p.user, "\r\n\"\\");
	lsip_check_clean(L, "ua:call", "password", p.password, "\r\n\"\\");

	struct sip_peer dst;
	bool explicit_tp;
	int err = sip_uri_dest(p.uri, &dst, &explicit_tp);
	if (err)
		return lsip_push_failure(L, err, NULL);

	struct sbuf *hb = lsip_sbuf_new(L);
	lua_getfield(L, 2, "headers");
	lsip_add_headers(L, "ua:call", -1, hb);
	lua_pop(L, 1);
	p.headers = hb->d;

	struct lcall *c = new_call(L);
	err = new_media(c, ua, dst.proto, dst.addr.sa.sa_family);
	if (!err) {
		p.rtp = c->media->sock->addr;
		sip_loop_update(&lsip->loop);
		err = sip_sess_connect(&c->s, ua, &p, &call_handlers, c);
	}
	sbuf_free(hb);
	if (err) {
		if (c->media)
			call_media_close(c->media, true, false);
		c->media = NULL;
		return lsip_push_failure(L, err, NULL);
	}
	keep_alive(L, c);
	return 1;
}

bool lsip_push_incoming_call(lua_State *L, struct sip_ua *ua, struct sip_strans *st,
			     const struct sip_msg *req)
{
	struct lcall *c = new_call(L);
	int err = new_media(c, ua, req->src.proto, req->src.addr.sa.sa_family);
	if (err) {
		sip_strans_reply(st, 503, "No RTP Port", NULL, NULL, 0);
		lua_pop(L, 1);
		return false;
	}
	sip_loop_update(&lsip->loop);
	err = sip_sess_accept(&c->s, ua, st, req, &c->media->sock->addr, &call_handlers, c);
	if (err) {
		if (!sip_strans_answered(st))
			sip_strans_reply(st, 500, NULL, NULL, NULL, 0);
		call_media_close(c->media, true, false);
		c->media = NULL;
		lua_pop(L, 1);
		return false;
	}
	keep_alive(L, c);
	return true;
}

/* call:events(fn) */
static int l_events(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_unref(L, LUA_REGISTRYINDEX, c->cb_ref);
	lua_pushvalue(L, 2);
	c->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/* Returns true, or nil, errname for an action the state does not allow. */
static int result(lua_State *L, int err)
{
	if (!err) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, lsip_errname(err));
	return 2;
}

static int l_ring(lua_State *L)
{
	sip_loop_update(&lsip->loop);
	return result(L, sip_sess_ring(check_call(L, 1)->s));
}

static int l_progress(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	sip_loop_update(&lsip->loop);
	int err = sip_sess_progress(c->s);
	if (!err) {
		c->sdp_sent = !sip_sess_offer_in_2xx(c->s);  /* 183 with SDP: early media */
		media_update(c);
	}
	return result(L, err);
}

static int l_answer(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	sip_loop_update(&lsip->loop);
	int err = sip_sess_answer(c->s);
	if (!err) {
		c->sdp_sent = !sip_sess_offer_in_2xx(c->s);  /* the 200 has the answer: media flows */
		media_update(c);
	}
	return result(L, err);
}

/* call:play(clip, loop): starts playing (what played stops untold) */
static int l_play(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	struct media_clip *clip = lsip_check_clip(L, 2);
	if (!c->media)
		return result(L, -ENOTCONN);
	call_media_play(c->media, clip, lua_toboolean(L, 3));
	return result(L, 0);
}

/* call:stop_play() -> whether something played */
static int l_stop_play(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	lua_pushboolean(L, c->media && call_media_stop_play(c->media));
	return 1;
}

/* call:record(path, max, silence, both) -> true | nil, errname, message */
static int l_record(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	const char *path = luaL_checkstring(L, 2);
	double max = luaL_optnumber(L, 3, 0), silence = luaL_optnumber(L, 4, 0);
	bool both = lua_toboolean(L, 5);
	if (!c->media)
		return result(L, -ENOTCONN);
	char err[512];
	int e = call_media_record(c->media, path, max, silence, both, err, sizeof(err));
	if (e == -EBUSY)
		return result(L, e);
	if (e) {
		lua_pushnil(L);
		lua_pushstring(L, lsip_errname(e));
		lua_pushstring(L, err);
		return 3;
	}
	return result(L, 0);
}

/* call:bridge(other, clip | nil) -> true | nil, errname: EBUSY when one
 * of them is in a bridge, ENOTCONN when one has ended */
static int l_bridge(lua_State *L)
{
	struct lcall *c = check_call(L, 1), *o = check_call(L, 2);
	struct media_clip *music = lua_isnoneornil(L, 3) ? NULL : lsip_check_clip(L, 3);
	if (!c->media || !o->media)
		return result(L, -ENOTCONN);
	struct media_bridge *b;
	return result(L, media_bridge_join(&b, c->media, o->media, music));
}

/* call:unbridge() -> whether it was in a bridge (both calls stay up) */
static int l_unbridge(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	bool was = c->media && c->media->bridge;
	if (was)
		media_bridge_part(c->media->bridge);
	lua_pushboolean(L, was);
	return 1;
}

/* call:stop_record() -> seconds recorded | false, errname, message when a
 * write failed | nothing when nothing recorded */
static int l_stop_record(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	if (!c->media || !call_media_recording(c->media))
		return 0;
	double secs;
	char err[512];
	int e = call_media_stop_record(c->media, &secs, err, sizeof(err));
	if (e) {
		lua_pushboolean(L, 0);
		lua_pushstring(L, lsip_errname(e));
		lua_pushstring(L, err);
		return 3;
	}
	lua_pushnumber(L, secs);
	return 1;
}

/* call:dtmf(digits) -> true | nil, errname */
static int l_dtmf(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	const char *digits = luaL_checkstring(L, 2);
	if (!c->media)
		return result(L, -ENOTCONN);
	/* a caller's digits to what answered with early media (an IVR,
	 * RFC 3960 §3): the stream sends from now on */
	if (!c->early_dtmf && sip_sess_outgoing(c->s) && sip_sess_state_of(c->s) == SIP_SESS_EARLY) {
		c->early_dtmf = true;
		media_update(c);
	}
	return result(L, call_media_dtmf(c->media, digits));
}

/* call:stats() -> {packets_sent=, ...} */
static int l_stats(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	struct rtp_stats st = c->final;
	if (c->media)
		call_media_stats(c->media, &st);
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)st.tx_packets);
	lua_setfield(L, -2, "packets_sent");
	lua_pushinteger(L, (lua_Integer)st.tx_bytes);
	lua_setfield(L, -2, "bytes_sent");
	lua_pushinteger(L, (lua_Integer)st.rx_packets);
	lua_setfield(L, -2, "packets_received");
	lua_pushinteger(L, (lua_Integer)st.rx_bytes);
	lua_setfield(L, -2, "bytes_received");
	lua_pushinteger(L, (lua_Integer)st.rx_lost);
	lua_setfield(L, -2, "lost");
	lua_pushinteger(L, (lua_Integer)st.rx_dropped);
	lua_setfield(L, -2, "dropped");
	lua_pushnumber(L, st.jitter_ms);
	lua_setfield(L, -2, "jitter");
	/* what the far end's RTCP reports say */
	if (st.rtt_ms >= 0) {
		lua_pushnumber(L, st.rtt_ms);
		lua_setfield(L, -2, "rtt");
	}
	if (st.have_remote) {
		lua_pushinteger(L, st.remote_lost);
		lua_setfield(L, -2, "remote_lost");
		lua_pushnumber(L, st.remote_jitter_ms);
		lua_setfield(L, -2, "remote_jitter");
	}
	return 1;
}

/* call:reject(status, reason, headers) */
static int l_reject(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	lua_Integer status = luaL_checkinteger(L, 2);
	const char *reason = luaL_optstring(L, 3, NULL);
	if (status < 300 || status > 699)
		return luaL_error(L, "call:reject: status %d is not 300-699", (int)status);
	if (reason && strpbrk(reason, "\r\n"))
		return luaL_error(L, "call:reject: the reason may not hold line breaks");
	lua_settop(L, 4);  /* the builder goes above the arguments */
	struct sbuf *hb = lsip_sbuf_new(L);
	lsip_add_headers(L, "call:reject", 4, hb);
	sip_loop_update(&lsip->loop);
	int err = sip_sess_reject(c->s, (int)status, reason, hb->d);
	sbuf_free(hb);
	return result(L, err);
}

static int l_hangup(lua_State *L)
{
	sip_loop_update(&lsip->loop);
	return result(L, sip_sess_hangup(check_call(L, 1)->s));
}

/* call:modify(direction, update) */
static int l_modify(lua_State *L)
{
	static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive", NULL };
	struct lcall *c = check_call(L, 1);
	int dir = luaL_checkoption(L, 2, "sendrecv", dirs);
	sip_loop_update(&lsip->loop);
	return result(L, sip_sess_modify(c->s, (enum sdp_dir)dir, lua_toboolean(L, 3)));
}

/* core call:request(method, headers, body, fn(resp | nil, code, reason)),
 * behind call:send
 *   -> true | nil, errname */
static int l_request(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	const char *method = luaL_checkstring(L, 2);
	size_t blen = 0;
	const char *body = luaL_optlstring(L, 4, NULL, &blen);
	luaL_checktype(L, 5, LUA_TFUNCTION);
	lua_settop(L, 5);  /* the builder goes above the arguments */
	for (const char *m = method; *m; m++)
		if (!(*m >= 'A' && *m <= 'Z'))
			return luaL_error(L, "call:send: bad method '%s'", method);
	if (!strcmp(method, "INVITE") || !strcmp(method, "ACK") || !strcmp(method, "CANCEL") ||
	    !strcmp(method, "BYE") || !strcmp(method, "PRACK"))
		return luaL_error(L, "call:send: the call sends %s itself (call:modify, "
				  "call:hangup)", method);
	struct sbuf *hb = lsip_sbuf_new(L);
	lsip_add_headers(L, "call:send", 3, hb);
	struct lsip_req *r = lsip_req_new(L, 5);
	sip_loop_update(&lsip->loop);
	int err = sip_sess_request(c->s, &r->uac, method, hb->d, body, blen, lsip_req_outcome, r);
	sbuf_free(hb);
	if (err)
		lsip_req_free(L, r);
	return result(L, err);
}

/* call:allow() -> the Allow value of the call: what it takes without a
 * handler of call:on (lua/sip/call.lua adds those it has) */
static int l_allow(lua_State *L)
{
	lua_pushstring(L, sip_ua_allow(sip_sess_ua(check_call(L, 1)->s), true));
	return 1;
}

void lsip_push_call_methods(lua_State *L)
{
	static const char *const by[] = {
		[SIP_SESS_ANSWERS] = "call",
		[SIP_SESS_OWNER_OR_200] = "handler or 200",
		[SIP_SESS_OWNER_OR_405] = "handler or 405",
		[SIP_SESS_OWNER_TRANSFERS] = "handler or transfer",
	};
	lua_newtable(L);
	for (const struct sip_sess_method *m = sip_sess_methods; m->name; m++) {
		lua_pushstring(L, by[m->by]);
		lua_setfield(L, -2, m->name);
	}
}

static void push_opt_string(lua_State *L, const char *s)
{
	if (s)
		lua_pushstring(L, s);
	else
		lua_pushnil(L);
}

/* call:info() -> {state=, id=, local_uri=, remote_uri=, remote_sdp=,
 *                 local_sdp=, outgoing=, local_tag=, remote_tag=,
 *                 remote_target=} */
static int l_info(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	struct sip_sess *s = c->s;
	lua_createtable(L, 0, 11);
	lua_pushstring(L, sip_sess_state_name(sip_sess_state_of(s)));
	lua_setfield(L, -2, "state");
	push_opt_string(L, sip_sess_call_id(s));
	lua_setfield(L, -2, "id");
	push_opt_string(L, sip_sess_local_uri(s));
	lua_setfield(L, -2, "local_uri");
	push_opt_string(L, sip_sess_remote_uri(s));
	lua_setfield(L, -2, "remote_uri");
	push_opt_string(L, sip_sess_remote_sdp(s));
	lua_setfield(L, -2, "remote_sdp");
	push_opt_string(L, sip_sess_local_sdp(s));
	lua_setfield(L, -2, "local_sdp");
	lua_pushboolean(L, sip_sess_outgoing(s));
	lua_setfield(L, -2, "outgoing");
	push_opt_string(L, sip_sess_local_tag(s));
	lua_setfield(L, -2, "local_tag");
	push_opt_string(L, sip_sess_remote_tag(s));
	lua_setfield(L, -2, "remote_tag");
	/* where requests to the peer go (its Contact): what an attended
	 * transfer refers the other party to */
	const struct sip_dialog *dlg = sip_sess_dialog(s);
	push_opt_string(L, dlg ? dlg->target : NULL);
	lua_setfield(L, -2, "remote_target");
	return 1;
}

/* call:replaces() -> the call (its userdata) that this incoming call
 * replaces once answered (an INVITE with Replaces, RFC 3891), or nothing */
static int l_replaces(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	return push_call_of(L, sip_sess_replaces(c->s)) ? 1 : 0;
}

/* call:history() -> {{uri=, status=, reason=}, ...}: the targets an
 * outgoing call that follows 3xx tried, in order; nil for other calls */
static int l_history(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	struct sip_sess_target t;
	if (!sip_sess_tried(c->s, 0, &t))
		return 0;
	lua_newtable(L);
	for (unsigned i = 0; sip_sess_tried(c->s, i, &t); i++) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, t.uri);
		lua_setfield(L, -2, "uri");
		if (t.status) {
			lua_pushinteger(L, t.status);
			lua_setfield(L, -2, "status");
		}
		push_opt_string(L, t.reason);
		lua_setfield(L, -2, "reason");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* call:invite() -> the INVITE that set the call up (received, or the one
 * we sent last) as a message, or nil */
static int l_invite(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	struct sip_msg **slot = lsip_push_msg_slot(L);
	*slot = sip_sess_request_msg(c->s);
	return *slot ? 1 : 0;
}

/* call:state() -> "incoming" | ... : call.state without building info() */
static int l_state(lua_State *L)
{
	lua_pushstring(L, sip_sess_state_name(sip_sess_state_of(check_call(L, 1)->s)));
	return 1;
}

/* call:media() -> {addr=, port=, codec=, pt=, dir=, dtmf_pt=, ptime=,
 *                  hold_by_peer=, local_addr=, local_port=} | nil */
static int l_media(lua_State *L)
{
	struct lcall *c = check_call(L, 1);
	const struct sip_sess *s = c->s;
	const struct sdp_result *m = sip_sess_media(s);
	if (!m || m->pt < 0)
		return 0;
	char host[64];
	lua_createtable(L, 0, 10);
	lua_pushstring(L, sa_host(&m->remote, host, sizeof(host)));
	lua_setfield(L, -2, "addr");
	lua_pushinteger(L, sa_port(&m->remote));
	lua_setfield(L, -2, "port");
	lua_pushstring(L, m->pt == 8 ? "PCMA" : "PCMU");
	lua_setfield(L, -2, "codec");
	lua_pushinteger(L, m->rtp_pt);
	lua_setfield(L, -2, "pt");
	lua_pushstring(L, sdp_dir_name(m->dir));
	lua_setfield(L, -2, "dir");
	if (m->te_pt >= 0) {
		lua_pushinteger(L, m->te_pt);
		lua_setfield(L, -2, "dtmf_pt");
	}
	lua_pushinteger(L, m->ptime);
	lua_setfield(L, -2, "ptime");
	lua_pushboolean(L, m->hold_by_peer);
	lua_setfield(L, -2, "hold_by_peer");
	const union sa *local = sip_sess_rtp_addr(s);
	lua_pushstring(L, sa_host(local, host, sizeof(host)));
	lua_setfield(L, -2, "local_addr");
	lua_pushinteger(L, sa_port(local));
	lua_setfield(L, -2, "local_port");
	return 1;
}

static void call_release(lua_State *L, struct lcall *c)
{
	media_close(c, false);
	if (c->s) {
		struct sip_sess *s = c->s;
		c->s = NULL;
		sip_sess_release(s);
	}
	luaL_unref(L, LUA_REGISTRYINDEX, c->cb_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, c->self_ref);
	c->cb_ref = c->self_ref = LUA_NOREF;
}

static int l_gc(lua_State *L)
{
	call_release(L, luaL_checkudata(L, 1, CALL_MT));
	return 0;
}

static int l_tostring(lua_State *L)
{
	struct lcall *c = luaL_checkudata(L, 1, CALL_MT);
	lua_pushfstring(L, "sip.call(%s, %s)", c->s && sip_sess_call_id(c->s) ? sip_sess_call_id(c->s) : "-",
			c->s ? sip_sess_state_name(sip_sess_state_of(c->s)) : "released");
	return 1;
}

void lsip_open_call(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"events", l_events},
		{"ring", l_ring},
		{"progress", l_progress},
		{"answer", l_answer},
		{"reject", l_reject},
		{"hangup", l_hangup},
		{"modify", l_modify},
		{"request", l_request},
		{"info", l_info},
		{"allow", l_allow},
		{"invite", l_invite},
		{"state", l_state},
		{"history", l_history},
		{"replaces", l_replaces},
		{"media", l_media},
		{"play", l_play},
		{"stop_play", l_stop_play},
		{"record", l_record},
		{"stop_record", l_stop_record},
		{"dtmf", l_dtmf},
		{"bridge", l_bridge},
		{"unbridge", l_unbridge},
		{"stats", l_stats},
		{"refer", lsip_call_refer},
		{"accept_refer", lsip_call_accept_refer},
		{NULL, NULL},
	};
	static const luaL_Reg meta[] = {
		{"__gc", l_gc},
		{"__tostring", l_tostring},
		{NULL, NULL},
	};
	if (luaL_newmetatable(L, CALL_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	lsip_open_sub(L);
}
