/* Sound files: libsndfile decodes whatever format the file is in, the
 * channels are averaged to mono, libsamplerate converts the rate to 8 kHz,
 * and the result is rounded to 16 bits and encoded to both G.711 laws. The
 * file is read in chunks through one streaming converter, so besides the
 * result only a chunk of the source is ever in memory. */
#include "media/sound.h"

#include "media/g711.h"
#include "util/list.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <samplerate.h>
#include <sndfile.h>

/* Source samples (all channels) read per chunk: 64 KB of floats. */
#define CHUNK_SAMPLES 16384

/* SRC_SINC_MEDIUM_QUALITY passes 90% of the output band, 0 to 3600 Hz at
 * 8 kHz, which holds the whole 300-3400 Hz telephone band, with 97 dB of
 * signal-to-noise ratio, far above the 38 dB G.711 keeps afterwards.
 * SRC_SINC_FASTEST passes only 80% (3200 Hz) and would dull speech;
 * SRC_SINC_BEST_QUALITY widens the band to 97%, which the telephone band
 * does not use, at several times the cost. A file is converted once however
 * many calls play it, but a long one still blocks the loop while it is. */
#define RESAMPLER SRC_SINC_MEDIUM_QUALITY

static int fail(char *err, size_t errlen, int rc, const char *path,
		const char *fmt, ...)
{
	if (errlen) {
		int k = snprintf(err, errlen, "%s: ", path);
		if (k >= 0 && (size_t)k < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return rc;
}

static int fail_too_long(char *err, size_t errlen, const char *path, unsigned max_seconds)
{
	bool minutes = max_seconds % 60 == 0;
	unsigned limit = minutes ? max_seconds / 60 : max_seconds;
	return fail(err, errlen, -EFBIG, path, "too long (limit %u %s%s)", limit,
		    minutes ? "minute" : "second", limit == 1 ? "" : "s");
}

/* The growing result of a decode, in 8 kHz 16-bit samples. */
struct pcm_buf {
	int16_t *s;
	size_t n, cap;
};

/* libsndfile scales 16-bit sources by 1/32768, so scaling back by 32768
 * gives such a file's samples back exactly; a float file may go beyond
 * full scale, and is clipped. */
static int16_t to_int16(float x)
{
	float v = x * 32768.0f;
	if (v >= 32767.0f)
		return 32767;
	if (v <= -32768.0f)
		return -32768;
	return (int16_t)lrintf(v);
}

static int pcm_append(struct pcm_buf *b, const float *x, size_t n)
{
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 8192;
		while (cap - b->n < n)
			cap *= 2;
		int16_t *s = realloc(b->s, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		b->s[b->n++] = to_int16(x[i]);
	return 0;
}

/* The average of the channels rather than their sum, so a file at full
 * scale in every channel does not clip. A NaN or infinity (a float file can
 * hold them) becomes silence before it can spread through the converter's
 * filter. */
static void mix_down(const float *frames, size_t nframes, int channels, float *mono)
{
	for (size_t i = 0; i < nframes; i++) {
		float sum = 0;
		for (int ch = 0; ch < channels; ch++) {
			float x = frames[i * (size_t)channels + (size_t)ch];
			if (isfinite(x))
				sum += x;
		}
		mono[i] = sum / (float)channels;
	}
}

/* Decodes the open file fd into out, converted to 8 kHz mono. */
static int decode(const struct sound_cache *c, int fd, const char *path,
		  struct pcm_buf *out, char *err, size_t errlen)
{
	SF_INFO info = { 0 };
	SRC_STATE *src = NULL;
	float *frames = NULL, *mono = NULL, *converted = NULL;
	int rc = 0;

	/* The descriptor stays ours (close_desc 0): libsndfile would leave it
	 * open on some of its own failures. */
	SNDFILE *sf = sf_open_fd(fd, SFM_READ, &info, 0);
	if (!sf)
		return fail(err, errlen, -EINVAL, path,
			    "not a sound file libsndfile reads (%s)", sf_strerror(NULL));
	if (info.channels < 1 || info.samplerate < 1) {
		rc = fail(err, errlen, -EINVAL, path,
			  "not a sound file libsndfile reads (no channels or no sample rate)");
		goto out;
	}
	if (info.frames == 0) {
		rc = fail(err, errlen, -ENODATA, path, "empty");
		goto out;
	}
	/* The header's length is checked first so that a long file is refused
	 * before any of it is decoded; the count while reading catches a
	 * header that understates it. */
	sf_count_t limit = (sf_count_t)c->max_seconds * info.samplerate;
	if (info.frames > limit && info.frames != SF_COUNT_MAX) {
		rc = fail_too_long(err, errlen, path, c->max_seconds);
		goto out;
	}

	double ratio = (double)SOUND_RATE / info.samplerate;
	if (info.samplerate != SOUND_RATE) {
		if (!src_is_valid_ratio(ratio)) {
			rc = fail(err, errlen, -EINVAL, path,
				  "a sample rate of %d Hz cannot be converted to %d Hz",
				  info.samplerate, SOUND_RATE);
			goto out;
		}
		int e;
		src = src_new(RESAMPLER, 1, &e);
		if (!src) {
			rc = fail(err, errlen, -ENOMEM, path, "resampler: %s", src_strerror(e));
			goto out;
		}
	}

	size_t chunk = CHUNK_SAMPLES / (size_t)info.channels;
	if (chunk == 0)
		chunk = 1;
	/* Room for a chunk's output at the ratio, and for the filter's tail. */
	size_t converted_cap = (size_t)ceil((double)chunk * ratio) + 256;
	frames = malloc(chunk * (size_t)info.channels * sizeof(*frames));
	mono = malloc(chunk * sizeof(*mono));
	converted = malloc(converted_cap * sizeof(*converted));
	if (!frames || !mono || !converted) {
		rc = fail(err, errlen, -ENOMEM, path, "out of memory");
		goto out;
	}

	sf_count_t total = 0;
	bool end = false;
	while (!end) {
		sf_count_t got = sf_readf_float(sf, frames, (sf_count_t)chunk);
		if (got < 0)
			got = 0;
		end = got < (sf_count_t)chunk;
		total += got;
		if (total > limit) {
			rc = fail_too_long(err, errlen, path, c->max_seconds);
			goto out;
		}
		mix_down(frames, (size_t)got, info.channels, mono);
		if (!src) {
			rc = pcm_append(out, mono, (size_t)got);
			if (rc < 0) {
				rc = fail(err, errlen, rc, path, "out of memory");
				goto out;
			}
			continue;
		}
		/* At the end the converter is called until it has nothing left,
		 * which flushes the samples its filter still holds. */
		SRC_DATA d = {
			.data_in = mono,
			.input_frames = (long)got,
			.src_ratio = ratio,
			.end_of_input = end,
		};
		do {
			d.data_out = converted;
			d.output_frames = (long)converted_cap;
			int e = src_process(src, &d);
			if (e) {
				rc = fail(err, errlen, -EIO, path, "resampler: %s", src_strerror(e));
				goto out;
			}
			rc = pcm_append(out, converted, (size_t)d.output_frames_gen);
			if (rc < 0) {
				rc = fail(err, errlen, rc, path, "out of memory");
				goto out;
			}
			d.data_in += d.input_frames_used;
			d.input_frames -= d.input_frames_used;
		} while (d.input_frames > 0 || (end && d.output_frames_gen > 0));
	}

	if (sf_error(sf) != SF_ERR_NO_ERROR) {
		rc = fail(err, errlen, -EIO, path, "read error (%s)", sf_strerror(sf));
		goto out;
	}
	if (out->n == 0)
		rc = fail(err, errlen, -ENODATA, path, "empty");

out:
	free(frames);
	free(mono);
	free(converted);
	if (src)
		src_delete(src);
	sf_close(sf);
	return rc;
}

static void sound_destroy(void *arg)
{
	struct sound *s = arg;
	if (s->cache)
		htab_remove(&s->cache->tab, &s->node);
	free(s->pcm);
	free(s->ulaw);
	free(s->alaw);
	free(s->key);
	mem_deref(s->path);
}

/* The version of the file a sound was decoded from: a file rewritten in
 * place changes its size or modification time, one replaced by a rename
 * its inode. */
static bool same_version(const struct sound *s, const struct stat *st)
{
	return s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void detach(struct sound *s)
{
	if (s->cache) {
		htab_remove(&s->cache->tab, &s->node);
		s->cache = NULL;
	}
}

static int open_error(char *err, size_t errlen, const char *path, int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return fail(err, errlen, -ENOENT, path, "no such file");
	return fail(err, errlen, -e, path, "%s", strerror(e));
}

int sound_load(struct sound_cache *c, const char *path, struct sound **sp,
	       char *err, size_t errlen)
{
	struct sound *s = NULL;
	struct pcm_buf pcm = { 0 };
	char *key = NULL;
	struct stat st;
	int rc = 0;

	if (errlen)
		err[0] = '\0';
	/* O_NONBLOCK keeps a FIFO given by mistake from blocking the open; it
	 * changes nothing for a regular file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_error(err, errlen, path, errno);
	if (fstat(fd, &st) < 0) {
		rc = open_error(err, errlen, path, errno);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = fail(err, errlen, -EISDIR, path, "is a directory");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, errlen, -EINVAL, path, "not a regular file");
		goto out;
	}
	if (st.st_size == 0) {
		rc = fail(err, errlen, -ENODATA, path, "empty");
		goto out;
	}

	/* The resolved path is the key, so "prompts/a.wav" and "./prompts/a.wav"
	 * share one copy. */
	key = realpath(path, NULL);
	if (!key)
		key = strdup(path);
	if (!key) {
		rc = fail(err, errlen, -ENOMEM, path, "out of memory");
		goto out;
	}

	struct hnode *hn = htab_find(&c->tab, key);
	if (hn) {
		struct sound *cached = container_of(hn, struct sound, node);
		if (same_version(cached, &st)) {
			*sp = mem_ref(cached);
			goto out;
		}
		/* Whoever plays the old version keeps it; new loads get the new. */
		detach(cached);
	}

	rc = decode(c, fd, path, &pcm, err, errlen);
	if (rc < 0)
		goto out;

	s = mem_alloc(sizeof(*s), sound_destroy);
	if (!s) {
		rc = fail(err, errlen, -ENOMEM, path, "out of memory");
		goto out;
	}
	int16_t *fitted = realloc(pcm.s, pcm.n * sizeof(*pcm.s));
	s->pcm = fitted ? fitted : pcm.s;
	pcm.s = NULL;
	s->n = pcm.n;
	s->seconds = (double)s->n / SOUND_RATE;
	s->ulaw = malloc(s->n);
	s->alaw = malloc(s->n);
	s->path = mem_strdup(path);
	if (!s->ulaw || !s->alaw || !s->path) {
		rc = fail(err, errlen, -ENOMEM, path, "out of memory");
		goto out;
	}
	g711_encode(0, s->pcm, s->ulaw, s->n);
	g711_encode(8, s->pcm, s->alaw, s->n);

	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->key = key;
	key = NULL;
	s->cache = c;
	htab_insert(&c->tab, &s->node, s->key);
	*sp = s;
	s = NULL;

out:
	close(fd);
	free(pcm.s);
	free(key);
	mem_deref(s);
	return rc;
}

int sound_cache_init(struct sound_cache *c)
{
	c->max_seconds = SOUND_MAX_SECONDS_DEFAULT;
	return htab_init(&c->tab, 64);
}

void sound_cache_close(struct sound_cache *c)
{
	for (size_t i = 0; i < c->tab.nbuckets; i++)
		for (struct hnode *e = c->tab.bucket[i]; e; e = e->next)
			container_of(e, struct sound, node)->cache = NULL;
	htab_close(&c->tab);
}
