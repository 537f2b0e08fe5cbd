/* sip.core clips: sounds ready to play (a tone rendered once, later files
 * from the sound cache), as userdata that hold a reference to the shared
 * media_clip. lua/sip/init.lua caches them, so every call that plays the
 * same tone shares one. */
#include "lsip.h"
#include "media/player.h"
#include "media/sound.h"
#include "media/tone.h"
#include "util/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define CLIP_MT "sip.clip"

struct lclip {
	struct media_clip *clip;
};

struct media_clip *lsip_check_clip(lua_State *L, int idx)
{
	return ((struct lclip *)luaL_checkudata(L, idx, CLIP_MT))->clip;
}

/* Pushes an empty clip object. It is made before the clip it will hold, so
 * that a memory error raised in the making holds nothing yet; once filled,
 * the collector releases the clip. */
static struct lclip *push_clip_box(lua_State *L)
{
	struct lclip *c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->clip = NULL;
	luaL_setmetatable(L, CLIP_MT);
	return c;
}

/* Reads a list of integers from field key of the table at 1. */
static unsigned int_list(lua_State *L, const char *key, uint16_t *out, unsigned max,
			 lua_Integer lo, lua_Integer hi)
{
	lua_getfield(L, 1, key);
	unsigned n = 0;
	if (lua_istable(L, -1)) {
		n = (unsigned)luaL_len(L, -1);
		if (n > max)
			luaL_error(L, "sip.tone: at most %d values in %s", (int)max, key);
		for (unsigned i = 0; i < n; i++) {
			lua_geti(L, -1, i + 1);
			if (!lua_isinteger(L, -1))
				luaL_error(L, "sip.tone: %s must hold whole numbers", key);
			lua_Integer v = lua_tointeger(L, -1);
			if (v < lo || v > hi)
				luaL_error(L, "sip.tone: %s value %d out of range", key, (int)v);
			out[i] = (uint16_t)v;
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, -1)) {
		luaL_error(L, "sip.tone: %s must be a list", key);
	}
	lua_pop(L, 1);
	return n;
}

/* core.tone(name, country) or core.tone{freqs=, cadence=, level=, mod=} */
int lsip_tone(lua_State *L)
{
	struct tone_spec t = { .level_dbm0 = -13 };
	if (lua_type(L, 1) == LUA_TSTRING) {
		const char *name = lua_tostring(L, 1), *country = luaL_optstring(L, 2, NULL);
		int err = tone_lookup(name, country, &t);
		if (err == -ENOENT)
			return luaL_error(L, "sip.tone: unknown tone '%s' (dial, ringback, busy, "
					  "congestion, waiting)", name);
		if (err)
			return luaL_error(L, "sip.tone: no tones for country '%s' (us, uk, eu, "
					  "de, fr, cn, jp)", country);
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		t.nfreqs = int_list(L, "freqs", t.freqs, TONE_MAX_FREQS, 1, 3999);
		t.ncadence = int_list(L, "cadence", t.cadence, TONE_MAX_CADENCE, 0, 60000);
		lua_getfield(L, 1, "level");
		t.level_dbm0 = luaL_optnumber(L, -1, -13);
		lua_getfield(L, 1, "mod");
		t.mod_hz = (uint16_t)luaL_optinteger(L, -1, 0);
		lua_pop(L, 2);
		const char *why;
		if (tone_check(&t, &why))
			return luaL_error(L, "sip.tone: %s", why);
	}
	struct lclip *box = push_clip_box(L);
	int16_t *pcm;
	size_t n;
	if (tone_render(&t, &pcm, &n) != 0)
		return luaL_error(L, "sip.tone: out of memory");
	box->clip = media_clip_from_pcm(pcm, n);
	free(pcm);
	if (!box->clip)
		return luaL_error(L, "sip.tone: out of memory");
	lua_pushnumber(L, (double)n / 8000.0);
	return 2;
}

/* One cache for the process: every call that plays a file shares it. */
static struct sound_cache sounds;
static bool sounds_ready;

/* Pushes the clip of snd (taken) and its seconds, or nil and a message. */
static void push_sound(lua_State *L, struct sound *snd)
{
	struct lclip *box = push_clip_box(L);
	struct media_clip *clip = media_clip_from_sound(snd);
	mem_deref(snd);
	if (!clip) {
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_pushliteral(L, "out of memory");
		return;
	}
	box->clip = clip;
	lua_pushnumber(L, (double)clip->n / 8000.0);
}

/* A decoding finished: k(clip, seconds) or k(nil, message). */
static void on_sound(void *arg, struct sound *snd, int rc, const char *err)
{
	int *k_ref = arg;
	lua_State *L = lsip ? lsip->L : NULL;
	if (!L || !sounds_ready) {
		/* the state is closing: nobody waits any more */
		mem_deref(snd);
		free(k_ref);
		return;
	}
	lsip_push_ref(L, *k_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, *k_ref);
	free(k_ref);
	if (snd) {
		push_sound(L, snd);
	} else {
		lua_pushnil(L);
		lua_pushstring(L, err ? err : lsip_errname(rc));
	}
	lsip_pcall(L, 2);
}

/* core.sound(path, k) -> clip, seconds | nil, message | false: false when
 * the file is being decoded (on libuv's thread pool), and k(clip, seconds)
 * or k(nil, message) follows from the loop. */
int lsip_sound(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (!sounds_ready) {
		if (sound_cache_init(&sounds) != 0)
			return luaL_error(L, "out of memory");
		sounds_ready = true;
	}
	/* the reference first: luaL_ref may raise, and nothing is held yet */
	lua_pushvalue(L, 2);
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	int *k_ref = malloc(sizeof(*k_ref));
	if (!k_ref) {
		luaL_unref(L, LUA_REGISTRYINDEX, ref);
		return luaL_error(L, "out of memory");
	}
	*k_ref = ref;
	struct sound *snd;
	char err[512];
	int rc = sound_load_async(&sounds, &lsip->uv, path, &snd, on_sound, k_ref, err,
				  sizeof(err));
	if (rc == 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	luaL_unref(L, LUA_REGISTRYINDEX, *k_ref);
	free(k_ref);
	if (rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	push_sound(L, snd);
	return 2;
}

void lsip_media_close(void)
{
	if (sounds_ready) {
		/* first: the waiters the close tells touch no Lua any more */
		sounds_ready = false;
		sound_cache_close(&sounds);
	}
}

static int l_clip_gc(lua_State *L)
{
	struct lclip *c = luaL_checkudata(L, 1, CLIP_MT);
	c->clip = mem_deref(c->clip);
	return 0;
}

static int l_clip_seconds(lua_State *L)
{
	lua_pushnumber(L, (double)lsip_check_clip(L, 1)->n / 8000.0);
	return 1;
}

void lsip_open_media(lua_State *L)
{
	static const luaL_Reg methods[] = { {"seconds", l_clip_seconds}, {NULL, NULL} };
	if (luaL_newmetatable(L, CLIP_MT)) {
		lua_pushcfunction(L, l_clip_gc);
		lua_setfield(L, -2, "__gc");
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
