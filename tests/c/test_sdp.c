/* SDP offer/answer (RFC 3264, RFC 4566): our offers, answers to offers
 * from real peers (SIPp's built-in scenarios and baresip 1.0.0, captured
 * from the wire), answers we accept, errors, and o= versions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/msg.h"
#include "sip/sdp.h"
#include "util/mem.h"

#include <osipparser2/sdp_message.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* offers from real peers                                                   */

/* SIPp 3.6.1 `-sn uac` (and what `-sn uas` answers). */
static const char sipp_uac[] =
	"v=0\r\n"
	"o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 6000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

/* SIPp 3.6.1 `-sn uac_pcap`. */
static const char sipp_uac_pcap[] =
	"v=0\r\n"
	"o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"m=audio 6002 RTP/AVP 8 101\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-11,16\r\n";

/* baresip 1.0.0 with the opus, g722 and g711 modules, as it dialled; with
 * vp8 and fakevideo added it offers the same audio, then video. */
#define BARESIP_AUDIO(port, ssrc) \
	"v=0\r\n" \
	"o=- 3005780140 1624463027 IN IP4 127.0.0.1\r\n" \
	"s=-\r\n" \
	"c=IN IP4 127.0.0.1\r\n" \
	"t=0 0\r\n" \
	"a=tool:baresip 1.0.0\r\n" \
	"m=audio " port " RTP/AVP 96 9 0 8 101\r\n" \
	"a=rtpmap:96 opus/48000/2\r\n" \
	"a=fmtp:96 stereo=1;sprop-stereo=1\r\n" \
	"a=rtpmap:9 G722/8000\r\n" \
	"a=rtpmap:0 PCMU/8000\r\n" \
	"a=rtpmap:8 PCMA/8000\r\n" \
	"a=rtpmap:101 telephone-event/8000\r\n" \
	"a=fmtp:101 0-15\r\n" \
	"a=sendrecv\r\n" \
	"a=label:1\r\n" \
	"a=rtcp-rsize\r\n" \
	"a=ssrc:" ssrc " cname:sip:alice@127.0.0.1\r\n" \
	"a=minptime:20\r\n" \
	"a=ptime:20\r\n"

static const char baresip[] = BARESIP_AUDIO("10202", "1242341848");

static const char baresip_video[] =
	BARESIP_AUDIO("10216", "3523191730")
	"m=video 10200 RTP/AVP 96\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=fmtp:96 max-fs=3600\r\n"
	"a=sendrecv\r\n"
	"a=label:2\r\n"
	"a=rtcp-rsize\r\n"
	"a=ssrc:2976921987 cname:sip:alice@127.0.0.1\r\n"
	"a=framerate:25.00\r\n"
	"a=rtcp-fb:* nack pli\r\n"
	"a=content:main\r\n";

/* The same streams with video first, the order the answer has to keep. */
static const char video_first[] =
	"v=0\r\n"
	"o=- 2967387124 221437975 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"m=video 10200 RTP/AVPF 96\r\n"
	"a=rtpmap:96 VP8/90000\r\n"
	"a=rtcp-fb:* nack pli\r\n"
	"m=audio 10216 RTP/AVPF 96 8 101\r\n"
	"a=rtpmap:96 opus/48000/2\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n";

/* RFC 5118 §4.5 (ipv6-in-sdp), with PCMU instead of G726-32. */
static const char ipv6_offer[] =
	"v=0\r\n"
	"o=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n"
	"s=Live video feed for today's meeting\r\n"
	"c=IN IP6 2001:db8::20\r\n"
	"t=3338481189 3370017201\r\n"
	"m=audio 6000 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"m=video 6024 RTP/AVP 107\r\n"
	"a=rtpmap:107 H263-1998/90000\r\n";

/* RFC 5118 §4.6 (mult-ip-in-sdp): c= only at media level, one per family. */
static const char mult_ip_offer[] =
	"v=0\r\n"
	"o=bob 280744730 28977631 IN IP4 host.example.com\r\n"
	"s=\r\n"
	"t=0 0\r\n"
	"m=audio 22334 RTP/AVP 0\r\n"
	"c=IN IP4 192.0.2.1\r\n"
	"m=video 6024 RTP/AVP 107\r\n"
	"c=IN IP6 2001:db8::1\r\n"
	"a=rtpmap:107 H263-1998/90000\r\n";

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */

/* The session part of hand-written SDPs. */
#define HDR "v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"

static struct sdp_local l;

static int setup_group(void **state)
{
	sip_msg_init();
	return 0;
}

static void local_init(const char *host, uint16_t port)
{
	union sa a;
	assert_int_equal(sa_set(&a, host, port), 0);
	sdp_local_init(&l, &a);
	l.sess_id = 42;  /* texts compared in full stay the same from run to run */
}

static int setup(void **state)
{
	local_init("127.0.0.1", 20000);
	return 0;
}

static int teardown(void **state)
{
	sdp_local_close(&l);
	return 0;
}

/* Fills a result with values no function sets, to see what it touched. */
static void result_poison(struct sdp_result *r)
{
	memset(r, 0x5a, sizeof(*r));
}

/* Answers text, checks the result code and that the answer parses back
 * with one m= line per offered one, in the same order and of the same
 * type. Returns the answer (mem) or NULL on error. */
static char *answer(const char *offer, struct sdp_result *r, int expect)
{
	char *sdp = NULL;
	size_t len = 0;
	result_poison(r);
	int err = sdp_answer(&l, offer, strlen(offer), r, &sdp, &len);
	assert_int_equal(err, expect);
	if (err) {
		assert_null(sdp);
		return NULL;
	}
	assert_non_null(sdp);
	assert_int_equal(len, strlen(sdp));

	/* Our answer parses, and its m= lines match the offer's, which are
	 * read by hand here (osip refuses some offers sdp_answer reads). */
	sdp_message_t *a;
	assert_int_equal(sdp_message_init(&a), 0);
	assert_int_equal(sdp_message_parse(a, sdp), 0);
	int i = 0;
	for (const char *p = offer; (p = strstr(p, "m=")); p += 2) {
		if (p != offer && p[-1] != '\n')
			continue;
		char media[32], proto[32];
		assert_int_equal(sscanf(p, "m=%31s %*s %31s", media, proto), 2);
		assert_non_null(sdp_message_m_media_get(a, i));
		assert_string_equal(sdp_message_m_media_get(a, i), media);
		assert_string_equal(sdp_message_m_proto_get(a, i), proto);
		i++;
	}
	assert_int_equal(osip_list_size(&a->m_medias), i);
	sdp_message_free(a);
	return sdp;
}

/* True when text has exactly this line, CRLF ended. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; ) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);  /* every line ends in CRLF */
		if ((size_t)(e - p) == n && memcmp(p, line, n) == 0)
			return true;
		p = e + 2;
	}
	return false;
}

