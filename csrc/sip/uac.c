/* Client requests outside a dialog: compose, send through a client
 * transaction, answer digest challenges (RFC 3261 §8.1, §22.2). */
#include "sip/uac.h"
#include "sip/auth.h"
#include "sip/uri_headers.h"
#include "sip/ua_priv.h"
#include "util/mem.h"
#include "util/rand.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_AUTH_TRIES 3
#define UDP_SIZE_LIMIT 1300    /* RFC 3261 §18.1.1 */

struct sip_uac {
	struct sip_ua *ua;
	char *method, *uri, *to, *from, *call_id, *from_tag, *headers, *body, *next_hop;
	size_t body_len;
	char *user, *password;
	bool contact;
	bool stateless;
	uint32_t cseq;
	struct sip_peer dst;
	bool explicit_transport;
	struct sip_ctrans *ct;
	char *sent;                 /* the request last sent (mem, shared with ct) */
	size_t sent_len;
	struct sip_challenge chal;
	bool have_chal;
	unsigned auth_tries;
	uint32_t nc;
	sip_uac_h *h;
	void *arg;
};

static void uac_destroy(void *arg)
{
	struct sip_uac *u = arg;
	sip_ctrans_release(u->ct);
	mem_deref(u->sent);
	mem_deref(u->method);
	mem_deref(u->uri);
	mem_deref(u->next_hop);
	mem_deref(u->to);
	mem_deref(u->from);
	mem_deref(u->call_id);
	mem_deref(u->from_tag);
	mem_deref(u->headers);
	mem_deref(u->body);
	mem_deref(u->user);
	mem_deref(u->password);
	sip_peer_clear(&u->dst);
}

int sip_uri_dest(const char *uri, struct sip_peer *dst, bool *explicit_transport)
{
	osip_uri_t *u = NULL;
	int err = -EINVAL;
	memset(dst, 0, sizeof(*dst));
	*explicit_transport = false;
	if (osip_uri_init(&u) != 0 || osip_uri_parse(u, uri) != 0 || !u->host || !u->scheme)
		goto out;
	if (strcasecmp(u->scheme, "sip") != 0) {
		err = -EPROTONOSUPPORT;  /* sips needs TLS */
		goto out;
	}
	unsigned long port = 5060;
	if (u->port && *u->port) {
		char *end;
		port = strtoul(u->port, &end, 10);
		if (*end || port == 0 || port > 65535)
			goto out;
	}
	const char *host = strcasecmp(u->host, "localhost") == 0 ? "127.0.0.1" : u->host;
	if (sa_set(&dst->addr, host, (uint16_t)port) != 0) {
		err = -EHOSTUNREACH;  /* names are not resolved (no DNS here) */
		goto out;
	}
	dst->proto = SIP_UDP;
	osip_uri_param_t *tp = NULL;
	if (osip_uri_uparam_get_byname(u, "transport", &tp) == 0 && tp && tp->gvalue) {
		if (sip_proto_parse(tp->gvalue, &dst->proto) != 0) {
			err = -EPROTONOSUPPORT;
			goto out;
		}
		*explicit_transport = true;
	}
	err = 0;
out:
	if (u)
		osip_uri_free(u);
	return err;
}

static char *compose(struct sip_uac *u, const struct sip_transport *tp, const char *branch,
		     size_t *len)
{
	struct sbuf b;
	char host[64], auth[1024] = "";
	sip_ua_local_host(tp, host, sizeof(host));
	if (u->have_chal && u->user &&
	    sip_auth_header(&u->chal, u->user, u->password ? u->password : "", u->method, u->uri,
			    u->body, u->body_len, ++u->nc, auth, sizeof(auth)) != 0)
		auth[0] = '\0';

	sbuf_init(&b);
	sbuf_printf(&b, "%s %s SIP/2.0\r\n", u->method, u->uri);
	sbuf_printf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", sip_proto_name(tp->proto),
		    host, branch);
	sbuf_puts(&b, "Max-Forwards: 70\r\n");
	if (*u->from_tag && strchr(u->from, '<'))
		/* "Display Name" <uri> (name_addr.c checked it) */
		sbuf_printf(&b, "From: %s;tag=%s\r\n", u->from, u->from_tag);
	else if (*u->from_tag)
		sbuf_printf(&b, "From: <%s>;tag=%s\r\n", u->from, u->from_tag);
	else
		sbuf_printf(&b, "From: %s\r\n", u->from);  /* a dialog's, tag and all */
	if (u->to[0] == '<' || strchr(u->to, '<'))
		sbuf_printf(&b, "To: %s\r\n", u->to);
	else
		sbuf_printf(&b, "To: <%s>\r\n", u->to);
	sbuf_printf(&b, "Call-ID: %s\r\nCSeq: %u %s\r\n", u->call_id, u->cseq, u->method);
	if (u->contact) {
		sbuf_puts(&b, "Contact: ");
		sip_ua_contact_add(&b, u->ua, tp);
		sbuf_puts(&b, "\r\n");
	}
	if (strcmp(u->method, "INVITE") == 0 || strcmp(u->method, "UPDATE") == 0) {
		sbuf_puts(&b, "Allow: ");
		sbuf_puts(&b, sip_ua_allow(u->ua, true));
		sbuf_puts(&b, "\r\nSupported: " SIP_SUPPORTED "\r\n");
	}
	sbuf_puts(&b, auth);
	if (u->headers)
		sbuf_puts(&b, u->headers);
	sbuf_puts(&b, "User-Agent: luasip\r\n");
	sbuf_printf(&b, "Content-Length: %zu\r\n\r\n", u->body_len);
	if (u->body_len)
		sbuf_add(&b, u->body, u->body_len);
	return sbuf_take(&b, len);
}

