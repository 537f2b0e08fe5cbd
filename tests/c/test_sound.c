/* The sound cache: files of several formats, rates and channel counts,
 * written by libsndfile into a temporary directory, are loaded and checked
 * by content (length, frequency, level, the mono mix, the G.711 copies);
 * the cache shares a loaded file and notices a changed one; bad files give
 * errors that name them. */
#define _XOPEN_SOURCE 700  /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/g711.h"
#include "media/sound.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

static char dir[64];
static struct sound_cache cache;

/* --- writing test files ---------------------------------------------------- */

/* One sine per channel: amp[ch] at freq[ch] Hz (amplitude 1 is full scale). */
struct tones {
	double freq[2];
	double amp[2];
};

static const char *file_path(const char *name)
{
	static char path[2][256];
	static int which;
	which ^= 1;
	snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
	return path[which];
}

static void write_tones(const char *name, int format, int rate, int channels,
			double seconds, const struct tones *t)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf = sf_open(file_path(name), SFM_WRITE, &info);
	assert_non_null(sf);
	sf_count_t frames = (sf_count_t)lrint(seconds * rate);
	double *buf = malloc((size_t)(frames * channels) * sizeof(*buf));
	assert_non_null(buf);
	for (sf_count_t i = 0; i < frames; i++)
		for (int ch = 0; ch < channels; ch++) {
			int k = ch < 2 ? ch : 1;
			buf[i * channels + ch] = t->amp[k] * sin(2 * M_PI * t->freq[k] * (double)i / rate);
		}
	assert_int_equal(sf_writef_double(sf, buf, frames), frames);
	free(buf);
	assert_int_equal(sf_close(sf), 0);
}

static void write_sine(const char *name, int format, int rate, int channels,
		       double seconds, double freq, double amp)
{
	struct tones t = { { freq, freq }, { amp, amp } };
	write_tones(name, format, rate, channels, seconds, &t);
}

/* 16-bit samples written as they are, for checks that need exact values. */
static void write_shorts(const char *name, int rate, int channels, const int16_t *s, sf_count_t frames)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open(file_path(name), SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, s, frames), frames);
	assert_int_equal(sf_close(sf), 0);
}

