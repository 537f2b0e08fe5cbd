/* DTMF: telephone-event payloads (RFC 4733 §2.3, the example of §2.5.1)
 * and in-band detection of keypad tones, with noise, at low level, too
 * short, with speech-like single tones, and a digit said twice. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/dtmf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_events(void **state)
{
	assert_int_equal(dtmf_event('0'), 0);
	assert_int_equal(dtmf_event('9'), 9);
	assert_int_equal(dtmf_event('*'), 10);
	assert_int_equal(dtmf_event('#'), 11);
	assert_int_equal(dtmf_event('a'), 12);
	assert_int_equal(dtmf_event('D'), 15);
	assert_int_equal(dtmf_event('x'), -1);
	assert_int_equal(dtmf_event(0), -1);
	for (int e = 0; e < 16; e++)
		assert_int_equal(dtmf_event(dtmf_digit(e)), e);
	assert_int_equal(dtmf_digit(16), 0);
}

static void test_payload(void **state)
{
	/* digit 9, end bit, volume 10, duration 1600 (200 ms) */
	const uint8_t wire[4] = { 9, 0x8a, 0x06, 0x40 };
	struct te_payload te;
	assert_int_equal(te_decode(wire, 4, &te), 0);
	assert_int_equal(te.event, 9);
	assert_true(te.end);
	assert_int_equal(te.volume, 10);
	assert_int_equal(te.duration, 1600);
	uint8_t out[4];
	te_encode(&te, out);
	assert_memory_equal(out, wire, 4);
	assert_int_not_equal(te_decode(wire, 3, &te), 0);
}

struct found {
	char digits[32];
	int n;
};

static void on_digit(char digit, void *arg)
{
	struct found *f = arg;
	if (f->n < 31)
		f->digits[f->n++] = digit;
	f->digits[f->n] = '\0';
}

static double row_of(char d)
{
	static const char *rows[4] = { "123A", "456B", "789C", "*0#D" };
	for (int i = 0; i < 4; i++)
		if (strchr(rows[i], d))
			return (double[]){ 697, 770, 852, 941 }[i];
	return 0;
}

static double col_of(char d)
{
	static const char *cols[4] = { "147*", "2580", "369#", "ABCD" };
	for (int i = 0; i < 4; i++)
		if (strchr(cols[i], d))
			return (double[]){ 1209, 1336, 1477, 1633 }[i];
	return 0;
}

/* Writes the digits as tones of on_ms with off_ms of silence (plus noise
 * of amplitude noise) into pcm; returns the sample count. */
static size_t render(int16_t *pcm, size_t cap, const char *digits, int on_ms, int off_ms,
		     double amp, double noise)
{
	size_t n = 0;
	srand(7);
	for (const char *d = digits; *d; d++) {
		for (int i = 0; i < 8 * on_ms && n < cap; i++, n++) {
			double t = (double)n / 8000.0;
			double v = amp * (sin(2 * M_PI * row_of(*d) * t) + sin(2 * M_PI * col_of(*d) * t));
			v += noise * ((double)rand() / RAND_MAX - 0.5);
			pcm[n] = (int16_t)lrint(v);
		}
		for (int i = 0; i < 8 * off_ms && n < cap; i++, n++)
			pcm[n] = (int16_t)lrint(noise * ((double)rand() / RAND_MAX - 0.5));
	}
	return n;
}

static void detect(const int16_t *pcm, size_t n, size_t chunk, struct found *f)
{
	struct dtmf_detector d;
	dtmf_detector_init(&d);
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i += chunk)
		dtmf_detect(&d, pcm + i, n - i < chunk ? n - i : chunk, on_digit, f);
}

static int16_t pcm[8000 * 20];

static void test_inband_all_digits(void **state)
{
	struct found f;
	size_t n = render(pcm, sizeof(pcm) / 2, "0123456789*#ABCD", 80, 60, 6000, 0);
	detect(pcm, n, 160, &f);  /* fed as 20 ms packets */
	assert_string_equal(f.digits, "0123456789*#ABCD");
}

static void test_inband_noise_low_level_and_odd_chunks(void **state)
{
	struct found f;
	size_t n = render(pcm, sizeof(pcm) / 2, "1234#", 60, 50, 1500, 1500);
	detect(pcm, n, 37, &f);
	assert_string_equal(f.digits, "1234#");
}

static void test_inband_repeated_digit_needs_a_pause(void **state)
{
	struct found f;
	size_t n = render(pcm, sizeof(pcm) / 2, "55", 100, 60, 6000, 0);
	detect(pcm, n, 160, &f);
	assert_string_equal(f.digits, "55");
	/* one long tone is one digit */
	n = render(pcm, sizeof(pcm) / 2, "7", 1500, 0, 6000, 0);
	detect(pcm, n, 160, &f);
	assert_string_equal(f.digits, "7");
}

static void test_inband_rejects_short_single_and_silence(void **state)
{
	struct found f;
	/* 20 ms is shorter than Q.24's 40 ms */
	size_t n = render(pcm, sizeof(pcm) / 2, "3", 20, 100, 6000, 0);
	detect(pcm, n, 160, &f);
	assert_int_equal(f.n, 0);
	/* a single 1000 Hz tone (like a long vowel) and silence */
	for (size_t i = 0; i < 16000; i++)
		pcm[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1000.0 * i / 8000.0));
	memset(pcm + 16000, 0, 16000 * 2);
	detect(pcm, 32000, 160, &f);
	assert_int_equal(f.n, 0);
	/* white noise */
	srand(3);
	for (size_t i = 0; i < 32000; i++)
		pcm[i] = (int16_t)(rand() % 20000 - 10000);
	detect(pcm, 32000, 160, &f);
	assert_int_equal(f.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_inband_all_digits),
		cmocka_unit_test(test_inband_noise_low_level_and_odd_chunks),
		cmocka_unit_test(test_inband_repeated_digit_needs_a_pause),
		cmocka_unit_test(test_inband_rejects_short_single_and_silence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
