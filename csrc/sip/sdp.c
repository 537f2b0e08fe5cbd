/* SDP offer/answer (RFC 3264) for one G.711 audio stream among the m=
 * lines of a session. libosip2 splits the text into lines and fields; what
 * the fields mean (ports, payload types, rtpmaps, directions, addresses) is
 * checked and negotiated here. We compose our own SDP with sbuf rather than
 * through osip's tree, so the text is exactly what this file writes. */
#include "sip/sdp.h"
#include "sip/msg.h"
#include "util/mem.h"
#include "util/rand.h"
#include "util/sbuf.h"

#include <osipparser2/sdp_message.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The events we can send and receive: DTMF 0-9 * # A-D and flash
 * (RFC 4733 §3.2). */
#define TE_EVENTS "0-16"

/* A payload the peer listed that is telephone-event/8000 rather than a
 * codec. */
#define CODEC_TE 1000

#define PTIME_DEFAULT 20
#define PTIME_MAX 200

/* What we read of one m= line. Strings point into the osip message. */
struct stream {
	const char *media;          /* "audio", "video" ... */
	const char *proto;          /* "RTP/AVP" ... */
	uint16_t port;              /* 0: the peer declined or disabled it */
	bool rtp;                   /* RTP/AVP or RTP/AVPF, the profiles we speak */
	int pt;                     /* first codec of ours it lists (0, 8), -1 none */
	int rtp_pt;                 /* the payload number it gives that codec */
	int te_pt;                  /* its telephone-event/8000 number, -1 none */
	enum sdp_dir dir;           /* as written, session level applied */
	uint32_t ptime;
	const sdp_connection_t *conn;  /* media c=, else session c=; NULL none */
};

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDONLY: return "sendonly";
	case SDP_RECVONLY: return "recvonly";
	case SDP_INACTIVE: return "inactive";
	default:           return "sendrecv";
	}
}

void sdp_local_init(struct sdp_local *l, const union sa *rtp)
{
	memset(l, 0, sizeof(*l));
	l->addr = *rtp;
	l->origin = *rtp;
	/* 32 bits like most phones: some peers keep the id in a signed or
	 * 32-bit integer, and the id only needs to be unique per address. */
	l->sess_id = rand_u64() & 0xffffffffu;
	l->version = 1;
	l->dir = SDP_SENDRECV;
	l->codecs[0] = 0;
	l->codecs[1] = 8;
	l->ncodecs = 2;
	l->te_pt = 101;
	l->ptime = PTIME_DEFAULT;
}

static void mlines_clear(struct sdp_mlines *ml)
{
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		ml->declined[i] = mem_deref(ml->declined[i]);
	ml->n = 0;
	ml->audio = 0;
}

void sdp_local_close(struct sdp_local *l)
{
	l->last = mem_deref(l->last);
	mlines_clear(&l->mlines);
}

void sdp_local_changed(struct sdp_local *l)
{
	/* RFC 3264 §8: each new SDP is exactly one version above the last one
	 * sent, however many changes were made in between. */
	if (!l->last || l->version == l->last_version)
		l->version++;
}

/* ------------------------------------------------------------------------ */
/* directions                                                               */

static bool dir_sends(enum sdp_dir d)
{
	return d == SDP_SENDRECV || d == SDP_SENDONLY;
}

static bool dir_recvs(enum sdp_dir d)
{
	return d == SDP_SENDRECV || d == SDP_RECVONLY;
}

static enum sdp_dir dir_make(bool send, bool recv)
{
	if (send)
		return recv ? SDP_SENDRECV : SDP_SENDONLY;
	return recv ? SDP_RECVONLY : SDP_INACTIVE;
}

/* Our direction, given what we want and what the peer wrote: we send only
 * when the peer receives, and receive only when it sends (RFC 3264 §6.1). */
static enum sdp_dir dir_meet(enum sdp_dir ours, enum sdp_dir peer)
{
	return dir_make(dir_sends(ours) && dir_recvs(peer),
			dir_recvs(ours) && dir_sends(peer));
}