static unsigned count_prefix(const char *text, const char *prefix)
{
	unsigned n = 0;
	size_t k = strlen(prefix);
	for (const char *p = text; *p; ) {
		if (strncmp(p, prefix, k) == 0)
			n++;
		const char *e = strstr(p, "\r\n");
		if (!e)
			break;
		p = e + 2;
	}
	return n;
}

static void assert_remote(const struct sdp_result *r, const char *host, uint16_t port)
{
	union sa want;
	assert_int_equal(sa_set(&want, host, port), 0);
	char a[64], b[64];
	if (!sa_equal(&r->remote, &want))
		fail_msg("remote %s, want %s", sa_hostport(&r->remote, a, sizeof(a)),
			 sa_hostport(&want, b, sizeof(b)));
}

/* The o= version of an SDP we composed. */
static unsigned long long version_of(const char *sdp)
{
	unsigned long long sess, ver;
	assert_int_equal(sscanf(sdp, "v=0\r\no=luasip %llu %llu ", &sess, &ver), 2);
	assert_int_equal(sess, 42);
	return ver;
}

/* An offer with one audio stream: the c= address, the rest of the m=
 * line (port, profile, formats), and more lines after it. */
static char *offer_make(const char *c, const char *m, const char *extra)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %s\r\n%s", c, m, extra);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* offers                                                                   */

/* The one check of a Content-Type that names SDP: case does not matter,
 * the whole type and subtype must match. */
static void test_media_type(void **state)
{
	assert_true(sdp_is_media_type("application", "sdp"));
	assert_true(sdp_is_media_type("Application", "SDP"));
	assert_false(sdp_is_media_type("application", "sdpx"));
	assert_false(sdp_is_media_type("application", "sd"));
	assert_false(sdp_is_media_type("applicatio", "sdp"));
	assert_false(sdp_is_media_type("applications", "sdp"));
	assert_false(sdp_is_media_type("text", "sdp"));
	assert_false(sdp_is_media_type(NULL, "sdp"));
	assert_false(sdp_is_media_type("application", NULL));
}

static void test_offer_default(void **state)
{
	char *sdp;
	size_t len;
	assert_int_equal(sdp_offer(&l, &sdp, &len), 0);
	assert_string_equal(sdp,
		"v=0\r\n"
		"o=luasip 42 1 IN IP4 127.0.0.1\r\n"
		"s=luasip\r\n"
		"c=IN IP4 127.0.0.1\r\n"
		"t=0 0\r\n"
		"m=audio 20000 RTP/AVP 0 8 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=fmtp:101 0-16\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n");
	assert_int_equal(len, strlen(sdp));
	assert_string_equal(l.last, sdp);
	mem_deref(sdp);
}

static void test_offer_ipv6_options(void **state)
{
	sdp_local_close(&l);
	local_init("2001:db8::10", 30000);
	l.codecs[0] = 8;
	l.ncodecs = 1;
	l.te_pt = 0;
	l.ptime = 30;
	l.dir = SDP_SENDONLY;
	char *sdp;
	assert_int_equal(sdp_offer(&l, &sdp, NULL), 0);
	assert_true(has_line(sdp, "o=luasip 42 1 IN IP6 2001:db8::10"));
	assert_true(has_line(sdp, "c=IN IP6 2001:db8::10"));
	assert_true(has_line(sdp, "m=audio 30000 RTP/AVP 8"));
	assert_true(has_line(sdp, "a=rtpmap:8 PCMA/8000"));
	assert_true(has_line(sdp, "a=ptime:30"));
	assert_true(has_line(sdp, "a=sendonly"));
	assert_int_equal(count_prefix(sdp, "a=rtpmap:"), 1);
	assert_false(has_line(sdp, "a=sendrecv"));
	mem_deref(sdp);

	sdp = NULL;
	l.codecs[0] = 9;  /* G.722: not ours to offer */
	assert_int_equal(sdp_offer(&l, &sdp, NULL), -EINVAL);
	l.ncodecs = 0;
	assert_int_equal(sdp_offer(&l, &sdp, NULL), -EINVAL);
	assert_null(sdp);
}

/* Our offer, answered by another instance of ourselves, and its answer
 * accepted: both ends agree on what was negotiated. */
static void test_offer_answer_round_trip(void **state)
{
	struct sdp_local peer;
	union sa pa;
	sa_set(&pa, "192.0.2.7", 40000);
	sdp_local_init(&peer, &pa);
	peer.codecs[0] = 8;   /* prefers PCMA; the offer's order wins */
	peer.codecs[1] = 0;

	char *offer, *ans;
	size_t olen, alen;
	struct sdp_result pr, r;
	assert_int_equal(sdp_offer(&l, &offer, &olen), 0);
	assert_int_equal(sdp_answer(&peer, offer, olen, &pr, &ans, &alen), 0);
	assert_int_equal(pr.pt, 0);
	assert_int_equal(pr.rtp_pt, 0);
	assert_int_equal(pr.te_pt, 101);
	assert_int_equal(pr.dir, SDP_SENDRECV);
	assert_false(pr.hold_by_peer);
	assert_remote(&pr, "127.0.0.1", 20000);
	assert_true(has_line(ans, "m=audio 40000 RTP/AVP 0 101"));

	result_poison(&r);
	assert_int_equal(sdp_accept(&l, ans, alen, &r), 0);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.rtp_pt, 0);
	assert_int_equal(r.te_pt, 101);
	assert_int_equal(r.ptime, 20);
	assert_int_equal(r.dir, SDP_SENDRECV);
	assert_false(r.hold_by_peer);
	assert_remote(&r, "192.0.2.7", 40000);

	mem_deref(offer);
	mem_deref(ans);
	sdp_local_close(&peer);
}

/* ------------------------------------------------------------------------ */
/* answers to real peers                                                    */

static void test_answer_sipp_uac(void **state)
{
	struct sdp_result r;
	char *sdp = answer(sipp_uac, &r, 0);
	assert_string_equal(sdp,
		"v=0\r\n"
		"o=luasip 42 1 IN IP4 127.0.0.1\r\n"
		"s=luasip\r\n"
		"c=IN IP4 127.0.0.1\r\n"
		"t=0 0\r\n"
		"m=audio 20000 RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n");
	assert_remote(&r, "127.0.0.1", 6000);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.rtp_pt, 0);
	assert_int_equal(r.te_pt, -1);
	assert_int_equal(r.ptime, 20);
	assert_int_equal(r.dir, SDP_SENDRECV);
	assert_false(r.hold_by_peer);
	assert_string_equal(l.last, sdp);
	mem_deref(sdp);
}

