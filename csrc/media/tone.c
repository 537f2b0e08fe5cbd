/* Call progress tones: the national table and the renderer. */
#include "media/tone.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct tone_row {
	const char *country, *name;
	struct tone_spec spec;
};

#define F1(a)          .freqs = { a }, .nfreqs = 1
#define F2(a, b)       .freqs = { a, b }, .nfreqs = 2
#define CAD2(a, b)     .cadence = { a, b }, .ncadence = 2
#define CAD4(a, b, c, d) .cadence = { a, b, c, d }, .ncadence = 4

/* ITU-T E.180 Supplement 2 and the national specifications it lists. "eu"
 * is the CEPT/ETSI recommendation (ETSI TR 101 041) most of Europe uses.
 * A call-waiting tone is a short beep (or two) then a long silence: it is
 * heard over the conversation, so it must never sound continuous, and it
 * loops for as long as the second call waits. */
static const struct tone_row table[] = {
	{ "us", "dial",       { F2(350, 440) } },
	{ "us", "ringback",   { F2(440, 480), CAD2(2000, 4000) } },
	{ "us", "busy",       { F2(480, 620), CAD2(500, 500) } },
	{ "us", "congestion", { F2(480, 620), CAD2(250, 250) } },
	{ "us", "waiting",    { F1(440), CAD2(300, 9700) } },
	{ "uk", "dial",       { F2(350, 440) } },
	{ "uk", "ringback",   { F2(400, 450), CAD4(400, 200, 400, 2000) } },
	{ "uk", "busy",       { F1(400), CAD2(375, 375) } },
	{ "uk", "congestion", { F1(400), CAD4(400, 350, 225, 525) } },
	{ "uk", "waiting",    { F1(400), CAD2(100, 2900) } },
	{ "eu", "dial",       { F1(425) } },
	{ "eu", "ringback",   { F1(425), CAD2(1000, 4000) } },
	{ "eu", "busy",       { F1(425), CAD2(500, 500) } },
	{ "eu", "congestion", { F1(425), CAD2(250, 250) } },
	{ "eu", "waiting",    { F1(425), CAD4(150, 150, 150, 8000) } },
	{ "de", "dial",       { F1(425) } },
	{ "de", "ringback",   { F1(425), CAD2(1000, 4000) } },
	{ "de", "busy",       { F1(425), CAD2(480, 480) } },
	{ "de", "congestion", { F1(425), CAD4(240, 240, 240, 240) } },
	{ "de", "waiting",    { F1(425), CAD4(200, 200, 200, 5000) } },
	{ "fr", "dial",       { F1(440) } },
	{ "fr", "ringback",   { F1(440), CAD2(1500, 3500) } },
	{ "fr", "busy",       { F1(440), CAD2(500, 500) } },
	{ "fr", "congestion", { F1(440), CAD2(250, 250) } },
	{ "fr", "waiting",    { F1(440), CAD2(300, 10000) } },
	{ "cn", "dial",       { F1(450) } },
	{ "cn", "ringback",   { F1(450), CAD2(1000, 4000) } },
	{ "cn", "busy",       { F1(450), CAD2(350, 350) } },
	{ "cn", "congestion", { F1(450), CAD2(700, 700) } },
	{ "cn", "waiting",    { F1(450), CAD2(400, 4000) } },
	{ "jp", "dial",       { F1(400) } },
	{ "jp", "ringback",   { F1(400), CAD2(1000, 2000), .mod_hz = 16 } },
	{ "jp", "busy",       { F1(400), CAD2(500, 500) } },
	{ "jp", "congestion", { F1(400), CAD2(500, 500) } },
	{ "jp", "waiting",    { F1(400), CAD4(500, 500, 500, 8000), .mod_hz = 16 } },
};

int tone_lookup(const char *name, const char *country, struct tone_spec *t)
{
	if (!country)
		country = "us";
	bool known_name = false;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		bool c = strcmp(table[i].country, country) == 0;
		bool n = strcmp(table[i].name, name) == 0;
		known_name |= n;
		if (c && n) {
			*t = table[i].spec;
			t->level_dbm0 = -13;
			return 0;
		}
	}
	return !known_name ? -ENOENT : -ESRCH;
}

int tone_check(const struct tone_spec *t, const char **why)
{
	if (t->nfreqs < 1 || t->nfreqs > TONE_MAX_FREQS) {
		*why = "a tone needs 1 to 4 frequencies";
		return -EINVAL;
	}
	for (unsigned i = 0; i < t->nfreqs; i++)
		if (t->freqs[i] < 1 || t->freqs[i] > 3999) {
			*why = "frequencies must be whole hertz between 1 and 3999 (8 kHz audio)";
			return -EINVAL;
		}
	if (t->ncadence > TONE_MAX_CADENCE || t->ncadence % 2) {
		*why = "a cadence is pairs of on and off times, at most 4 pairs";
		return -EINVAL;
	}
	unsigned long total = 0;
	for (unsigned i = 0; i < t->ncadence; i++) {
		if (t->cadence[i] == 0 && i % 2 == 0) {
			*why = "an on time must be above 0";
			return -EINVAL;
		}
		total += t->cadence[i];
	}
	if (total > 60000) {
		*why = "a cadence may last 60 s at most";
		return -EINVAL;
	}
	if (t->level_dbm0 > 3.0 || t->level_dbm0 < -60.0) {
		*why = "the level must be between -60 and 3 dBm0";
		return -EINVAL;
	}
	return 0;
}

int tone_render(const struct tone_spec *t, int16_t **pcm, size_t *n)
{
	const char *why;
	if (tone_check(t, &why))
		return -EINVAL;
	size_t ms = 0;
	for (unsigned i = 0; i < t->ncadence; i++)
		ms += t->cadence[i];
	if (ms == 0)
		ms = 1000;  /* continuous: one second ends in phase */
	size_t len = ms * 8;
	int16_t *out = malloc(len * sizeof(*out));
	if (!out)
		return -ENOMEM;
	/* 0 dBm0 is a sine of peak 22786 in 16-bit linear G.711 terms
	 * (3.14 dBm0 full scale, ITU-T G.711) */
	double amp = 22786.0 * pow(10.0, t->level_dbm0 / 20.0);
	if (amp * t->nfreqs > 32767)
		amp = 32767.0 / t->nfreqs;
	size_t pos = 0;
	unsigned seg = 0;
	size_t seg_end = t->ncadence ? (size_t)t->cadence[0] * 8 : len;
	for (size_t i = 0; i < len; i++) {
		while (t->ncadence && i >= seg_end && seg + 1 < t->ncadence) {
			seg++;
			seg_end += (size_t)t->cadence[seg] * 8;
			pos = 0;
		}
		bool on = !t->ncadence || seg % 2 == 0;
		double v = 0;
		if (on) {
			/* each burst starts at phase zero, as a tone generator
			 * switched on does */
			for (unsigned f = 0; f < t->nfreqs; f++)
				v += sin(2 * M_PI * t->freqs[f] * (double)pos / 8000.0);
			if (t->mod_hz)
				v *= 0.5 * (1.0 + sin(2 * M_PI * t->mod_hz * (double)pos / 8000.0));
		}
		out[i] = (int16_t)lrint(amp * v);
		pos++;
	}
	*pcm = out;
	*n = len;
	return 0;
}
