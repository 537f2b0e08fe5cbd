/* Sound files: libsndfile decodes whatever format the file is in, the
 * channels are averaged to mono, libsamplerate converts the rate to 8 kHz,
 * and the result is rounded to 16 bits and encoded to both G.711 laws. The
 * file is read in chunks through one streaming converter, so besides the
 * result only a chunk of the source is ever in memory. */
#include "media/sound.h"

#include "media/g711.h"
#include "media/sndfile_open.h"
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
 * many calls play it, on libuv's thread pool when loaded for a call. */
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
static int decode(unsigned max_seconds, int fd, const char *path,
		  struct pcm_buf *out, char *err, size_t errlen)
{
	SF_INFO info = { 0 };
	SRC_STATE *src = NULL;
	float *frames = NULL, *mono = NULL, *converted = NULL;
	int rc = 0;

	/* The descriptor stays ours, whatever libsndfile makes of the file */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(err, errlen, -errno, path, "%s", strerror(errno));
	struct sndfile_src in;
	char why[160];
	SNDFILE *sf = sndfile_open_read(&in, fd, (sf_count_t)st.st_size, &info, why, sizeof(why));
	if (!sf)
		return fail(err, errlen, -EINVAL, path, "not a sound file libsndfile reads (%s)", why);
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
	sf_count_t limit = (sf_count_t)max_seconds * info.samplerate;
	if (info.frames > limit && info.frames != SF_COUNT_MAX) {
		rc = fail_too_long(err, errlen, path, max_seconds);
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
			rc = fail_too_long(err, errlen, path, max_seconds);
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

/* What a load learns of the file before decoding it. */
struct sound_file {
	int fd;
	struct stat st;
	char *key;         /* the resolved path: "a.wav" and "./a.wav" share one copy */
};

/* Opens path for a load; on failure nothing is left open. */
static int file_open(const char *path, struct sound_file *f, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	f->key = NULL;
	/* O_NONBLOCK keeps a FIFO given by mistake from blocking the open; it
	 * changes nothing for a regular file. */
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f->fd < 0)
		return open_error(err, errlen, path, errno);
	int rc = 0;
	if (fstat(f->fd, &f->st) < 0)
		rc = open_error(err, errlen, path, errno);
	else if (S_ISDIR(f->st.st_mode))
		rc = fail(err, errlen, -EISDIR, path, "is a directory");
	else if (!S_ISREG(f->st.st_mode))
		rc = fail(err, errlen, -EINVAL, path, "not a regular file");
	else if (f->st.st_size == 0)
		rc = fail(err, errlen, -ENODATA, path, "empty");
	else if (!(f->key = realpath(path, NULL)) && !(f->key = strdup(path)))
		rc = fail(err, errlen, -ENOMEM, path, "out of memory");
	if (rc < 0) {
		close(f->fd);
		f->fd = -1;
	}
	return rc;
}

static void file_close(struct sound_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->key);
	f->key = NULL;
}

/* A reference to the cached decoding of this version of the file, or NULL;
 * an older version leaves the cache (whoever plays it keeps it). */
static struct sound *cache_find(struct sound_cache *c, const struct sound_file *f)
{
	struct hnode *hn = htab_find(&c->tab, f->key);
	if (!hn)
		return NULL;
	struct sound *cached = container_of(hn, struct sound, node);
	if (same_version(cached, &f->st))
		return mem_ref(cached);
	detach(cached);
	return NULL;
}

/* The samples of a decoded file in the three forms a sound keeps. */
struct sound_data {
	int16_t *pcm;
	uint8_t *ulaw, *alaw;
	size_t n;
};

static void data_free(struct sound_data *d)
{
	free(d->pcm);
	free(d->ulaw);
	free(d->alaw);
	memset(d, 0, sizeof(*d));
}

/* Decodes and encodes: touches nothing shared, so it may run on another
 * thread (libsndfile and libsamplerate keep their state per handle). */
