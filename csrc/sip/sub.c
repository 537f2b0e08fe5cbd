/* Subscriptions (RFC 6665): the implicit one of a REFER (RFC 3515, RFC 4488),
 * as the subscriber that sent the REFER and as the notifier that took it.
 * Each is a usage of its dialog and is found in it by Event and id. */
#include "sip/sub.h"
#include "sip/ua_priv.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIPFRAG_TYPE "message/sipfrag;version=2.0"

struct sip_sub {
	struct le le;               /* in the endpoint's list while not ended */
	struct sip_dialog_usage u;  /* in the dialog's usages while not ended */
	struct sip_dialog *d;
	struct sip_ua *ua;          /* while not ended */
	bool notifier;
	bool ended;
	uint32_t id;                /* the REFER's CSeq number */
	const struct sip_sub_handlers *h;
	void *arg;
	struct tmr tmr;             /* expiry; the subscriber's wait for the first NOTIFY */
	struct sip_uac *uac;        /* our REFER or NOTIFY in flight */

	/* subscriber */
	bool accepted;              /* the REFER's 2xx came */
	bool notified;              /* a NOTIFY came */
	uint32_t timeout;           /* ms for the final NOTIFY after the 2xx */
	struct tmr limit;

	/* notifier */
	uint64_t expires_at;        /* virtual time the subscription ends */
	int status;                 /* the last status line said or to say */
	char reason[64];
	bool queued;                /* a NOTIFY waits for the one in flight */
	const char *term_reason;    /* the queued NOTIFY terminates, saying this */
	enum sip_sub_end term_why;  /* and the end the owner then hears */
};

const char *sip_sub_end_name(enum sip_sub_end why)
{
	switch (why) {
	case SIP_SUB_DONE:            return "done";
	case SIP_SUB_NO_SUBSCRIPTION: return "no subscription";
	case SIP_SUB_REFUSED:         return "refused";
	case SIP_SUB_EXPIRED:         return "expired";
	case SIP_SUB_TIMEOUT:         return "timeout";
	case SIP_SUB_GONE:            return "gone";
	case SIP_SUB_FAILED:          return "failed";
	case SIP_SUB_CLOSED:          return "closed";
	default:                      return "none";
	}
}

/* ---- parsing ---- */

bool sip_sipfrag_status(const char *body, size_t len, int *status, char *reason,
			size_t reason_size)
{
	/* RFC 3420: a sipfrag may begin with a start line; ours is a status line */
	if (!body || len < 12 || strncasecmp(body, "SIP/2.0 ", 8) != 0)
		return false;
	const char *p = body + 8, *end = body + len;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || (p + 3 < end && p[3] != ' ' && p[3] != '\r' &&
					     p[3] != '\n'))
		return false;
	*status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (*status < 100)
		return false;
	p += 3;
	if (p < end && *p == ' ')
		p++;
	size_t n = 0;
	while (p + n < end && p[n] != '\r' && p[n] != '\n')
		n++;
	if (reason_size) {
		if (n >= reason_size)
			n = reason_size - 1;
		memcpy(reason, p, n);
		reason[n] = '\0';
	}
	return true;
}

/* The value of a header, unfolded, in buf; false when absent or too long. */
static bool hdr_value(const struct sip_msg *m, const char *name, char *buf, size_t size)
{
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, 0, &h) || h.value_len >= size)
		return false;
	sip_hdr_unfold(&h, buf);
	return true;
}

/* The value of parameter name in ";a=1;b=2" (ends at ',' or the end), or NULL. */
static const char *param(const char *v, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (const char *p = strchr(v, ';'); p; p = strchr(p + 1, ';')) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, name, nl) != 0)
			continue;
		const char *q = p + nl;
		q += strspn(q, " \t");
		if (*q != '=')
			continue;
		q++;
		q += strspn(q, " \t");
		*len = strcspn(q, "; \t,");
		return q;
	}
	return NULL;
}

/* The first token of a header value ("refer;id=3" -> "refer"). */
static bool token_is(const char *v, const char *token)
{
	v += strspn(v, " \t");
	size_t n = strcspn(v, "; \t,");
	return n == strlen(token) && strncasecmp(v, token, n) == 0;
}

