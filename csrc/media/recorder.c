/* Recording through libsndfile. */
#include "media/recorder.h"
#include "media/sndfile_open.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A frame below this rms (about -50 dBm0) counts as silence. */
#define SILENCE_RMS 80.0

struct recorder {
	SNDFILE *f;
	uint64_t samples, max_samples;
	uint64_t quiet, silence_samples;
	bool heard;                 /* silence counts only after something was said */
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
	if (!r) {
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

bool recorder_write(struct recorder *r, const int16_t *pcm, size_t n)
{
	if (r->max_samples && r->samples + n > r->max_samples)
		n = (size_t)(r->max_samples - r->samples);
	sf_write_short(r->f, pcm, (sf_count_t)n);
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
	return (r->max_samples && r->samples >= r->max_samples) ||
	       (r->silence_samples && r->heard && r->quiet >= r->silence_samples);
}

double recorder_seconds(const struct recorder *r)
{
	return (double)r->samples / 8000.0;
}

double recorder_close(struct recorder *r)
{
	if (!r)
		return 0;
	double s = recorder_seconds(r);
	sf_close(r->f);
	free(r);
	return s;
}
