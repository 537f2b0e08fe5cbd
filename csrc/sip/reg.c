/* Registration client (RFC 3261 §10): REGISTER with digest authentication,
 * refresh before expiry, 423 Interval Too Brief, unregistration. */
#include "sip/reg.h"
#include "sip/uac.h"
#include "sip/ua_priv.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_423_RETRIES 2

struct sip_reg {
	struct le le;               /* in ua->regs */
	struct sip_ua *ua;
	char *registrar, *aor, *user, *password;
	char call_id[33], from_tag[17];
	uint32_t cseq;
	uint32_t expires;           /* asked for */
	uint32_t granted;           /* 0 while not registered */
	bool unregistering, closed;
	unsigned retries_423;
	struct sip_uac *uac;
	struct tmr refresh;
	sip_reg_h *h;
	void *arg;
};

static int send_register(struct sip_reg *r);

static void reg_destroy(void *arg)
{
	struct sip_reg *r = arg;
	tmr_cancel(&r->refresh);
	sip_uac_release(r->uac);
	list_unlink(&r->le);
	mem_deref(r->registrar);
	mem_deref(r->aor);
	mem_deref(r->user);
	mem_deref(r->password);
}

static void on_refresh(void *arg)
{
	struct sip_reg *r = arg;
	int err = send_register(r);
	if (err && r->h)
		r->h(err, NULL, r->arg);
}

/* Refresh well before the binding expires: halfway for short ones, 30 s
 * ahead for long ones. */
static uint64_t refresh_delay_ms(uint32_t granted)
{
	uint32_t ahead = granted / 2 < 30 ? granted / 2 : 30;
	uint64_t s = granted - ahead;
	return (s ? s : 1) * 1000ull;
}

static uint32_t header_uint(const struct sip_msg *m, const char *name, uint32_t dflt)
{
	struct sip_hdr h;
	char v[32];
	if (!sip_msg_hdr(m, name, 0, &h) || h.value_len >= sizeof(v))
		return dflt;
	sip_hdr_unfold(&h, v);
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	return end != v && n <= 0xffffffffu ? (uint32_t)n : dflt;
}

/* The expiry the registrar granted our binding (§10.2.4): the expires
 * parameter of our Contact in the 200, else its Expires header. */
static uint32_t granted_expires(const struct sip_reg *r, const struct sip_msg *resp)
{
	uint32_t dflt = header_uint(resp, "Expires", r->expires);
	const osip_message_t *o = sip_msg_osip(resp);
	if (!o)
		return dflt;
	for (int i = 0; i < osip_list_size(&o->contacts); i++) {
		osip_contact_t *c = osip_list_get(&o->contacts, i);
		if (!c->url || !c->url->username || strcmp(c->url->username, r->ua->user) != 0)
			continue;
		osip_generic_param_t *p = NULL;
		if (osip_contact_param_get_byname(c, "expires", &p) == 0 && p && p->gvalue)
			return (uint32_t)strtoul(p->gvalue, NULL, 10);
	}
	return dflt;
}

static void on_response(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_reg *r = arg;
	if (!err && resp->status < 200)
		return;
	r->cseq = sip_uac_cseq(r->uac) + 1;
	sip_uac_release(r->uac);
	r->uac = NULL;

	if (!err && resp->status == 423 && !r->unregistering &&
	    r->retries_423 < MAX_423_RETRIES) {
		uint32_t min = header_uint(resp, "Min-Expires", 0);
		if (min > r->expires) {
			r->retries_423++;
			r->expires = min;
			err = send_register(r);
			if (!err)
				return;
		}
	}
	mem_ref(r);
	if (!err && resp->status >= 200 && resp->status < 300) {
		r->retries_423 = 0;
		if (r->unregistering) {
			r->granted = 0;
		} else {
			r->granted = granted_expires(r, resp);
			if (r->granted)
				tmr_start(&r->ua->loop->tq, &r->refresh,
					  refresh_delay_ms(r->granted), on_refresh, r);
		}
	} else if (!r->unregistering && r->granted) {
		/* a refresh failed: try again before the binding runs out */
		tmr_start(&r->ua->loop->tq, &r->refresh, refresh_delay_ms(r->granted) / 2,
			  on_refresh, r);
	}
	if (r->h)
		r->h(err, err ? NULL : resp, r->arg);
	mem_deref(r);
}