/* The Event of a request: the refer package, with its id or none (*id 0). */
static bool refer_event(const struct sip_msg *m, uint32_t *id)
{
	char v[256];
	if (!hdr_value(m, "Event", v, sizeof(v)) || !token_is(v, "refer"))
		return false;
	size_t n;
	const char *p = param(v, "id", &n);
	*id = p ? (uint32_t)strtoul(p, NULL, 10) : 0;
	return true;
}

static bool refer_sub_false(const struct sip_msg *m)
{
	char v[64];
	return hdr_value(m, "Refer-Sub", v, sizeof(v)) && token_is(v, "false");
}

/* The URI of a name-addr or addr-spec (a dialog's From value with its tag). */
static char *uri_of(const char *v)
{
	const char *lt = strchr(v, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		return gt ? mem_strndup(lt + 1, (size_t)(gt - lt - 1)) : NULL;
	}
	v += strspn(v, " \t");
	return mem_strndup(v, strcspn(v, "; \t"));
}

/* ---- lifetime ---- */

static void sub_destroy(void *arg)
{
	struct sip_sub *s = arg;
	tmr_cancel(&s->tmr);
	tmr_cancel(&s->limit);
	sip_uac_release(s->uac);
	mem_deref(s->ua);
}

/* What ties a subscription to its dialog, the endpoint and the clock goes;
 * the owner hears why, once. */
static void sub_end(struct sip_sub *s, enum sip_sub_end why, int status)
{
	if (s->ended)
		return;
	s->ended = true;
	tmr_cancel(&s->tmr);
	tmr_cancel(&s->limit);
	/* a NOTIFY already sent finishes by itself; nobody waits for its answer */
	sip_uac_release(s->uac);
	s->uac = NULL;
	list_unlink(&s->le);
	s->ua = mem_deref(s->ua);
	mem_ref(s);
	sip_dialog_unuse(s->d, &s->u);
	s->d = NULL;
	if (s->h && s->h->ended)
		s->h->ended(s->arg, why, status);
	mem_deref(s);
}

/* Whether a NOTIFY or SUBSCRIBE is this subscription's: the subscriber
 * takes NOTIFY, the notifier SUBSCRIBE (a refresh); a request without an
 * id is the first one's of the dialog that takes that method. */
static bool owns(struct sip_dialog_usage *u, const struct sip_msg *req)
{
	struct sip_sub *s = container_of(u, struct sip_sub, u);
	uint32_t id;
	bool notify = sip_method_is(req, "NOTIFY");
	if (notify == s->notifier || !refer_event(req, &id))
		return false;
	if (id)
		return id == s->id;
	struct le *e, *tmp;
	list_each_safe(e, tmp, &s->d->usages) {
		struct sip_sub *first = container_of(e, struct sip_sub, u.le);
		if (first->notifier == s->notifier)
			return first == s;
	}
	return false;
}

static void recv_request(struct sip_dialog_usage *u, struct sip_strans *st,
			 const struct sip_msg *req);

static struct sip_sub *sub_alloc(struct sip_dialog *d, bool notifier,
				 const struct sip_sub_handlers *h, void *arg)
{
	struct sip_sub *s = mem_alloc(sizeof(*s), sub_destroy);
	if (!s)
		return NULL;
	s->notifier = notifier;
	s->h = h;
	s->arg = arg;
	s->ua = mem_ref(d->ua);
	s->d = d;
	s->u.owns = owns;
	s->u.request = recv_request;
	sip_dialog_use(d, &s->u);
	list_append(&d->ua->subs, &s->le);
	return s;
}

static struct tmrq *tq(struct sip_sub *s)
{
	return s->ua->stack.tq;
}

/* Our 2xx to a NOTIFY or SUBSCRIBE carries our Contact (RFC 6665 §4.1.3,
 * §4.2.1.1); more: other header lines. */
static int reply(struct sip_sub *s, struct sip_strans *st, int status, const char *reason,
		 const char *more)
{
	const struct sip_msg *req = sip_strans_request(st);
	char contact[160];
	struct sbuf b;
	sbuf_init(&b);
	if (status >= 200 && status < 300 &&
	    sip_ua_contact(s->ua, req->src.proto, req->src.addr.sa.sa_family, contact,
			   sizeof(contact)))
		sbuf_cat(&b, "Contact: ", contact, "\r\n", NULL);
	if (more)
		sbuf_puts(&b, more);
	int err = b.err ? -ENOMEM : sip_strans_reply(st, status, reason, b.d, NULL, 0);
	sbuf_free(&b);
	return err;
}