static void test_answer_sipp_uac_pcap(void **state)
{
	struct sdp_result r;
	char *sdp = answer(sipp_uac_pcap, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 8 101"));
	assert_true(has_line(sdp, "a=rtpmap:8 PCMA/8000"));
	assert_true(has_line(sdp, "a=rtpmap:101 telephone-event/8000"));
	assert_true(has_line(sdp, "a=fmtp:101 0-16"));
	assert_int_equal(count_prefix(sdp, "a=rtpmap:"), 2);
	assert_remote(&r, "127.0.0.1", 6002);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.te_pt, 101);
	assert_int_equal(r.dir, SDP_SENDRECV);
	mem_deref(sdp);
}

/* Opus and G.722 come first; PCMU is the first of ours in the offer's
 * order, even when we prefer PCMA. */
static void test_answer_baresip(void **state)
{
	l.codecs[0] = 8;
	l.codecs[1] = 0;
	struct sdp_result r;
	char *sdp = answer(baresip, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 0 101"));
	assert_true(has_line(sdp, "a=rtpmap:0 PCMU/8000"));
	assert_int_equal(count_prefix(sdp, "a=rtpmap:"), 2);
	assert_int_equal(count_prefix(sdp, "m="), 1);
	assert_false(has_line(sdp, "a=tool:baresip 1.0.0"));
	assert_remote(&r, "127.0.0.1", 10202);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.te_pt, 101);
	assert_int_equal(r.ptime, 20);
	assert_int_equal(r.dir, SDP_SENDRECV);
	mem_deref(sdp);

	/* Without PCMU on our side, PCMA further down the list is taken. */
	l.ncodecs = 1;
	sdp = answer(baresip, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 8 101"));
	assert_int_equal(r.pt, 8);
	mem_deref(sdp);
}

static void test_answer_video_declined(void **state)
{
	struct sdp_result r;
	char *sdp = answer(baresip_video, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 0 101"));
	assert_true(has_line(sdp, "m=video 0 RTP/AVP 96"));
	assert_false(has_line(sdp, "a=rtpmap:96 VP8/90000"));
	assert_remote(&r, "127.0.0.1", 10216);
	assert_int_equal(r.pt, 0);
	mem_deref(sdp);

	/* RTP/AVPF audio is accepted, and answered in its own profile */
	sdp = answer(video_first, &r, 0);
	assert_non_null(strstr(sdp, "m=video 0 RTP/AVPF 96\r\n"
				    "m=audio 20000 RTP/AVPF 8 101\r\n"));
	assert_remote(&r, "127.0.0.1", 10216);
	assert_int_equal(r.pt, 8);
	mem_deref(sdp);
}

/* Only the first usable audio stream is taken: one with port 0, over
 * SRTP or without a codec of ours is passed over, and a second usable one
 * is declined with its formats. */
static void test_answer_first_usable_audio(void **state)
{
	const char *offer =
		HDR "m=audio 0 RTP/AVP 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n"
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
		"m=audio 4002 RTP/AVP 9 18\r\n"
		"m=audio 4004 RTP/AVP 18 8 0\r\n"
		"m=audio 4006 RTP/AVP 0\r\n"
		"m=application 5000 UDP/BFCP *\r\n";
	struct sdp_result r;
	char *sdp = answer(offer, &r, 0);
	assert_non_null(strstr(sdp,
		"t=0 0\r\n"
		"m=audio 0 RTP/AVP 0\r\n"
		"m=audio 0 RTP/SAVP 0\r\n"
		"m=audio 0 RTP/AVP 9 18\r\n"
		"m=audio 20000 RTP/AVP 8\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n"
		"m=audio 0 RTP/AVP 0\r\n"
		"m=application 0 UDP/BFCP *\r\n"));
	assert_remote(&r, "192.0.2.7", 4004);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.te_pt, -1);
	mem_deref(sdp);
}

/* G.711 and telephone-event bound to dynamic numbers are found by their
 * rtpmap names, in any case; the answer keeps the offer's numbers. Names
 * at another rate or with two channels are other codecs. */
static void test_answer_dynamic_types(void **state)
{
	struct sdp_result r;
	char *sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 97 98 99 100 96",
		"a=rtpmap:97 PCMU/16000\r\n"
		"a=rtpmap:98 PCMA/8000/2\r\n"
		"a=rtpmap:99 pcma/8000\r\n"
		"a=rtpmap:100 telephone-event/48000\r\n"
		"a=rtpmap:96 TELEPHONE-EVENT/8000\r\n"), &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 99 96"));
	assert_true(has_line(sdp, "a=rtpmap:99 PCMA/8000"));
	assert_true(has_line(sdp, "a=rtpmap:96 telephone-event/8000"));
	assert_true(has_line(sdp, "a=fmtp:96 0-16"));
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.rtp_pt, 99);
	assert_int_equal(r.te_pt, 96);
	mem_deref(sdp);

	/* A static number whose rtpmap names another codec is that codec. */
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0 8",
		"a=rtpmap:0 G729/8000\r\n"), &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 8"));
	mem_deref(sdp);

	/* A rate must be given, one channel may be; a name too long for any
	 * codec we know is none of them. */
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 97 100 98",
		"a=rtpmap:97 PCMU/\r\n"
		"a=rtpmap:100 PCMUPCMUPCMUPCMUPCMUPCMUPCMUPCMUPCMU/8000\r\n"
		"a=rtpmap:98 PCMU/8000/1\r\n"), &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 98"));
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.rtp_pt, 98);
	mem_deref(sdp);
}

/* Without telephone-event of our own we answer none, and the result says
 * the peer has none we agreed on. */
static void test_answer_no_te_here(void **state)
{
	l.te_pt = 0;
	struct sdp_result r;
	char *sdp = answer(sipp_uac_pcap, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 8"));
	assert_int_equal(count_prefix(sdp, "a=rtpmap:"), 1);
	assert_int_equal(count_prefix(sdp, "a=fmtp:"), 0);
	assert_int_equal(r.te_pt, -1);
	mem_deref(sdp);
}

static void test_answer_ipv6(void **state)
{
	sdp_local_close(&l);
	local_init("2001:db8::10", 20000);
	struct sdp_result r;
	char *sdp = answer(ipv6_offer, &r, 0);
	assert_true(has_line(sdp, "o=luasip 42 1 IN IP6 2001:db8::10"));
	assert_true(has_line(sdp, "c=IN IP6 2001:db8::10"));
	assert_true(has_line(sdp, "t=3338481189 3370017201"));  /* RFC 3264 §6 */
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 0"));
	assert_true(has_line(sdp, "m=video 0 RTP/AVP 107"));
	assert_remote(&r, "2001:db8::20", 6000);
	assert_int_equal(r.pt, 0);
	mem_deref(sdp);

	/* An IPv4 RTP socket cannot reach it. */
	sdp_local_close(&l);
	local_init("127.0.0.1", 20000);
	answer(ipv6_offer, &r, -ENOTSUP);
}

static void test_answer_media_level_c(void **state)
{
	struct sdp_result r;
	char *sdp = answer(mult_ip_offer, &r, 0);
	assert_true(has_line(sdp, "m=audio 20000 RTP/AVP 0"));
	assert_true(has_line(sdp, "m=video 0 RTP/AVP 107"));
	assert_remote(&r, "192.0.2.1", 22334);
	mem_deref(sdp);

	/* media level wins over session level */
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0",
		"c=IN IP4 198.51.100.3\r\n"), &r, 0);
	assert_remote(&r, "198.51.100.3", 4000);
	mem_deref(sdp);
}

