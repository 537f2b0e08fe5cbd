/* G.711 (ITU-T, 1972): the two 8-bit logarithmic codings of 8 kHz
 * telephone audio, µ-law (PCMU, RTP payload type 0) and A-law (PCMA, 8).
 * A sound file is encoded once and shared by every call that plays it, so
 * encoding is computed; decoding, per received packet, is a table. */
#ifndef LUASIP_G711_H
#define LUASIP_G711_H

#include <stddef.h>
#include <stdint.h>

uint8_t g711_ulaw_encode(int16_t pcm);
uint8_t g711_alaw_encode(int16_t pcm);
int16_t g711_ulaw_decode(uint8_t code);
int16_t g711_alaw_decode(uint8_t code);

/* Whole buffers; pt is the static payload type (0 or 8). */
void g711_encode(int pt, const int16_t *pcm, uint8_t *out, size_t n);
void g711_decode(int pt, const uint8_t *in, int16_t *pcm, size_t n);
/* From one law to the other (from: 0 or 8), octet by octet through a
 * table, as a bridge of a PCMU leg and a PCMA leg needs every packet. */
void g711_transcode(int from, const uint8_t *in, uint8_t *out, size_t n);

#endif
