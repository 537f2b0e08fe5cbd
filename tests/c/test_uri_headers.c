/* The headers of a SIP URI (RFC 3261 §19.1.1, §19.1.5): split from the
 * URI, unescaped, turned into header lines; malformed ones and those that
 * must not come from a URI refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/uri_headers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void split_ok(const char *uri, const char *want_uri, const char *want_lines)
{
	struct sip_uri_headers h;
	char why[200];
	int err = sip_uri_headers_split(uri, &h, why, sizeof(why));
	if (err)
		fail_msg("'%s' refused (%d): %s", uri, err, why);
	assert_string_equal(h.uri, want_uri);
	if (want_lines)
		assert_string_equal(h.lines ? h.lines : "(none)", want_lines);
	else
		assert_null(h.lines);
	assert_null(h.body);
	sip_uri_headers_free(&h);
}

static void test_no_headers(void **state)
{
	(void)state;
	split_ok("sip:bob@192.0.2.9:5070", "sip:bob@192.0.2.9:5070", NULL);
	split_ok("sip:bob@h;transport=tcp", "sip:bob@h;transport=tcp", NULL);
	/* '?' is legal in the user part (§25.1 user-unreserved) */
	split_ok("sip:who?me@h", "sip:who?me@h", NULL);
}

static void test_headers_unescaped(void **state)
{
	(void)state;
	split_ok("sip:bob@h?Subject=hello%20there", "sip:bob@h", "Subject: hello there\r\n");
	split_ok("sip:bob@h;transport=tcp?Subject=a&Priority=urgent",
		 "sip:bob@h;transport=tcp", "Subject: a\r\nPriority: urgent\r\n");
	/* the Replaces of an attended transfer (RFC 3891 §4) */
	split_ok("sip:bob@h?Replaces=12345%40192.0.2.1%3Bto-tag%3D9%3Bfrom-tag%3Dab",
		 "sip:bob@h", "Replaces: 12345@192.0.2.1;to-tag=9;from-tag=ab\r\n");
	/* escapes in any case, in the name too; an empty value */
	split_ok("sip:who?me@h?X%2dThing=%3c%3E&Subject=", "sip:who?me@h",
		 "X-Thing: <>\r\nSubject: \r\n");
	/* an '@' a sender did not escape is still in the value */
	split_ok("sip:bob@h?Replaces=a@b;to-tag=1;from-tag=2", "sip:bob@h",
		 "Replaces: a@b;to-tag=1;from-tag=2\r\n");
	split_ok("sip:h?Referred-By=sip:a@b", "sip:h", "Referred-By: sip:a@b\r\n");
	/* headers an INVITE may ask for: Require, Referred-By, Content-Type */
	split_ok("sip:bob@h?Require=replaces", "sip:bob@h", "Require: replaces\r\n");
}

static void test_body(void **state)
{
	struct sip_uri_headers h;
	(void)state;
	assert_int_equal(sip_uri_headers_split("sip:bob@h?Content-Type=text/plain&body=hi%0D%0Athere",
					       &h, NULL, 0), 0);
	assert_string_equal(h.uri, "sip:bob@h");
	assert_string_equal(h.lines, "Content-Type: text/plain\r\n");
	assert_int_equal(h.body_len, 9);
	assert_memory_equal(h.body, "hi\r\nthere", 9);
	sip_uri_headers_free(&h);
}

static void refused(const char *uri, int want_err, const char *want_why)
{
	struct sip_uri_headers h;
	char why[200];
	int err = sip_uri_headers_split(uri, &h, why, sizeof(why));
	if (err != want_err)
		fail_msg("'%s': %d, expected %d (%s)", uri, err, want_err, why);
	if (!strstr(why, want_why))
		fail_msg("'%s': \"%s\" does not say \"%s\"", uri, why, want_why);
	assert_null(h.uri);
	assert_null(h.lines);
}

static void test_malformed(void **state)
{
	(void)state;
	refused("sip:bob@h?", -EINVAL, "no header after it");
	refused("sip:bob@h?Subject", -EINVAL, "has no '='");
	refused("sip:bob@h?=x", -EINVAL, "no name");
	refused("sip:bob@h?Subject=a&", -EINVAL, "end with '&'");
	refused("sip:bob@h?Subject=a&&X=b", -EINVAL, "empty header");
	refused("sip:bob@h?Subject=100%", -EINVAL, "badly escaped");
	refused("sip:bob@h?Subject=%4", -EINVAL, "badly escaped");
	refused("sip:bob@h?Subject=%zz", -EINVAL, "badly escaped");
	refused("sip:bob@h?Sub%20ject=a", -EINVAL, "not a token");
	refused("sip:bob@h?Sub:ject=a", -EINVAL, "not a token");
	/* no header smuggled in after an escaped line break */
	refused("sip:bob@h?Subject=a%0D%0AFrom:%20evil", -EINVAL, "line break");
	refused("sip:bob@h?Subject=a%0Ab", -EINVAL, "line break");
	refused("sip:bob@h?Subject=a%00b", -EINVAL, "NUL");
	refused("sip:bob@h?body=a&body=b", -EINVAL, "body= twice");
}

static void test_refused_names(void **state)
{
	static const char *const names[] = {
		"From", "f", "to", "T", "Call-ID", "i", "CSeq", "Via", "v", "Record-Route",
		"Route", "Contact", "m", "Max-Forwards", "Content-Length", "l", "Accept",
		"Allow", "Supported", "k", "User-Agent", "Organization", "Accept-Language",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char uri[100];
		snprintf(uri, sizeof(uri), "sip:bob@h?Subject=ok&%s=x", names[i]);
		char want[100];
		snprintf(want, sizeof(want), "header %s cannot come from a URI", names[i]);
		refused(uri, -EPERM, want);
	}
	/* escaped, the name is still what it is */
	refused("sip:bob@h?Call%2DID=x", -EPERM, "Call-ID cannot");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_headers),
		cmocka_unit_test(test_headers_unescaped),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_refused_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
