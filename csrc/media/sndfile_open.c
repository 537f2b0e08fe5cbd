/* libsndfile opens, one at a time, and reads through our descriptor (see
 * sndfile_open.h). */
#include "media/sndfile_open.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

static uv_once_t once = UV_ONCE_INIT;
static uv_mutex_t lock;

static void init_lock(void)
{
	if (uv_mutex_init(&lock) != 0)
		abort();
}

static SNDFILE *finish(SNDFILE *sf, char *why, size_t whylen)
{
	if (!sf && whylen)
		snprintf(why, whylen, "%s", sf_strerror(NULL));
	uv_mutex_unlock(&lock);
	return sf;
}

static sf_count_t src_len(void *arg)
{
	return ((struct sndfile_src *)arg)->len;
}

static sf_count_t src_seek(sf_count_t offset, int whence, void *arg)
{
	struct sndfile_src *s = arg;
	sf_count_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->len : 0;
	if (base + offset < 0)
		return -1;
	s->pos = base + offset;
	return s->pos;
}

/* pread at our own offset: the descriptor's is nobody's business here */
static sf_count_t src_read(void *ptr, sf_count_t count, void *arg)
{
	struct sndfile_src *s = arg;
	ssize_t n;
	do
		n = pread(s->fd, ptr, (size_t)count, (off_t)s->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return 0;  /* libsndfile reads a short count as the end */
	s->pos += n;
	return n;
}

static sf_count_t src_write(const void *ptr, sf_count_t count, void *arg)
{
	return 0;  /* read only */
}

static sf_count_t src_tell(void *arg)
{
	return ((struct sndfile_src *)arg)->pos;
}

SNDFILE *sndfile_open_read(struct sndfile_src *src, int fd, sf_count_t len, SF_INFO *info,
			   char *why, size_t whylen)
{
	static SF_VIRTUAL_IO io = { .get_filelen = src_len, .seek = src_seek, .read = src_read,
				    .write = src_write, .tell = src_tell };
	*src = (struct sndfile_src){ .fd = fd, .pos = 0, .len = len };
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	return finish(sf_open_virtual(&io, SFM_READ, info, src), why, whylen);
}

SNDFILE *sndfile_open_path(const char *path, int mode, SF_INFO *info, char *why, size_t whylen)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	return finish(sf_open(path, mode, info), why, whylen);
}
