/* An endpoint (user agent): transports, the transaction layer, the checks a
 * UAS makes before the application sees a request (RFC 3261 §8.2), our
 * Contact and Allow. Client requests are in uac.h, registration in reg.h. */
#ifndef LUASIP_UA_H
#define LUASIP_UA_H

#include "sip/loop.h"
#include "sip/stack.h"
#include "sip/transport.h"

struct sip_ua;

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

#endif
