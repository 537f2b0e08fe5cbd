/* Sound files, decoded once and shared.
 *
 * A prompt that a thousand calls play is read from disk, mixed down to mono,
 * resampled to 8 kHz and encoded to both G.711 laws once; every call then
 * holds a reference to the same samples and only copies 160 bytes of them
 * per packet. The cache finds a loaded sound by the file's resolved path and
 * does not keep it alive by itself: a sound leaves the cache with its last
 * reference, so memory is what the playing calls need and no more. A file
 * that changed on disk (size, modification time or inode) is loaded anew;
 * calls already playing the old contents keep them until they let go.
 *
 * sound_load decodes in the caller's thread; sound_load_async, what calls
 * use, decodes on libuv's thread pool, so a long file (a minute of 44.1 kHz
 * stereo FLAC took about 0.4 s here) does not hold every call's media and
 * signalling while it is converted. */
#ifndef LUASIP_SOUND_H
#define LUASIP_SOUND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <uv.h>

#include "util/htab.h"

#define SOUND_RATE 8000
#define SOUND_MAX_SECONDS_DEFAULT 3600  /* 60 minutes: about 115 MB decoded */

struct sound_cache;

struct sound {
	int16_t *pcm;      /* n samples of 8 kHz mono audio */
	uint8_t *ulaw;     /* the same n samples in µ-law (payload type 0) */
	uint8_t *alaw;     /* and in A-law (payload type 8) */
	size_t n;
	double seconds;    /* n / 8000 */
	char *path;        /* as the first caller spelt it (a mem string) */

	/* The cache's bookkeeping: the entry, its key (the resolved path) and
	 * what identifies the version of the file that was decoded. */
	struct hnode node;
	char *key;
	struct sound_cache *cache;  /* NULL once out of the cache */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct sound_cache {
	struct htab tab;
	struct htab loading;   /* struct sound_job by key: decodings under way */
	unsigned max_seconds;  /* longer files are refused; set after init */
};

int sound_cache_init(struct sound_cache *c);
/* Forgets every entry; sounds still referenced stay valid and are freed by
 * their last mem_deref as usual. */
void sound_cache_close(struct sound_cache *c);

/* Sets *sp to a reference to the decoded sound of the file at path (release
 * it with mem_deref), from the cache when the same version of the file is
 * loaded already. On failure returns a negative errno and writes a message
 * naming the file and the reason into err (errlen bytes, may be 0):
 * -ENOENT no such file, -EACCES, -EISDIR, -EINVAL not a sound file
 * libsndfile reads or a rate that cannot be converted, -ENODATA empty,
 * -EFBIG too long, -EIO a read error, -ENOMEM. */
int sound_load(struct sound_cache *c, const char *path, struct sound **sp,
	       char *err, size_t errlen);

/* The end of an asynchronous load: a reference to the sound (the handler
 * releases it), or NULL with a negative errno as for sound_load and its
 * message (-ECANCELED when the cache closed first). */
typedef void (sound_loaded_h)(void *arg, struct sound *s, int rc, const char *err);
/* As sound_load, but what has to be decoded is decoded on the thread pool
 * of uv: 1 with *sp set when the file's current version is cached; 0 when
 * h will be called from the loop (loads of the same file share one
 * decoding); a negative errno with err written when the file cannot be
 * opened (h is then not called). */
int sound_load_async(struct sound_cache *c, uv_loop_t *uv, const char *path, struct sound **sp,
		     sound_loaded_h *h, void *arg, char *err, size_t errlen);

#endif
