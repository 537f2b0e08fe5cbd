/* An endpoint (user agent): transports, the transaction layer, the checks a
 * UAS makes before the application sees a request (RFC 3261 §8.2), client
 * requests with digest authentication (uac.c) and registration (reg.c). */
#ifndef LUASIP_UA_H
#define LUASIP_UA_H

#include "sip/auth.h"
#include "sip/loop.h"
#include "sip/stack.h"
#include "sip/transport.h"

struct sip_ua;
struct sip_uac;
struct sip_reg;

/* The option tags we support, in one place: what Supported says (in
 * OPTIONS answers, our INVITEs and UPDATEs and their 2xx) and what a
 * request may Require without a 420. Reliable provisional responses
 * (RFC 3262), an INVITE that replaces a call (RFC 3891) and session
 * timers (RFC 4028), all for calls; REFER without its implicit
 * subscription (RFC 4488, sub.c). */
#define SIP_SUPPORTED "100rel, norefersub, replaces, timer"

struct sip_ua_handlers {
	/* A request that passed the UA checks, for the application. */
	void (*request)(void *arg, struct sip_strans *st, const struct sip_msg *req);
	/* Whether the application handles method (it then goes to request). */
	bool (*handles)(void *arg, const char *method);
	/* Every message in and out, for sip.trace; may be NULL. */
	void (*trace)(void *arg, bool out, enum sip_proto proto, const union sa *peer,
		      const char *buf, size_t len);
};


struct sip_ua {
	struct sip_loop *loop;
	struct sip_stack stack;
	struct le transports;
	const struct sip_ua_handlers *h;
	void *arg;
	struct sip_tp_limits limits;  /* for transports opened from now on */
	char *user;                 /* user part for Contact */
	char *identity;             /* default From: a URI or "Name" <URI> */
	bool closed;
	bool closing;               /* sip_ua_close is ending the calls */
	struct le regs;             /* active registrations */
	struct htab dialogs;        /* struct sip_dialog, by Call-ID and tags */
	struct le sessions;         /* struct sip_sess that are not over */
	struct le subs;             /* struct sip_sub that are not over (sub.c) */
	struct htab ended_dialogs;  /* dialogs of calls that ended lately, by
	                               Call-ID and tags (sess_replace.c) */
	struct le ended_list;       /* the same, oldest first */
	unsigned nended;
	unsigned nsessions, max_sessions;  /* an INVITE beyond the limit gets 503 */
	uint16_t rtp_min, rtp_max;  /* the range RTP ports come from */
	/* The Allow values made from the handlers, outside and inside a
	 * call; "" until made, and again when the handlers change (every
	 * 2xx of a call carries one). */
	char allow[2][128];
};

int sip_ua_alloc(struct sip_ua **uap, struct sip_loop *loop, const char *identity,
		 const struct sip_ua_handlers *h, void *arg);
int sip_ua_listen(struct sip_ua *ua, enum sip_proto proto, const union sa *addr);
/* The first transport of proto (and address family, 0 for any). */
struct sip_transport *sip_ua_transport(struct sip_ua *ua, enum sip_proto proto, int family);
/* Ends registrations and transactions (their owners hear -ECANCELED) and
 * closes the transports. The memory goes with the last reference. */
void sip_ua_close(struct sip_ua *ua);
/* The methods the UA answers, for Allow headers: those with a handler, and
 * the ones of a call when it takes calls or in_call. */
const char *sip_ua_allow(struct sip_ua *ua, bool in_call);
/* To be called when the handlers change what they handle. */
void sip_ua_handlers_changed(struct sip_ua *ua);
/* Our address as Via and Contact give it for transport tp: its own, or
 * loopback when it listens on every address. */
void sip_ua_local_host(const struct sip_transport *tp, char *buf, size_t size);
/* Our Contact value, the one place that makes it: "<sip:user@host:port>",
 * with ";transport=tcp" inside the brackets for TCP, host as
 * sip_ua_local_host gives it; appended to b for the transport tp. */
struct sbuf;
void sip_ua_contact_add(struct sbuf *b, const struct sip_ua *ua, const struct sip_transport *tp);
/* The same into buf for the transport of proto and the address family (0:
 * any); false when the endpoint has no such transport. */
