/* The structured headers of a received message, parsed with libosip2's
 * per-header parsers from the raw lines the decoder indexed.
 *
 * Every message needs its top Via, From, To and CSeq (transactions and
 * dialogs match on them), so those are parsed when it is decoded; Contact,
 * Record-Route and the digest challenges only matter to the messages that
 * create a dialog or carry a challenge, so they wait until asked for. A
 * full osip_message_parse of every message (each Via, each header of
 * every kind, all of it allocated) was the largest cost of receiving. */
#include "sip/msg_struct.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The value of h unfolded into a NUL-terminated string, NULs replaced (a
 * quoted display name may hold one, which osip cannot read); in buf when
 * it fits, else malloc'ed (*heap then set, the caller frees it). */
static char *unfold(const struct sip_hdr *h, char *buf, size_t size, char **heap)
{
	char *v = buf;
	*heap = NULL;
	if (h->value_len + 1 > size) {
		v = *heap = malloc(h->value_len + 1);
		if (!v)
			return NULL;
	}
	size_t n = sip_hdr_unfold(h, v);
	for (size_t i = 0; i < n; i++)
		if (v[i] == '\0')
			v[i] = '?';
	return v;
}

/* Cuts v at the first comma outside quotes, angle brackets and comments:
 * the first element of a header list (RFC 3261 §7.3.1). */
static void first_element(char *v)
{
	bool quoted = false;
	int angle = 0, comment = 0;
	for (char *p = v; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		switch (*p) {
		case '"': quoted = true; break;
		case '<': angle++; break;
		case '>': if (angle) angle--; break;
		case '(': comment++; break;
		case ')': if (comment) comment--; break;
		case ',':
			if (!angle && !comment) {
				*p = '\0';
				return;
			}
		}
	}
}

enum which { HDR_VIA, HDR_FROM, HDR_TO, HDR_CTYPE, HDR_CONTACT };

/* Parses the first header called name into the field for which; 0 when
 * absent too (the caller checks what is mandatory), -EBADMSG when it does
 * not parse. */
static int parse_one(struct sip_msg *m, enum sip_hdr_id id, enum which which)
{
	struct sip_hdr h;
	if (!sip_msg_hdr_id(m, id, 0, &h))
		return 0;
	char small[512], *heap;
	char *v = unfold(&h, small, sizeof(small), &heap);
	if (!v)
		return -ENOMEM;
	int err = -EBADMSG;
	switch (which) {
	case HDR_VIA:
		first_element(v);
		if (osip_via_init(&m->top_via) == 0 && osip_via_parse(m->top_via, v) == 0)
			err = 0;
		break;
	case HDR_FROM:
		if (osip_from_init(&m->from) == 0 && osip_from_parse(m->from, v) == 0)
			err = 0;
		break;
	case HDR_TO:
		if (osip_to_init(&m->to) == 0 && osip_to_parse(m->to, v) == 0)
			err = 0;
		break;
	case HDR_CTYPE:
		if (osip_content_type_init(&m->content_type) == 0 &&
		    osip_content_type_parse(m->content_type, v) == 0)
			err = 0;
		break;
	case HDR_CONTACT:
		first_element(v);
		if (osip_contact_init(&m->contact) == 0 && osip_contact_parse(m->contact, v) == 0)
			err = 0;
		break;
	}
	free(heap);
	return err;
}

int sip_msg_parse_cseq(struct sip_msg *m)
{
	struct sip_hdr h;
	if (!sip_msg_hdr_id(m, SIP_HDR_CSEQ, 0, &h))
		return 0;
	char small[128], *heap;
	char *v = unfold(&h, small, sizeof(small), &heap);
	if (!v)
		return -ENOMEM;
	int err = -EBADMSG;
	char *p = v;
	uint64_t n = 0;
	while (*p >= '0' && *p <= '9' && n <= 0x7fffffff)
		n = n * 10 + (uint64_t)(*p++ - '0');
	char *method = p;
	while (*method == ' ' || *method == '\t')
		method++;
	size_t mlen = strcspn(method, " \t");
	if (p > v && method > p && n <= 0x7fffffff && mlen > 0 && method[mlen] == '\0') {
		m->cseq = (uint32_t)n;
		m->cseq_method = mem_strndup(method, mlen);
		err = m->cseq_method ? 0 : -ENOMEM;
	}
	free(heap);
	return err;
}

