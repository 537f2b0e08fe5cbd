/* Dialogs (RFC 3261 §12): state from the INVITE and its answer, requests
 * composed in the dialog, and the lookup of what comes in by Call-ID and
 * tags. */
#include "sip/dialog.h"
#include "sip/ua_priv.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>  /* osip_free is free */
#include <string.h>
#include <strings.h>

static void build_key(struct sbuf *b, const char *call_id, const char *local_tag,
		      const char *remote_tag)
{
	sbuf_cat(b, call_id ? call_id : "", "|", local_tag ? local_tag : "", "|",
		 remote_tag ? remote_tag : "", NULL);
}

static char *make_key(const char *call_id, const char *local_tag, const char *remote_tag)
{
	struct sbuf b;
	sbuf_init(&b);
	build_key(&b, call_id, local_tag, remote_tag);
	return sbuf_take(&b, NULL);
}

static void dialog_destroy(void *arg)
{
	struct sip_dialog *d = arg;
	if (d->listed)
		htab_remove(&d->ua->dialogs, &d->hn);
	mem_deref(d->key);
	mem_deref(d->call_id);
	mem_deref(d->local_tag);
	mem_deref(d->remote_tag);
	mem_deref(d->local);
	mem_deref(d->remote);
	mem_deref(d->target);
	mem_deref(d->route);
	mem_deref(d->route_uri);
	mem_deref(d->ua);
}

/* A header value with folding undone, as a mem string; NULL when absent. */
static char *hdr_dup(const struct sip_msg *m, const char *name)
{
	struct sip_hdr h;
	if (!sip_msg_hdr(m, name, 0, &h))
		return NULL;
	char *v = mem_alloc(h.value_len + 1, NULL);
	if (v)
		sip_hdr_unfold(&h, v);
	return v;
}

/* The URI of the first Contact, as a mem string. */
static char *contact_uri(const struct sip_msg *m)
{
	char *s = NULL, *r = NULL;
	const osip_contact_t *c = sip_msg_contact(m);
	if (!c || !c->url)
		return NULL;
	if (osip_uri_to_str(c->url, &s) == 0 && s) {
		r = mem_strdup(s);
		osip_free(s);
	}
	return r;
}

/* Whether a route set entry is a loose router (;lr): every proxy since
 * RFC 3261; one without is a strict router of RFC 2543. */
static bool is_loose(const osip_uri_t *u)
{
	osip_uri_param_t *lr = NULL;
	return osip_uri_uparam_get_byname((osip_uri_t *)u, "lr", &lr) == 0 && lr;
}

unsigned sip_contact_q(const osip_contact_t *c)
{
	osip_generic_param_t *p = NULL;
	osip_contact_param_get_byname((osip_contact_t *)c, "q", &p);
	const char *s = p ? p->gvalue : NULL;
	if (!s || (s[0] != '0' && s[0] != '1'))
		return 1000;
	unsigned q = (unsigned)(s[0] - '0') * 1000, scale = 100;
	const char *d = s + 1;
	if (*d == '.')
		for (d++; *d >= '0' && *d <= '9' && scale; d++, scale /= 10)
			q += (unsigned)(*d - '0') * scale;
	return *d || q > 1000 ? 1000 : q;
}

char *sip_uri_dup(const osip_uri_t *u, bool request_uri)
{
	osip_uri_t *c = NULL;
	char *s = NULL, *r = NULL;
	if (request_uri) {
		if (osip_uri_clone(u, &c) != 0 || !c)
			return NULL;
		osip_uri_param_t *p;
		for (int i = 0; (p = osip_list_get(&c->url_params, i)) != NULL; i++)
			if (p->gname && strcasecmp(p->gname, "method") == 0) {
				osip_list_remove(&c->url_params, i);
				osip_uri_param_free(p);
				break;
			}
		osip_uri_header_freelist(&c->url_headers);
		u = c;
	}
	if (osip_uri_to_str(u, &s) == 0 && s) {
		r = mem_strdup(s);
		osip_free(s);
	}
	if (c)
		osip_uri_free(c);
	return r;
}