/* The first attribute called name at pos (-1: session level), or NULL. */
static sdp_attribute_t *attr_find(sdp_message_t *m, int pos, const char *name)
{
	sdp_attribute_t *a;
	for (int i = 0; (a = sdp_message_attribute_get(m, pos, i)); i++) {
		if (a->a_att_field && strcasecmp(a->a_att_field, name) == 0)
			return a;
	}
	return NULL;
}

/* The direction our offers say: what we want, without sending to a peer
 * that holds us (RFC 6337 §5.1: a hold while held offers inactive). */
static enum sdp_dir offer_dir(const struct sdp_local *l)
{
	return l->held ? dir_make(false, dir_recvs(l->dir)) : l->dir;
}

/* The direction attribute at pos (-1: session level), or -1 when none. */
static int dir_find(sdp_message_t *m, int pos)
{
	for (int d = SDP_SENDRECV; d <= SDP_INACTIVE; d++) {
		if (attr_find(m, pos, sdp_dir_name(d)))
			return d;
	}
	return -1;
}

/* ------------------------------------------------------------------------ */
/* reading                                                                  */

/* Digits only, no sign or spaces, at most max. */
static bool num_parse(const char *s, unsigned long max, unsigned long *v)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 10);
	if (*end || errno || n > max)
		return false;
	*v = n;
	return true;
}

/* Decimal digits at *p, at least one; *p moves past them. */
static bool digits(const char **p, unsigned long *v)
{
	const char *s = *p;
	unsigned long n = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > 99999999)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*v = n;
	*p = s;
	return true;
}

/* The rest of an rtpmap after its payload type: " <name>/<rate>[/<channels>]"
 * (RFC 4566 §6). The name goes to name (NUL-terminated, shorter than size);
 * channels are 1 when not given. (sscanf was a percent of a call's
 * instructions.) */
static bool rtpmap_read(const char *p, char *name, size_t size, unsigned long *rate,
			unsigned long *chans)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "/");
	if (n == 0 || n >= size || p[n] != '/')
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n + 1;
	if (!digits(&p, rate))
		return false;
	*chans = 1;
	if (*p == '/') {
		p++;
		if (!digits(&p, chans))
			*chans = 1;
	}
	return true;
}

static const char *codec_name(int pt)
{
	return pt == 8 ? "PCMA" : "PCMU";
}

/* What payload type pt of the stream at pos is: 0 (PCMU), 8 (PCMA),
 * CODEC_TE, or -1. An rtpmap decides when there is one, so G.711 bound to
 * a dynamic number is found too; without one only the static types 0 and
 * 8 are known (RFC 3551 §6). */
static int codec_find(sdp_message_t *m, int pos, unsigned long pt)
{
	sdp_attribute_t *a;
	for (int i = 0; (a = sdp_message_attribute_get(m, pos, i)); i++) {
		if (!a->a_att_field || strcasecmp(a->a_att_field, "rtpmap") != 0 ||
		    !a->a_att_value)
			continue;
		/* "<pt> <name>/<rate>[/<channels>]" */
		char *end;
		if (strtoul(a->a_att_value, &end, 10) != pt || end == a->a_att_value ||
		    *end != ' ')
			continue;
		char name[32];
		unsigned long rate, chans;
		if (!rtpmap_read(end, name, sizeof(name), &rate, &chans) || rate != 8000 ||
		    chans != 1)
			return -1;
		if (strcasecmp(name, "PCMU") == 0)
			return 0;
		if (strcasecmp(name, "PCMA") == 0)
			return 8;
		if (strcasecmp(name, "telephone-event") == 0)
			return CODEC_TE;
		return -1;
	}
	return pt == 0 || pt == 8 ? (int)pt : -1;
}

static bool codec_ours(const struct sdp_local *l, int codec)
{
	for (unsigned i = 0; i < l->ncodecs; i++) {
		if (l->codecs[i] == codec)
			return true;
	}
	return false;
}