static void on_response(int err, const struct sip_msg *resp, void *arg);

static int send_request(struct sip_uac *u)
{
	struct sip_ua *ua = u->ua;
	int family = u->dst.addr.sa.sa_family;
	struct sip_transport *tp = sip_ua_transport(ua, u->dst.proto, family);
	if (!tp)
		return -EAFNOSUPPORT;
	char branch[24] = "z9hG4bK";
	rand_hex(branch + 7, 16);
	size_t len;
	char *text = compose(u, tp, branch, &len);
	if (!text)
		return -ENOMEM;
	if (len > UDP_SIZE_LIMIT && u->dst.proto == SIP_UDP && !u->explicit_transport) {
		struct sip_transport *tcp = sip_ua_transport(ua, SIP_TCP, family);
		if (tcp) {
			mem_deref(text);
			u->dst.proto = SIP_TCP;
			u->nc -= u->have_chal && u->user ? 1 : 0;
			text = compose(u, tcp, branch, &len);
			if (!text)
				return -ENOMEM;
		}
	}
	if (u->stateless) {
		int err = ua->stack.ops->send(ua->stack.arg, &u->dst, text, len, NULL, NULL);
		mem_deref(text);
		return err;
	}
	sip_ctrans_release(u->ct);
	u->ct = NULL;
	mem_deref(u->sent);
	u->sent = mem_ref(text);
	u->sent_len = len;
	return sip_ctrans_start(&u->ct, &ua->stack, &u->dst, u->method, branch, text, len,
				on_response, u);
}

static void deliver(struct sip_uac *u, int err, const struct sip_msg *resp)
{
	if (u->h)
		u->h(err, resp, u->arg);
}

/* The same request as a new transaction (§8.1.3.5, §22.2): the next CSeq
 * and a new branch (send_request makes one). */
static int send_again(struct sip_uac *u)
{
	u->cseq++;
	return send_request(u);
}

static void on_response(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_uac *u = arg;
	if (err || resp->status < 200) {
		deliver(u, err, resp);
		return;
	}
	if ((resp->status == 401 || resp->status == 407) && u->user &&
	    u->auth_tries < MAX_AUTH_TRIES) {
		struct sip_challenge c;
		/* a new challenge after our answer means the password was
		 * wrong, unless the server says the nonce was stale */
		if (sip_challenge_parse(resp, &c) == 0 && (u->auth_tries == 0 || c.stale)) {
			u->chal = c;
			u->have_chal = true;
			u->nc = 0;
			u->auth_tries++;
			mem_ref(u);
			int e = send_again(u);
			if (e)
				deliver(u, e, NULL);
			mem_deref(u);
			return;
		}
	}
	deliver(u, 0, resp);
}

static char *dup_or(const char *s, const char *dflt)
{
	return mem_strdup(s ? s : dflt);
}

/* The headers a request takes from its URI (§19.1.5) after those of the
 * caller; the URI's body when the request has none of its own (an
 * INVITE's body is its offer, so it takes none). */
static int take_uri_headers(struct sip_uac *u, const struct sip_uac_params *p,
			    struct sip_uri_headers *uh)
{
	if (uh->body && (p->body_len || strcmp(p->method, "INVITE") == 0))
		return -EINVAL;
	if (uh->lines) {
		struct sbuf b;
		sbuf_init(&b);
		sbuf_cat(&b, p->headers ? p->headers : "", uh->lines, NULL);
		u->headers = sbuf_take(&b, NULL);
		if (!u->headers)
			return -ENOMEM;
	}
	if (uh->body) {
		u->body = mem_ref(uh->body);
		u->body_len = uh->body_len;
	}
	return 0;
}