/* ------------------------------------------------------------------------ */
/* directions and hold                                                      */

static void test_answer_hold_sendonly(void **state)
{
	struct sdp_result r;
	const char *hold = offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=sendonly\r\n");
	char *sdp = answer(hold, &r, 0);
	assert_true(has_line(sdp, "a=recvonly"));
	assert_int_equal(r.dir, SDP_RECVONLY);
	assert_true(r.hold_by_peer);
	assert_remote(&r, "192.0.2.7", 4000);
	mem_deref(sdp);

	/* both hold */
	l.dir = SDP_SENDONLY;
	sdp = answer(hold, &r, 0);
	assert_true(has_line(sdp, "a=inactive"));
	assert_int_equal(r.dir, SDP_INACTIVE);
	assert_true(r.hold_by_peer);
	mem_deref(sdp);
}

static void test_answer_hold_inactive(void **state)
{
	struct sdp_result r;
	char *sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=inactive\r\n"), &r, 0);
	assert_true(has_line(sdp, "a=inactive"));
	assert_int_equal(r.dir, SDP_INACTIVE);
	assert_true(r.hold_by_peer);
	mem_deref(sdp);
}

/* RFC 2543 hold (RFC 3264 §8.4): c=0.0.0.0 means "do not send to me". */
static void test_answer_hold_zero_address(void **state)
{
	struct sdp_result r;
	char *sdp = answer(sipp_uac, &r, 0);
	assert_false(r.hold_by_peer);
	mem_deref(sdp);

	sdp = answer(offer_make("0.0.0.0", "4000 RTP/AVP 0", ""), &r, 0);
	assert_true(has_line(sdp, "a=recvonly"));
	assert_int_equal(r.dir, SDP_RECVONLY);
	assert_true(r.hold_by_peer);
	assert_remote(&r, "0.0.0.0", 4000);
	mem_deref(sdp);

	sdp = answer(offer_make("0.0.0.0", "4000 RTP/AVP 0", "a=recvonly\r\n"), &r, 0);
	assert_int_equal(r.dir, SDP_INACTIVE);
	assert_true(r.hold_by_peer);
	mem_deref(sdp);
}

static void test_answer_recvonly(void **state)
{
	struct sdp_result r;
	char *sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=recvonly\r\n"), &r, 0);
	assert_true(has_line(sdp, "a=sendonly"));
	assert_int_equal(r.dir, SDP_SENDONLY);
	assert_false(r.hold_by_peer);
	mem_deref(sdp);

	l.dir = SDP_SENDONLY;
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=recvonly\r\n"), &r, 0);
	assert_int_equal(r.dir, SDP_SENDONLY);
	mem_deref(sdp);

	l.dir = SDP_RECVONLY;
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=recvonly\r\n"), &r, 0);
	assert_true(has_line(sdp, "a=inactive"));
	assert_int_equal(r.dir, SDP_INACTIVE);
	mem_deref(sdp);
}

/* A direction at session level applies to streams without their own. */
static void test_answer_session_level_dir(void **state)
{
	const char *offer =
		"v=0\r\no=peer 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
		"a=sendonly\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"m=audio 4002 RTP/AVP 0\r\n";
	struct sdp_result r;
	char *sdp = answer(offer, &r, 0);
	assert_int_equal(r.dir, SDP_RECVONLY);
	assert_true(r.hold_by_peer);
	mem_deref(sdp);

	const char *own =
		"v=0\r\no=peer 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
		"a=sendonly\r\n"
		"m=audio 4000 RTP/AVP 0\r\n"
		"a=sendrecv\r\n";
	sdp = answer(own, &r, 0);
	assert_int_equal(r.dir, SDP_SENDRECV);
	assert_false(r.hold_by_peer);
	mem_deref(sdp);
}

static void test_answer_ptime(void **state)
{
	static const struct { const char *attrs; uint32_t ptime; } cases[] = {
		{ "", 20 },
		{ "a=ptime:30\r\n", 30 },
		{ "a=ptime:10\r\n", 10 },
		{ "a=ptime:0\r\n", 20 },
		{ "a=ptime:abc\r\n", 20 },
		{ "a=ptime:100000\r\n", 20 },
	};
	l.ptime = 40;
	for (size_t i = 0; i < N(cases); i++) {
		struct sdp_result r;
		char *sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", cases[i].attrs), &r, 0);
		if (r.ptime != cases[i].ptime)
			fail_msg("case %zu: ptime %u, want %u", i, r.ptime, cases[i].ptime);
		assert_true(has_line(sdp, "a=ptime:40"));  /* what we want to receive */
		mem_deref(sdp);
	}

	/* at session level */
	const char *offer =
		"v=0\r\no=peer 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
		"a=ptime:60\r\n"
		"m=audio 4000 RTP/AVP 0\r\n";
	struct sdp_result r;
	mem_deref(answer(offer, &r, 0));
	assert_int_equal(r.ptime, 60);
}

/* Line ends of LF only, and no line end after the last line. */
static void test_answer_lenient_line_ends(void **state)
{
	struct sdp_result r;
	mem_deref(answer("v=0\no=peer 1 1 IN IP4 192.0.2.7\ns=-\nc=IN IP4 192.0.2.7\n"
			 "t=0 0\nm=audio 4000 RTP/AVP 8\n", &r, 0));
	assert_int_equal(r.pt, 8);
	mem_deref(answer("v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n"
			 "t=0 0\r\nm=audio 4000 RTP/AVP 8", &r, 0));
	assert_int_equal(r.pt, 8);
	assert_remote(&r, "192.0.2.7", 4000);
}

/* ------------------------------------------------------------------------ */
/* errors                                                                   */