/* ---- notifier ---- */

static void send_notify(struct sip_sub *s, const char *terminated);

/* The end of a notifier's subscription: a NOTIFY saying terminated with
 * reason; unless now, it waits for the one in flight. */
static void terminate(struct sip_sub *s, const char *reason, enum sip_sub_end why, bool now)
{
	if (s->uac && !now) {
		s->queued = true;
		s->term_reason = reason;
		s->term_why = why;
		return;
	}
	send_notify(s, reason);
	sub_end(s, why, 0);
}

static void on_notify_answer(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sub *s = arg;
	if (!err && resp->status < 200)
		return;
	sip_uac_release(s->uac);
	s->uac = NULL;
	/* RFC 6665 §4.2.2: a NOTIFY that fails or times out ends it */
	if (err)
		sub_end(s, err == -ETIMEDOUT ? SIP_SUB_TIMEOUT : SIP_SUB_FAILED, 0);
	else if (resp->status >= 300)
		sub_end(s, SIP_SUB_GONE, resp->status);
	else if (s->queued && s->term_reason)
		terminate(s, s->term_reason, s->term_why, true);
	else if (s->queued)
		send_notify(s, NULL);
}

/* Sends the current status line, with the subscription active or, when
 * terminated is set, over for that reason. One NOTIFY at a time (RFC 6665
 * §4.2.2): an active one waits for the answer to the one in flight. */
static void send_notify(struct sip_sub *s, const char *terminated)
{
	if (s->uac && !terminated) {
		s->queued = true;
		return;
	}
	sip_uac_release(s->uac);
	s->uac = NULL;
	s->queued = false;
	struct sbuf hdrs, body;
	sbuf_init(&hdrs);
	sbuf_init(&body);
	sbuf_printf(&hdrs, "Event: refer;id=%u\r\n", s->id);
	if (terminated) {
		sbuf_printf(&hdrs, "Subscription-State: terminated;reason=%s\r\n", terminated);
	} else {
		uint64_t now = tq(s)->now;
		uint64_t left = s->expires_at > now ? (s->expires_at - now + 999) / 1000 : 0;
		sbuf_printf(&hdrs, "Subscription-State: active;expires=%llu\r\n",
			    (unsigned long long)left);
	}
	sbuf_puts(&hdrs, "Content-Type: " SIPFRAG_TYPE "\r\n");
	sbuf_printf(&body, "SIP/2.0 %d %s\r\n", s->status,
		    s->reason[0] ? s->reason : sip_reason_phrase(s->status));
	int err = hdrs.err || body.err ? -ENOMEM :
		  sip_dialog_request(s->d, &s->uac, "NOTIFY", hdrs.d, body.d, body.len, NULL,
				     NULL, on_notify_answer, s);
	sbuf_free(&hdrs);
	sbuf_free(&body);
	if (err && !terminated)
		sub_end(s, SIP_SUB_FAILED, 0);
}

static void set_status(struct sip_sub *s, int status, const char *reason)
{
	s->status = status;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
}

static void on_expired(void *arg)
{
	struct sip_sub *s = arg;
	if (!s->notifier) {
		/* no NOTIFY in 64*T1 after the 2xx (RFC 6665 §4.1.2.4), or the
		 * expiry the last one gave passed */
		sub_end(s, s->notified ? SIP_SUB_EXPIRED : SIP_SUB_TIMEOUT, 0);
		return;
	}
	terminate(s, "timeout", SIP_SUB_EXPIRED, true);
}

static void start_expiry(struct sip_sub *s, uint32_t expires)
{
	s->expires_at = tq(s)->now + (uint64_t)expires * 1000;
	tmr_start(tq(s), &s->tmr, (uint64_t)expires * 1000, on_expired, s);
}

/* A SUBSCRIBE in the dialog for a refer subscription: a refresh, or with
 * Expires: 0 its end (RFC 6665 §4.2.1.2); either way a NOTIFY follows. */