/* Reads the m= line at pos and what belongs to it. -EBADMSG when a field
 * is malformed: a port that is not a number, no formats, an active stream
 * without a c= line. */
static int stream_read(sdp_message_t *m, int pos, const struct sdp_local *l,
		       struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->pt = s->rtp_pt = s->te_pt = -1;
	s->media = sdp_message_m_media_get(m, pos);
	s->proto = sdp_message_m_proto_get(m, pos);
	unsigned long port;
	if (!s->media || !s->proto ||
	    !num_parse(sdp_message_m_port_get(m, pos), 65535, &port))
		return -EBADMSG;
	s->port = (uint16_t)port;
	/* RFC 4566 §5.14: at least one format, and a declined answer has to
	 * repeat them. */
	if (!sdp_message_m_payload_get(m, pos, 0))
		return -EBADMSG;
	s->rtp = strcasecmp(s->proto, "RTP/AVP") == 0 ||
		 strcasecmp(s->proto, "RTP/AVPF") == 0;

	s->conn = sdp_message_connection_get(m, pos, 0);
	if (!s->conn)
		s->conn = sdp_message_connection_get(m, -1, 0);
	if (s->port && (!s->conn || !s->conn->c_addr))
		return -EBADMSG;

	int d = dir_find(m, pos);
	if (d < 0)
		d = dir_find(m, -1);
	s->dir = d < 0 ? SDP_SENDRECV : (enum sdp_dir)d;

	/* ptime is a media attribute, but some peers put it at session level */
	sdp_attribute_t *a = attr_find(m, pos, "ptime");
	if (!a)
		a = attr_find(m, -1, "ptime");
	unsigned long ptime;
	s->ptime = a && num_parse(a->a_att_value, PTIME_MAX, &ptime) && ptime
			   ? (uint32_t)ptime : PTIME_DEFAULT;

	if (!s->rtp || strcasecmp(s->media, "audio") != 0)
		return 0;
	/* The first of ours in the peer's order: an offerer lists its
	 * preference first (RFC 3264 §5.1), an answerer what it will use. */
	const char *f;
	for (int i = 0; (f = sdp_message_m_payload_get(m, pos, i)); i++) {
		unsigned long pt;
		/* 64-95 would collide with RTCP packet types where RTP and RTCP
		 * share a port (RFC 5761 §4): our RTP parser keeps them apart */
		if (!num_parse(f, 127, &pt) || (pt >= 64 && pt <= 95))
			continue;
		int c = codec_find(m, pos, pt);
		if (c == CODEC_TE && s->te_pt < 0 && l->te_pt)
			s->te_pt = (int)pt;
		else if (c >= 0 && c != CODEC_TE && s->pt < 0 && codec_ours(l, c)) {
			s->pt = c;
			s->rtp_pt = (int)pt;
		}
	}
	return 0;
}

/* A NUL-terminated copy of text that osip reads as peers mean it. osip
 * drops a last line without a line end, and refuses an empty "s=", which
 * RFC 4566 §5.3 forbids but peers send (RFC 5118 §4.6 has one): the copy
 * ends in CRLF and its empty s= gets the one space RFC 4566 asks for. */
static char *text_copy(const char *text, size_t len)
{
	char *buf = malloc(len + 4);  /* a space, CRLF, NUL */
	if (!buf)
		return NULL;
	size_t n = 0;
	bool named = false;
	for (size_t i = 0; i < len; i++) {
		bool bol = i == 0 || text[i - 1] == '\n';
		buf[n++] = text[i];
		if (bol && !named && len - i >= 2 && memcmp(text + i, "s=", 2) == 0 &&
		    (len - i == 2 || text[i + 2] == '\r' || text[i + 2] == '\n')) {
			memcpy(buf + n, "= ", 2);
			n += 2;
			i++;
			named = true;
		}
	}
	if (!len || text[len - 1] != '\n') {
		memcpy(buf + n, "\r\n", 2);
		n += 2;
	}
	buf[n] = '\0';
	return buf;
}

