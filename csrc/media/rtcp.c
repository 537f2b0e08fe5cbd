/* RTCP compound packets. */
#include "media/rtcp.h"

#include <errno.h>
#include <string.h>
#include <time.h>

enum { RTCP_SR = 200, RTCP_RR = 201, RTCP_SDES = 202, RTCP_BYE = 203 };

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t rtcp_ntp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t secs = (uint64_t)ts.tv_sec + 2208988800ull;  /* 1900 to 1970 */
	uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000ull;
	return secs << 32 | frac;
}

/* A header: version 2, count, type, length in words minus one. */
static void header(uint8_t *p, unsigned count, unsigned type, size_t bytes)
{
	p[0] = (uint8_t)(0x80 | (count & 0x1f));
	p[1] = (uint8_t)type;
	put16(p + 2, (uint32_t)(bytes / 4 - 1));
}

static void put_block(uint8_t *p, const struct rtcp_block *b)
{
	put32(p, b->ssrc);
	uint32_t lost = (uint32_t)b->cum_lost & 0xffffff;
	put32(p + 4, (uint32_t)b->fraction_lost << 24 | lost);
	put32(p + 8, b->ext_max_seq);
	put32(p + 12, b->jitter);
	put32(p + 16, b->lsr);
	put32(p + 20, b->dlsr);
}

size_t rtcp_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct rtcp_sender *sender,
		   const struct rtcp_block *block, const char *cname, bool bye)
{
	size_t cn = strlen(cname);
	if (cn > 255)
		cn = 255;
	size_t report = (sender ? 28 : 8) + (block ? 24 : 0);
	/* SDES: header, SSRC, CNAME item (type, length, text), end, padding */
	size_t sdes = (8 + 2 + cn + 1 + 3) & ~(size_t)3;
	size_t total = report + sdes + (bye ? 8 : 0);
	if (total > size)
		return 0;
	memset(buf, 0, total);
	uint8_t *p = buf;
	header(p, block ? 1 : 0, sender ? RTCP_SR : RTCP_RR, report);
	put32(p + 4, ssrc);
	size_t off = 8;
	if (sender) {
		put32(p + 8, (uint32_t)(sender->ntp >> 32));
		put32(p + 12, (uint32_t)sender->ntp);
		put32(p + 16, sender->rtp_ts);
		put32(p + 20, sender->packets);
		put32(p + 24, sender->octets);
		off = 28;
	}
	if (block)
		put_block(p + off, block);
	p += report;
	header(p, 1, RTCP_SDES, sdes);
	put32(p + 4, ssrc);
	p[8] = 1;  /* CNAME */
	p[9] = (uint8_t)cn;
	memcpy(p + 10, cname, cn);
	p += sdes;  /* the zero octets after the item end the list */
	if (bye) {
		header(p, 1, RTCP_BYE, 8);
		put32(p + 4, ssrc);
	}
	return total;
}

static void get_block(const uint8_t *p, struct rtcp_block *b)
{
	b->ssrc = get32(p);
	uint32_t w = get32(p + 4);
	b->fraction_lost = (uint8_t)(w >> 24);
	int32_t lost = (int32_t)(w & 0xffffff);
	if (lost & 0x800000)
		lost -= 0x1000000;  /* 24-bit two's complement */
	b->cum_lost = lost;
	b->ext_max_seq = get32(p + 8);
	b->jitter = get32(p + 12);
	b->lsr = get32(p + 16);
	b->dlsr = get32(p + 20);
}

int rtcp_decode(const uint8_t *buf, size_t len, uint32_t ssrc_of_interest,
		struct rtcp_info *info)
{
	memset(info, 0, sizeof(*info));
	/* §6.1, A.2: a compound starts with SR or RR; every part is version
	 * 2 and the lengths add up to the datagram */
	if (len < 8 || (buf[1] != RTCP_SR && buf[1] != RTCP_RR))
		return -EBADMSG;
	size_t off = 0;
	while (off < len) {
		if (len - off < 4 || (buf[off] >> 6) != 2)
			return -EBADMSG;
		size_t plen = ((size_t)(buf[off + 2] << 8 | buf[off + 3]) + 1) * 4;
		if (plen > len - off)
			return -EBADMSG;
		const uint8_t *p = buf + off;
		unsigned count = p[0] & 0x1f;
		unsigned type = p[1];
		size_t blocks = 0, first = 0;
		if (type == RTCP_SR && plen >= 28) {
			info->sr = true;
			info->sr_ssrc = get32(p + 4);
			info->sr_ntp_mid = (uint32_t)(get32(p + 8) << 16 | get32(p + 12) >> 16);
			blocks = count;
			first = 28;
		} else if (type == RTCP_RR && plen >= 8) {
			blocks = count;
			first = 8;
		} else if (type == RTCP_BYE) {
			info->bye = true;
		}
		if (first + blocks * 24 > plen)
			return -EBADMSG;
		for (size_t i = 0; i < blocks; i++) {
			struct rtcp_block b;
			get_block(p + first + 24 * i, &b);
			if (b.ssrc == ssrc_of_interest) {
				info->block = b;
				info->have_block = true;
			}
		}
		off += plen;
	}
	return 0;
}
