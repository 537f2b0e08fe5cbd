/* Call progress tones: the table, the checks of a tone made by hand, and
 * the rendered audio by content: cadence timing, frequencies (Goertzel
 * power), level, and a seamless loop of continuous tones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/tone.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static double power_at(const int16_t *x, size_t n, double hz)
{
	double coef = 2 * cos(2 * M_PI * hz / 8000.0), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + coef * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return (s1 * s1 + s2 * s2 - coef * s1 * s2) / ((double)n * n);
}

static double rms(const int16_t *x, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return sqrt(e / n);
}

static void test_lookup(void **state)
{
	struct tone_spec t;
	assert_int_equal(tone_lookup("ringback", "us", &t), 0);
	assert_int_equal(t.nfreqs, 2);
	assert_int_equal(t.freqs[0], 440);
	assert_int_equal(t.freqs[1], 480);
	assert_int_equal(t.ncadence, 2);
	assert_int_equal(t.cadence[0], 2000);
	assert_int_equal(t.cadence[1], 4000);
	assert_int_equal(tone_lookup("busy", NULL, &t), 0);  /* us by default */
	assert_int_equal(t.freqs[1], 620);
	static const char *countries[] = { "us", "uk", "eu", "cn", "jp", "de", "fr" };
	static const char *names[] = { "dial", "ringback", "busy", "congestion" };
	for (int c = 0; c < 7; c++)
		for (int n = 0; n < 4; n++)
			assert_int_equal(tone_lookup(names[n], countries[c], &t), 0);
	assert_int_equal(tone_lookup("howler", "us", &t), -ENOENT);
	assert_int_equal(tone_lookup("busy", "zz", &t), -ESRCH);
}

/* A call-waiting tone is heard over a conversation: in every country a
 * beep of half a second at most, then seconds of silence, never a
 * continuous tone, and the rendered cycle is silent that long. */
static void test_waiting_beeps(void **state)
{
	static const char *countries[] = { "us", "uk", "eu", "cn", "jp", "de", "fr" };
	for (size_t c = 0; c < sizeof(countries) / sizeof(countries[0]); c++) {
		struct tone_spec t;
		assert_int_equal(tone_lookup("waiting", countries[c], &t), 0);
		assert_true(t.ncadence >= 2);
		unsigned on = 0, total = 0;
		for (unsigned i = 0; i < t.ncadence; i++) {
			if (i % 2 == 0) {
				assert_in_range(t.cadence[i], 50, 500);
				on += t.cadence[i];
			}
			total += t.cadence[i];
		}
		assert_true(t.cadence[t.ncadence - 1] >= 2000);
		assert_true(on * 4 <= total);
		int16_t *pcm;
		size_t n;
		assert_int_equal(tone_render(&t, &pcm, &n), 0);
		assert_int_equal(n, (size_t)total * 8);
		size_t quiet = 0, longest = 0;
		for (size_t i = 0; i < n; i++) {
			quiet = pcm[i] == 0 ? quiet + 1 : 0;
			if (quiet > longest)
				longest = quiet;
		}
		if (longest < 2 * 8000)
			fail_msg("%s: the longest silence is %zu samples", countries[c], longest);
		free(pcm);
	}
}

static void test_check(void **state)
{
	const char *why;
	struct tone_spec t = { .freqs = { 440 }, .nfreqs = 1, .level_dbm0 = -13 };
	assert_int_equal(tone_check(&t, &why), 0);
	t.nfreqs = 0;
	assert_int_equal(tone_check(&t, &why), -EINVAL);
	t.nfreqs = 1;
	t.freqs[0] = 4000;
	assert_int_equal(tone_check(&t, &why), -EINVAL);
	t.freqs[0] = 440;
	t.ncadence = 1;
	t.cadence[0] = 100;
	assert_int_equal(tone_check(&t, &why), -EINVAL);  /* on without off */
	t.ncadence = 2;
	t.cadence[0] = 0;
	assert_int_equal(tone_check(&t, &why), -EINVAL);
	t.cadence[0] = 100;
	t.level_dbm0 = 10;
	assert_int_equal(tone_check(&t, &why), -EINVAL);
}

/* US ringback: 2 s of 440+480 Hz, 4 s of silence, one cycle of 6 s. */
static void test_render_cadence(void **state)
{
	struct tone_spec t;
	int16_t *pcm;
	size_t n;
	assert_int_equal(tone_lookup("ringback", "us", &t), 0);
	assert_int_equal(tone_render(&t, &pcm, &n), 0);
	assert_int_equal(n, 48000);
	const int16_t *on = pcm, *off = pcm + 16000;
	assert_true(rms(on, 16000) > 1000);
	assert_int_equal((int)rms(off, 32000), 0);
	/* the two frequencies, and nothing at a third */
	double p440 = power_at(on, 16000, 440), p480 = power_at(on, 16000, 480);
	double p620 = power_at(on, 16000, 620);
	assert_true(p440 > 1000 * p620 && p480 > 1000 * p620);
	assert_true(p440 / p480 > 0.8 && p440 / p480 < 1.25);
	/* -13 dBm0 each: a peak of A = 22786 * 10^(-13/20); two sines of
	 * peak A together have an rms of A */
	double want = 22786.0 * pow(10, -13 / 20.0);
	assert_true(fabs(rms(on, 16000) - want) < want * 0.02);
	free(pcm);
}

/* UK ringback's double ring: 400 on, 200 off, 400 on, 2000 off. */
static void test_render_double_ring(void **state)
{
	struct tone_spec t;
	int16_t *pcm;
	size_t n;
	assert_int_equal(tone_lookup("ringback", "uk", &t), 0);
	assert_int_equal(tone_render(&t, &pcm, &n), 0);
	assert_int_equal(n, 3000 * 8);
	assert_true(rms(pcm, 3200) > 1000);
	assert_int_equal((int)rms(pcm + 3200, 1600), 0);
	assert_true(rms(pcm + 4800, 3200) > 1000);
	assert_int_equal((int)rms(pcm + 8000, 16000), 0);
	free(pcm);
}

/* A continuous tone loops without a jump: the step from the last sample to
 * the first is no larger than any step inside. */
static void test_render_continuous_loops(void **state)
{
	struct tone_spec t;
	int16_t *pcm;
	size_t n;
	assert_int_equal(tone_lookup("dial", "us", &t), 0);
	assert_int_equal(tone_render(&t, &pcm, &n), 0);
	assert_int_equal(n, 8000);
	int maxstep = 0;
	for (size_t i = 1; i < n; i++)
		if (abs(pcm[i] - pcm[i - 1]) > maxstep)
			maxstep = abs(pcm[i] - pcm[i - 1]);
	assert_true(abs(pcm[0] - pcm[n - 1]) <= maxstep);
	assert_true(power_at(pcm, n, 350) > 1000 * power_at(pcm, n, 500));
	free(pcm);
}

/* Japan's ringback: 400 Hz modulated by 16 Hz shows the sidebands. */
static void test_render_modulated(void **state)
{
	struct tone_spec t;
	int16_t *pcm;
	size_t n;
	assert_int_equal(tone_lookup("ringback", "jp", &t), 0);
	assert_int_equal(tone_render(&t, &pcm, &n), 0);
	assert_int_equal(n, 24000);
	double carrier = power_at(pcm, 8000, 400), side = power_at(pcm, 8000, 416);
	assert_true(side > carrier / 100 && side < carrier);
	free(pcm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_waiting_beeps),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_render_cadence),
		cmocka_unit_test(test_render_double_ring),
		cmocka_unit_test(test_render_continuous_loops),
		cmocka_unit_test(test_render_modulated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