static int decode_all(unsigned max_seconds, int fd, const char *path, struct sound_data *d,
		      char *err, size_t errlen)
{
	struct pcm_buf pcm = { 0 };
	int rc = decode(max_seconds, fd, path, &pcm, err, errlen);
	if (rc < 0) {
		free(pcm.s);
		return rc;
	}
	int16_t *fitted = realloc(pcm.s, pcm.n * sizeof(*pcm.s));
	d->pcm = fitted ? fitted : pcm.s;
	d->n = pcm.n;
	d->ulaw = malloc(d->n);
	d->alaw = malloc(d->n);
	if (!d->ulaw || !d->alaw) {
		data_free(d);
		return fail(err, errlen, -ENOMEM, path, "out of memory");
	}
	g711_encode(0, d->pcm, d->ulaw, d->n);
	g711_encode(8, d->pcm, d->alaw, d->n);
	return 0;
}

/* Makes the sound of d (taken) and caches it under f's key (taken). */
static int install(struct sound_cache *c, const char *path, struct sound_file *f,
		   struct sound_data *d, struct sound **sp, char *err, size_t errlen)
{
	struct sound *s = mem_alloc(sizeof(*s), sound_destroy);
	char *name = s ? mem_strdup(path) : NULL;
	if (!name) {
		mem_deref(s);
		data_free(d);
		return fail(err, errlen, -ENOMEM, path, "out of memory");
	}
	s->pcm = d->pcm;
	s->ulaw = d->ulaw;
	s->alaw = d->alaw;
	s->n = d->n;
	memset(d, 0, sizeof(*d));
	s->seconds = (double)s->n / SOUND_RATE;
	s->path = name;
	s->dev = f->st.st_dev;
	s->ino = f->st.st_ino;
	s->size = f->st.st_size;
	s->mtime = f->st.st_mtim;
	s->key = f->key;
	f->key = NULL;
	/* a load of the same file that finished first leaves the cache */
	struct hnode *old = htab_find(&c->tab, s->key);
	if (old)
		detach(container_of(old, struct sound, node));
	s->cache = c;
	htab_insert(&c->tab, &s->node, s->key);
	*sp = s;
	return 0;
}

int sound_load(struct sound_cache *c, const char *path, struct sound **sp,
	       char *err, size_t errlen)
{
	struct sound_file f;
	struct sound_data d = { 0 };
	int rc = file_open(path, &f, err, errlen);
	if (rc < 0)
		return rc;
	struct sound *s = cache_find(c, &f);
	if (!s) {
		rc = decode_all(c->max_seconds, f.fd, path, &d, err, errlen);
		if (rc == 0)
			rc = install(c, path, &f, &d, &s, err, errlen);
	}
	if (rc == 0)
		*sp = s;  /* untouched on failure */
	file_close(&f);
	return rc;
}

/* ---- loading on libuv's thread pool ---- */

struct sound_waiter {
	struct le le;
	sound_loaded_h *h;
	void *arg;
};

/* One decoding in progress, and everyone who waits for it. */
struct sound_job {
	uv_work_t work;
	struct sound_cache *c;      /* NULL once the cache closed */
	struct hnode node;          /* in c->loading, by the file's key */
	struct sound_file f;
	char *path;
	unsigned max_seconds;
	struct sound_data d;
	int rc;
	char err[512];
	struct le waiters;
};

static void job_free(struct sound_job *j)
{
	struct le *e, *t;
	list_each_safe(e, t, &j->waiters) {
		list_unlink(e);
		free(container_of(e, struct sound_waiter, le));
	}
	file_close(&j->f);
	data_free(&j->d);
	free(j->path);
	free(j);
}

static void job_work(uv_work_t *w)
{
	struct sound_job *j = w->data;
	j->rc = decode_all(j->max_seconds, j->f.fd, j->path, &j->d, j->err, sizeof(j->err));
}

