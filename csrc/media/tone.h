/* Call progress tones (ITU-T E.180 and national practice): dial,
 * ringback, busy, congestion and call waiting of the common countries, and
 * tones of one's own (frequencies and an on/off cadence). A tone is rendered once as
 * one cycle of 8 kHz audio that plays in a loop: with whole-hertz
 * frequencies a continuous tone's one-second cycle ends in phase, and a
 * cadence's cycle ends in silence, so the loop has no click. */
#ifndef LUASIP_TONE_H
#define LUASIP_TONE_H

#include <stddef.h>
#include <stdint.h>

#define TONE_MAX_FREQS 4
#define TONE_MAX_CADENCE 8

struct tone_spec {
	uint16_t freqs[TONE_MAX_FREQS];   /* Hz, summed */
	unsigned nfreqs;
	uint16_t cadence[TONE_MAX_CADENCE];  /* ms on, off, on, off ...; none: continuous */
	unsigned ncadence;
	uint16_t mod_hz;                  /* amplitude modulation (Japan's ringback), 0 none */
	double level_dbm0;                /* of each frequency; -13 dBm0 by default */
};

/* The tone called name ("dial", "ringback", "busy", "congestion", "waiting")
 * in country
 * ("us", "uk", "eu", "cn", "jp", and a few more; NULL: "us"). -ENOENT for an
 * unknown name, -ESRCH for an unknown country. */
int tone_lookup(const char *name, const char *country, struct tone_spec *t);
/* Checks a spec made by hand: -EINVAL with why (a static string). */
int tone_check(const struct tone_spec *t, const char **why);
/* The samples of one cycle of the tone: *pcm is malloc'ed, *n set. */
int tone_render(const struct tone_spec *t, int16_t **pcm, size_t *n);

#endif
