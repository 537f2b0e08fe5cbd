/* RTCP (RFC 3550 §6): the compound packets a stream sends every few
 * seconds (a sender or receiver report with one report block, and the
 * SDES CNAME every compound must carry), BYE when it stops, and what we
 * read of the peer's reports: their loss and jitter of our packets, and the
 * round trip from LSR/DLSR (§6.4.1). */
#ifndef LUASIP_RTCP_H
#define LUASIP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtcp_block {
	uint32_t ssrc;              /* whom it is about */
	uint8_t fraction_lost;      /* of 256, since the last report */
	int32_t cum_lost;           /* 24 bits, signed */
	uint32_t ext_max_seq;
	uint32_t jitter;            /* timestamp units */
	uint32_t lsr;               /* middle 32 bits of the NTP time of the last SR */
	uint32_t dlsr;              /* 1/65536 s since it */
};

struct rtcp_sender {
	uint32_t ssrc;
	uint64_t ntp;               /* 32.32 fixed point */
	uint32_t rtp_ts;
	uint32_t packets, octets;
};

/* Writes a compound packet: SR when sender is set (we sent since the last
 * report), else RR, with block when given, then SDES with cname; and BYE
 * when bye. Returns the length, 0 when it does not fit. */
size_t rtcp_encode(uint8_t *buf, size_t size, uint32_t ssrc, const struct rtcp_sender *sender,
		   const struct rtcp_block *block, const char *cname, bool bye);

/* What a compound packet from the peer says. */
struct rtcp_info {
	bool sr;                    /* it held a sender report */
	uint32_t sr_ssrc;
	uint32_t sr_ntp_mid;        /* for our LSR */
	bool have_block;            /* a report block about ssrc_of_interest */
	struct rtcp_block block;
	bool bye;
};

/* 0, or -EBADMSG when the compound is malformed (RFC 3550 §6.1, A.2). */
int rtcp_decode(const uint8_t *buf, size_t len, uint32_t ssrc_of_interest,
		struct rtcp_info *info);

/* The current wall-clock time as NTP 32.32 (RFC 3550 §4). */
uint64_t rtcp_ntp_now(void);

#endif
