/* RTP packet parsing and composing (RFC 3550 §5.1). */
#include "media/rtp.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
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

int rtp_decode(const uint8_t *buf, size_t len, struct rtp_hdr *h, const uint8_t **payload,
	       size_t *plen)
{
	if (len < RTP_HEADER_SIZE || (buf[0] >> 6) != 2)
		return -EBADMSG;
	/* RTCP multiplexed on the RTP port: SR 200 ... APP 204 read as a
	 * marker and payload types 72-76; RFC 5761 keeps 64-95 apart */
	if ((buf[1] & 0x7f) >= 64 && (buf[1] & 0x7f) <= 95)
		return -EPROTO;
	bool padding = buf[0] & 0x20;
	h->ext = buf[0] & 0x10;
	h->cc = buf[0] & 0x0f;
	h->marker = buf[1] & 0x80;
	h->pt = buf[1] & 0x7f;
	h->seq = get16(buf + 2);
	h->ts = get32(buf + 4);
	h->ssrc = get32(buf + 8);
	size_t off = RTP_HEADER_SIZE;
	if (len < off + 4u * h->cc)
		return -EBADMSG;
	for (unsigned i = 0; i < h->cc; i++, off += 4)
		h->csrc[i] = get32(buf + off);
	h->ext_profile = 0;
	if (h->ext) {
		if (len < off + 4)
			return -EBADMSG;
		h->ext_profile = get16(buf + off);
		size_t words = get16(buf + off + 2);
		off += 4;
		if (len - off < 4 * words)
			return -EBADMSG;
		off += 4 * words;
	}
	size_t end = len;
	if (padding) {
		/* the last octet counts the padding, itself included */
		uint8_t n = buf[len - 1];
		if (n == 0 || n > len - off)
			return -EBADMSG;
		end -= n;
	}
	*payload = buf + off;
	*plen = end - off;
	return 0;
}

size_t rtp_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h, const uint8_t *payload,
		  size_t plen)
{
	if (size < RTP_HEADER_SIZE || size - RTP_HEADER_SIZE < plen)
		return 0;
	buf[0] = 0x80;  /* version 2, no padding, extension or CSRC */
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f));
	put16(buf + 2, h->seq);
	put32(buf + 4, h->ts);
	put32(buf + 8, h->ssrc);
	if (plen)
		memcpy(buf + RTP_HEADER_SIZE, payload, plen);
	return RTP_HEADER_SIZE + plen;
}
