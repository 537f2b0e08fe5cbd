/* The endpoint: transports in, transactions, the UAS checks of RFC 3261
 * §8.2 and the default answers, transports out. */
#include "sip/ua_priv.h"
#include "sip/dialog.h"
#include "sip/name_addr.h"
#include "sip/reg.h"
#include "sip/sdp.h"
#include "sip/sess.h"
#include "sip/sub.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Methods this library knows (RFC 3261 and its extensions); any other gets
 * 501, a known one without a handler 405 (§8.2.1). */
static const char *const known_methods[] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
	"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE", NULL,
};

/* Whether an option tag is one of SIP_SUPPORTED. */
static bool supported_option(const char *tag, size_t n)
{
	for (const char *p = SIP_SUPPORTED; *p;) {
		p += strspn(p, ", ");
		size_t len = strcspn(p, ", ");
		if (len && len == n && strncasecmp(tag, p, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static bool is_known(const char *method)
{
	for (int i = 0; known_methods[i]; i++)
		if (strcmp(known_methods[i], method) == 0)
			return true;
	return false;
}

static bool handles(struct sip_ua *ua, const char *method)
{
	return ua->h->handles && ua->h->handles(ua->arg, method);
}

/* What a call answers without a handler once there is one (sess.c). */
static bool call_method(const char *name)
{
	const struct sip_sess_method *m = sip_sess_method(name);
	return m && m->by != SIP_SESS_OWNER_OR_405;
}

const char *sip_ua_allow(struct sip_ua *ua, bool in_call)
{
	char *buf = ua->allow[in_call];
	if (buf[0])
		return buf;
	size_t size = sizeof(ua->allow[0]);
	in_call = in_call || handles(ua, "INVITE");
	size_t n = (size_t)snprintf(buf, size, "OPTIONS");
	for (int i = 0; known_methods[i] && n < size; i++)
		if (strcmp(known_methods[i], "OPTIONS") != 0 &&
		    ((in_call && call_method(known_methods[i])) || handles(ua, known_methods[i])))
			n += (size_t)snprintf(buf + n, size - n, ", %s", known_methods[i]);
	return buf;
}

void sip_ua_handlers_changed(struct sip_ua *ua)
{
	ua->allow[0][0] = ua->allow[1][0] = '\0';
}

void sip_ua_local_host(const struct sip_transport *tp, char *buf, size_t size)
{
	union sa a = tp->addr;
	if (sa_is_any(&a))
		sa_set(&a, a.sa.sa_family == AF_INET6 ? "::1" : "127.0.0.1", sa_port(&tp->addr));
	sa_hostport(&a, buf, size);
}

void sip_ua_contact_add(struct sbuf *b, const struct sip_ua *ua, const struct sip_transport *tp)
{
	char host[64];
	sip_ua_local_host(tp, host, sizeof(host));
	sbuf_cat(b, "<sip:", ua->user, "@", host, tp->proto == SIP_TCP ? ";transport=tcp>" : ">",
		 NULL);
}

bool sip_ua_contact(struct sip_ua *ua, enum sip_proto proto, int family, char *buf,
		    size_t size)
{
	struct sip_transport *tp = sip_ua_transport(ua, proto, family);
	if (!tp)
		return false;
	struct sbuf b;
	sbuf_init(&b);
	sip_ua_contact_add(&b, ua, tp);
	size_t n = b.len < size ? b.len : size - 1;
	memcpy(buf, b.d, n);
	buf[n] = '\0';
	sbuf_free(&b);
	return true;
}

static int ua_send(void *arg, const struct sip_peer *dst, const char *buf, size_t len,
		   sip_sent_h *sent_h, void *sent_arg)
{
	struct sip_ua *ua = arg;
	struct sip_transport *tp = sip_ua_transport(ua, dst->proto, dst->addr.sa.sa_family);
	if (!tp)
		return -EAFNOSUPPORT;
	if (ua->h->trace)
		ua->h->trace(ua->arg, true, dst->proto, &dst->addr, buf, len);
	return sip_tp_send(tp, dst, buf, len, sent_h, sent_arg);
}

static void reply(struct sip_strans *st, int status, const char *extra)
{
	sip_strans_reply(st, status, NULL, extra, NULL, 0);
}

/* Require (§8.2.2.3): 420 listing what we do not support. */
static bool check_require(struct sip_strans *st, const struct sip_msg *req)
{
	char unsupported[512] = "";
	size_t n = 0;
	struct sip_hdr h;
	if (sip_method_is(req, "ACK") || sip_method_is(req, "CANCEL"))
		return true;
	for (unsigned i = 0; sip_msg_hdr_id(req, SIP_HDR_REQUIRE, i, &h); i++) {
		char v[512];
		if (h.value_len >= sizeof(v))
			continue;
		sip_hdr_unfold(&h, v);
		for (char *save = NULL, *t = strtok_r(v, ", \t", &save); t;
		     t = strtok_r(NULL, ", \t", &save)) {
			if (supported_option(t, strlen(t)))
				continue;
			n += (size_t)snprintf(unsupported + n, sizeof(unsupported) - n, "%s%s",
					      n ? ", " : "", t);
			if (n >= sizeof(unsupported))
				n = sizeof(unsupported) - 1;
		}
	}
	if (n == 0)
		return true;
	char extra[600];
	snprintf(extra, sizeof(extra), "Unsupported: %s\r\n", unsupported);
	reply(st, 420, extra);
	return false;
}

/* A body of a session method must be SDP (§8.2.3); other methods' bodies are
 * the application's business. */
static bool check_content(struct sip_strans *st, const struct sip_msg *req)
{
	static const char *const session_methods[] = { "INVITE", "UPDATE", "PRACK", NULL };
	bool session = false;
	for (int i = 0; session_methods[i]; i++)
		session |= sip_method_is(req, session_methods[i]);
	if (!session || req->body_len == 0)
		return true;
	const osip_content_type_t *ct = req->content_type;
	if (ct && ct->type && ct->subtype &&
	    (sdp_is_media_type(ct->type, ct->subtype) ||
	     (strcasecmp(ct->type, "multipart") == 0 && strcasecmp(ct->subtype, "mixed") == 0)))
		return true;
	reply(st, 415, SDP_ACCEPT);
	return false;
}

/* An INVITE whose Accept rules out SDP cannot be answered (§21.4.7). */
static bool check_accept(struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_hdr h;
	bool any = false;
	if (!sip_method_is(req, "INVITE"))
		return true;
	for (unsigned i = 0; sip_msg_hdr_id(req, SIP_HDR_ACCEPT, i, &h); i++) {
		char v[512];
		if (h.value_len >= sizeof(v))
			return true;
		sip_hdr_unfold(&h, v);
		for (char *save = NULL, *t = strtok_r(v, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			t += strspn(t, " \t");
			size_t n = strcspn(t, "; \t");
			if (n == 0)
				continue;  /* an empty Accept says nothing */
			any = true;
			if ((n == strlen(SDP_MEDIA_TYPE) && strncasecmp(t, SDP_MEDIA_TYPE, n) == 0) ||
			    (n == 13 && strncasecmp(t, "application/*", 13) == 0) ||
			    (n == 3 && strncmp(t, "*/*", 3) == 0))
				return true;
		}
	}
	if (!any)
		return true;
	reply(st, 406, SDP_ACCEPT);
	return false;
}

static void answer_options(struct sip_ua *ua, struct sip_strans *st)
{
	char extra[400];
	snprintf(extra, sizeof(extra),
		 "Allow: %s\r\nAccept: " SDP_MEDIA_TYPE ", text/plain\r\n"
		 "Supported: " SIP_SUPPORTED "\r\n", sip_ua_allow(ua, false));
	reply(st, 200, extra);
}

static void on_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_ua *ua = arg;
	char extra[300];

	/* A To tag: the request belongs in a dialog, or there is none (§12.2.2) */
	if (req->to_tag) {
		if (!check_require(st, req) || !check_content(st, req))
			return;
		if (!sip_dialog_recv_request(ua, st, req))
			reply(st, 481, NULL);
		return;
	}

	if (!handles(ua, req->method) && !sip_method_is(req, "OPTIONS")) {
		if (!is_known(req->method)) {
			reply(st, 501, NULL);
			return;
		}
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", sip_ua_allow(ua, false));
		reply(st, 405, extra);
		return;
	}
	if (!req->ruri_parsed) {
		reply(st, 416, NULL);  /* §8.2.2.1: not sip or sips */
		return;
	}
	if (!check_require(st, req) || !check_content(st, req) || !check_accept(st, req))
		return;
	if (!handles(ua, req->method)) {
		answer_options(ua, st);
		return;
	}
	ua->h->request(ua->arg, st, req);
}

static void on_cancel(void *arg, struct sip_strans *st)
{
	sip_strans_cancelled(st);
}

static void on_stray(void *arg, const struct sip_msg *m)
{
	sip_dialog_recv_stray(arg, m);
}

static const struct sip_stack_ops stack_ops = {
	.send = ua_send,
	.request = on_request,
	.cancel = on_cancel,
	.stray = on_stray,
};

static void on_recv(void *arg, struct sip_transport *tp, const struct sip_peer *src,
		    const char *buf, size_t len)
{
	struct sip_ua *ua = arg;
	if (ua->closed)
		return;
	if (ua->h->trace)
		ua->h->trace(ua->arg, false, src->proto, &src->addr, buf, len);
	struct sip_msg *m = sip_msg_decode(buf, len, src->proto == SIP_TCP);
	if (!m)
		return;
	sip_peer_copy(&m->src, src);
	/* a response must have come for a request of ours: its Via is ours */
	sip_stack_recv(&ua->stack, m);
	mem_deref(m);
}

static void ua_destroy(void *arg)
{
	struct sip_ua *ua = arg;
	sip_ua_close(ua);
	htab_close(&ua->dialogs);
	sip_sess_forget_ended(ua);
	htab_close(&ua->ended_dialogs);
	mem_deref(ua->user);
	mem_deref(ua->identity);
}

int sip_ua_alloc(struct sip_ua **uap, struct sip_loop *loop, const char *identity,
		 const struct sip_ua_handlers *h, void *arg)
{
	struct sip_ua *ua = mem_alloc(sizeof(*ua), ua_destroy);
	if (!ua)
		return -ENOMEM;
	ua->loop = loop;
	ua->h = h;
	ua->arg = arg;
	ua->limits.max_msg = 65535;
	ua->limits.partial_ms = 32000;  /* 64*T1: every client has given up by then */
	list_init(&ua->transports);
	list_init(&ua->regs);
	list_init(&ua->sessions);
	list_init(&ua->subs);
	list_init(&ua->ended_list);
	ua->max_sessions = 10000;
	ua->rtp_min = 16384;
	ua->rtp_max = 32767;
	int err = htab_init(&ua->dialogs, 64);
	if (!err)
		err = htab_init(&ua->ended_dialogs, 64);
	if (!err)
		err = sip_stack_init(&ua->stack, &loop->tq, &stack_ops, ua);
	if (err) {
		ua->closed = true;
		mem_deref(ua);
		return err;
	}
	/* the user part of the identity names our Contact */
	ua->identity = mem_strdup(identity ? identity : "sip:luasip@invalid");
	const char *uri;
	size_t n = sip_name_addr_uri(ua->identity, &uri);  /* past a display name */
	const char *u = memchr(uri, ':', n);
	const char *at = u ? memchr(u, '@', n - (size_t)(u - uri)) : NULL;
	ua->user = at ? mem_strndup(u + 1, (size_t)(at - u - 1)) : mem_strdup("luasip");
	*uap = ua;
	return 0;
}

int sip_ua_listen(struct sip_ua *ua, enum sip_proto proto, const union sa *addr)
{
	struct sip_transport *tp;
	if (ua->closed)
		return -ECANCELED;
	int err = sip_tp_listen(&tp, ua->loop->uv, &ua->loop->tq, proto, addr, &ua->limits,
				on_recv, ua);
	if (err)
		return err;
	tp->loop = ua->loop;
	list_append(&ua->transports, &tp->le);
	return 0;
}

struct sip_transport *sip_ua_transport(struct sip_ua *ua, enum sip_proto proto, int family)
{
	struct le *e, *tmp;
	list_each_safe(e, tmp, &ua->transports) {
		struct sip_transport *tp = container_of(e, struct sip_transport, le);
		if (tp->proto == proto && (!family || tp->addr.sa.sa_family == family))
			return tp;
	}
	return NULL;
}

void sip_ua_close(struct sip_ua *ua)
{
	if (ua->closed || ua->closing)
		return;
	mem_ref(ua);
	/* calls still say goodbye (BYE, CANCEL) before anything closes */
	ua->closing = true;
	sip_sub_close_all(ua);
	sip_sess_close_all(ua);
	ua->closed = true;
	sip_reg_close_all(ua);
	sip_stack_close(&ua->stack);
	struct le *e, *tmp;
	list_each_safe(e, tmp, &ua->transports)
		sip_tp_close(container_of(e, struct sip_transport, le));
	mem_deref(ua);
}

/* ---- settings and state, for code outside csrc/sip ---- */

void sip_ua_set_timers(struct sip_ua *ua, uint32_t t1, uint32_t t2, uint32_t t4)
{
	ua->stack.t.t1 = t1;
	ua->stack.t.t2 = t2;
	ua->stack.t.t4 = t4;
}

void sip_ua_set_max_msg(struct sip_ua *ua, size_t max_msg)
{
	ua->limits.max_msg = max_msg;
}

void sip_ua_set_max_sessions(struct sip_ua *ua, unsigned max_sessions)
{
	ua->max_sessions = max_sessions;
}

void sip_ua_set_rtp_ports(struct sip_ua *ua, uint16_t min, uint16_t max)
{
	ua->rtp_min = min;
	ua->rtp_max = max;
}

void sip_ua_rtp_ports(const struct sip_ua *ua, uint16_t *min, uint16_t *max)
{
	*min = ua->rtp_min;
	*max = ua->rtp_max;
}

bool sip_ua_closed(const struct sip_ua *ua)
{
	return ua->closed;
}

bool sip_ua_closing(const struct sip_ua *ua)
{
	return ua->closing;
}

const char *sip_ua_identity(const struct sip_ua *ua)
{
	return ua->identity;
}