bool sip_ua_contact(struct sip_ua *ua, enum sip_proto proto, int family, char *buf,
		    size_t size);

/* ---- client requests (uac.c) ---- */

struct sip_uac_params {
	const char *method;
	const char *uri;            /* Request-URI and where it goes */
	const char *to;             /* To header value; default <uri> */
	const char *from;           /* From URI, or a whole name-addr with its
	                               tag when from_tag is ""; default the UA's
	                               identity */
	const char *next_hop;       /* where it goes when not to uri (a loose
	                               route, RFC 3261 §12.2.1.1) */
	const char *call_id;        /* default: a new one */
	const char *from_tag;       /* default: a new one */
	uint32_t cseq;              /* default 1 */
	const char *headers;        /* extra header lines, each CRLF-ended */
	const char *body;
	size_t body_len;
	const char *user, *password;/* credentials for 401/407 */
	bool contact;               /* add our Contact */
	bool stateless;             /* send once without a transaction (the ACK
	                               for a 2xx); sip_uac_send sets no *up */
};

/* Called for provisional responses (err 0, status < 200) and once with the
 * final outcome: a final response, or err < 0 and resp NULL. */
typedef void (sip_uac_h)(int err, const struct sip_msg *resp, void *arg);

int sip_uac_send(struct sip_uac **up, struct sip_ua *ua, const struct sip_uac_params *p,
		 sip_uac_h *h, void *arg);
/* No more callbacks; the transaction finishes by itself. */
void sip_uac_release(struct sip_uac *u);
uint32_t sip_uac_cseq(const struct sip_uac *u);   /* the CSeq last sent */
/* The text of the request last sent (a retry's after a challenge), or NULL. */
const char *sip_uac_sent(const struct sip_uac *u, size_t *len);
/* Our From tag; "" when the From is a dialog's, tag and all. */
const char *sip_uac_from_tag(const struct sip_uac *u);
const char *sip_uac_call_id(const struct sip_uac *u);
/* CANCEL for an INVITE that had a provisional answer (see sip_ctrans_cancel). */
int sip_uac_cancel(struct sip_uac *u);
/* The request again as a new transaction, the way a 401 is answered: same
 * Call-ID and From tag, the next CSeq, a new branch; headers (extra lines,
 * as in sip_uac_params) replace the old ones. For a final answer that asks
 * for a change (422 Session Interval Too Small), from its callback. */
int sip_uac_retry(struct sip_uac *u, const char *headers);
const char *sip_uac_headers(const struct sip_uac *u);
/* The request again as a new transaction to another Request-URI (a target
 * of a 3xx, RFC 3261 §8.1.3.4): as sip_uac_retry, with the credentials
 * kept and a challenge of the old target forgotten. */
int sip_uac_redirect(struct sip_uac *u, const char *uri);

/* Resolves a SIP URI to where a request for it goes (numeric hosts and
 * localhost; port 5060 by default; ;transport=udp|tcp). */
int sip_uri_dest(const char *uri, struct sip_peer *dst, bool *explicit_transport);

/* ---- registration (reg.c) ---- */

struct sip_reg_params {
	const char *registrar;      /* Request-URI of the REGISTER */
	const char *aor;            /* To and From; default sip:user@registrar-host */
	const char *user, *password;
	uint32_t expires;           /* seconds asked for */
};

/* Each outcome: the first registration, every refresh, the unregistration.
 * err < 0 (no answer, transport) or status >= 300 is a failure. */
typedef void (sip_reg_h)(int err, const struct sip_msg *resp, void *arg);

int sip_reg_start(struct sip_reg **rp, struct sip_ua *ua, const struct sip_reg_params *p,
		  sip_reg_h *h, void *arg);
/* Sends Expires: 0 for our Contact; the outcome goes to the handler. */
int sip_reg_unregister(struct sip_reg *r);
uint32_t sip_reg_expires(const struct sip_reg *r);  /* granted, 0 if none */
/* Stops refreshing, says nothing more; drops the owner's reference. */
void sip_reg_close(struct sip_reg *r);
/* The endpoint closes: each registration stops, its owner hears -ECANCELED. */
void sip_reg_close_all(struct sip_ua *ua);

#endif
