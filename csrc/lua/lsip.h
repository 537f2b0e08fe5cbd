/* Shared by the Lua bindings (csrc/lua/ is the only place that sees Lua). */
#ifndef LUASIP_LSIP_H
#define LUASIP_LSIP_H

#include <lauxlib.h>
#include <lua.h>

#include "media/mclock.h"
#include "media/rtp_sock.h"
#include "sip/loop.h"
#include "sip/msg.h"
#include "sip/stack.h"
#include "sip/ua.h"
#include "sip/uac.h"

/* The loop and the Lua state every callback runs on (the main thread: a
 * callback never touches a suspended coroutine's stack, it resumes it). */
struct lsip {
	uv_loop_t uv;
	struct sip_loop loop;
	lua_State *L;
	int trace_ref;              /* LUA_NOREF when tracing is off */
	struct mclock clock;        /* drives every RTP stream */
	struct rtp_pool rtp_spares; /* RTP port pairs calls are done with */
};

extern struct lsip *lsip;

/* Calls the function under nargs arguments on the main thread's stack in
 * protected mode; an error is printed with its traceback. Returns true when
 * the call succeeded (its results are popped). */
bool lsip_pcall(lua_State *L, int nargs);
/* Pushes the function that ref names in the registry. */
void lsip_push_ref(lua_State *L, int ref);
/* Pushes nil, code, reason for a failure: a SIP status, or an errno name. */
int lsip_push_failure(lua_State *L, int err, const struct sip_msg *resp);
const char *lsip_errname(int err);
/* Reads a table field as a string (NULL when absent); raises on a wrong type. */
const char *lsip_optfield_string(lua_State *L, int idx, const char *key);
/* Values that go into a message as they are must not break its syntax:
 * raises "what: field 's' has a character it may not have" when s holds
 * one of bad. */
void lsip_check_clean(lua_State *L, const char *what, const char *field, const char *s,
		      const char *bad);
/* A From value (the endpoint's uri, a request's from): a URI or
 * "Display Name" <URI> (sip/name_addr.h); raises "what: field: why ('s')". */
void lsip_check_from(lua_State *L, const char *what, const char *field, const char *s);
/* The headers of a URI a request is made from (sip/uri_headers.h): raises
 * "what: why ('uri')" for a malformed one or one that must not come from
 * a URI, and for a body= when the request has a body of its own. */
void lsip_check_uri_headers(lua_State *L, const char *what, const char *uri, bool has_body);
/* Raises an error for any key of table idx not in the NULL-ended list. */
void lsip_check_keys(lua_State *L, int idx, const char *what, const char *const keys[]);

void lsip_trace(bool out, enum sip_proto proto, const union sa *peer, const char *buf,
		size_t len);

/* l_msg.c: a message for Lua; st makes it a request that can be answered. */
void lsip_push_msg(lua_State *L, struct sip_msg *m, struct sip_strans *st,
		   struct sip_ua *ua);
/* The request of message idx and its transaction, while it may still be
 * answered; false for a response, or a request answered already. */
bool lsip_msg_request(lua_State *L, int idx, const struct sip_msg **m, struct sip_strans **st);
/* Pushes a message object that takes the message put in the slot: made
 * before the message, so that a memory error raised in the making holds
 * nothing. Pop it when no message comes. */
struct sip_msg **lsip_push_msg_slot(lua_State *L);
/* Appends the headers of a {Name = value or {values}} table as lines;
 * raises "what: headers: ..." on a bad name or value, so b is one of
 * lsip_sbuf_new's. */
struct sbuf;
bool lsip_add_headers(lua_State *L, const char *what, int idx, struct sbuf *b);
/* Gives the state's small blocks to the slab allocator, where the state
 * has luaL_newstate's allocator (l_alloc.c). */
void lsip_use_slab(lua_State *L);
void lsip_open_msg(lua_State *L);
/* l_sbuf.c: pushes an empty message builder that an error raised before
 * the C function returns frees (it is closed then, or when the function
 * returns); what it built stays valid until then. */
struct sbuf *lsip_sbuf_new(lua_State *L);
/* l_ua.c, l_reg.c */
int lsip_ua_new(lua_State *L);
void lsip_open_ua(lua_State *L);
int lsip_ua_register(lua_State *L);
struct sip_ua *lsip_check_ua(lua_State *L, int idx);
void lsip_open_reg(lua_State *L);
/* l_req.c: a request in flight whose outcome goes to a Lua function. */
struct lsip_req {
	struct sip_uac *uac;
	int cb_ref;
};
/* Keeps the function at fn_idx; raises when out of memory. */
struct lsip_req *lsip_req_new(lua_State *L, int fn_idx);
/* For a request that could not be sent. */
void lsip_req_free(lua_State *L, struct lsip_req *r);
/* The sip_uac_h: calls the function once with the final outcome. */
void lsip_req_outcome(int err, const struct sip_msg *resp, void *arg);
/* l_media.c: sounds for Lua (sip.clip userdata) and tones. */
struct media_clip;
struct media_clip *lsip_check_clip(lua_State *L, int idx);
void lsip_open_media(lua_State *L);
/* The Lua state closes: the sound cache goes (sounds still held stay valid). */
void lsip_media_close(void);
/* core.tone{freqs = {...}, cadence = {ms...}, level =, mod =} -> clip */
int lsip_tone(lua_State *L);
/* core.sound(path) -> clip, seconds | nil, message (the shared sound cache) */
int lsip_sound(lua_State *L);
/* l_call.c */
int lsip_ua_call(lua_State *L);
/* Makes the session of an incoming INVITE and pushes its call; false (and
 * nothing pushed) when the INVITE was refused (its answer is sent). */
bool lsip_push_incoming_call(lua_State *L, struct sip_ua *ua, struct sip_strans *st,
			     const struct sip_msg *req);
void lsip_open_call(lua_State *L);
/* The session of the call userdata at idx; raises when it is released. */
struct sip_sess *lsip_check_sess(lua_State *L, int idx);
/* l_sub.c: the REFER of a transfer and its subscription (sip/sub.h), as
 * the call methods refer and accept_refer. */
int lsip_call_refer(lua_State *L);
int lsip_call_accept_refer(lua_State *L);
void lsip_open_sub(lua_State *L);
/* Pushes {METHOD = "call" | "handler or 200" | "handler or 405"}: the
 * requests a call takes and who answers them (sip_sess_methods). */
void lsip_push_call_methods(lua_State *L);

#endif
