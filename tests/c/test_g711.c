/* G.711: the values the standard's tables give, round trips over every
 * code, monotonic coding, and the error of a sine wave through each law. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/g711.h"

#include <math.h>
#include <stdlib.h>

static void test_known_codes(void **state)
{
	/* silence, and the largest magnitudes of each law */
	assert_int_equal(g711_ulaw_encode(0), 0xff);
	assert_int_equal(g711_alaw_encode(0), 0xd5);
	assert_int_equal(g711_ulaw_decode(0xff), 0);
	assert_int_equal(g711_ulaw_decode(0x7f), 0);
	assert_int_equal(g711_ulaw_decode(0x80), 32124);
	assert_int_equal(g711_ulaw_decode(0x00), -32124);
	assert_int_equal(g711_alaw_decode(0xd5), 8);
	assert_int_equal(g711_alaw_decode(0x55), -8);
	assert_int_equal(g711_alaw_decode(0xaa), 32256);
	assert_int_equal(g711_alaw_decode(0x2a), -32256);
	assert_int_equal(g711_ulaw_encode(32767), 0x80);
	assert_int_equal(g711_ulaw_encode(-32768), 0x00);
	assert_int_equal(g711_alaw_encode(32767), 0xaa);
	assert_int_equal(g711_alaw_encode(-32768), 0x2a);
}

/* Decoding a code and encoding the value again gives the code back (µ-law
 * has two zeros, 0xff and 0x7f, which both encode to 0xff). */
static void test_round_trip_every_code(void **state)
{
	for (int c = 0; c < 256; c++) {
		int16_t u = g711_ulaw_decode((uint8_t)c);
		assert_int_equal(g711_ulaw_encode(u), c == 0x7f ? 0xff : c);
		int16_t a = g711_alaw_decode((uint8_t)c);
		assert_int_equal(g711_alaw_encode(a), c);
	}
}

/* A larger input never gives a smaller decoded output. */
static void test_monotonic(void **state)
{
	int16_t lu = g711_ulaw_decode(g711_ulaw_encode(-32768));
	int16_t la = g711_alaw_decode(g711_alaw_encode(-32768));
	for (int x = -32767; x <= 32767; x++) {
		int16_t u = g711_ulaw_decode(g711_ulaw_encode((int16_t)x));
		int16_t a = g711_alaw_decode(g711_alaw_encode((int16_t)x));
		assert_true(u >= lu);
		assert_true(a >= la);
		lu = u;
		la = a;
	}
}

/* Logarithmic coding keeps the error a small fraction of the value: a
 * full-scale 1 kHz sine comes back with a signal-to-noise ratio near the
 * 38 dB the standard is known for. */
static void test_sine_snr(void **state)
{
	enum { N = 8000 };
	int16_t in[N], out[N];
	uint8_t code[N];
	for (int pt = 0; pt <= 8; pt += 8) {
		for (int i = 0; i < N; i++)
			in[i] = (int16_t)lrint(20000.0 * sin(2 * M_PI * 1000.0 * i / 8000.0 + 0.3));
		g711_encode(pt, in, code, N);
		g711_decode(pt, code, out, N);
		double sig = 0, err = 0;
		for (int i = 0; i < N; i++) {
			sig += (double)in[i] * in[i];
			err += (double)(in[i] - out[i]) * (in[i] - out[i]);
		}
		double snr = 10 * log10(sig / err);
		assert_true(snr > 35.0 && snr < 45.0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_codes),
		cmocka_unit_test(test_round_trip_every_code),
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_sine_snr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