static void recv_subscribe(struct sip_sub *s, struct sip_strans *st, const struct sip_msg *req)
{
	char v[32], line[48];
	unsigned long expires = SIP_SUB_REFER_EXPIRES;
	if (hdr_value(req, "Expires", v, sizeof(v)))
		expires = strtoul(v, NULL, 10);
	if (expires > 3600)
		expires = 3600;
	snprintf(line, sizeof(line), "Expires: %lu\r\n", expires);
	reply(s, st, 200, NULL, line);
	if (expires == 0) {
		terminate(s, "timeout", SIP_SUB_DONE, false);
		return;
	}
	start_expiry(s, (uint32_t)expires);
	send_notify(s, NULL);
}

int sip_sub_accept_refer(struct sip_sub **sp, struct sip_dialog *d, struct sip_strans *st,
			 const struct sip_msg *req, uint32_t expires,
			 const struct sip_sub_handlers *h, void *arg)
{
	*sp = NULL;
	/* RFC 3515 §2.4.1: exactly one Refer-To */
	if (sip_msg_hdr_id_count(req, SIP_HDR_REFER_TO) != 1) {
		sip_strans_reply(st, 400, "Exactly One Refer-To", NULL, NULL, 0);
		return -EBADMSG;
	}
	/* RFC 4488 §4: we take the offer of no subscription */
	if (refer_sub_false(req))
		return sip_strans_reply(st, 200, NULL,
					"Refer-Sub: false\r\nSupported: " SIP_SUPPORTED "\r\n",
					NULL, 0);
	struct sip_sub *s = sub_alloc(d, true, h, arg);
	if (!s) {
		sip_strans_reply(st, 500, NULL, NULL, NULL, 0);
		return -ENOMEM;
	}
	s->id = req->cseq;
	reply(s, st, 202, NULL, NULL);
	start_expiry(s, expires ? expires : SIP_SUB_REFER_EXPIRES);
	/* RFC 3515 §2.4.4: the first NOTIFY goes at once */
	set_status(s, 100, NULL);
	*sp = s;
	send_notify(s, NULL);
	return 0;
}

int sip_sub_notify(struct sip_sub *s, int status, const char *reason)
{
	if (!s->notifier)
		return -EINVAL;
	if (s->ended)
		return -ENOTCONN;
	if (s->term_reason)
		return -EALREADY;  /* the final NOTIFY waits to go */
	if (status < 100 || status > 699)
		return -EINVAL;
	set_status(s, status, reason);
	if (status >= 200)
		terminate(s, "noresource", SIP_SUB_DONE, false);
	else
		send_notify(s, NULL);
	return 0;
}

/* ---- subscriber ---- */

static void on_limit(void *arg)
{
	sub_end(arg, SIP_SUB_TIMEOUT, 0);
}

static void on_refer_answer(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sub *s = arg;
	if (!err && resp->status < 200)
		return;
	sip_uac_release(s->uac);
	s->uac = NULL;
	if (err) {
		sub_end(s, err == -ETIMEDOUT ? SIP_SUB_TIMEOUT : SIP_SUB_FAILED, 0);
		return;
	}
	if (resp->status >= 300) {
		sub_end(s, SIP_SUB_REFUSED, resp->status);
		return;
	}
	/* a challenge answered made the REFER's CSeq, and so the id, higher */
	sip_dialog_cseq_used(s->d, resp->cseq);
	s->id = resp->cseq;
	s->accepted = true;
	/* RFC 4488 §4: the REFER-Recipient took our offer of no subscription
	 * (or made none of itself): its 2xx is all there will be */
	if (refer_sub_false(resp)) {
		sub_end(s, SIP_SUB_NO_SUBSCRIPTION, resp->status);
		return;
	}
	if (!s->notified)
		tmr_start(tq(s), &s->tmr, 64ull * s->ua->stack.t.t1, on_expired, s);
	if (s->timeout)
		tmr_start(tq(s), &s->limit, s->timeout, on_limit, s);
}

