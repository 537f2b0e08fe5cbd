/* The From value a user gives: a URI or "Display Name" <URI>, and nothing
 * that would break the header or add to it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/name_addr.h"

#include <string.h>

static void test_accepted(void **state)
{
	static const char *const ok[][2] = {
		{ "sip:alice@example.com", "sip:alice@example.com" },
		{ "sip:alice@example.com;transport=tcp", "sip:alice@example.com;transport=tcp" },
		{ "<sip:alice@example.com>", "sip:alice@example.com" },
		{ "\"Alice\" <sip:alice@example.com>", "sip:alice@example.com" },
		{ "\"Alice Liddell, Esq.\" <sip:alice@example.com>", "sip:alice@example.com" },
		{ "\"A \\\"quoted\\\" name\" <sips:a@h>", "sips:a@h" },
		{ "Alice Liddell <sip:alice@h:5070;lr>", "sip:alice@h:5070;lr" },
		{ "  Alice   <tel:+15551234>", "tel:+15551234" },
		{ "\"\" <sip:anon@h>", "sip:anon@h" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *why = NULL, *uri;
		if (sip_name_addr_check(ok[i][0], &why) != 0)
			fail_msg("'%s' refused: %s", ok[i][0], why);
		size_t n = sip_name_addr_uri(ok[i][0], &uri);
		assert_int_equal(n, strlen(ok[i][1]));
		assert_memory_equal(uri, ok[i][1], n);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"alice@example.com",                       /* no scheme */
		"sip:alice@example.com\r\nX-Evil: 1",      /* a header of its own */
		"\"Alice\r\nX-Evil: 1\" <sip:a@h>",        /* in the display name */
		"\"Alice\\\r\" <sip:a@h>",                 /* quoted-pair of CR */
		"\"Alice <sip:a@h>",                       /* quotes not closed */
		"\"Al\"ice\" <sip:a@h>",                   /* a quote not escaped */
		"\"Alice\\\" <sip:a@h>",                   /* the closing quote escaped */
		"Alice, Bob <sip:a@h>",                    /* a comma needs quotes */
		"Alice <sip:a@h>;tag=forged",              /* our tag goes there */
		"Alice <sip:a@h> ",                        /* and it follows the '>' */
		"Alice <sip:a@h",                          /* no '>' */
		"Alice <sip:a b@h>",                       /* a space in the URI */
		"Alice <sip:a@h\">",                       /* a quote in the URI */
		"Alice <>",                                /* no URI */
		"sip:alice@example.com x",                 /* a space in a bare URI */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		if (sip_name_addr_check(bad[i], &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
