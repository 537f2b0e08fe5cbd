/* Opening a sound file with libsndfile, and the reason when it fails.
 *
 * libsndfile keeps the reason of a failed open in one global (what
 * sf_strerror(NULL) reads), and files are opened on the loop (recordings)
 * and on libuv's thread pool (decoding) at once. Every open goes through
 * one lock that also covers reading that reason, so that each failure
 * reports its own.
 *
 * A file to read is handed over as a descriptor that stays the caller's:
 * libsndfile reads it through virtual I/O and never closes it. Its
 * sf_open_fd, even with close_desc 0, closes the descriptor when the open
 * fails (1.2.0), and the caller's close after that closed whatever had
 * taken the number meanwhile on another thread: a socket of the loop. */
#ifndef LUASIP_SNDFILE_OPEN_H
#define LUASIP_SNDFILE_OPEN_H

#include <stddef.h>
#include <sndfile.h>

/* Where a reader is in its file; must outlive the SNDFILE it opens. */
struct sndfile_src {
	int fd;
	sf_count_t pos, len;
};

/* Opens fd, len bytes long, for reading; on failure NULL with
 * libsndfile's reason in why. sf_close leaves fd open. */
SNDFILE *sndfile_open_read(struct sndfile_src *src, int fd, sf_count_t len, SF_INFO *info,
			   char *why, size_t whylen);
/* sf_open of a path (libsndfile's own descriptor); the same on failure. */
SNDFILE *sndfile_open_path(const char *path, int mode, SF_INFO *info, char *why, size_t whylen);

#endif
