/* The recorder: what it is given reaches the WAV file sample for sample,
 * packet by packet, though it writes half a second at a time; max ends it;
 * a write that fails (here a file size limit) ends it with the reason,
 * naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/recorder.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sndfile.h>

static char dir[64];

static const char *file_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* A 440 Hz sine, sample i of it. */
static int16_t sine(size_t i)
{
	return (int16_t)lrint(8000.0 * sin(2 * M_PI * 440.0 * (double)i / 8000.0));
}

/* Gives the recorder n samples in packets of 160; the packet it said
 * "over" after, or -1. */
static long feed(struct recorder *r, size_t n)
{
	int16_t frame[160];
	for (size_t at = 0; at < n; at += 160) {
		for (size_t i = 0; i < 160; i++)
			frame[i] = sine(at + i);
		if (recorder_write(r, frame, 160))
			return (long)(at / 160);
	}
	return -1;
}

/* The samples of a WAV file; n: how many. */
static int16_t *read_wav(const char *path, sf_count_t *n)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	assert_non_null(f);
	assert_int_equal(info.samplerate, 8000);
	assert_int_equal(info.channels, 1);
	int16_t *s = calloc((size_t)info.frames + 1, sizeof(*s));
	assert_non_null(s);
	*n = sf_read_short(f, s, info.frames);
	sf_close(f);
	return s;
}

static void test_every_sample_reaches_the_file(void **state)
{
	struct recorder *r;
	char err[256];
	/* 3.02 s: six whole half-seconds and a packet held at the close */
	assert_int_equal(recorder_open(&r, file_path("all.wav"), 0, 0, err, sizeof(err)), 0);
	assert_int_equal(feed(r, 24160), -1);
	double secs;
	assert_int_equal(recorder_close(r, &secs, err, sizeof(err)), 0);
	assert_true(fabs(secs - 3.02) < 1e-9);
	sf_count_t n;
	int16_t *s = read_wav(file_path("all.wav"), &n);
	assert_int_equal(n, 24160);
	for (sf_count_t i = 0; i < n; i++)
		if (s[i] != sine((size_t)i))
			fail_msg("sample %lld is %d, want %d", (long long)i, s[i], sine((size_t)i));
	free(s);
}

static void test_max_ends_it(void **state)
{
	struct recorder *r;
	char err[256];
	assert_int_equal(recorder_open(&r, file_path("max.wav"), 1.0, 0, err, sizeof(err)), 0);
	assert_int_equal(feed(r, 16000), 49);  /* the 50th packet makes the second */
	double secs;
	assert_int_equal(recorder_close(r, &secs, err, sizeof(err)), 0);
	assert_true(fabs(secs - 1.0) < 1e-9);
	sf_count_t n;
	free(read_wav(file_path("max.wav"), &n));
	assert_int_equal(n, 8000);
}

/* With the file size limited to 12 KB (SIGXFSZ ignored, so the write fails
 * with EFBIG instead of the signal ending the process), the second
 * half-second does not fit: the recording ends there with the reason. */
static void test_failed_write_ends_it_with_the_reason(void **state)
{
	struct recorder *r;
	char err[256];
	const char *path = file_path("limited.wav");
	assert_int_equal(recorder_open(&r, path, 0, 0, err, sizeof(err)), 0);
	struct rlimit old, small;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 12 * 1024;
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	long over = feed(r, 16000);
	double secs;
	int rc = recorder_close(r, &secs, err, sizeof(err));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, was);
	/* the first half-second (8 KB and the header) fit; the second did not */
	assert_int_equal(over, 49);
	assert_int_equal(rc, -EFBIG);
	if (!strstr(err, path) || !strstr(err, "File too large"))
		fail_msg("message \"%s\" should name %s and say why", err, path);
}

static void test_unwritable_place(void **state)
{
	struct recorder *r;
	char err[256];
	const char *path = file_path("no-dir/x.wav");
	assert_int_equal(recorder_open(&r, path, 0, 0, err, sizeof(err)), -ENOENT);
	if (!strstr(err, path))
		fail_msg("message \"%s\" should name %s", err, path);
}

static int group_setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/test_recorder.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	const char *names[] = { "all.wav", "max.wav", "limited.wav" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(file_path(names[i]));
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_sample_reaches_the_file),
		cmocka_unit_test(test_max_ends_it),
		cmocka_unit_test(test_failed_write_ends_it_with_the_reason),
		cmocka_unit_test(test_unwritable_place),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