static void test_answer_not_supported(void **state)
{
	static const char *const offers[] = {
		/* opus and G.722 only */
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 10202 RTP/AVP 96 9 101\r\n"
		"a=rtpmap:96 opus/48000/2\r\na=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n",
		/* video only */
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=video 10200 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n",
		/* audio declined by the offerer */
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 0 RTP/AVP 0\r\n",
		/* SRTP only */
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/SAVP 0\r\n",
		/* a host name in c= */
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 media.example.com\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* the G726-32 of RFC 5118's ipv6-in-sdp, to an IPv4 socket anyway */
		"v=0\r\no=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\ns=-\r\n"
		"c=IN IP6 2001:db8::20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 2\r\n"
		"a=rtpmap:2 G726-32/8000\r\n",
	};
	for (size_t i = 0; i < N(offers); i++) {
		struct sdp_result r;
		char *sdp = (char *)"untouched";
		result_poison(&r);
		int err = sdp_answer(&l, offers[i], strlen(offers[i]), &r, &sdp, NULL);
		if (err != -ENOTSUP)
			fail_msg("offer %zu: %d, want -ENOTSUP", i, err);
		assert_string_equal(sdp, "untouched");
		assert_int_equal(r.pt, 0x5a5a5a5a);  /* r untouched on error */
	}
	assert_null(l.last);

	/* audio switched off here */
	sa_set_port(&l.addr, 0);
	struct sdp_result r;
	answer(sipp_uac, &r, -ENOTSUP);
}

static void test_answer_too_many_media(void **state)
{
	char offer[4096];
	int n = snprintf(offer, sizeof(offer), HDR);
	for (int i = 0; i < SDP_MAX_MEDIA; i++)
		n += snprintf(offer + n, sizeof(offer) - n, "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * i);
	struct sdp_result r;
	char *sdp = answer(offer, &r, 0);
	assert_int_equal(count_prefix(sdp, "m="), SDP_MAX_MEDIA);
	mem_deref(sdp);
	snprintf(offer + n, sizeof(offer) - n, "m=audio 5000 RTP/AVP 0\r\n");
	answer(offer, &r, -ENOTSUP);
}

static void test_answer_malformed(void **state)
{
	static const char *const offers[] = {
		"",
		"hello world\r\n",
		/* no v= */
		"o=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* v=1 */
		"v=1\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* no o= */
		"v=0\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		/* no t= */
		"v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* no m= */
		HDR,
		/* no c= for the audio stream */
		"v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		/* no c= for a video stream we would decline */
		"v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\nm=video 4002 RTP/AVP 96\r\n",
		/* a c= line cut short */
		"v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* an address of the wrong type */
		"v=0\r\no=peer 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 2001:db8::1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n",
		/* ports */
		HDR "m=audio abc RTP/AVP 0\r\n",
		HDR "m=audio 70000 RTP/AVP 0\r\n",
		HDR "m=audio -4000 RTP/AVP 0\r\n",
		HDR "m=audio 4000 RTP/AVP 0\r\nm=video x RTP/AVP 96\r\n",
		/* no formats */
		HDR "m=audio 4000 RTP/AVP\r\n",
	};
	for (size_t i = 0; i < N(offers); i++) {
		struct sdp_result r;
		char *sdp = NULL;
		int err = sdp_answer(&l, offers[i], strlen(offers[i]), &r, &sdp, NULL);
		if (err != -EBADMSG)
			fail_msg("offer %zu: %d, want -EBADMSG", i, err);
		assert_null(sdp);
	}

	/* A NUL inside the body, and a NULL body. */
	static const char nul[] =
		HDR "m=audio 4000 RTP/AVP 0\r\n\0a=sendonly\r\n";
	struct sdp_result r;
	char *sdp = NULL;
	assert_int_equal(sdp_answer(&l, nul, sizeof(nul) - 1, &r, &sdp, NULL), -EBADMSG);
	assert_int_equal(sdp_answer(&l, NULL, 0, &r, &sdp, NULL), -EBADMSG);
	assert_int_equal(sdp_accept(&l, nul, sizeof(nul) - 1, &r), -EBADMSG);
	assert_null(sdp);
	assert_null(l.last);
}

/* ------------------------------------------------------------------------ */
/* accepting answers                                                        */

static int accept_text(const char *text, struct sdp_result *r)
{
	result_poison(r);
	return sdp_accept(&l, text, strlen(text), r);
}

/* An answer line for our offer "m=audio 20000 RTP/AVP 0 8 101". */
static const char *answer_make(const char *c, const char *m, const char *extra)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "v=0\r\no=peer 7 7 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=%s\r\n%s", c, m, extra);
	return buf;
}

static void test_accept_sipp_uas(void **state)
{
	char *offer;
	assert_int_equal(sdp_offer(&l, &offer, NULL), 0);
	mem_deref(offer);

	/* SIPp's uas answers sipp_uac's SDP whatever was offered */
	struct sdp_result r;
	assert_int_equal(accept_text(sipp_uac, &r), 0);
	assert_remote(&r, "127.0.0.1", 6000);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.rtp_pt, 0);
	assert_int_equal(r.te_pt, -1);
	assert_int_equal(r.ptime, 20);
	assert_int_equal(r.dir, SDP_SENDRECV);
	assert_false(r.hold_by_peer);
}

/* The codec is the first in the answer that we offered. */
static void test_accept_codec_choice(void **state)
{
	struct sdp_result r;
	assert_int_equal(accept_text(answer_make("192.0.2.7", "audio 4000 RTP/AVP 9 8 0 101",
		"a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n"), &r), 0);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.te_pt, 101);
	assert_int_equal(r.ptime, 30);
	assert_remote(&r, "192.0.2.7", 4000);

	/* PCMA was not offered */
	l.ncodecs = 1;
	assert_int_equal(accept_text(answer_make("192.0.2.7", "audio 4000 RTP/AVP 8 0", ""), &r), 0);
	assert_int_equal(r.pt, 0);

	assert_int_equal(accept_text(answer_make("192.0.2.7", "audio 4000 RTP/AVP 8 9 101",
		"a=rtpmap:101 telephone-event/8000\r\n"), &r), -ENOTSUP);
}

/* Port 0: the peer declined the stream; the call layer decides. */
static void test_accept_declined(void **state)
{
	struct sdp_result r;
	assert_int_equal(accept_text(answer_make("192.0.2.7", "audio 0 RTP/AVP 0", ""), &r), 0);
	assert_int_equal(sa_port(&r.remote), 0);
	assert_int_equal(r.pt, -1);
	assert_int_equal(r.rtp_pt, -1);
	assert_int_equal(r.te_pt, -1);
	assert_int_equal(r.dir, SDP_INACTIVE);
	assert_false(r.hold_by_peer);

	/* no c= is needed for a declined stream */
	const char *no_c = "v=0\r\no=peer 7 7 IN IP4 192.0.2.7\r\ns=-\r\nt=0 0\r\n"
			   "m=audio 0 RTP/AVP 0\r\n";
	assert_int_equal(accept_text(no_c, &r), 0);
	assert_int_equal(r.pt, -1);
}

