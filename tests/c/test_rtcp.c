/* RTCP: our compounds parse back (SR and RR, report block, SDES, BYE), a
 * peer's report gives the round trip, and malformed compounds are refused
 * without reading outside them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/rtcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_round_trip(void **state)
{
	uint8_t buf[256];
	struct rtcp_sender snd = { .ssrc = 0x11111111, .ntp = 0x0123456789abcdefull,
				   .rtp_ts = 160000, .packets = 500, .octets = 80000 };
	struct rtcp_block blk = { .ssrc = 0x22222222, .fraction_lost = 26, .cum_lost = -3,
				  .ext_max_seq = 70000, .jitter = 40, .lsr = 0xabcdef01,
				  .dlsr = 65536 };
	size_t n = rtcp_encode(buf, sizeof(buf), snd.ssrc, &snd, &blk, "luasip@127.0.0.1", true);
	assert_true(n > 0 && n % 4 == 0);
	assert_int_equal(buf[1], 200);
	struct rtcp_info info;
	assert_int_equal(rtcp_decode(buf, n, 0x22222222, &info), 0);
	assert_true(info.sr);
	assert_int_equal(info.sr_ssrc, 0x11111111);
	assert_int_equal(info.sr_ntp_mid, 0x456789ab);  /* bits 16-47 of the NTP time */
	assert_true(info.have_block);
	assert_int_equal(info.block.fraction_lost, 26);
	assert_int_equal(info.block.cum_lost, -3);
	assert_int_equal(info.block.ext_max_seq, 70000);
	assert_int_equal(info.block.jitter, 40);
	assert_int_equal(info.block.lsr, 0xabcdef01);
	assert_int_equal(info.block.dlsr, 65536);
	assert_true(info.bye);
	/* a receiver report without a block, no BYE */
	n = rtcp_encode(buf, sizeof(buf), 7, NULL, NULL, "x", false);
	assert_int_equal(buf[1], 201);
	assert_int_equal(rtcp_decode(buf, n, 7, &info), 0);
	assert_false(info.sr || info.have_block || info.bye);
	assert_int_equal(rtcp_encode(buf, 20, 7, &snd, &blk, "x", false), 0);
}

static int decode(const uint8_t *pkt, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, pkt, len);
	struct rtcp_info info;
	int r = rtcp_decode(copy, len, 1, &info);
	free(copy);
	return r;
}

static void test_malformed(void **state)
{
	uint8_t buf[256];
	size_t n = rtcp_encode(buf, sizeof(buf), 1, NULL, &(struct rtcp_block){ .ssrc = 1 },
			       "cname", false);
	assert_int_equal(decode(buf, n), 0);
	/* every truncation is refused, but for the one that ends exactly after
	 * the receiver report (8 + 24 octets): a shorter compound, and valid */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(decode(buf, cut), cut == 32 ? 0 : -EBADMSG);
	uint8_t bad[256];
	memcpy(bad, buf, n);
	bad[0] = 0x41;                                        /* version 1 */
	assert_int_equal(decode(bad, n), -EBADMSG);
	memcpy(bad, buf, n);
	bad[1] = 202;                                         /* starts with SDES */
	assert_int_equal(decode(bad, n), -EBADMSG);
	memcpy(bad, buf, n);
	bad[0] = 0x80 | 5;                                    /* 5 blocks, room for 1 */
	assert_int_equal(decode(bad, n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