/* Lets go of what sdp_read made: osip's frees only where some of it is on
 * the heap (osip_arena.h). */
static void sdp_drop(sdp_message_t *m, struct osip_arena *a)
{
	if (m && !osip_arena_holds_all(a))
		sdp_message_free(m);
	osip_arena_release(a);
}

/* Parses text (not NUL-terminated) into *mp, in the arena a (sdp_drop lets
 * go of both). -EBADMSG when osip cannot, or when the v=, o= or m= lines
 * are missing. */
static int sdp_read(const char *text, size_t len, sdp_message_t **mp, struct osip_arena *a)
{
	sip_msg_init();
	if (!text || !len || memchr(text, '\0', len))
		return -EBADMSG;
	char *buf = text_copy(text, len);
	if (!buf)
		return -ENOMEM;

	sdp_message_t *m = NULL;
	struct osip_arena *before = osip_arena_enter(a);
	int err = -ENOMEM;
	if (sdp_message_init(&m) != 0)
		goto out;
	err = -EBADMSG;
	if (sdp_message_parse(m, buf) != 0)
		goto out;
	if (!m->v_version || strcmp(m->v_version, "0") != 0 || !m->o_sess_version ||
	    !sdp_message_m_media_get(m, 0))
		goto out;
	err = 0;
out:
	osip_arena_leave(before);
	free(buf);
	if (err)
		sdp_drop(m, a);
	else
		*mp = m;
	return err;
}

/* Where the stream's RTP goes. -ENOTSUP for what is not an IP literal (a
 * host name is legal in c=, but we resolve no names) and for another
 * address family than ours, which our RTP socket could not reach; -EBADMSG
 * for an address of the wrong type (IP4 ::1). */
static int remote_set(const struct stream *s, const struct sdp_local *l, union sa *r)
{
	const sdp_connection_t *c = s->conn;
	if (!c->c_nettype || strcasecmp(c->c_nettype, "IN") != 0 || !c->c_addrtype)
		return -ENOTSUP;
	int af;
	if (strcasecmp(c->c_addrtype, "IP4") == 0)
		af = AF_INET;
	else if (strcasecmp(c->c_addrtype, "IP6") == 0)
		af = AF_INET6;
	else
		return -ENOTSUP;
	if (sa_set(r, c->c_addr, s->port) != 0)
		return -ENOTSUP;
	if (r->sa.sa_family != af)
		return -EBADMSG;
	if (af != l->addr.sa.sa_family)
		return -ENOTSUP;
	return 0;
}

/* The peer's direction, with the hold of RFC 2543 (c=0.0.0.0, RFC 3264
 * §8.4) read as "do not send to me". */
static enum sdp_dir peer_dir(const struct stream *s, const union sa *remote)
{
	if (sa_is_any(remote))
		return dir_make(dir_sends(s->dir), false);
	return s->dir;
}

/* ------------------------------------------------------------------------ */
/* composing                                                                */

static void conn_put(struct sbuf *b, const char *type, const union sa *a)
{
	char host[INET6_ADDRSTRLEN];
	sbuf_cat(b, type, "=IN ", a->sa.sa_family == AF_INET6 ? "IP6 " : "IP4 ",
		 sa_host(a, host, sizeof(host)), "\r\n", NULL);
}

/* Our audio m= line: pts are the numbers for codecs (the same in an offer;
 * in an answer the numbers the offer used, RFC 3264 §6.1). */
