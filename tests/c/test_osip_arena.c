/* The arena of libosip2's parse trees: what osip allocates while an arena is
 * current comes from it and is given back with it; outside, the heap serves
 * as before; requests too large for a chunk go to the heap and say so; a
 * message's trees live in its arena from decoding to destruction. (Under
 * AddressSanitizer no arena is installed: only what holds either way is
 * checked then.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/msg.h"
#include "sip/osip_arena.h"
#include "util/mem.h"

#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ON 0
#endif
#endif
#ifndef ARENA_ON
#define ARENA_ON 1
#endif

static int setup(void **state)
{
	sip_msg_init();  /* installs the allocators */
	return 0;
}

/* Chunks are handed out in address order the first time, and a released
 * chunk is the next one handed out: a second arena reuses the first's. */
static void test_release_and_reuse(void **state)
{
	struct osip_arena a = {0}, b = {0};
	struct osip_arena *before = osip_arena_enter(&a);
	char *p = osip_malloc(40), *q = osip_malloc(40);
	osip_arena_leave(before);
	assert_non_null(p);
	assert_non_null(q);
	memset(p, 'p', 40);
	memset(q, 'q', 40);
	assert_true(q > p && q - p >= 40);  /* one chunk, no overlap */
	osip_free(p);                       /* nothing: it goes with the arena */
	assert_true(osip_arena_holds_all(&a) == ARENA_ON);
	assert_true(ARENA_ON ? a.chunk != NULL : a.chunk == NULL);
	char *chunk = a.chunk;
	osip_arena_release(&a);
	assert_null(a.chunk);
	if (!ARENA_ON) {
		osip_free(q);
		return;
	}
	before = osip_arena_enter(&b);
	char *r = osip_malloc(8);
	osip_arena_leave(before);
	assert_ptr_equal(b.chunk, chunk);
	assert_true(r > chunk && r < chunk + OSIP_ARENA_CHUNK);
	osip_arena_release(&b);
}

/* Outside an arena, and for a request larger than a chunk, the heap serves
 * (which the arena then reports, so its trees get osip's own frees); a
 * realloc out of an arena keeps the content. */
static void test_heap_outside_and_too_large(void **state)
{
	char *h = osip_malloc(32);
	assert_non_null(h);
	strcpy(h, "heap");
	h = osip_realloc(h, 64);
	assert_string_equal(h, "heap");
	osip_free(h);

	struct osip_arena a = {0};
	struct osip_arena *before = osip_arena_enter(&a);
	char *small = osip_malloc(16);
	strcpy(small, "in the arena");
	assert_true(osip_arena_holds_all(&a) == ARENA_ON);
	char *grown = osip_realloc(small, 200);
	assert_string_equal(grown, "in the arena");
	char *big = osip_malloc(10000);
	osip_arena_leave(before);
	assert_non_null(big);
	memset(big, 0, 10000);
	assert_false(osip_arena_holds_all(&a));
	osip_free(big);
	osip_free(grown);
	osip_arena_release(&a);
	assert_true(osip_arena_holds_all(&a) == ARENA_ON);  /* a fresh start */
}

/* A decoded request keeps its parsed Via, From, To and Request-URI in its
 * arena until it is destroyed; the lazily parsed Contact joins them. */
static void test_message_trees_in_arena(void **state)
{
	static const char text[] =
		"INVITE sip:bob@192.0.2.2:5060;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKarena;rport\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.1>;tag=a1\r\n"
		"To: <sip:bob@192.0.2.2>\r\n"
		"Call-ID: arena@192.0.2.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:alice@192.0.2.1:5060>\r\n"
		"Max-Forwards: 70\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_msg *m = sip_msg_decode(text, strlen(text), false);
	assert_non_null(m);
	assert_int_equal(m->error_status, 0);
	assert_string_equal(m->from_tag, "a1");
	assert_string_equal(m->via.branch, "z9hG4bKarena");
	assert_string_equal(m->ruri_parsed->host, "192.0.2.2");
	const osip_message_t *o = sip_msg_osip(m);
	assert_non_null(o);
	osip_contact_t *c = osip_list_get(&o->contacts, 0);
	assert_non_null(c);
	assert_string_equal(c->url->username, "alice");
	if (ARENA_ON) {
		assert_true(osip_arena_holds_all(&m->arena));
		/* the Contact is in one of the message's chunks (each links the
		 * one before at its start) */
		bool found = false;
		for (char *ch = m->arena.chunk; ch; memcpy(&ch, ch, sizeof(ch)))
			if ((char *)c->url >= ch && (char *)c->url < ch + OSIP_ARENA_CHUNK)
				found = true;
		assert_true(found);
	}
	mem_deref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_and_reuse),
		cmocka_unit_test(test_heap_outside_and_too_large),
		cmocka_unit_test(test_message_trees_in_arena),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