static void test_accept_errors(void **state)
{
	static const struct { const char *text; int err; } cases[] = {
		/* two m= lines for our one */
		{ HDR "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n", -EBADMSG },
		/* none */
		{ HDR, -EBADMSG },
		/* another media type */
		{ HDR "m=video 4000 RTP/AVP 0\r\n", -EBADMSG },
		/* no c= */
		{ "v=0\r\no=peer 7 7 IN IP4 192.0.2.7\r\ns=-\r\nt=0 0\r\n"
		  "m=audio 4000 RTP/AVP 0\r\n", -EBADMSG },
		{ HDR "m=audio 99999 RTP/AVP 0\r\n", -EBADMSG },
		{ "garbage", -EBADMSG },
		/* a profile we do not speak */
		{ HDR "m=audio 4000 RTP/SAVP 0\r\n", -ENOTSUP },
		/* nothing we offered */
		{ HDR "m=audio 4000 RTP/AVP 9 101\r\na=rtpmap:101 telephone-event/8000\r\n", -ENOTSUP },
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct sdp_result r;
		int err = accept_text(cases[i].text, &r);
		if (err != cases[i].err)
			fail_msg("case %zu: %d, want %d", i, err, cases[i].err);
		assert_int_equal(r.pt, 0x5a5a5a5a);  /* r untouched on error */
	}
}

static void test_accept_directions(void **state)
{
	/* held: the peer held us before the offer (then we offered without
	 * sending: recvonly for sendrecv, inactive for our hold) */
	static const struct {
		enum sdp_dir ours;
		bool held;
		const char *c, *attr;
		enum sdp_dir dir;
		bool hold;
	} cases[] = {
		{ SDP_SENDRECV, false, "192.0.2.7", "",               SDP_SENDRECV, false },
		{ SDP_SENDRECV, false, "192.0.2.7", "a=sendonly\r\n", SDP_RECVONLY, true },
		{ SDP_SENDRECV, false, "192.0.2.7", "a=inactive\r\n", SDP_INACTIVE, true },
		{ SDP_SENDRECV, false, "192.0.2.7", "a=recvonly\r\n", SDP_SENDONLY, false },
		{ SDP_SENDRECV, false, "0.0.0.0",   "",               SDP_RECVONLY, true },
		/* our hold answered as it should be */
		{ SDP_SENDONLY, false, "192.0.2.7", "a=recvonly\r\n", SDP_SENDONLY, false },
		{ SDP_SENDONLY, false, "192.0.2.7", "a=inactive\r\n", SDP_INACTIVE, true },
		/* an answer that ignores our hold still does not make us receive */
		{ SDP_SENDONLY, false, "192.0.2.7", "a=sendrecv\r\n", SDP_SENDONLY, false },
		/* we offered not to send, so the peer's inactive is no hold */
		{ SDP_INACTIVE, false, "192.0.2.7", "a=inactive\r\n", SDP_INACTIVE, false },
		{ SDP_RECVONLY, false, "192.0.2.7", "a=sendonly\r\n", SDP_RECVONLY, false },
		/* held, we take our hold back (offered recvonly): still held */
		{ SDP_SENDRECV, true,  "192.0.2.7", "a=sendonly\r\n", SDP_RECVONLY, true },
		/* held, we hold too (offered inactive) */
		{ SDP_SENDONLY, true,  "192.0.2.7", "a=inactive\r\n", SDP_INACTIVE, true },
		/* an answer that ignores our inactive does not make us send to a
		 * peer that holds us */
		{ SDP_SENDONLY, true,  "192.0.2.7", "a=sendrecv\r\n", SDP_INACTIVE, true },
	};
	for (size_t i = 0; i < N(cases); i++) {
		l.dir = cases[i].ours;
		l.held = cases[i].held;
		struct sdp_result r;
		assert_int_equal(accept_text(answer_make(cases[i].c, "audio 4000 RTP/AVP 0",
							 cases[i].attr), &r), 0);
		if (r.dir != cases[i].dir || r.hold_by_peer != cases[i].hold)
			fail_msg("case %zu: %s hold %d, want %s hold %d", i, sdp_dir_name(r.dir),
				 r.hold_by_peer, sdp_dir_name(cases[i].dir), cases[i].hold);
		assert_int_equal(l.held, cases[i].hold);
	}
}

/* Held by the peer, our offers do not send (RFC 6337 §5.1, §5.3): a hold
 * of ours offers inactive, taking it back recvonly; once the peer's own
 * offer takes its hold back, we offer what we want again. */
static void test_offer_while_held(void **state)
{
	struct sdp_result r;
	char *sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", "a=sendonly\r\n"), &r, 0);
	assert_true(r.hold_by_peer);
	assert_true(l.held);
	mem_deref(sdp);

	l.dir = SDP_SENDONLY;
	assert_int_equal(sdp_offer(&l, &sdp, NULL), 0);
	assert_true(has_line(sdp, "a=inactive"));
	mem_deref(sdp);
	l.dir = SDP_SENDRECV;
	assert_int_equal(sdp_offer(&l, &sdp, NULL), 0);
	assert_true(has_line(sdp, "a=recvonly"));
	mem_deref(sdp);

	/* the peer takes its hold back while we hold it: we answer sendonly */
	l.dir = SDP_SENDONLY;
	sdp = answer(offer_make("192.0.2.7", "4000 RTP/AVP 0", ""), &r, 0);
	assert_true(has_line(sdp, "a=sendonly"));
	assert_false(r.hold_by_peer);
	assert_false(l.held);
	mem_deref(sdp);
	assert_int_equal(sdp_offer(&l, &sdp, NULL), 0);
	assert_true(has_line(sdp, "a=sendonly"));
	mem_deref(sdp);
}

/* ------------------------------------------------------------------------ */
/* the session's m= lines (RFC 3264 §6, §8)                                 */

static char *offer_now(void);

/* The m= lines of an SDP, each without its line end, joined by "|". */
static const char *mlines_of(const char *sdp)
{
	static char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	for (const char *p = sdp; p && *p; ) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		if (strncmp(p, "m=", 2) == 0) {
			int k = snprintf(buf + n, sizeof(buf) - n, "%s%.*s", n ? "|" : "",
					 (int)(e - p), p);
			assert_true(k > 0 && (size_t)k < sizeof(buf) - n);
			n += (size_t)k;
		}
		p = e + 2;
	}
	return buf;
}

static void assert_offer_mlines(const char *want)
{
	char *sdp = offer_now();
	assert_string_equal(mlines_of(sdp), want);
	mem_deref(sdp);
}