int sip_msg_parse_headers(struct sip_msg *m)
{
	struct osip_arena *before = osip_arena_enter(&m->arena);
	int err = parse_one(m, SIP_HDR_VIA, HDR_VIA);
	if (!err)
		err = parse_one(m, SIP_HDR_FROM, HDR_FROM);
	if (!err)
		err = parse_one(m, SIP_HDR_TO, HDR_TO);
	if (!err && m->body_len)
		err = parse_one(m, SIP_HDR_CONTENT_TYPE, HDR_CTYPE);
	osip_arena_leave(before);
	return err;
}

/* Where h is one of the headers libosip2 lists for the few readers of
 * sip_msg_osip, the long name osip gets (its tables may not know every
 * compact one); else NULL. */
static const char *lazy_name(const struct sip_hdr *h)
{
	switch (h->id) {
	case SIP_HDR_CONTACT: return "Contact";
	case SIP_HDR_RECORD_ROUTE: return "Record-Route";
	case SIP_HDR_WWW_AUTHENTICATE: return "WWW-Authenticate";
	case SIP_HDR_PROXY_AUTHENTICATE: return "Proxy-Authenticate";
	default: return NULL;
	}
}

static osip_message_t *parse_lazy(const struct sip_msg *m)
{
	static const char start[] = "OPTIONS sip:x.invalid SIP/2.0\r\n";
	size_t n = sizeof(start) - 1 + 2;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const char *name = lazy_name(&m->hdrs[i]);
		if (name)
			n += strlen(name) + 2 + m->hdrs[i].value_len + 2;
	}
	char *in = malloc(n + 1), *p = in;
	if (!in)
		return NULL;
	memcpy(p, start, sizeof(start) - 1);
	p += sizeof(start) - 1;
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		const char *name = lazy_name(h);
		if (!name)
			continue;
		size_t ln = strlen(name);
		memcpy(p, name, ln);
		p += ln;
		*p++ = ':';
		*p++ = ' ';
		memcpy(p, h->value, h->value_len);
		for (size_t j = 0; j < h->value_len; j++, p++)
			if (*p == '\0')
				*p = '?';
		*p++ = '\r';
		*p++ = '\n';
	}
	*p++ = '\r';
	*p++ = '\n';
	*p = '\0';
	osip_message_t *o = NULL;
	if (osip_message_init(&o) != 0 || osip_message_parse(o, in, (size_t)(p - in)) != 0) {
		if (o)
			osip_message_free(o);
		o = NULL;
	}
	free(in);
	return o;
}

const osip_contact_t *sip_msg_contact(const struct sip_msg *m)
{
	struct sip_msg *mm = (struct sip_msg *)m;  /* a cache, as below */
	if (!m->contact_done) {
		mm->contact_done = true;
		struct osip_arena *before = osip_arena_enter(&mm->arena);
		if (parse_one(mm, SIP_HDR_CONTACT, HDR_CONTACT) != 0 && mm->contact) {
			osip_contact_free(mm->contact);
			mm->contact = NULL;
		}
		osip_arena_leave(before);
	}
	return m->contact;
}

const osip_message_t *sip_msg_osip(const struct sip_msg *m)
{
	/* a cache: the message stays the same message to its readers */
	struct sip_msg *mm = (struct sip_msg *)m;
	if (!m->lazy_done && m->hdrs) {
		mm->lazy_done = true;
		struct osip_arena *before = osip_arena_enter(&mm->arena);
		mm->lazy = parse_lazy(m);
		osip_arena_leave(before);
	}
	return m->lazy;
}