static void audio_put(struct sbuf *b, const struct sdp_local *l, const char *proto,
		      const int *pts, const int *codecs, unsigned n, int te_pt,
		      enum sdp_dir dir)
{
	/* payload types are 0-127: ours, or an offer's that stream_read took */
	sbuf_puts(b, "m=audio ");
	sbuf_uint(b, sa_port(&l->addr));
	sbuf_cat(b, " ", proto, NULL);
	for (unsigned i = 0; i < n; i++) {
		sbuf_puts(b, " ");
		sbuf_uint(b, (unsigned)pts[i]);
	}
	if (te_pt >= 0) {
		sbuf_puts(b, " ");
		sbuf_uint(b, (unsigned)te_pt);
	}
	sbuf_puts(b, "\r\n");
	for (unsigned i = 0; i < n; i++) {
		sbuf_puts(b, "a=rtpmap:");
		sbuf_uint(b, (unsigned)pts[i]);
		sbuf_cat(b, " ", codec_name(codecs[i]), "/8000\r\n", NULL);
	}
	if (te_pt >= 0) {
		sbuf_puts(b, "a=rtpmap:");
		sbuf_uint(b, (unsigned)te_pt);
		sbuf_puts(b, " telephone-event/8000\r\na=fmtp:");
		sbuf_uint(b, (unsigned)te_pt);
		sbuf_puts(b, " " TE_EVENTS "\r\n");
	}
	sbuf_puts(b, "a=ptime:");
	sbuf_uint(b, l->ptime ? l->ptime : PTIME_DEFAULT);
	sbuf_cat(b, "\r\na=", sdp_dir_name(dir), "\r\n", NULL);
}

static char *text_make(const struct sdp_local *l, uint64_t version,
		       const char *rest, size_t *len)
{
	char host[INET6_ADDRSTRLEN];
	struct sbuf b;
	sbuf_init(&b);
	sbuf_puts(&b, "v=0\r\no=luasip ");
	sbuf_uint(&b, l->sess_id);
	sbuf_puts(&b, " ");
	sbuf_uint(&b, version);
	sbuf_cat(&b, " IN ", l->origin.sa.sa_family == AF_INET6 ? "IP6 " : "IP4 ",
		 sa_host(&l->origin, host, sizeof(host)), "\r\n", NULL);
	sbuf_puts(&b, rest);
	return sbuf_take(&b, len);
}

/* Puts v= and o= in front of the rest of our SDP and keeps the result as
 * the last one sent. The version rises by one when the SDP differs from
 * the last one, and stays when it is the same (RFC 3264 §8), so a
 * re-INVITE without change repeats the SDP exactly. */
static int sdp_finish(struct sdp_local *l, struct sbuf *rest, char **sdp, size_t *len)
{
	size_t n;
	char *r = sbuf_take(rest, NULL);
	if (!r)
		return -ENOMEM;
	char *text = text_make(l, l->version, r, &n);
	if (text && l->last && l->version == l->last_version && strcmp(text, l->last) != 0) {
		l->version++;
		mem_deref(text);
		text = text_make(l, l->version, r, &n);
	}
	mem_deref(r);
	if (!text)
		return -ENOMEM;
	mem_deref(l->last);
	l->last = text;
	l->last_version = l->version;
	*sdp = mem_ref(text);
	if (len)
		*len = n;
	return 0;
}

/* s=, c= and t= of our SDP; an answer repeats the offer's t= (RFC 3264 §6). */
static void session_put(struct sbuf *b, const struct sdp_local *l, const char *t)
{
	sbuf_puts(b, "s=luasip\r\n");
	conn_put(b, "c", &l->addr);
	sbuf_cat(b, "t=", t, "\r\n", NULL);
}

bool sdp_is_media_type(const char *type, const char *subtype)
{
	const char *slash = strchr(SDP_MEDIA_TYPE, '/');
	size_t n = (size_t)(slash - SDP_MEDIA_TYPE);
	return type && subtype && strlen(type) == n && strncasecmp(type, SDP_MEDIA_TYPE, n) == 0 &&
	       strcasecmp(subtype, slash + 1) == 0;
}