/* SIPp's video phone: audio and video; the same lines as its answer. */
#define AV_OFFER(ver, adir, more) \
	"v=0\r\no=peer 1 " ver " IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" \
	"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" adir \
	"m=video 4002 RTP/AVP 100\r\na=rtpmap:100 H264/90000\r\n" more
#define AV_ANSWER(adir) \
	HDR "m=audio 4000 RTP/AVP 0\r\n" adir "m=video 0 RTP/AVP 100\r\n"

/* The issue 16 call: a phone offers audio and video, we answer the audio
 * and decline the video; our re-offers (hold, resume) keep the video line
 * at port 0, and answers that keep it are accepted. */
static void test_mlines_reoffer_keeps_declined_video(void **state)
{
	struct sdp_result r;
	char *sdp = answer(AV_OFFER("1", "", ""), &r, 0);
	assert_string_equal(mlines_of(sdp), "m=audio 20000 RTP/AVP 0|m=video 0 RTP/AVP 100");
	mem_deref(sdp);
	assert_int_equal(l.mlines.n, 2);
	assert_int_equal(l.mlines.audio, 0);

	l.dir = SDP_SENDONLY;
	assert_offer_mlines("m=audio 20000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	assert_int_equal(accept_text(AV_ANSWER("a=recvonly\r\n"), &r), 0);
	assert_int_equal(r.dir, SDP_SENDONLY);
	assert_remote(&r, "192.0.2.7", 4000);

	l.dir = SDP_SENDRECV;
	char *a = offer_now();
	assert_string_equal(mlines_of(a), "m=audio 20000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	/* the declined line stands alone: no attributes of the video follow */
	assert_non_null(strstr(a, "a=sendrecv\r\nm=video 0 RTP/AVP 100\r\n"));
	assert_int_equal(a[strlen(a) - strlen("m=video 0 RTP/AVP 100\r\n") - 1], '\n');
	assert_int_equal(accept_text(AV_ANSWER(""), &r), 0);
	assert_int_equal(r.dir, SDP_SENDRECV);
	/* the same offer again (a session refresh) is the same text */
	char *b = offer_now();
	assert_string_equal(a, b);
	mem_deref(a);
	mem_deref(b);
}

/* An answer to our offer has exactly its m= lines, in order, of the same
 * media types (RFC 3264 §6); any other is no answer to it. */
static void test_mlines_answer_must_match_offer(void **state)
{
	struct sdp_result r;
	mem_deref(answer(AV_OFFER("1", "", ""), &r, 0));
	mem_deref(offer_now());
	static const char *const bad[] = {
		/* the video line dropped: the answer the issue saw us send */
		HDR "m=audio 4000 RTP/AVP 0\r\n",
		/* the lines swapped */
		HDR "m=video 0 RTP/AVP 100\r\nm=audio 4000 RTP/AVP 0\r\n",
		/* another type in the video's place */
		HDR "m=audio 4000 RTP/AVP 0\r\nm=audio 0 RTP/AVP 0\r\n",
		/* one line more */
		AV_ANSWER("") "m=application 0 UDP/BFCP *\r\n",
	};
	for (size_t i = 0; i < N(bad); i++) {
		int err = accept_text(bad[i], &r);
		if (err != -EBADMSG)
			fail_msg("answer %zu: %d, want -EBADMSG", i, err);
	}
	/* the video answered with a port: we send and receive nothing there,
	 * so it is read for its form only */
	assert_int_equal(accept_text(HDR "m=audio 4000 RTP/AVP 0\r\n"
				     "m=video 4002 RTP/AVP 100\r\n", &r), 0);
	assert_remote(&r, "192.0.2.7", 4000);
	/* a malformed line we declined is still malformed */
	assert_int_equal(accept_text(HDR "m=audio 4000 RTP/AVP 0\r\nm=video x RTP/AVP 100\r\n",
				     &r), -EBADMSG);
	/* the media type compares without case, as everywhere in SDP */
	assert_int_equal(accept_text(HDR "m=audio 4000 RTP/AVP 0\r\nm=VIDEO 0 RTP/AVP 100\r\n",
				     &r), 0);
}

/* Video first and audio over RTP/AVPF: our offers keep the order and the
 * audio's profile. */
static void test_mlines_order_and_profile_kept(void **state)
{
	struct sdp_result r;
	mem_deref(answer(video_first, &r, 0));
	assert_int_equal(l.mlines.audio, 1);
	assert_offer_mlines("m=video 0 RTP/AVPF 96|m=audio 20000 RTP/AVPF 0 8 101");
	assert_int_equal(accept_text(HDR "m=video 0 RTP/AVPF 96\r\n"
				     "m=audio 4000 RTP/AVPF 8\r\n", &r), 0);
	assert_int_equal(r.pt, 8);
	assert_int_equal(accept_text(HDR "m=audio 4000 RTP/AVPF 8\r\n"
				     "m=video 0 RTP/AVPF 96\r\n", &r), -EBADMSG);
}

/* The list through a session: our first offer is audio alone; the peer
 * adds video, then an application stream, each declined in the answer and
 * kept in our offers after it; an offer we refuse changes nothing. */
static void test_mlines_through_reoffers(void **state)
{
	struct sdp_result r;
	assert_offer_mlines("m=audio 20000 RTP/AVP 0 8 101");
	assert_int_equal(l.mlines.n, 1);
	assert_int_equal(accept_text(sipp_uac, &r), 0);

	/* the peer adds video (RFC 3264 §8.1: a new line below the others) */
	char *sdp = answer(AV_OFFER("2", "", ""), &r, 0);
	assert_string_equal(mlines_of(sdp), "m=audio 20000 RTP/AVP 0|m=video 0 RTP/AVP 100");
	mem_deref(sdp);
	assert_offer_mlines("m=audio 20000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100");
	assert_int_equal(accept_text(AV_ANSWER(""), &r), 0);

	/* and a third line */
	sdp = answer(AV_OFFER("3", "", "m=application 5000 UDP/BFCP *\r\n"), &r, 0);
	assert_string_equal(mlines_of(sdp), "m=audio 20000 RTP/AVP 0|m=video 0 RTP/AVP 100|"
			    "m=application 0 UDP/BFCP *");
	mem_deref(sdp);

	/* an offer we cannot take leaves the session's lines as they were */
	answer(HDR "m=audio 4000 RTP/AVP 9\r\nm=video 4002 RTP/AVP 100\r\n", &r, -ENOTSUP);
	answer(HDR "m=audio 4000 RTP/AVP 0\r\nm=video x RTP/AVP 100\r\n", &r, -EBADMSG);
	assert_offer_mlines("m=audio 20000 RTP/AVP 0 8 101|m=video 0 RTP/AVP 100|"
			    "m=application 0 UDP/BFCP *");
	assert_int_equal(accept_text(AV_ANSWER("") "m=application 0 UDP/BFCP *\r\n", &r), 0);
	assert_int_equal(accept_text(AV_ANSWER(""), &r), -EBADMSG);

	/* the peer removes its audio (port 0, RFC 3264 §8.2) and reuses the
	 * declined video's slot for new audio (§8.1): the answer follows the
	 * offer, and so do our offers after it */
	sdp = answer(HDR "m=audio 0 RTP/AVP 0\r\nm=audio 4010 RTP/AVP 8\r\n"
		     "m=application 0 UDP/BFCP *\r\n", &r, 0);
	assert_string_equal(mlines_of(sdp), "m=audio 0 RTP/AVP 0|m=audio 20000 RTP/AVP 8|"
			    "m=application 0 UDP/BFCP *");
	mem_deref(sdp);
	assert_remote(&r, "192.0.2.7", 4010);
	assert_offer_mlines("m=audio 0 RTP/AVP 0|m=audio 20000 RTP/AVP 0 8 101|"
			    "m=application 0 UDP/BFCP *");
}

/* ------------------------------------------------------------------------ */
/* versions                                                                 */

static char *offer_now(void)
{
	char *sdp;
	assert_int_equal(sdp_offer(&l, &sdp, NULL), 0);
	return sdp;
}

static void test_version_offers(void **state)
{
	char *a = offer_now();
	assert_int_equal(version_of(a), 1);

	/* a re-INVITE without change repeats the SDP exactly */
	char *b = offer_now();
	assert_string_equal(a, b);
	mem_deref(b);

	/* forced: one up, however often it is asked for */
	sdp_local_changed(&l);
	sdp_local_changed(&l);
	b = offer_now();
	assert_int_equal(version_of(b), 2);
	assert_string_equal(b + strlen("v=0\r\no=luasip 42 2"), a + strlen("v=0\r\no=luasip 42 1"));
	mem_deref(b);
	mem_deref(a);

	/* a change (hold) raises the version by itself, once */
	l.dir = SDP_SENDONLY;
	a = offer_now();
	assert_int_equal(version_of(a), 3);
	assert_true(has_line(a, "a=sendonly"));
	b = offer_now();
	assert_string_equal(a, b);
	assert_string_equal(l.last, b);
	mem_deref(a);
	mem_deref(b);

	/* changed, then changed again: still one above */
	sdp_local_changed(&l);
	sa_set(&l.addr, "192.0.2.99", 20002);
	a = offer_now();
	assert_int_equal(version_of(a), 4);
	/* the o= address stays that of the session's start (RFC 3264 §8) */
	assert_true(has_line(a, "o=luasip 42 4 IN IP4 127.0.0.1"));
	assert_true(has_line(a, "c=IN IP4 192.0.2.99"));
	assert_true(has_line(a, "m=audio 20002 RTP/AVP 0 8 101"));
	mem_deref(a);
	assert_int_equal(l.last_version, 4);
}

/* An answer is one of our SDPs too: an answer to the same offer again
 * keeps the version, a different answer (the peer holds) raises it. */
static void test_version_answers(void **state)
{
	struct sdp_result r;
	char *a = answer(sipp_uac, &r, 0);
	assert_int_equal(version_of(a), 1);
	char *b = answer(sipp_uac, &r, 0);
	assert_string_equal(a, b);
	mem_deref(b);

	b = answer(offer_make("127.0.0.1", "6000 RTP/AVP 0", "a=sendonly\r\n"), &r, 0);
	assert_int_equal(version_of(b), 2);
	mem_deref(b);

	/* a failed answer leaves the last SDP as it was */
	char *last = l.last;
	answer("garbage", &r, -EBADMSG);
	answer(offer_make("127.0.0.1", "6000 RTP/AVP 9", ""), &r, -ENOTSUP);
	assert_ptr_equal(l.last, last);
	assert_int_equal(l.version, 2);

	/* our offer after that answer: different, so one up */
	b = offer_now();
	assert_int_equal(version_of(b), 3);
	mem_deref(b);
	mem_deref(a);
}

static void test_dir_names(void **state)
{
	assert_string_equal(sdp_dir_name(SDP_SENDRECV), "sendrecv");
	assert_string_equal(sdp_dir_name(SDP_SENDONLY), "sendonly");
	assert_string_equal(sdp_dir_name(SDP_RECVONLY), "recvonly");
	assert_string_equal(sdp_dir_name(SDP_INACTIVE), "inactive");
}

static void test_local_defaults(void **state)
{
	union sa a;
	sa_set(&a, "127.0.0.1", 20000);
	struct sdp_local x, y;
	sdp_local_init(&x, &a);
	sdp_local_init(&y, &a);
	assert_true(sa_equal(&x.addr, &a));
	assert_true(sa_equal(&x.origin, &a));
	assert_int_equal(x.version, 1);
	assert_int_equal(x.dir, SDP_SENDRECV);
	assert_int_equal(x.ncodecs, 2);
	assert_int_equal(x.codecs[0], 0);
	assert_int_equal(x.codecs[1], 8);
	assert_int_equal(x.te_pt, 101);
	assert_int_equal(x.ptime, 20);
	assert_null(x.last);
	assert_true(x.sess_id != y.sess_id);  /* random: equal once in 2^32 */
	sdp_local_close(&x);
	sdp_local_close(&y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_local_defaults),
		T(test_dir_names),
		T(test_media_type),
		T(test_offer_default),
		T(test_offer_ipv6_options),
		T(test_offer_answer_round_trip),
		T(test_answer_sipp_uac),
		T(test_answer_sipp_uac_pcap),
		T(test_answer_baresip),
		T(test_answer_video_declined),
		T(test_answer_first_usable_audio),
		T(test_answer_dynamic_types),
		T(test_answer_no_te_here),
		T(test_answer_ipv6),
		T(test_answer_media_level_c),
		T(test_answer_hold_sendonly),
		T(test_answer_hold_inactive),
		T(test_answer_hold_zero_address),
		T(test_answer_recvonly),
		T(test_answer_session_level_dir),
		T(test_answer_ptime),
		T(test_answer_lenient_line_ends),
		T(test_answer_not_supported),
		T(test_answer_too_many_media),
		T(test_answer_malformed),
		T(test_accept_sipp_uas),
		T(test_accept_codec_choice),
		T(test_accept_declined),
		T(test_accept_errors),
		T(test_accept_directions),
		T(test_offer_while_held),
		T(test_version_offers),
		T(test_version_answers),
		T(test_mlines_reoffer_keeps_declined_video),
		T(test_mlines_answer_must_match_offer),
		T(test_mlines_order_and_profile_kept),
		T(test_mlines_through_reoffers),
#undef T
	};
	return cmocka_run_group_tests_name("sdp", tests, setup_group, NULL);
}
