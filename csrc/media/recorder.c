/* Recording through libsndfile. */
#include "media/recorder.h"
#include "media/sndfile_open.h"
#include "util/list.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A frame below this rms (about -50 dBm0) counts as silence. */
#define SILENCE_RMS 80.0
/* Samples held before they go to the file: half a second, one write(2)
 * where there was one a packet (fifty a second for every recording). */
#define HELD_MAX 4000

struct recorder {
	struct port port;           /* a sink: put only */
	bool over;
	void (*end_h)(void *arg);
	void *end_arg;
	SNDFILE *f;
	char *path;                 /* for the message of a failed write */
	uint64_t samples, max_samples;
	uint64_t quiet, silence_samples;
	bool heard;                 /* silence counts only after something was said */
	int error;                  /* the first failed write, -errno; then nothing more is written */
	char why[160];              /* its reason */
	size_t held;
	int16_t buf[HELD_MAX];
};

int recorder_open(struct recorder **rp, const char *path, double max_s, double silence_s,
		  char *err, size_t errlen)
{
	SF_INFO info = { .samplerate = 8000, .channels = 1,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	char why[160];
	errno = 0;
	SNDFILE *f = sndfile_open_path(path, SFM_WRITE, &info, why, sizeof(why));
	if (!f) {
		snprintf(err, errlen, "cannot record to %s: %s", path, why);
		return errno ? -errno : -EIO;
	}
	struct recorder *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		sf_close(f);
		snprintf(err, errlen, "cannot record to %s: out of memory", path);
		return -ENOMEM;
	}
	r->f = f;
	r->max_samples = max_s > 0 ? (uint64_t)(max_s * 8000.0) : 0;
	r->silence_samples = silence_s > 0 ? (uint64_t)(silence_s * 8000.0) : 0;
	*rp = r;
	return 0;
}

/* What is held goes to the file; a short write (a full disk, a file size
 * limit) ends the recording with its reason. */
static void flush(struct recorder *r)
{
	if (!r->held || r->error)
		return;
	errno = 0;
	sf_count_t n = sf_write_short(r->f, r->buf, (sf_count_t)r->held);
	if (n != (sf_count_t)r->held) {
		r->error = errno ? -errno : -EIO;
		snprintf(r->why, sizeof(r->why), "%s", sf_strerror(r->f));
	}
	r->held = 0;
}

bool recorder_write(struct recorder *r, const int16_t *pcm, size_t n)
{
	if (r->max_samples && r->samples + n > r->max_samples)
		n = (size_t)(r->max_samples - r->samples);
	for (size_t done = 0; done < n && !r->error;) {
		size_t take = n - done < HELD_MAX - r->held ? n - done : HELD_MAX - r->held;
		memcpy(r->buf + r->held, pcm + done, take * sizeof(*pcm));
		r->held += take;
		done += take;
		if (r->held == HELD_MAX)
			flush(r);
	}
	r->samples += n;
	if (r->silence_samples && n) {
		double e = 0;
		for (size_t i = 0; i < n; i++)
			e += (double)pcm[i] * pcm[i];
		if (sqrt(e / (double)n) < SILENCE_RMS) {
			r->quiet += n;
		} else {
			r->quiet = 0;
			r->heard = true;
		}
	}
	return r->error || (r->max_samples && r->samples >= r->max_samples) ||
	       (r->silence_samples && r->heard && r->quiet >= r->silence_samples);
}

static void recorder_put(struct port *port, struct frame *f)
{
	struct recorder *r = container_of(port, struct recorder, port);
	if (r->over || !recorder_write(r, frame_pcm(f), PORT_FRAME))
		return;
	r->over = true;
	if (r->end_h)
		r->end_h(r->end_arg);
}

struct port *recorder_port(struct recorder *r, void (*end_h)(void *arg), void *arg)
{
	r->port.put = recorder_put;
	r->end_h = end_h;
	r->end_arg = arg;
	return &r->port;
}

double recorder_seconds(const struct recorder *r)
{
	return (double)r->samples / 8000.0;
}

int recorder_close(struct recorder *r, double *secs, char *err, size_t errlen)
{
	*secs = 0;
	if (!r)
		return 0;
	flush(r);
	*secs = recorder_seconds(r);
	errno = 0;
	/* the WAV header gets its lengths now: that write can fail too */
	int sf_err = sf_close(r->f);
	if (!r->error && sf_err) {
		r->error = errno ? -errno : -EIO;
		snprintf(r->why, sizeof(r->why), "%s", sf_error_number(sf_err));
	}
	int rc = r->error;
	if (rc && errlen)
		snprintf(err, errlen, "cannot write %s: %s", r->path, r->why);
	free(r->path);
	free(r);
	return rc;
}