int sdp_offer(struct sdp_local *l, char **sdp, size_t *len)
{
	int pts[SDP_MAX_CODECS];
	unsigned n = l->ncodecs < SDP_MAX_CODECS ? l->ncodecs : SDP_MAX_CODECS;
	if (!n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (l->codecs[i] != 0 && l->codecs[i] != 8)
			return -EINVAL;
		pts[i] = l->codecs[i];
	}
	/* the first offer of a session is our audio alone; a later one has
	 * every line of the session, in its order (RFC 3264 §8) */
	struct sdp_mlines *ml = &l->mlines;
	if (!ml->n)
		snprintf(ml->proto, sizeof(ml->proto), "RTP/AVP");
	struct sbuf b;
	sbuf_init(&b);
	session_put(&b, l, "0 0");
	for (unsigned i = 0; i < (ml->n ? ml->n : 1); i++) {
		if (i == ml->audio)
			audio_put(&b, l, ml->proto, pts, pts, n, l->te_pt ? l->te_pt : -1,
				  offer_dir(l));
		else
			sbuf_cat(&b, ml->declined[i], "\r\n", NULL);
	}
	int err = sdp_finish(l, &b, sdp, len);
	if (!err && !ml->n)
		ml->n = 1;
	return err;
}

/* ------------------------------------------------------------------------ */
/* answering an offer and accepting an answer                               */

/* The line that declines the offer's stream at pos (RFC 3264 §6): its
 * media, profile and formats, port 0; a mem string without line end. */
static char *declined_line(sdp_message_t *m, int pos)
{
	struct sbuf b;
	sbuf_init(&b);
	sbuf_cat(&b, "m=", sdp_message_m_media_get(m, pos), " 0 ",
		 sdp_message_m_proto_get(m, pos), NULL);
	const char *f;
	for (int i = 0; (f = sdp_message_m_payload_get(m, pos, i)); i++)
		sbuf_cat(&b, " ", f, NULL);
	if (b.err) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b, NULL);
}

/* Whether line i of the session is of that media type: audio for ours,
 * else the type its declined line names. */
static bool mline_is(const struct sdp_mlines *ml, unsigned i, const char *media)
{
	if (i == ml->audio)
		return strcasecmp(media, "audio") == 0;
	const char *type = ml->declined[i] + 2;  /* past "m=" */
	size_t n = strcspn(type, " ");
	return strlen(media) == n && strncasecmp(type, media, n) == 0;
}

/* The offer's "t=" value when it is two numbers, else "0 0". */
static void time_copy(sdp_message_t *m, char *buf, size_t size)
{
	unsigned long start, stop;
	const char *a = sdp_message_t_start_time_get(m, 0);
	const char *z = sdp_message_t_stop_time_get(m, 0);
	if (num_parse(a, (unsigned long)-1, &start) && num_parse(z, (unsigned long)-1, &stop))
		snprintf(buf, size, "%lu %lu", start, stop);
	else
		snprintf(buf, size, "0 0");
}

int sdp_answer(struct sdp_local *l, const char *offer, size_t offer_len,
	       struct sdp_result *r, char **sdp, size_t *len)
{
	sdp_message_t *m;
	struct osip_arena arena = {0};
	int err = sdp_read(offer, offer_len, &m, &arena);
	if (err)
		return err;

	struct sdp_mlines next = {0};  /* the session's lines if this succeeds */
	/* Every line is read first, so a malformed one anywhere is -EBADMSG
	 * whether or not we would have used it. */
	int nmedia = osip_list_size(&m->m_medias);
	struct stream *ss = NULL;
	err = -ENOTSUP;
	if (nmedia > SDP_MAX_MEDIA)
		goto out;
	err = -ENOMEM;
	ss = calloc((size_t)nmedia, sizeof(*ss));
	if (!ss)
		goto out;
	int used = -1;
	for (int i = 0; i < nmedia; i++) {
		err = stream_read(m, i, l, &ss[i]);
		if (err)
			goto out;
		if (used < 0 && ss[i].port && ss[i].rtp && ss[i].pt >= 0 &&
		    strcasecmp(ss[i].media, "audio") == 0)
			used = i;
	}
	err = -ENOTSUP;
	if (used < 0 || !sa_port(&l->addr))
		goto out;

