/* DTMF: telephone-event payloads (RFC 4733 §2.3) and the in-band
 * detector (Goertzel filters over 8 kHz audio) for peers that send the
 * tones themselves. */
#ifndef LUASIP_DTMF_H
#define LUASIP_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/port.h"

/* One telephone-event payload: 4 octets. */
struct te_payload {
	uint8_t event;              /* 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash */
	bool end;
	uint8_t volume;             /* dBm0 below 0, 0-63 */
	uint16_t duration;          /* in timestamp units (8 kHz) */
};

/* The event of a digit ("0"-"9", "*", "#", "A"-"D", case-insensitive), or
 * -1; and back. */
int dtmf_event(char digit);
char dtmf_digit(int event);

int te_decode(const uint8_t *p, size_t len, struct te_payload *te);  /* 0 or -EBADMSG */
void te_encode(const struct te_payload *te, uint8_t out[4]);

/* In-band detection: feed 8 kHz samples; a digit is reported once when its
 * two tones have stood for at least 40 ms (ITU-T Q.24) and again only after
 * a pause. */
struct dtmf_detector {
	int16_t block[205];         /* 205 samples: ~25.6 ms, the usual Goertzel block */
	unsigned n;
	char last;                  /* the digit of the previous block, 0 none */
	unsigned hits;              /* blocks in a row with that digit */
	bool reported;
};

void dtmf_detector_init(struct dtmf_detector *d);
/* Calls digit_h for each digit found in the samples. */
void dtmf_detect(struct dtmf_detector *d, const int16_t *pcm, size_t n,
		 void (*digit_h)(char digit, void *arg), void *arg);

/* The detector as a sink port (port.h): digit_h hears each digit in the
 * frames put into it (from inside the clock's tick). */
struct dtmf_sink {
	struct port port;           /* put only */
	struct dtmf_detector det;
	void (*digit_h)(char digit, void *arg);
	void *arg;
};

void dtmf_sink_init(struct dtmf_sink *s, void (*digit_h)(char digit, void *arg), void *arg);

#endif
