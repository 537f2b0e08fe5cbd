/* The Replaces header value (RFC 3891 §6.1): Call-ID, to-tag, from-tag,
 * early-only; the forms a peer may write, and what is malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/replaces.h"

#include <string.h>

static void parses(const char *v, const char *call_id, const char *to_tag,
		   const char *from_tag, bool early_only)
{
	struct sip_replaces r;
	if (sip_replaces_parse(v, &r) != 0)
		fail_msg("'%s' refused", v);
	assert_string_equal(r.call_id, call_id);
	assert_string_equal(r.to_tag, to_tag);
	assert_string_equal(r.from_tag, from_tag);
	assert_int_equal(r.early_only, early_only);
}

static void test_forms(void **state)
{
	(void)state;
	/* RFC 3891 §6.1's example */
	parses("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff", "98732@sip.example.com",
	       "ff87ff", "r33th4x0r", false);
	parses("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only",
	       "425928@bobster.example.org", "7743", "6472", true);
	/* spaces around ';' and '=', names in any case, other parameters */
	parses("  abc ; To-Tag = 1 ;FROM-TAG=2; x-extra=y ;EARLY-ONLY ", "abc", "1", "2", true);
	parses("id-without-host;to-tag=a;from-tag=b;foo", "id-without-host", "a", "b", false);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",                                     /* nothing */
		";to-tag=1;from-tag=2",                 /* no Call-ID */
		"a b;to-tag=1;from-tag=2",              /* a space in the Call-ID */
		"abc;from-tag=2",                       /* no to-tag */
		"abc;to-tag=1",                         /* no from-tag */
		"abc;to-tag=;from-tag=2",               /* an empty tag */
		"abc;to-tag;from-tag=2",                /* a tag without a value */
		"abc;to-tag=1;to-tag=1;from-tag=2",     /* twice */
		"abc;to-tag=1;from-tag=2;",             /* an empty parameter */
		"abc;to-tag=a b;from-tag=2",            /* a tag that is no token */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_replaces r;
		if (sip_replaces_parse(bad[i], &r) == 0)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* too long a Call-ID */
	char v[400];
	memset(v, 'x', 300);
	strcpy(v + 300, ";to-tag=1;from-tag=2");
	struct sip_replaces r;
	assert_int_not_equal(sip_replaces_parse(v, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