/* Back on the loop: the sound is cached and handed to each waiter. */
static void job_done(uv_work_t *w, int status)
{
	struct sound_job *j = w->data;
	struct sound *s = NULL;
	if (!j->c) {
		job_free(j);  /* the cache closed: its waiters were told */
		return;
	}
	htab_remove(&j->c->loading, &j->node);
	if (status < 0 && j->rc == 0)
		j->rc = fail(j->err, sizeof(j->err), -ECANCELED, j->path, "load cancelled");
	if (j->rc == 0)
		j->rc = install(j->c, j->path, &j->f, &j->d, &s, j->err, sizeof(j->err));
	struct le *e, *t;
	list_each_safe(e, t, &j->waiters) {
		struct sound_waiter *wt = container_of(e, struct sound_waiter, le);
		list_unlink(e);
		wt->h(wt->arg, s ? mem_ref(s) : NULL, j->rc, j->rc < 0 ? j->err : NULL);
		free(wt);
	}
	mem_deref(s);
	job_free(j);
}

int sound_load_async(struct sound_cache *c, uv_loop_t *uv, const char *path, struct sound **sp,
		     sound_loaded_h *h, void *arg, char *err, size_t errlen)
{
	struct sound_file f;
	int rc = file_open(path, &f, err, errlen);
	if (rc < 0)
		return rc;
	struct sound *cached = cache_find(c, &f);
	if (cached) {
		*sp = cached;
		file_close(&f);
		return 1;
	}
	struct sound_waiter *wt = malloc(sizeof(*wt));
	if (!wt) {
		file_close(&f);
		return fail(err, errlen, -ENOMEM, path, "out of memory");
	}
	wt->h = h;
	wt->arg = arg;
	struct hnode *hn = htab_find(&c->loading, f.key);
	if (hn) {
		/* the same file on its way already: one decoding for both */
		list_append(&container_of(hn, struct sound_job, node)->waiters, &wt->le);
		file_close(&f);
		return 0;
	}
	struct sound_job *j = calloc(1, sizeof(*j));
	if (j)
		j->path = strdup(path);
	if (!j || !j->path) {
		free(j);
		free(wt);
		file_close(&f);
		return fail(err, errlen, -ENOMEM, path, "out of memory");
	}
	j->c = c;
	j->max_seconds = c->max_seconds;
	j->f = f;
	j->work.data = j;
	list_init(&j->waiters);
	list_append(&j->waiters, &wt->le);
	rc = uv_queue_work(uv, &j->work, job_work, job_done);
	if (rc < 0) {
		job_free(j);
		return fail(err, errlen, rc, path, "cannot start loading (%s)", uv_strerror(rc));
	}
	htab_insert(&c->loading, &j->node, j->f.key);
	return 0;
}

int sound_cache_init(struct sound_cache *c)
{
	c->max_seconds = SOUND_MAX_SECONDS_DEFAULT;
	int err = htab_init(&c->tab, 64);
	if (!err && (err = htab_init(&c->loading, 16)) != 0)
		htab_close(&c->tab);
	return err;
}

void sound_cache_close(struct sound_cache *c)
{
	for (size_t i = 0; i < c->tab.nbuckets; i++)
		for (struct hnode *e = c->tab.bucket[i]; e; e = e->next)
			container_of(e, struct sound, node)->cache = NULL;
	htab_close(&c->tab);
	/* loads still decoding finish on their own and are then let go; their
	 * waiters hear now that nothing will come */
	for (size_t i = 0; i < c->loading.nbuckets; i++)
		for (struct hnode *e = c->loading.bucket[i]; e; e = e->next) {
			struct sound_job *j = container_of(e, struct sound_job, node);
			struct le *w, *t;
			j->c = NULL;
			list_each_safe(w, t, &j->waiters) {
				struct sound_waiter *wt = container_of(w, struct sound_waiter, le);
				list_unlink(w);
				wt->h(wt->arg, NULL, -ECANCELED, "the sound cache closed");
				free(wt);
			}
		}
	htab_close(&c->loading);
}
