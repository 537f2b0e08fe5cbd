/* RTP packets (RFC 3550 §5.1): the fixed header, CSRCs, the header
 * extension and padding. Parsing checks everything a peer can get wrong
 * and never reads outside the packet; composing writes the fixed header
 * only, as our streams need. */
#ifndef LUASIP_RTP_H
#define LUASIP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_SIZE 12

struct rtp_hdr {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;                 /* CSRC count */
	uint32_t csrc[15];
	bool ext;                   /* a header extension was present */
	uint16_t ext_profile;       /* its first 16 bits */
};

/* Parses a packet: 0 with *payload and *plen set (padding removed), or
 * -EBADMSG (too short, not version 2, a CSRC list, extension or padding
 * that does not fit), or -EPROTO for what is RTCP on the same port
 * (RFC 5761 §4: payload types 64-95 with the marker bit). */
int rtp_decode(const uint8_t *buf, size_t len, struct rtp_hdr *h, const uint8_t **payload,
	       size_t *plen);
/* Writes the 12-byte header (no CSRC, no extension) and the payload;
 * returns the packet's length, or 0 when size is too small. */
size_t rtp_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h, const uint8_t *payload,
		  size_t plen);

#endif