static void recv_notify(struct sip_sub *s, struct sip_strans *st, const struct sip_msg *req)
{
	char state[128];
	if (!hdr_value(req, "Subscription-State", state, sizeof(state))) {
		reply(s, st, 400, "Missing Subscription-State", NULL);
		return;
	}
	reply(s, st, 200, NULL, NULL);
	/* RFC 6665 §4.1.3: NOTIFY refreshes the remote target */
	sip_dialog_refresh(s->d, req);
	s->notified = true;
	int status = 0;
	char reason[64] = "";
	const osip_content_type_t *ct = req->content_type;
	if (ct && ct->type && ct->subtype && strcasecmp(ct->type, "message") == 0 &&
	    strcasecmp(ct->subtype, "sipfrag") == 0)
		sip_sipfrag_status(req->body, req->body_len, &status, reason, sizeof(reason));
	bool final = token_is(state, "terminated");
	if (!final) {
		size_t n;
		const char *e = param(state, "expires", &n);
		/* active or pending: it lasts as long as the notifier says */
		if (e)
			tmr_start(tq(s), &s->tmr, strtoull(e, NULL, 10) * 1000 + 1000, on_expired, s);
		else
			tmr_cancel(&s->tmr);
	}
	mem_ref(s);
	if (s->h && s->h->notified)
		s->h->notified(s->arg, status, reason, final);
	if (final)
		sub_end(s, SIP_SUB_DONE, 0);
	mem_deref(s);
}

static void recv_request(struct sip_dialog_usage *u, struct sip_strans *st,
			 const struct sip_msg *req)
{
	struct sip_sub *s = container_of(u, struct sip_sub, u);
	mem_ref(s);
	if (s->notifier)
		recv_subscribe(s, st, req);
	else
		recv_notify(s, st, req);
	mem_deref(s);
}

int sip_sub_refer(struct sip_sub **sp, struct sip_dialog *d, const struct sip_refer_params *p,
		  const struct sip_sub_handlers *h, void *arg)
{
	if (!p->refer_to || !*p->refer_to)
		return -EINVAL;
	char *by = p->referred_by ? NULL : uri_of(d->local);
	const char *referred_by = p->referred_by ? p->referred_by : by;
	struct sbuf b;
	sbuf_init(&b);
	bool bracketed = strchr(p->refer_to, '<') != NULL;
	sbuf_cat(&b, "Refer-To: ", bracketed ? "" : "<", p->refer_to, bracketed ? "" : ">",
		 "\r\n", NULL);
	if (referred_by) {
		bracketed = strchr(referred_by, '<') != NULL;
		sbuf_cat(&b, "Referred-By: ", bracketed ? "" : "<", referred_by,
			 bracketed ? "" : ">", "\r\n", NULL);
	}
	if (p->no_subscription)
		sbuf_puts(&b, "Refer-Sub: false\r\n");
	sbuf_puts(&b, "Supported: " SIP_SUPPORTED "\r\n");
	mem_deref(by);
	if (b.err) {
		sbuf_free(&b);
		return -ENOMEM;
	}
	struct sip_sub *s = sub_alloc(d, false, h, arg);
	if (!s) {
		sbuf_free(&b);
		return -ENOMEM;
	}
	s->timeout = p->timeout;
	int err = sip_dialog_request(d, &s->uac, "REFER", b.d, NULL, 0, p->user, p->password,
				     on_refer_answer, s);
	sbuf_free(&b);
	if (err) {
		s->h = NULL;
		sub_end(s, SIP_SUB_FAILED, 0);
		mem_deref(s);
		return err;
	}
	/* a NOTIFY may overtake the 2xx: it names this CSeq */
	s->id = sip_uac_cseq(s->uac);
	*sp = s;
	return 0;
}

/* ---- what the owner reads and does ---- */

uint32_t sip_sub_id(const struct sip_sub *s)
{
	return s->id;
}

bool sip_sub_active(const struct sip_sub *s)
{
	return !s->ended;
}

/* A notifier that goes says so at once: a terminated NOTIFY of its last
 * status. */
static void end_now(struct sip_sub *s, enum sip_sub_end why)
{
	if (s->ended)
		return;
	if (s->notifier)
		terminate(s, "noresource", why, true);
	else
		sub_end(s, why, 0);
}

void sip_sub_release(struct sip_sub *s)
{
	if (!s)
		return;
	s->h = NULL;
	end_now(s, SIP_SUB_CLOSED);
	mem_deref(s);
}

void sip_sub_close_all(struct sip_ua *ua)
{
	while (!list_empty(&ua->subs)) {
		struct sip_sub *s = container_of(ua->subs.next, struct sip_sub, le);
		mem_ref(s);
		end_now(s, SIP_SUB_CLOSED);
		mem_deref(s);
	}
}