/* The route set (§12.1.1, §12.1.2): the Record-Route entries, in order for
 * the UAS and reversed for the UAC. Its first entry is where requests go:
 * a loose router gets them addressed to the remote target with the whole
 * set as Route; a strict one wants to be their Request-URI, with the rest
 * of the set and then the remote target as Route (§12.2.1.1, composed in
 * params). */
static int set_route(struct sip_dialog *d, const struct sip_msg *m, bool reverse)
{
	d->strict = false;
	if (!sip_msg_hdr_id_count(m, SIP_HDR_RECORD_ROUTE))
		return 0;  /* no proxy on the way: nothing to parse */
	const osip_message_t *o = sip_msg_osip(m);
	if (!o)
		return 0;
	int n = osip_list_size(&o->record_routes);
	if (n <= 0)
		return 0;
	struct sbuf b;
	sbuf_init(&b);
	bool first = true;
	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr = osip_list_get(&o->record_routes,
							reverse ? n - 1 - i : i);
		if (!rr || !rr->url)
			continue;
		if (first) {
			first = false;
			d->strict = !is_loose(rr->url);
			d->route_uri = sip_uri_dup(rr->url, d->strict);
			if (d->strict)
				continue;  /* the Request-URI, not a Route */
		}
		char *s = NULL;
		if (osip_record_route_to_str(rr, &s) != 0 || !s)
			continue;
		sbuf_printf(&b, "Route: %s\r\n", s);
		osip_free(s);
	}
	d->route = b.len ? sbuf_take(&b, NULL) : (sbuf_free(&b), NULL);
	return 0;
}

static int list(struct sip_dialog *d)
{
	d->key = make_key(d->call_id, d->local_tag, d->remote_tag);
	if (!d->key)
		return -ENOMEM;
	if (htab_find(&d->ua->dialogs, d->key))
		return -EEXIST;
	htab_insert(&d->ua->dialogs, &d->hn, d->key);
	d->listed = true;
	return 0;
}

static struct sip_dialog *alloc(struct sip_ua *ua, const struct sip_dialog_handlers *h,
				void *arg)
{
	struct sip_dialog *d = mem_alloc(sizeof(*d), dialog_destroy);
	if (!d)
		return NULL;
	d->ua = mem_ref(ua);
	d->h = h;
	d->arg = arg;
	list_init(&d->usages);
	return d;
}

static int finish(struct sip_dialog **dp, struct sip_dialog *d)
{
	int err = 0;
	if (!d->call_id || !d->local_tag || !d->remote_tag || !d->local || !d->remote)
		err = -ENOMEM;
	else if (!d->target)
		err = -EBADMSG;  /* a dialog needs the peer's Contact (§12.1) */
	else
		err = list(d);
	if (err) {
		mem_deref(d);
		return err;
	}
	*dp = d;
	return 0;
}

int sip_dialog_from_response(struct sip_dialog **dp, struct sip_ua *ua,
			     const struct sip_msg *resp, const struct sip_dialog_handlers *h,
			     void *arg)
{
	/* §12.1.2: a 2xx without a To tag (RFC 2543) makes a dialog whose
	 * remote tag is empty */
	if (!resp->from_tag || !resp->call_id)
		return -EBADMSG;
	struct sip_dialog *d = alloc(ua, h, arg);
	if (!d)
		return -ENOMEM;
	d->call_id = mem_strdup(resp->call_id);
	d->local_tag = mem_strdup(resp->from_tag);
	d->remote_tag = mem_strdup(resp->to_tag ? resp->to_tag : "");
	d->local = hdr_dup(resp, "From");
	d->remote = hdr_dup(resp, "To");
	d->target = contact_uri(resp);
	d->local_cseq = resp->cseq;
	set_route(d, resp, true);
	return finish(dp, d);
}