static int send_register(struct sip_reg *r)
{
	char headers[64];
	snprintf(headers, sizeof(headers), "Expires: %u\r\n", r->unregistering ? 0 : r->expires);
	struct sip_uac_params p = {
		.method = "REGISTER",
		.uri = r->registrar,
		.to = r->aor,
		.from = r->aor,
		.call_id = r->call_id,
		.from_tag = r->from_tag,
		.cseq = r->cseq,
		.headers = headers,
		.user = r->user,
		.password = r->password,
		.contact = true,
	};
	sip_uac_release(r->uac);
	r->uac = NULL;
	return sip_uac_send(&r->uac, r->ua, &p, on_response, r);
}

int sip_reg_start(struct sip_reg **rp, struct sip_ua *ua, const struct sip_reg_params *p,
		  sip_reg_h *h, void *arg)
{
	if (ua->closed)
		return -ECANCELED;
	struct sip_reg *r = mem_alloc(sizeof(*r), reg_destroy);
	if (!r)
		return -ENOMEM;
	list_init(&r->le);
	r->ua = ua;
	r->registrar = mem_strdup(p->registrar);
	r->user = p->user ? mem_strdup(p->user) : NULL;
	r->password = p->password ? mem_strdup(p->password) : NULL;
	if (p->aor) {
		r->aor = mem_strdup(p->aor);
	} else {
		/* sip:user@host of the registrar URI */
		osip_uri_t *u = NULL;
		char buf[256] = "";
		if (osip_uri_init(&u) == 0 && osip_uri_parse(u, p->registrar) == 0 && u->host)
			snprintf(buf, sizeof(buf), strchr(u->host, ':') ? "sip:%s@[%s]" : "sip:%s@%s",
				 p->user ? p->user : ua->user, u->host);
		if (u)
			osip_uri_free(u);
		r->aor = buf[0] ? mem_strdup(buf) : NULL;
	}
	r->expires = p->expires ? p->expires : 3600;
	r->cseq = 1;
	rand_hex(r->call_id, 32);
	rand_hex(r->from_tag, 16);
	r->h = h;
	r->arg = arg;
	if (!r->registrar || !r->aor) {
		mem_deref(r);
		return -EINVAL;
	}
	int err = send_register(r);
	if (err) {
		mem_deref(r);
		return err;
	}
	list_append(&ua->regs, &r->le);
	*rp = r;
	return 0;
}

int sip_reg_unregister(struct sip_reg *r)
{
	if (r->closed)
		return -ECANCELED;
	tmr_cancel(&r->refresh);
	r->unregistering = true;
	return send_register(r);
}

uint32_t sip_reg_expires(const struct sip_reg *r)
{
	return r->granted;
}

void sip_reg_close(struct sip_reg *r)
{
	if (!r)
		return;
	r->closed = true;
	r->h = NULL;
	tmr_cancel(&r->refresh);
	sip_uac_release(r->uac);
	r->uac = NULL;
	list_unlink(&r->le);
	mem_deref(r);
}

/* The endpoint closes: registrations stop and their owners hear it. */
void sip_reg_close_all(struct sip_ua *ua)
{
	struct le *e, *tmp;
	list_each_safe(e, tmp, &ua->regs) {
		struct sip_reg *r = container_of(e, struct sip_reg, le);
		list_unlink(&r->le);
		r->closed = true;
		tmr_cancel(&r->refresh);
		sip_uac_release(r->uac);
		r->uac = NULL;
		if (r->h)
			r->h(-ECANCELED, NULL, r->arg);
	}
}
