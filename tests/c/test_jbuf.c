/* The jitter buffer: in-order frames come out after the delay, reordered
 * packets are put right, 30 ms packets make 20 ms frames, a lost packet is
 * concealed and fades, a late one is dropped, and a jump of the timestamp
 * (a new talkspurt) starts over. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/jbuf.h"

#include <stdlib.h>
#include <string.h>

static struct jbuf jb;

/* A frame whose samples are all v. */
static void put_const(uint32_t ts, int16_t v, size_t n)
{
	int16_t pcm[480];
	for (size_t i = 0; i < n; i++)
		pcm[i] = v;
	jbuf_put(&jb, ts, pcm, n);
}

static int16_t get_first(void)
{
	int16_t out[JBUF_FRAME];
	assert_true(jbuf_get(&jb, out));
	return out[0];
}

static void test_delay_and_order(void **state)
{
	int16_t out[JBUF_FRAME];
	jbuf_init(&jb, 2);
	assert_false(jbuf_get(&jb, out));  /* nothing before the first packet */
	put_const(1000, 1, 160);
	put_const(1320, 3, 160);           /* the third before the second */
	put_const(1160, 2, 160);
	assert_int_equal(get_first(), 0);   /* two frames of delay */
	assert_int_equal(get_first(), 0);
	assert_int_equal(get_first(), 1);
	assert_int_equal(get_first(), 2);
	assert_int_equal(get_first(), 3);
}

static void test_30ms_packets(void **state)
{
	jbuf_init(&jb, 0);
	int16_t pcm[240];
	for (uint32_t p = 0; p < 4; p++) {   /* 120 ms as four packets of 30 ms */
		for (int i = 0; i < 240; i++)
			pcm[i] = (int16_t)(p * 240 + i);
		jbuf_put(&jb, 5000 + p * 240, pcm, 240);
	}
	int16_t out[JBUF_FRAME];
	for (int f = 0; f < 6; f++) {       /* six frames of 20 ms, every sample */
		assert_true(jbuf_get(&jb, out));
		for (int i = 0; i < JBUF_FRAME; i++)
			assert_int_equal(out[i], f * 160 + i);
	}
}

static void test_loss_conceal_and_late(void **state)
{
	jbuf_init(&jb, 0);
	put_const(0, 8000, 160);
	assert_int_equal(get_first(), 8000);
	/* frames 160 and 320 never come: faded copies, then quiet */
	assert_int_equal(get_first(), 4000);
	assert_int_equal(get_first(), 2000);
	assert_int_equal(get_first(), 1000);
	assert_int_equal(get_first(), 0);
	assert_int_equal(jb.concealed, 4);
	/* the frame at 160 arrives now: long after its turn */
	put_const(160, 7, 160);
	assert_int_equal(jb.late, 160);
	put_const(800, 9, 160);
	assert_int_equal(get_first(), 9);
}

static void test_timestamp_jump(void **state)
{
	jbuf_init(&jb, 1);
	put_const(100, 5, 160);
	assert_int_equal(get_first(), 0);
	assert_int_equal(get_first(), 5);
	/* after a silence the peer's timestamps went on ten seconds */
	put_const(100 + 80000, 6, 160);
	assert_int_equal(get_first(), 0);   /* the delay again */
	assert_int_equal(get_first(), 6);
}

/* Timestamps half the 32-bit circle away, from either side: taken as a
 * jump like any other (under UBSan this fails if the distance overflows). */
static void test_timestamp_far_side(void **state)
{
	jbuf_init(&jb, 0);
	put_const(0, 1, 160);
	assert_int_equal(get_first(), 1);          /* play_ts is now 160 */
	put_const(160 + 0x80000000u, 2, 160);      /* exactly opposite */
	assert_int_equal(get_first(), 2);
	assert_int_equal(jb.late, 0);
	jbuf_init(&jb, 0);
	put_const(0, 3, 160);
	assert_int_equal(get_first(), 3);
	put_const(160 + 0x7fffffffu - 159, 4, 160); /* just this side of it */
	assert_int_equal(get_first(), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_and_order),
		cmocka_unit_test(test_30ms_packets),
		cmocka_unit_test(test_loss_conceal_and_late),
		cmocka_unit_test(test_timestamp_jump),
		cmocka_unit_test(test_timestamp_far_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