int sip_dialog_from_request(struct sip_dialog **dp, struct sip_ua *ua,
			    const struct sip_msg *req, const char *local_tag,
			    const struct sip_dialog_handlers *h, void *arg)
{
	if (!req->from_tag || !req->call_id)
		return -EBADMSG;
	struct sip_dialog *d = alloc(ua, h, arg);
	if (!d)
		return -ENOMEM;
	d->call_id = mem_strdup(req->call_id);
	d->local_tag = mem_strdup(local_tag);
	d->remote_tag = mem_strdup(req->from_tag);
	char *to = hdr_dup(req, "To");
	if (to) {
		struct sbuf b;
		sbuf_init(&b);
		sbuf_cat(&b, to, ";tag=", local_tag, NULL);
		d->local = sbuf_take(&b, NULL);
		mem_deref(to);
	}
	d->remote = hdr_dup(req, "From");
	d->target = contact_uri(req);
	d->remote_cseq = req->cseq;
	d->local_cseq = 0;
	set_route(d, req, false);
	return finish(dp, d);
}

static void unlist_if_unused(struct sip_dialog *d)
{
	if (d->listed && !d->h && list_empty(&d->usages)) {
		htab_remove(&d->ua->dialogs, &d->hn);
		d->listed = false;
	}
}

void sip_dialog_close(struct sip_dialog *d)
{
	if (!d)
		return;
	d->h = NULL;
	unlist_if_unused(d);
	mem_deref(d);
}

void sip_dialog_use(struct sip_dialog *d, struct sip_dialog_usage *u)
{
	mem_ref(d);
	list_append(&d->usages, &u->le);
	d->had_usages = true;
}

void sip_dialog_unuse(struct sip_dialog *d, struct sip_dialog_usage *u)
{
	list_unlink(&u->le);
	unlist_if_unused(d);
	mem_deref(d);
}

void sip_dialog_refresh(struct sip_dialog *d, const struct sip_msg *m)
{
	char *t = contact_uri(m);
	if (t) {
		mem_deref(d->target);
		d->target = t;
	}
}

static void params(struct sip_dialog *d, struct sip_uac_params *p, const char *method,
		   struct sbuf *hdrs, const char *extra)
{
	memset(p, 0, sizeof(*p));
	p->method = method;
	/* §12.2.1.1: a strict router is the Request-URI; a loose one the next hop */
	p->uri = d->strict && d->route_uri ? d->route_uri : d->target;
	p->next_hop = d->strict ? NULL : d->route_uri;
	p->from = d->local;
	p->from_tag = "";
	p->to = d->remote;
	p->call_id = d->call_id;
	sbuf_init(hdrs);
	if (d->route)
		sbuf_puts(hdrs, d->route);
	if (d->strict && d->route_uri)
		sbuf_printf(hdrs, "Route: <%s>\r\n", d->target);
	if (extra)
		sbuf_puts(hdrs, extra);
	p->headers = hdrs->len ? hdrs->d : NULL;
}

int sip_dialog_request(struct sip_dialog *d, struct sip_uac **up, const char *method,
		       const char *extra, const char *body, size_t body_len,
		       const char *user, const char *password, sip_uac_h *h, void *arg)
{
	struct sip_uac_params p;
	struct sbuf hdrs;
	params(d, &p, method, &hdrs, extra);
	p.cseq = ++d->local_cseq;
	p.body = body;
	p.body_len = body_len;
	p.user = user;
	p.password = password;
	/* the target refresh requests carry our Contact: INVITE and UPDATE
	 * (RFC 3261 §12.2), SUBSCRIBE and NOTIFY (RFC 6665 §4.1.2.1, §4.2.2),
	 * and REFER, which sets up a subscription as SUBSCRIBE does */
	static const char *const refresh[] = { "INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY",
					       "REFER", NULL };
	for (int i = 0; refresh[i]; i++)
		p.contact |= strcmp(method, refresh[i]) == 0;
	int err = hdrs.err ? -ENOMEM : sip_uac_send(up, d->ua, &p, h, arg);
	sbuf_free(&hdrs);
	return err;
}

int sip_dialog_ack(struct sip_dialog *d, uint32_t cseq, const char *extra, const char *body,
		   size_t body_len)
{
	struct sip_uac_params p;
	struct sbuf hdrs;
	params(d, &p, "ACK", &hdrs, extra);
	p.cseq = cseq;
	p.body = body;
	p.body_len = body_len;
	p.stateless = true;
	int err = hdrs.err ? -ENOMEM : sip_uac_send(NULL, d->ua, &p, NULL, NULL);
	sbuf_free(&hdrs);
	return err;
}