static void write_bytes(const char *name, const void *data, size_t n)
{
	FILE *f = fopen(file_path(name), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void truncate_file(const char *name, off_t size)
{
	assert_int_equal(truncate(file_path(name), size), 0);
}

/* --- analysis ---------------------------------------------------------------- */

/* Samples 400 from either end are left out of the analysis, so the
 * converter's filter starting up and running out does not count. */
#define EDGE 400

/* The amplitude (full scale 32768) of the component at freq Hz in
 * x[0..n), by Goertzel; exact when freq * n / 8000 is a whole number. */
static double goertzel_amp(const int16_t *x, size_t n, double freq)
{
	double coeff = 2 * cos(2 * M_PI * freq / 8000.0);
	double s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return 2 * sqrt(fmax(power, 0)) / (double)n;
}

static double rms(const int16_t *x, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	return sqrt(sum / (double)n);
}

static double db(double ratio)
{
	return 20 * log10(ratio);
}

/* A whole number of 1 kHz, 1.5 kHz and 2 kHz cycles in the middle part. */
static size_t middle_length(const struct sound *s)
{
	assert_true(s->n > 2 * EDGE + 400);
	return (s->n - 2 * EDGE) / 400 * 400;
}

static struct sound *load_ok(const char *name)
{
	struct sound *s = NULL;
	char err[256];
	int rc = sound_load(&cache, file_path(name), &s, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_non_null(s);
	return s;
}

/* A sine of freq Hz and amplitude amp (full scale 1) came through: its
 * length, its level within 1 dB, and the tone at least floor_db above other
 * frequencies of the band. */
static void check_tone(const struct sound *s, double seconds, double freq, double amp,
		       double floor_db)
{
	assert_true(fabs((double)s->n - seconds * 8000) <= 4);
	assert_true(fabs(s->seconds - (double)s->n / 8000) < 1e-9);

	size_t n = middle_length(s);
	const int16_t *x = s->pcm + EDGE;
	double want = amp * 32768;
	double level = rms(x, n) * sqrt(2);
	assert_true(fabs(db(level / want)) < 1.0);
	double at = goertzel_amp(x, n, freq);
	assert_true(fabs(db(at / want)) < 1.0);
	const double others[] = { 300, 500, 1000, 1500, 2000, 2500, 3000, 3400 };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i] != freq)
			assert_true(db(at / (goertzel_amp(x, n, others[i]) + 1e-9)) > floor_db);
}

static void check_sine(const struct sound *s, double seconds, double amp, double floor_db)
{
	check_tone(s, seconds, 1000, amp, floor_db);
}

static double g711_snr_db(const struct sound *s, int pt)
{
	int16_t *back = malloc(s->n * sizeof(*back));
	assert_non_null(back);
	g711_decode(pt, pt == 8 ? s->alaw : s->ulaw, back, s->n);
	double sig = 0, noise = 0;
	for (size_t i = 0; i < s->n; i++) {
		double e = (double)s->pcm[i] - back[i];
		sig += (double)s->pcm[i] * s->pcm[i];
		noise += e * e;
	}
	free(back);
	return 10 * log10(sig / (noise + 1e-9));
}

/* --- formats and rates --------------------------------------------------------- */

/* The common case: no conversion at all, so 16-bit samples come back
 * exactly. */
static void test_wav_8k_mono_exact(void **state)
{
	enum { N = 8000 };
	int16_t in[N];
	for (int i = 0; i < N; i++)
		in[i] = (int16_t)lrint(16000 * sin(2 * M_PI * 1000.0 * i / 8000.0));
	write_shorts("mono8k.wav", 8000, 1, in, N);
	struct sound *s = load_ok("mono8k.wav");
	assert_int_equal(s->n, N);
	assert_memory_equal(s->pcm, in, sizeof(in));
	check_sine(s, 1.0, 16000.0 / 32768, 50);
	assert_string_equal(s->path, file_path("mono8k.wav"));
	mem_deref(s);
}

static void test_wav_44k_stereo(void **state)
{
	write_sine("stereo44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.0, 1000, 0.5);
	struct sound *s = load_ok("stereo44k.wav");
	check_sine(s, 1.0, 0.5, 50);
	mem_deref(s);
}

static void test_flac_48k(void **state)
{
	write_sine("tone48k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 1, 1.5, 1000, 0.3);
	struct sound *s = load_ok("tone48k.flac");
	check_sine(s, 1.5, 0.3, 50);
	mem_deref(s);
}

/* Vorbis is lossy: the level still holds, the tone stands well clear of
 * its coding noise. */
static void test_ogg_vorbis_16k(void **state)
{
	write_sine("tone16k.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, 1.0, 1000, 0.5);
	struct sound *s = load_ok("tone16k.ogg");
	check_sine(s, 1.0, 0.5, 30);
	mem_deref(s);
}

static void test_float_wav_22k(void **state)
{
	write_sine("float22k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 1, 1.0, 1000, 0.25);
	struct sound *s = load_ok("float22k.wav");
	check_sine(s, 1.0, 0.25, 50);
	mem_deref(s);
}

/* Upward conversion works as well as downward. */
static void test_wav_4k_up(void **state)
{
	write_sine("tone4k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 4000, 1, 1.0, 1000, 0.5);
	struct sound *s = load_ok("tone4k.wav");
	check_sine(s, 1.0, 0.5, 50);
	mem_deref(s);
}

/* The top of the telephone band, 3300 Hz, keeps its level through the
 * conversion from 48 kHz: the converter's pass band reaches past it. */
static void test_top_of_band(void **state)
{
	write_sine("top.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, 1.0, 3300, 0.5);
	struct sound *s = load_ok("top.wav");
	check_tone(s, 1.0, 3300, 0.5, 50);
	mem_deref(s);
}

/* A float file may go past full scale (and hold a NaN): it is clipped, and
 * the NaN is silence, never undefined behaviour. */
static void test_float_beyond_full_scale(void **state)
{
	enum { N = 800 };
	float in[N];
	for (int i = 0; i < N; i++)
		in[i] = (i / 10) % 2 ? 4.0f : -4.0f;
	in[5] = NAN;
	SF_INFO info = { .samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *sf = sf_open(file_path("loud.wav"), SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, in, N), N);
	sf_close(sf);
	struct sound *s = load_ok("loud.wav");
	assert_int_equal(s->n, N);
	assert_int_equal(s->pcm[0], -32768);
	assert_int_equal(s->pcm[5], 0);
	assert_int_equal(s->pcm[10], 32767);
	mem_deref(s);
}

/* What lies above 4 kHz cannot be carried at 8 kHz: a band-limited
 * converter removes it instead of folding it back into the band (a 6 kHz
 * tone would otherwise come out at 2 kHz). */
static void test_no_aliasing(void **state)
{
	write_sine("alias.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 1.0, 6000, 0.5);
	struct sound *s = load_ok("alias.wav");
	size_t n = middle_length(s);
	assert_true(db(rms(s->pcm + EDGE, n) / (0.5 * 32768 / sqrt(2))) < -60);
	mem_deref(s);
}

/* Mono is the average of the channels: 1 kHz in the left channel and
 * 2 kHz in the right come out at half their levels, and channels in
 * opposite phase cancel. */
static void test_mono_mix(void **state)
{
	struct tones t = { { 1000, 2000 }, { 0.6, 0.2 } };
	write_tones("lr.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, 1.0, &t);
	struct sound *s = load_ok("lr.wav");
	size_t n = middle_length(s);
	assert_true(fabs(db(goertzel_amp(s->pcm + EDGE, n, 1000) / (0.3 * 32768))) < 0.2);
	assert_true(fabs(db(goertzel_amp(s->pcm + EDGE, n, 2000) / (0.1 * 32768))) < 0.2);
	mem_deref(s);

	t = (struct tones){ { 1000, 1000 }, { 0.6, 0.2 } };
	write_tones("lr44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.0, &t);
	s = load_ok("lr44k.wav");
	check_sine(s, 1.0, 0.4, 50);
	mem_deref(s);

	enum { N = 4000 };
	int16_t lr[2 * N];
	for (int i = 0; i < N; i++) {
		lr[2 * i] = (int16_t)lrint(12000 * sin(2 * M_PI * 700.0 * i / 8000.0));
		lr[2 * i + 1] = (int16_t)-lr[2 * i];
	}
	write_shorts("antiphase.wav", 8000, 2, lr, N);
	s = load_ok("antiphase.wav");
	assert_int_equal(s->n, N);
	for (size_t i = 0; i < s->n; i++)
		assert_int_equal(s->pcm[i], 0);
	mem_deref(s);
}

static void test_g711_copies(void **state)
{
	write_sine("g711.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1.0, 1000, 0.5);
	struct sound *s = load_ok("g711.wav");
	assert_non_null(s->ulaw);
	assert_non_null(s->alaw);
	assert_true(g711_snr_db(s, 0) > 33);
	assert_true(g711_snr_db(s, 8) > 33);
	for (size_t i = 0; i < s->n; i++) {
		assert_int_equal(s->ulaw[i], g711_ulaw_encode(s->pcm[i]));
		assert_int_equal(s->alaw[i], g711_alaw_encode(s->pcm[i]));
	}
	mem_deref(s);
}

/* --- the cache ------------------------------------------------------------------ */

static void test_cache_shares(void **state)
{
	write_sine("shared.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 0.5, 1000, 0.5);
	size_t before = cache.tab.count;
	struct sound *a = load_ok("shared.wav");
	struct sound *b = load_ok("shared.wav");
	assert_ptr_equal(a, b);
	assert_int_equal(mem_refs(a), 2);
	/* another spelling of the same file */
	struct sound *c = load_ok("./shared.wav");
	(void)c;
	char other[300];
	snprintf(other, sizeof(other), "%s/../%s/./shared.wav", dir, strrchr(dir, '/') + 1);
	struct sound *d = NULL;
	char err[256];
	assert_int_equal(sound_load(&cache, other, &d, err, sizeof(err)), 0);
	assert_ptr_equal(a, d);
	assert_int_equal(cache.tab.count, before + 1);
	mem_deref(c);
	mem_deref(d);
	mem_deref(b);
	mem_deref(a);
	/* the last reference took the entry out of the cache */
	assert_int_equal(cache.tab.count, before);
	a = load_ok("shared.wav");
	assert_int_equal(mem_refs(a), 1);
	assert_int_equal(cache.tab.count, before + 1);
	mem_deref(a);
	assert_int_equal(cache.tab.count, before);
}

/* A changed file is decoded again; whoever holds the old version keeps it. */
static void test_cache_notices_change(void **state)
{
	size_t before = cache.tab.count;
	write_sine("changing.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 1000, 0.5);
	struct sound *old = load_ok("changing.wav");
	assert_int_equal(old->n, 8000);

	write_sine("changing.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 2.0, 1000, 0.5);
	struct sound *fresh = load_ok("changing.wav");
	assert_ptr_not_equal(old, fresh);
	assert_int_equal(fresh->n, 16000);
	assert_int_equal(old->n, 8000);
	check_sine(old, 1.0, 0.5, 50);
	struct sound *again = load_ok("changing.wav");
	assert_ptr_equal(again, fresh);
	mem_deref(again);

	/* The same size rewritten later: the modification time tells. */
	write_sine("changing.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 2.0, 2000, 0.5);
	struct timespec later[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) + 10 } };
	assert_int_equal(utimensat(AT_FDCWD, file_path("changing.wav"), later, 0), 0);
	struct sound *third = load_ok("changing.wav");
	assert_ptr_not_equal(third, fresh);
	size_t n = middle_length(third);
	assert_true(goertzel_amp(third->pcm + EDGE, n, 2000) > 100 * goertzel_amp(third->pcm + EDGE, n, 1000));

	mem_deref(old);
	mem_deref(fresh);
	mem_deref(third);
	assert_int_equal(cache.tab.count, before);
}

/* Sounds outlive a cache that closes under them. */
static void test_cache_close_with_sounds_alive(void **state)
{
	struct sound_cache c2;
	assert_int_equal(sound_cache_init(&c2), 0);
	write_sine("survivor.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.5, 1000, 0.5);
	struct sound *s = NULL;
	char err[256];
	assert_int_equal(sound_load(&c2, file_path("survivor.wav"), &s, err, sizeof(err)), 0);
	sound_cache_close(&c2);
	assert_int_equal(s->n, 4000);
	mem_deref(s);
}

/* --- loading on the thread pool ------------------------------------------------------ */

struct waiter {
	struct sound *s;
	int rc;
	char err[256];
	bool called;
};

static void loaded(void *arg, struct sound *s, int rc, const char *err)
{
	struct waiter *w = arg;
	w->called = true;
	w->s = s;
	w->rc = rc;
	snprintf(w->err, sizeof(w->err), "%s", err ? err : "");
}

static unsigned ticks;

static void count_tick(uv_timer_t *t)
{
	ticks++;
}

/* 20 s of 44.1 kHz stereo: tens of milliseconds of decoding, during which
 * the loop goes on (its timer fires); two loads of the file share the one
 * decoding, and the next load finds it cached. */
static void test_async_load_beside_the_loop(void **state)
{
	write_sine("long44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 20.0, 1000, 0.5);
	uv_loop_t uv;
	uv_timer_t timer;
	assert_int_equal(uv_loop_init(&uv), 0);
	uv_timer_init(&uv, &timer);
	uv_timer_start(&timer, count_tick, 1, 1);
	ticks = 0;
	struct waiter a = { 0 }, b = { 0 };
	struct sound *s = NULL;
	char err[256];
	assert_int_equal(sound_load_async(&cache, &uv, file_path("long44k.wav"), &s, loaded, &a,
					  err, sizeof(err)), 0);
	assert_int_equal(sound_load_async(&cache, &uv, file_path("long44k.wav"), &s, loaded, &b,
					  err, sizeof(err)), 0);
	assert_null(s);
	assert_false(a.called);
	for (int i = 0; i < 100000 && !(a.called && b.called); i++)
		uv_run(&uv, UV_RUN_ONCE);
	assert_true(a.called && b.called);
	assert_int_equal(a.rc, 0);
	assert_non_null(a.s);
	assert_ptr_equal(a.s, b.s);
	assert_true(a.s->n >= 20 * 8000 - 100 && a.s->n <= 20 * 8000 + 100);
	assert_true(ticks >= 1);
	check_sine(a.s, 20.0, 0.5, 50);
	assert_int_equal(sound_load_async(&cache, &uv, file_path("long44k.wav"), &s, loaded, &b,
					  err, sizeof(err)), 1);
	assert_ptr_equal(s, a.s);
	mem_deref(s);
	mem_deref(a.s);
	mem_deref(b.s);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
}

/* A file that cannot be opened fails at once, with no call of the handler;
 * one that does not decode fails through it, naming the file. */
static void test_async_load_errors(void **state)
{
	uv_loop_t uv;
	assert_int_equal(uv_loop_init(&uv), 0);
	struct waiter w = { 0 };
	struct sound *s = (struct sound *)1;
	char err[256];
	const char *missing = file_path("not-there.wav");
	assert_int_equal(sound_load_async(&cache, &uv, missing, &s, loaded, &w, err, sizeof(err)),
			 -ENOENT);
	assert_ptr_equal(s, (struct sound *)1);
	assert_non_null(strstr(err, missing));
	write_bytes("text.wav", "not a sound at all\n", 19);
	assert_int_equal(sound_load_async(&cache, &uv, file_path("text.wav"), &s, loaded, &w, err,
					  sizeof(err)), 0);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_true(w.called);
	assert_int_equal(w.rc, -EINVAL);
	assert_null(w.s);
	assert_non_null(strstr(w.err, file_path("text.wav")));
	assert_int_equal(uv_loop_close(&uv), 0);
}

/* The cache closes while a file decodes: its waiter hears -ECANCELED at
 * once, and the decoding, when it ends, is let go. */
static void test_async_load_cache_closes(void **state)
{
	write_sine("closing.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 5.0, 1000, 0.5);
	uv_loop_t uv;
	assert_int_equal(uv_loop_init(&uv), 0);
	struct sound_cache c2;
	assert_int_equal(sound_cache_init(&c2), 0);
	struct waiter w = { 0 };
	struct sound *s = NULL;
	char err[256];
	assert_int_equal(sound_load_async(&c2, &uv, file_path("closing.wav"), &s, loaded, &w, err,
					  sizeof(err)), 0);
	sound_cache_close(&c2);
	assert_true(w.called);
	assert_int_equal(w.rc, -ECANCELED);
	assert_null(w.s);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
}

/* Files that fail at once on the thread pool each report their own reason:
 * libsndfile keeps the reason of a failed open in one global, so the opens
 * take turns (media/sndfile_open.c). Two kinds of bad file with different
 * reasons, sixteen copies of each (one path, one decoding), all loading
 * together. */
static void test_async_failures_keep_their_reasons(void **state)
{
	enum { COPIES = 16 };
	const char text[] = "This is a note about prompts, not a prompt.\n";
	char why[2][256];
	write_bytes("why-text.wav", text, sizeof(text) - 1);
	write_sine("why-cut.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 1000, 0.5);
	truncate_file("why-cut.wav", 30);
	struct sound *s = NULL;
	assert_int_equal(sound_load(&cache, file_path("why-text.wav"), &s, why[0], sizeof(why[0])),
			 -EINVAL);
	assert_int_equal(sound_load(&cache, file_path("why-cut.wav"), &s, why[1], sizeof(why[1])),
			 -EINVAL);
	/* the reasons, after the path: what the copies must say */
	const char *reason[2] = { strstr(why[0], ": "), strstr(why[1], ": ") };
	assert_non_null(reason[0]);
	assert_non_null(reason[1]);
	if (strcmp(reason[0], reason[1]) == 0)
		fail_msg("the two files should fail for different reasons: %s", reason[0]);

	uv_loop_t uv;
	assert_int_equal(uv_loop_init(&uv), 0);
	static struct waiter w[2 * COPIES];
	char paths[2 * COPIES][96], err[256];
	for (int i = 0; i < 2 * COPIES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "why-%d-%d.wav", i % 2, i / 2);
		snprintf(paths[i], sizeof(paths[i]), "%s", file_path(name));
		if (i % 2) {
			write_sine(name, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 1000, 0.5);
			truncate_file(name, 30);
		} else {
			write_bytes(name, text, sizeof(text) - 1);
		}
	}
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 2 * COPIES; i++)
		assert_int_equal(sound_load_async(&cache, &uv, paths[i], &s, loaded, &w[i], err,
						  sizeof(err)), 0);
	uv_run(&uv, UV_RUN_DEFAULT);
	for (int i = 0; i < 2 * COPIES; i++) {
		assert_true(w[i].called);
		assert_int_equal(w[i].rc, -EINVAL);
		const char *got = strstr(w[i].err, ": ");
		if (!strstr(w[i].err, paths[i]) || !got || strcmp(got, reason[i % 2]) != 0)
			fail_msg("load %d: \"%s\" should name %s and end \"%s\"", i, w[i].err,
				 paths[i], reason[i % 2]);
	}
	assert_int_equal(uv_loop_close(&uv), 0);
}

/* --- errors ---------------------------------------------------------------------- */

static void expect_error(const char *name, int want_rc, const char *want_reason)
{
	struct sound *s = (struct sound *)1;  /* must stay untouched */
	char err[256];
	const char *path = file_path(name);
	int rc = sound_load(&cache, path, &s, err, sizeof(err));
	if (rc != want_rc)
		fail_msg("%s: rc %d, want %d (%s)", name, rc, want_rc, err);
	assert_ptr_equal(s, (struct sound *)1);
	if (!strstr(err, path) || !strstr(err, want_reason))
		fail_msg("message \"%s\" should name %s and say \"%s\"", err, path, want_reason);
}

static void test_missing_file(void **state)
{
	expect_error("nothing-here.wav", -ENOENT, "no such file");
	expect_error("no-dir/nothing.wav", -ENOENT, "no such file");
}

static void test_text_file(void **state)
{
	const char text[] = "This is a note about prompts, not a prompt.\n";
	write_bytes("notes.wav", text, sizeof(text) - 1);
	expect_error("notes.wav", -EINVAL, "not a sound file libsndfile reads");
}

static void test_directory(void **state)
{
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sub.wav", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	expect_error("sub.wav", -EISDIR, "is a directory");
	rmdir(sub);
}

static void test_empty_files(void **state)
{
	write_bytes("zero.wav", "", 0);
	expect_error("zero.wav", -ENODATA, "empty");
	write_shorts("noframes.wav", 8000, 1, NULL, 0);
	expect_error("noframes.wav", -ENODATA, "empty");
}

/* Cut inside the header, a WAV is refused; cut inside the data, the part
 * that is there is played, as other players do. */
static void test_truncated_wav(void **state)
{
	write_sine("cut.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 1000, 0.5);
	truncate_file("cut.wav", 30);
	expect_error("cut.wav", -EINVAL, "not a sound file libsndfile reads");

	write_sine("cut.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 1000, 0.5);
	truncate_file("cut.wav", 44 + 2 * 4000);
	struct sound *s = load_ok("cut.wav");
	assert_int_equal(s->n, 4000);
	mem_deref(s);
}

static void test_too_long(void **state)
{
	write_sine("long.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 61.0, 1000, 0.1);
	cache.max_seconds = 60;
	expect_error("long.wav", -EFBIG, "too long (limit 1 minute)");
	cache.max_seconds = 30;
	expect_error("long.wav", -EFBIG, "too long (limit 30 seconds)");
	cache.max_seconds = 61;
	struct sound *s = load_ok("long.wav");
	assert_int_equal(s->n, 61 * 8000);
	mem_deref(s);
	cache.max_seconds = SOUND_MAX_SECONDS_DEFAULT;
}

/* A message that does not fit is cut, never written past the buffer. */
static void test_small_error_buffer(void **state)
{
	struct sound *s = NULL;
	char err[8];
	memset(err, 'x', sizeof(err));
	assert_int_equal(sound_load(&cache, file_path("nothing-here.wav"), &s, err, sizeof(err)), -ENOENT);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(sound_load(&cache, file_path("nothing-here.wav"), &s, NULL, 0), -ENOENT);
}

/* Every prefix of a valid file, in each format, either loads or fails with a
 * message: never a crash, a leak or a read out of bounds (run it under
 * AddressSanitizer). */
static void test_every_cut(void **state)
{
	const struct {
		const char *name;
		int format, rate;
	} files[] = {
		{ "cuts.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100 },
		{ "cuts.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000 },
		{ "cuts.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000 },
	};
	size_t before = cache.tab.count;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		write_sine(files[f].name, files[f].format, files[f].rate, 2, 0.3, 1000, 0.5);
		struct stat st;
		assert_int_equal(stat(file_path(files[f].name), &st), 0);
		for (off_t len = st.st_size - 1; len > 0; len = len > 600 ? len * 7 / 8 : len - 7) {
			truncate_file(files[f].name, len);
			struct sound *s = NULL;
			char err[256];
			int rc = sound_load(&cache, file_path(files[f].name), &s, err, sizeof(err));
			if (rc == 0) {
				assert_true(s->n > 0);
				mem_deref(s);
			} else {
				assert_true(rc < 0);
				assert_non_null(strstr(err, files[f].name));
			}
		}
	}
	assert_int_equal(cache.tab.count, before);
}

/* libsndfile 1.2.0 leaves the vorbis_info of an Ogg Vorbis file whose
 * headers it cannot finish reading (5784 bytes) unreleased: the leak is the
 * library's, seen only with the cut Ogg files above, and LeakSanitizer is
 * told to pass over it so that leaks of ours still fail the run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:vorbis_info_init\n";
}

/* --- set-up -------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

/* The directory is ours (mkdtemp): everything in it goes, deepest first. */
static int remove_all(const char *path)
{
	return nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int group_setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/test_sound.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return sound_cache_init(&cache);
}

static int group_teardown(void **state)
{
	sound_cache_close(&cache);
	return remove_all(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wav_8k_mono_exact),
		cmocka_unit_test(test_wav_44k_stereo),
		cmocka_unit_test(test_flac_48k),
		cmocka_unit_test(test_ogg_vorbis_16k),
		cmocka_unit_test(test_float_wav_22k),
		cmocka_unit_test(test_wav_4k_up),
		cmocka_unit_test(test_top_of_band),
		cmocka_unit_test(test_float_beyond_full_scale),
		cmocka_unit_test(test_no_aliasing),
		cmocka_unit_test(test_mono_mix),
		cmocka_unit_test(test_g711_copies),
		cmocka_unit_test(test_cache_shares),
		cmocka_unit_test(test_cache_notices_change),
		cmocka_unit_test(test_cache_close_with_sounds_alive),
		cmocka_unit_test(test_async_load_beside_the_loop),
		cmocka_unit_test(test_async_load_errors),
		cmocka_unit_test(test_async_load_cache_closes),
		cmocka_unit_test(test_async_failures_keep_their_reasons),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_text_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_truncated_wav),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_every_cut),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
