/* Messages for Lua: a request handed to a handler (it can be answered) or a
 * response handed back from ua:request. Fields are read on demand. */
#include "lsip.h"
#include "sip/dialog.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG_MT "sip.message"

struct lmsg {
	struct sip_msg *m;
	struct sip_strans *st;     /* a request that still may be answered */
	struct sip_ua *ua;         /* the endpoint it came to, for Allow */
};

static struct lmsg *check_msg(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, MSG_MT);
}

void lsip_push_msg(lua_State *L, struct sip_msg *m, struct sip_strans *st, struct sip_ua *ua)
{
	struct lmsg *lm = lua_newuserdatauv(L, sizeof(*lm), 0);
	lm->m = mem_ref(m);
	lm->st = mem_ref(st);
	lm->ua = mem_ref(ua);
	luaL_setmetatable(L, MSG_MT);
}

struct sip_msg **lsip_push_msg_slot(lua_State *L)
{
	struct lmsg *lm = lua_newuserdatauv(L, sizeof(*lm), 0);
	lm->m = NULL;
	lm->st = NULL;
	lm->ua = NULL;
	luaL_setmetatable(L, MSG_MT);
	return &lm->m;
}

bool lsip_add_headers(lua_State *L, const char *what, int idx, struct sbuf *b)
{
	if (lua_isnoneornil(L, idx))
		return true;
	luaL_checktype(L, idx, LUA_TTABLE);
	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "%s: headers: header names must be strings", what);
		const char *name = lua_tostring(L, -2);
		for (const char *p = name; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-.!%*_+`'~", *p))
				luaL_error(L, "%s: headers: bad header name '%s'", what, name);
		if (!*name)
			luaL_error(L, "%s: headers: empty header name", what);
		/* a list gives the header several times */
		int n = lua_type(L, -1) == LUA_TTABLE ? (int)luaL_len(L, -1) : 1;
		for (int i = 1; i <= n; i++) {
			if (lua_type(L, -1) == LUA_TTABLE)
				lua_geti(L, -1, i);
			else
				lua_pushvalue(L, -1);
			size_t len;
			const char *v = luaL_tolstring(L, -1, &len);
			if (strpbrk(v, "\r\n") || strlen(v) != len)
				luaL_error(L, "%s: headers: header '%s' has a line break or NUL in "
					   "its value", what, name);
			sbuf_printf(b, "%s: %s\r\n", name, v);
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
	}
	return !b->err;
}

bool lsip_msg_request(lua_State *L, int idx, const struct sip_msg **m, struct sip_strans **st)
{
	struct lmsg *lm = check_msg(L, idx);
	if (!lm->m || !lm->m->request || !lm->st || sip_strans_answered(lm->st))
		return false;
	*m = lm->m;
	*st = lm->st;
	return true;
}

/* Whether header lines in b include name (as the start of a line). */
static bool has_header(const struct sbuf *b, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = b->d; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
	return false;
}

/* req:respond(status [, reason] [, headers] [, body]) -> true | nil, err */
static int l_respond(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	int status = (int)luaL_checkinteger(L, 2);
	int i = 3;
	const char *reason = NULL;
	if (lua_type(L, i) == LUA_TSTRING)
		reason = lua_tostring(L, i++);
	else if (lua_isnil(L, i) && lua_gettop(L) > i)
		i++;
	int hidx = i++;
	size_t body_len = 0;
	const char *body = luaL_optlstring(L, i, NULL, &body_len);
	lua_settop(L, i);  /* the builder goes above the arguments, absent ones nil */
	if (!lm->st)
		return luaL_error(L, "req:respond: this message is not a request that can be answered");
	if (status < 100 || status > 699)
		return luaL_error(L, "req:respond: status %d is not in 100-699", status);
	if (reason && strpbrk(reason, "\r\n"))
		return luaL_error(L, "req:respond: reason has a line break");
	struct sbuf *b = lsip_sbuf_new(L);
	lsip_add_headers(L, "req:respond", hidx, b);
	if (body && body_len && !has_header(b, "Content-Type"))
		sbuf_puts(b, "Content-Type: text/plain\r\n");
	if (lm->ua && ((sip_method_is(lm->m, "OPTIONS") && status / 100 == 2) || status == 405) &&
	    !has_header(b, "Allow")) {
		/* what we accept, as an answer to OPTIONS should say (§11.2)
		 * and a 405 must (§21.4.6); in a dialog, what its call takes */
		bool in_dialog = lm->m->to_tag && *lm->m->to_tag;
		sbuf_puts(b, "Allow: ");
		sbuf_puts(b, sip_ua_allow(lm->ua, in_dialog));
		sbuf_puts(b, "\r\n");
	}
	int err = sip_strans_reply(lm->st, status, reason, b->d, body, body_len);
	sbuf_free(b);
	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, err == -EALREADY ? "answered" : lsip_errname(err));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* Pushes the value of h unfolded, built in lauxlib's buffer: a memory
 * error leaves nothing of it behind. */
static void push_unfolded(lua_State *L, const struct sip_hdr *h)
{
	luaL_Buffer b;
	char *v = luaL_buffinitsize(L, &b, h->value_len + 1);
	luaL_pushresultsize(&b, sip_hdr_unfold(h, v));
}

/* msg:header(name) -> the first value, unfolded, or nil */
static int l_header(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct sip_hdr h;
	if (!sip_msg_hdr(lm->m, name, 0, &h))
		return 0;
	push_unfolded(L, &h);
	return 1;
}

/* msg:headers(name) -> a list of every value */
static int l_headers(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct sip_hdr h;
	lua_newtable(L);
	for (unsigned i = 0; sip_msg_hdr(lm->m, name, i, &h); i++) {
		push_unfolded(L, &h);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static void push_uri(lua_State *L, osip_from_t *f)
{
	char *s = NULL;
	if (f && f->url && osip_uri_to_str(f->url, &s) == 0 && s) {
		lua_pushstring(L, s);
		osip_free(s);
	} else {
		lua_pushnil(L);
	}
}

/* msg.contacts: the Contact URIs, q descending (equal q in the order
 * given), as a 3xx lists its targets (RFC 3261 §8.1.3.4) */
static void push_contacts(lua_State *L, const struct sip_msg *m)
{
	const osip_message_t *o = sip_msg_osip(m);
	osip_contact_t *c, *by_q[32];
	int n = 0;
	for (int i = 0; o && n < 32 && (c = osip_list_get(&o->contacts, i)) != NULL; i++) {
		if (!c->url)
			continue;
		int j = n++;
		for (; j > 0 && sip_contact_q(by_q[j - 1]) < sip_contact_q(c); j--)
			by_q[j] = by_q[j - 1];
		by_q[j] = c;
	}
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		char *s = sip_uri_dup(by_q[i]->url, false);
		if (!s)
			continue;
		lua_pushstring(L, s);
		mem_deref(s);
		lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	}
}

static int l_index(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	const char *k = luaL_checkstring(L, 2);
	const struct sip_msg *m = lm->m;
	char host[64];

	if (luaL_getmetafield(L, 1, "methods") != LUA_TNIL) {
		if (lua_getfield(L, -1, k) != LUA_TNIL)
			return 1;
		lua_pop(L, 2);
	}
	if (strcmp(k, "method") == 0)
		lua_pushstring(L, m->method);
	else if (strcmp(k, "uri") == 0)
		lua_pushstring(L, m->ruri);
	else if (strcmp(k, "status") == 0)
		m->request ? lua_pushnil(L) : lua_pushinteger(L, m->status);
	else if (strcmp(k, "reason") == 0)
		lua_pushstring(L, m->reason);
	else if (strcmp(k, "body") == 0)
		lua_pushlstring(L, m->body, m->body_len);
	else if (strcmp(k, "from") == 0)
		push_uri(L, m->from);
	else if (strcmp(k, "to") == 0)
		push_uri(L, m->to);
	else if (strcmp(k, "from_tag") == 0)
		lua_pushstring(L, m->from_tag);
	else if (strcmp(k, "to_tag") == 0)
		lua_pushstring(L, m->to_tag);
	else if (strcmp(k, "call_id") == 0)
		lua_pushstring(L, m->call_id);
	else if (strcmp(k, "cseq") == 0)
		lua_pushinteger(L, m->cseq);
	else if (strcmp(k, "transport") == 0)
		lua_pushstring(L, m->src.proto == SIP_TCP ? "tcp" : "udp");
	else if (strcmp(k, "addr") == 0)
		lua_pushstring(L, sa_host(&m->src.addr, host, sizeof(host)));
	else if (strcmp(k, "port") == 0)
		lua_pushinteger(L, sa_port(&m->src.addr));
	else if (strcmp(k, "text") == 0)
		lua_pushlstring(L, m->buf, m->len);
	else if (strcmp(k, "contacts") == 0)
		push_contacts(L, m);
	else if (strcmp(k, "answered") == 0)
		lua_pushboolean(L, lm->st ? sip_strans_answered(lm->st) : 1);
	else
		lua_pushnil(L);
	return 1;
}

static int l_gc(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	/* a request nobody answered must not leave its client waiting */
	if (lm->st && !sip_strans_answered(lm->st))
		sip_strans_reply(lm->st, 500, "Request Dropped", NULL, NULL, 0);
	lm->st = mem_deref(lm->st);
	lm->m = mem_deref(lm->m);
	lm->ua = mem_deref(lm->ua);
	return 0;
}

static int l_tostring(lua_State *L)
{
	struct lmsg *lm = check_msg(L, 1);
	if (lm->m->request)
		lua_pushfstring(L, "sip.request(%s %s)", lm->m->method, lm->m->ruri);
	else
		lua_pushfstring(L, "sip.response(%d %s)", lm->m->status, lm->m->reason);
	return 1;
}

void lsip_open_msg(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"respond", l_respond},
		{"header", l_header},
		{"headers", l_headers},
		{NULL, NULL},
	};
	static const luaL_Reg meta[] = {
		{"__index", l_index},
		{"__gc", l_gc},
		{"__tostring", l_tostring},
		{NULL, NULL},
	};
	if (luaL_newmetatable(L, MSG_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
}
