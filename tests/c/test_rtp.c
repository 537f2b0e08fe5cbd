/* RTP packets: what we compose parses back, packets from the wire with
 * CSRCs, extensions and padding, and every malformed shape is refused
 * without reading outside the buffer (the sanitizer build checks that). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_round_trip(void **state)
{
	uint8_t payload[160], buf[200];
	for (int i = 0; i < 160; i++)
		payload[i] = (uint8_t)i;
	struct rtp_hdr h = { .marker = true, .pt = 8, .seq = 65535, .ts = 0xfffffff0u,
			     .ssrc = 0xdeadbeefu };
	size_t n = rtp_encode(buf, sizeof(buf), &h, payload, sizeof(payload));
	assert_int_equal(n, 172);
	assert_int_equal(buf[0], 0x80);
	assert_int_equal(buf[1], 0x88);
	struct rtp_hdr g;
	const uint8_t *p;
	size_t plen;
	assert_int_equal(rtp_decode(buf, n, &g, &p, &plen), 0);
	assert_true(g.marker);
	assert_int_equal(g.pt, 8);
	assert_int_equal(g.seq, 65535);
	assert_int_equal(g.ts, 0xfffffff0u);
	assert_int_equal(g.ssrc, 0xdeadbeefu);
	assert_int_equal(g.cc, 0);
	assert_false(g.ext);
	assert_int_equal(plen, 160);
	assert_memory_equal(p, payload, 160);
	assert_int_equal(rtp_encode(buf, 171, &h, payload, sizeof(payload)), 0);
}

/* Version 2 with padding, two CSRCs and a one-word extension. */
static void test_csrc_extension_padding(void **state)
{
	const uint8_t pkt[] = {
		0xb2, 0x00, 0x00, 0x07, 0, 0, 0x01, 0x40, 1, 2, 3, 4,
		0, 0, 0, 0x11, 0, 0, 0, 0x22,         /* CSRCs */
		0xbe, 0xde, 0x00, 0x01, 9, 9, 9, 9,   /* extension, one word */
		0xaa, 0xbb, 0xcc,                     /* payload */
		0x00, 0x00, 0x03,                     /* three octets of padding */
	};
	struct rtp_hdr h;
	const uint8_t *p;
	size_t plen;
	assert_int_equal(rtp_decode(pkt, sizeof(pkt), &h, &p, &plen), 0);
	assert_int_equal(h.cc, 2);
	assert_int_equal(h.csrc[0], 0x11);
	assert_int_equal(h.csrc[1], 0x22);
	assert_true(h.ext);
	assert_int_equal(h.ext_profile, 0xbede);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.ts, 320);
	assert_int_equal(plen, 3);
	assert_int_equal(p[0], 0xaa);
	assert_int_equal(p[2], 0xcc);
}

static int decode(const uint8_t *pkt, size_t len)
{
	/* a copy of exactly len bytes, so a read past it is a sanitizer error */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, pkt, len);
	struct rtp_hdr h;
	const uint8_t *p;
	size_t plen;
	int r = rtp_decode(copy, len, &h, &p, &plen);
	free(copy);
	return r;
}

static void test_malformed(void **state)
{
	const uint8_t ok[12] = { 0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	assert_int_equal(decode(ok, 12), 0);              /* an empty payload is fine */
	assert_int_equal(decode(ok, 11), -EBADMSG);       /* shorter than the header */
	assert_int_equal(decode(ok, 0), -EBADMSG);
	uint8_t b[40];
	memcpy(b, ok, 12);
	b[0] = 0x40;                                       /* version 1 */
	assert_int_equal(decode(b, 12), -EBADMSG);
	b[0] = 0x83;                                       /* three CSRCs, none there */
	assert_int_equal(decode(b, 20), -EBADMSG);
	b[0] = 0x90;                                       /* an extension that is cut */
	assert_int_equal(decode(b, 14), -EBADMSG);
	memset(b + 12, 0, 4);
	b[14] = 0x00;
	b[15] = 0x05;                                      /* 5 words announced, 0 there */
	assert_int_equal(decode(b, 16), -EBADMSG);
	b[0] = 0xa0;                                       /* padding longer than the rest */
	b[15] = 0x10;
	assert_int_equal(decode(b, 16), -EBADMSG);
	b[15] = 0x00;                                      /* padding of zero octets */
	assert_int_equal(decode(b, 16), -EBADMSG);
	b[15] = 0x04;                                      /* all of the payload is padding */
	assert_int_equal(decode(b, 16), 0);
}

/* RTCP sent to the RTP port (rtcp-mux) is told apart, not taken for audio. */
static void test_rtcp_is_not_rtp(void **state)
{
	for (int type = 200; type <= 204; type++) {
		uint8_t b[12] = { 0x80, (uint8_t)type, 0, 1 };
		assert_int_equal(decode(b, 12), -EPROTO);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_csrc_extension_padding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_rtcp_is_not_rtp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