	const struct stream *s = &ss[used];
	struct sdp_result res = { .pt = s->pt, .rtp_pt = s->rtp_pt,
				  .te_pt = s->te_pt, .ptime = s->ptime };
	err = remote_set(s, l, &res.remote);
	if (err)
		goto out;
	enum sdp_dir peer = peer_dir(s, &res.remote);
	res.dir = dir_meet(l->dir, peer);
	res.hold_by_peer = !dir_recvs(peer);

	/* the offer's lines become the session's: ours at used, the others
	 * declined, in every SDP from now on */
	next.n = (unsigned)nmedia;
	next.audio = (unsigned)used;
	snprintf(next.proto, sizeof(next.proto), "%s", s->proto);
	err = -ENOMEM;
	for (int i = 0; i < nmedia; i++)
		if (i != used && !(next.declined[i] = declined_line(m, i)))
			goto out;

	char t[48];
	time_copy(m, t, sizeof(t));
	struct sbuf b;
	sbuf_init(&b);
	session_put(&b, l, t);
	for (int i = 0; i < nmedia; i++) {
		if (i == used)
			audio_put(&b, l, s->proto, &s->rtp_pt, &s->pt, 1, s->te_pt, res.dir);
		else
			sbuf_cat(&b, next.declined[i], "\r\n", NULL);
	}
	err = sdp_finish(l, &b, sdp, len);
	if (!err) {
		*r = res;
		l->held = res.hold_by_peer;
		struct sdp_mlines old = l->mlines;
		l->mlines = next;
		next = old;
	}
out:
	mlines_clear(&next);
	free(ss);
	sdp_drop(m, &arena);
	return err;
}

int sdp_accept(struct sdp_local *l, const char *answer, size_t answer_len,
	       struct sdp_result *r)
{
	sdp_message_t *m;
	struct osip_arena arena = {0};
	int err = sdp_read(answer, answer_len, &m, &arena);
	if (err)
		return err;

	/* RFC 3264 §6: one m= line for each of our offer, in its order and of
	 * the same type; before any offer, that is our audio alone. */
	const struct sdp_mlines *ml = &l->mlines;
	unsigned want = ml->n ? ml->n : 1;
	struct stream s;
	err = -EBADMSG;
	if (osip_list_size(&m->m_medias) != (int)want)
		goto out;
	for (unsigned i = 0; i < want; i++) {
		struct stream other;
		struct stream *x = i == ml->audio ? &s : &other;
		err = stream_read(m, (int)i, l, x);
		if (err)
			goto out;
		err = -EBADMSG;
		if (!mline_is(ml, i, x->media))
			goto out;
	}

	struct sdp_result res = { .pt = -1, .rtp_pt = -1, .te_pt = -1,
				  .ptime = s.ptime, .dir = SDP_INACTIVE };
	/* A declined stream: the call layer decides whether a call without
	 * audio goes on. */
	if (!s.port) {
		memset(&res.remote, 0, sizeof(res.remote));
		res.remote.sa.sa_family = l->addr.sa.sa_family;
		*r = res;
		err = 0;
		goto out;
	}
	err = -ENOTSUP;
	if (s.pt < 0)  /* nothing we offered, or not over RTP/AVP(F) */
		goto out;
	err = remote_set(&s, l, &res.remote);
	if (err)
		goto out;
	res.pt = s.pt;
	res.rtp_pt = s.rtp_pt;
	res.te_pt = s.te_pt;
	enum sdp_dir ours = offer_dir(l), peer = peer_dir(&s, &res.remote);
	res.dir = dir_meet(ours, peer);
	/* A peer that does not receive is holding only if our offer let it
	 * receive: the answer to our own recvonly or inactive says nothing,
	 * and a hold of the peer's stays until it offers otherwise. */
	res.hold_by_peer = dir_sends(ours) ? !dir_recvs(peer) : l->held;
	l->held = res.hold_by_peer;
	*r = res;
	err = 0;
out:
	sdp_drop(m, &arena);
	return err;
}
