/* DTMF over RTP (RFC 4733) and in the audio (ITU-T Q.23, Q.24). */
#include "media/dtmf.h"
#include "util/list.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const char digits[] = "0123456789*#ABCD";

int dtmf_event(char digit)
{
	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	const char *p = digit ? strchr(digits, digit) : NULL;
	return p ? (int)(p - digits) : -1;
}

char dtmf_digit(int event)
{
	return event >= 0 && event < 16 ? digits[event] : 0;
}

int te_decode(const uint8_t *p, size_t len, struct te_payload *te)
{
	if (len < 4)
		return -EBADMSG;
	te->event = p[0];
	te->end = p[1] & 0x80;
	te->volume = p[1] & 0x3f;
	te->duration = (uint16_t)(p[2] << 8 | p[3]);
	return 0;
}

void te_encode(const struct te_payload *te, uint8_t out[4])
{
	out[0] = te->event;
	out[1] = (uint8_t)((te->end ? 0x80 : 0) | (te->volume & 0x3f));
	out[2] = (uint8_t)(te->duration >> 8);
	out[3] = (uint8_t)te->duration;
}

/* The row and column frequencies of the keypad (Q.23). */
static const double row_hz[4] = { 697, 770, 852, 941 };
static const double col_hz[4] = { 1209, 1336, 1477, 1633 };
static const char keypad[4][4] = {
	{ '1', '2', '3', 'A' }, { '4', '5', '6', 'B' },
	{ '7', '8', '9', 'C' }, { '*', '0', '#', 'D' },
};

#define BLOCK 205
#define MIN_BLOCKS 2        /* 2 blocks of 25.6 ms: a tone of 40 ms is seen */

/* Goertzel coefficients, 2 cos(2 pi f / 8000), computed once. */
static double coef_row[4], coef_col[4];
static bool coefs_ready;

static void init_coefs(void)
{
	for (int i = 0; i < 4; i++) {
		coef_row[i] = 2 * cos(2 * M_PI * row_hz[i] / 8000.0);
		coef_col[i] = 2 * cos(2 * M_PI * col_hz[i] / 8000.0);
	}
	coefs_ready = true;
}

void dtmf_detector_init(struct dtmf_detector *d)
{
	memset(d, 0, sizeof(*d));
	if (!coefs_ready)
		init_coefs();
}

static double goertzel(const int16_t *x, unsigned n, double coef)
{
	double s1 = 0, s2 = 0;
	for (unsigned i = 0; i < n; i++) {
		double s0 = x[i] + coef * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - coef * s1 * s2;  /* the power at f */
}

/* The digit of one block, or 0: one row and one column tone much stronger
 * than the others, together most of the block's energy, the twist
 * (their ratio) within 8 dB as telephone networks allow. */
static char block_digit(const int16_t *x)
{
	double energy = 0;
	for (unsigned i = 0; i < BLOCK; i++)
		energy += (double)x[i] * x[i];
	if (energy < BLOCK * 200.0 * 200.0)
		return 0;  /* too quiet (about -45 dBm0) */
	double r[4], c[4];
	int br = 0, bc = 0;
	for (int i = 0; i < 4; i++) {
		r[i] = goertzel(x, BLOCK, coef_row[i]);
		c[i] = goertzel(x, BLOCK, coef_col[i]);
		if (r[i] > r[br])
			br = i;
		if (c[i] > c[bc])
			bc = i;
	}
	for (int i = 0; i < 4; i++)
		if ((i != br && r[i] * 6.3 > r[br]) || (i != bc && c[i] * 6.3 > c[bc]))
			return 0;  /* a second tone of the group within 8 dB */
	if (r[br] > c[bc] * 6.3 || c[bc] > r[br] * 6.3)
		return 0;  /* twist above 8 dB */
	/* a Goertzel power of a pure tone of amplitude A is about (A N / 2)^2,
	 * the block energy A^2 N / 2: both tones must carry most of it */
	if ((r[br] + c[bc]) * 2.0 / BLOCK < 0.6 * energy)
		return 0;
	return keypad[br][bc];
}

void dtmf_detect(struct dtmf_detector *d, const int16_t *pcm, size_t n,
		 void (*digit_h)(char digit, void *arg), void *arg)
{
	while (n) {
		size_t take = BLOCK - d->n < n ? BLOCK - d->n : n;
		memcpy(d->block + d->n, pcm, take * sizeof(*pcm));
		d->n += (unsigned)take;
		pcm += take;
		n -= take;
		if (d->n < BLOCK)
			break;
		d->n = 0;
		char digit = block_digit(d->block);
		if (digit && digit == d->last) {
			if (++d->hits >= MIN_BLOCKS && !d->reported) {
				d->reported = true;
				digit_h(digit, arg);
			}
		} else {
			d->last = digit;
			d->hits = digit ? 1 : 0;
			d->reported = false;
		}
	}
}

static void dtmf_sink_put(struct port *port, struct frame *f)
{
	struct dtmf_sink *s = container_of(port, struct dtmf_sink, port);
	dtmf_detect(&s->det, frame_pcm(f), PORT_FRAME, s->digit_h, s->arg);
}

void dtmf_sink_init(struct dtmf_sink *s, void (*digit_h)(char digit, void *arg), void *arg)
{
	s->port.get = NULL;
	s->port.put = dtmf_sink_put;
	dtmf_detector_init(&s->det);
	s->digit_h = digit_h;
	s->arg = arg;
}