int sip_uac_send(struct sip_uac **up, struct sip_ua *ua, const struct sip_uac_params *p,
		 sip_uac_h *h, void *arg)
{
	if (ua->closed)
		return -ECANCELED;
	struct sip_uac *u = mem_alloc(sizeof(*u), uac_destroy);
	if (!u)
		return -ENOMEM;
	/* the Request-URI, where the request goes and its default To are the
	 * URI without its headers, which become header fields. A request in
	 * a dialog (its From is the dialog's) goes to the remote target as
	 * the peer gave it (§12.2.1.1): what the peer wrote is no wish of
	 * ours to add header fields. */
	bool in_dialog = p->from_tag && !*p->from_tag;
	struct sip_uri_headers uh = { 0 };
	int err;
	if (in_dialog)
		err = (uh.uri = mem_strdup(p->uri)) ? 0 : -ENOMEM;
	else
		err = sip_uri_headers_split(p->uri, &uh, NULL, 0);
	if (err)
		goto out;
	err = sip_uri_dest(p->next_hop ? p->next_hop : uh.uri, &u->dst, &u->explicit_transport);
	if (!err)
		err = take_uri_headers(u, p, &uh);
	if (err)
		goto out;
	char call_id[33], tag[17];
	rand_hex(call_id, 32);
	rand_hex(tag, 16);
	u->ua = ua;
	u->method = mem_strdup(p->method);
	u->uri = mem_ref(uh.uri);
	u->next_hop = p->next_hop ? mem_strdup(p->next_hop) : NULL;
	u->to = dup_or(p->to, uh.uri);
	u->from = dup_or(p->from, ua->identity);
	u->call_id = dup_or(p->call_id, call_id);
	u->from_tag = dup_or(p->from_tag, tag);
	if (!u->headers)
		u->headers = p->headers ? mem_strdup(p->headers) : NULL;
	if (!u->body) {
		u->body = p->body_len ? mem_strndup(p->body, p->body_len) : NULL;
		u->body_len = p->body_len;
	}
	u->user = p->user ? mem_strdup(p->user) : NULL;
	u->password = p->password ? mem_strdup(p->password) : NULL;
	u->contact = p->contact;
	u->stateless = p->stateless;
	u->cseq = p->cseq ? p->cseq : 1;
	u->h = h;
	u->arg = arg;
	if (!u->method || !u->uri || !u->to || !u->from || !u->call_id || !u->from_tag) {
		err = -ENOMEM;
		goto out;
	}
	err = send_request(u);
out:
	sip_uri_headers_free(&uh);
	if (err || p->stateless) {
		mem_deref(u);
		return err;
	}
	*up = u;
	return 0;
}

int sip_uac_cancel(struct sip_uac *u)
{
	return u->ct ? sip_ctrans_cancel(u->ct) : -EALREADY;
}

int sip_uac_retry(struct sip_uac *u, const char *headers)
{
	char *h = headers ? mem_strdup(headers) : NULL;
	if (headers && !h)
		return -ENOMEM;
	mem_deref(u->headers);
	u->headers = h;
	return send_again(u);
}

int sip_uac_redirect(struct sip_uac *u, const char *uri)
{
	struct sip_peer dst;
	bool explicit_transport;
	int err = sip_uri_dest(uri, &dst, &explicit_transport);
	if (err)
		return err;
	char *copy = mem_strdup(uri);
	if (!copy) {
		sip_peer_clear(&dst);
		return -ENOMEM;
	}
	mem_deref(u->uri);
	u->uri = copy;
	mem_deref(u->next_hop);
	u->next_hop = NULL;
	sip_peer_clear(&u->dst);
	u->dst = dst;
	u->explicit_transport = explicit_transport;
	/* a new target challenges us afresh: its realm and nonce are its own */
	u->have_chal = false;
	u->auth_tries = 0;
	u->nc = 0;
	return send_again(u);
}

const char *sip_uac_headers(const struct sip_uac *u)
{
	return u->headers;
}

void sip_uac_release(struct sip_uac *u)
{
	if (!u)
		return;
	u->h = NULL;
	mem_deref(u);
}

const char *sip_uac_sent(const struct sip_uac *u, size_t *len)
{
	*len = u->sent ? u->sent_len : 0;
	return u->sent;
}

const char *sip_uac_from_tag(const struct sip_uac *u)
{
	return u->from_tag;
}

uint32_t sip_uac_cseq(const struct sip_uac *u)
{
	return u->cseq;
}

const char *sip_uac_call_id(const struct sip_uac *u)
{
	return u->call_id;
}
