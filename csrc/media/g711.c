/* G.711 µ-law and A-law. Both split the magnitude into eight segments
 * (exponents) of sixteen steps (mantissa); µ-law adds a bias of 0x84 first
 * so that its segments start at zero, A-law's first two segments share one
 * step size. Codes are stored inverted (µ-law) or with every other bit
 * flipped (A-law, 0x55), as the standard puts them on the wire. */
#include "media/g711.h"

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

uint8_t g711_ulaw_encode(int16_t pcm)
{
	int x = pcm;
	uint8_t sign = 0;
	if (x < 0) {
		x = -x;
		sign = 0x80;
	}
	if (x > ULAW_CLIP)
		x = ULAW_CLIP;
	x += ULAW_BIAS;
	/* the exponent is the place of the highest set bit among bits 7..14 */
	int exp = 7;
	for (int mask = 0x4000; !(x & mask) && exp > 0; mask >>= 1)
		exp--;
	int mant = (x >> (exp + 3)) & 0x0f;
	return (uint8_t) ~(sign | (exp << 4) | mant);
}

static int16_t ulaw_to_linear(uint8_t code)
{
	code = (uint8_t)~code;
	int exp = (code >> 4) & 0x07;
	int mant = code & 0x0f;
	int x = (((mant << 3) + ULAW_BIAS) << exp) - ULAW_BIAS;
	return (int16_t)((code & 0x80) ? -x : x);
}

uint8_t g711_alaw_encode(int16_t pcm)
{
	int x = pcm;
	uint8_t mask;
	if (x >= 0) {
		mask = 0xd5;  /* the sign bit set, then the 0x55 toggle */
	} else {
		mask = 0x55;
		x = -x - 1;
	}
	x >>= 3;  /* A-law codes 13 bits */
	int seg = 0;
	while (seg < 8 && x > (0x20 << seg) - 1)  /* segment ends 0x1f, 0x3f ... 0xfff */
		seg++;
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	int code = seg << 4;
	code |= seg < 2 ? (x >> 1) & 0x0f : (x >> seg) & 0x0f;
	return (uint8_t)(code ^ mask);
}

static int16_t alaw_to_linear(uint8_t code)
{
	code ^= 0x55;
	int t = (code & 0x0f) << 4;
	int seg = (code & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((code & 0x80) ? t : -t);
}

/* 256 entries each, filled on first use; a race fills them twice with the
 * same values. */
static int16_t ulaw_table[256], alaw_table[256];
static int tables_ready;
/* µ-law to A-law and back, each code through its linear value */
static uint8_t u2a[256], a2u[256];

static void fill_tables(void)
{
	for (int i = 0; i < 256; i++) {
		ulaw_table[i] = ulaw_to_linear((uint8_t)i);
		alaw_table[i] = alaw_to_linear((uint8_t)i);
	}
	for (int i = 0; i < 256; i++) {
		u2a[i] = g711_alaw_encode(ulaw_table[i]);
		a2u[i] = g711_ulaw_encode(alaw_table[i]);
	}
	tables_ready = 1;
}

int16_t g711_ulaw_decode(uint8_t code)
{
	if (!tables_ready)
		fill_tables();
	return ulaw_table[code];
}

int16_t g711_alaw_decode(uint8_t code)
{
	if (!tables_ready)
		fill_tables();
	return alaw_table[code];
}

void g711_encode(int pt, const int16_t *pcm, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = pt == 8 ? g711_alaw_encode(pcm[i]) : g711_ulaw_encode(pcm[i]);
}

void g711_decode(int pt, const uint8_t *in, int16_t *pcm, size_t n)
{
	if (!tables_ready)
		fill_tables();
	const int16_t *t = pt == 8 ? alaw_table : ulaw_table;
	for (size_t i = 0; i < n; i++)
		pcm[i] = t[in[i]];
}

void g711_transcode(int from, const uint8_t *in, uint8_t *out, size_t n)
{
	if (!tables_ready)
		fill_tables();
	const uint8_t *t = from == 8 ? a2u : u2a;
	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}