void sip_dialog_cseq_used(struct sip_dialog *d, uint32_t cseq)
{
	if (cseq > d->local_cseq)
		d->local_cseq = cseq;
}

/* A message without the peer's tag belongs in the dialog whose remote tag
 * is empty (§12.1.2); one without ours in none. */
static struct sip_dialog *find(struct sip_ua *ua, const char *call_id, const char *local_tag,
			       const char *remote_tag)
{
	if (!call_id || !local_tag)
		return NULL;
	if (!remote_tag)
		remote_tag = "";
	struct sbuf b;
	sbuf_init(&b);
	build_key(&b, call_id, local_tag, remote_tag);
	struct hnode *hn = b.err ? NULL : htab_find(&ua->dialogs, b.d);
	sbuf_free(&b);
	return hn ? container_of(hn, struct sip_dialog, hn) : NULL;
}

/* The usage a NOTIFY or SUBSCRIBE names, or NULL. */
static struct sip_dialog_usage *usage_of(struct sip_dialog *d, const struct sip_msg *req)
{
	struct le *e, *tmp;
	list_each_safe(e, tmp, &d->usages) {
		struct sip_dialog_usage *u = container_of(e, struct sip_dialog_usage, le);
		if (u->owns(u, req))
			return u;
	}
	return NULL;
}

struct sip_dialog *sip_dialog_find(struct sip_ua *ua, const char *call_id,
				   const char *local_tag, const char *remote_tag)
{
	struct sip_dialog *d = find(ua, call_id, local_tag, remote_tag);
	return d && d->h ? d : NULL;
}

bool sip_dialog_recv_request(struct sip_ua *ua, struct sip_strans *st,
			     const struct sip_msg *req)
{
	struct sip_dialog *d = find(ua, req->call_id, req->to_tag, req->from_tag);
	if (!d || !d->listed)
		return false;
	bool event = sip_method_is(req, "NOTIFY") || sip_method_is(req, "SUBSCRIBE");
	struct sip_dialog_usage *u = event ? usage_of(d, req) : NULL;
	/* RFC 6665 §4.1.3: an event request for no subscription of ours gets
	 * 481; without subscriptions of ours the session's owner may keep its
	 * own, so it sees them as any other request */
	if (!u && (!d->h || (event && d->had_usages)))
		return false;
	/* §12.2.2: a lower CSeq than the last one is out of order */
	if (d->remote_cseq && req->cseq < d->remote_cseq) {
		sip_strans_reply(st, 500, "CSeq Out of Order", NULL, NULL, 0);
		return true;
	}
	d->remote_cseq = req->cseq;
	mem_ref(d);
	if (u)
		u->request(u, st, req);
	else
		d->h->request(d->arg, st, req);
	mem_deref(d);
	return true;
}

bool sip_dialog_recv_stray(struct sip_ua *ua, const struct sip_msg *m)
{
	struct sip_dialog *d;
	if (m->request) {
		if (!sip_method_is(m, "ACK"))
			return false;
		d = find(ua, m->call_id, m->to_tag, m->from_tag);
		if (!d || !d->h || !d->h->ack)
			return false;
		mem_ref(d);
		d->h->ack(d->arg, m);
		mem_deref(d);
		return true;
	}
	if (m->status < 200 || m->status >= 300 || !m->method || strcmp(m->method, "INVITE") != 0)
		return false;
	d = find(ua, m->call_id, m->from_tag, m->to_tag);
	if (!d || !d->h || !d->h->response)
		return false;
	mem_ref(d);
	d->h->response(d->arg, m);
	mem_deref(d);
	return true;
}

void sip_dialog_reroute(struct sip_dialog *d, const struct sip_msg *resp)
{
	d->route = mem_deref(d->route);
	d->route_uri = mem_deref(d->route_uri);
	set_route(d, resp, true);
	sip_dialog_refresh(d, resp);
}
