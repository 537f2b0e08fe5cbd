/* The string builder: short and long formatted pieces (the long ones take
 * the second pass), plain appends between them, and the text handed over. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/mem.h"
#include "util/sbuf.h"

#include <stdio.h>
#include <string.h>

static void test_pieces(void **state)
{
	struct sbuf b;
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sbuf_init(&b);
	sbuf_printf(&b, "SIP/2.0 %d %s\r\n", 200, "OK");
	sbuf_puts(&b, "Via: a\r\n");
	sbuf_printf(&b, "X: %s\r\n", big);         /* longer than the room left */
	sbuf_printf(&b, "CSeq: %u %s\r\n", 7u, "INVITE");
	size_t len;
	char *s = sbuf_take(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(len, 16 + 8 + 3 + 2999 + 2 + 16);
	assert_memory_equal(s, "SIP/2.0 200 OK\r\nVia: a\r\nX: xxx", 29);
	assert_string_equal(s + len - 16, "CSeq: 7 INVITE\r\n");
	mem_deref(s);
}

/* Numbers without printf; an empty builder still hands over a string; the
 * text handed over is a mem object of one reference, apart from the
 * builder, which starts over empty and can be used again. */
static void test_numbers_and_handover(void **state)
{
	struct sbuf b;
	sbuf_init(&b);
	char *empty = sbuf_take(&b, NULL);
	assert_non_null(empty);
	assert_string_equal(empty, "");
	mem_deref(empty);
	sbuf_uint(&b, 0);
	sbuf_add(&b, " ", 1);
	sbuf_uint(&b, 7);
	sbuf_add(&b, " ", 1);
	sbuf_uint(&b, 18446744073709551615ull);
	for (int i = 0; i < 200; i++)      /* grows past the builder's own buffer */
		sbuf_uint(&b, 1234567890);
	size_t len;
	char *s = sbuf_take(&b, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_int_equal(len, 1 + 1 + 1 + 1 + 20 + 200 * 10);
	assert_memory_equal(s, "0 7 18446744073709551615123456789012", 36);
	assert_int_equal(mem_refs(s), 1);
	assert_int_equal(b.len, 0);        /* the builder let go of it */
	assert_string_equal(b.d, "");
	sbuf_puts(&b, "again");
	char *again = sbuf_take(&b, NULL);
	assert_string_equal(again, "again");
	assert_string_equal(s + len - 10, "1234567890");
	mem_deref(again);
	mem_deref(s);
}

/* Many pieces that each just fit or just miss the room. */
static void test_boundaries(void **state)
{
	struct sbuf b;
	sbuf_init(&b);
	size_t want = 0;
	for (int i = 0; i < 400; i++) {
		sbuf_printf(&b, "%0*d", i % 97 + 1, i);
		want += (size_t)(i % 97 + 1) > (size_t)snprintf(NULL, 0, "%d", i)
			? (size_t)(i % 97 + 1) : (size_t)snprintf(NULL, 0, "%d", i);
		assert_int_equal(b.len, want);
		assert_int_equal(strlen(b.d), want);
	}
	sbuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_numbers_and_handover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
