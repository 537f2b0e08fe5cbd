/* An endpoint (user agent): transports, the transaction layer, the checks a
 * UAS makes before the application sees a request (RFC 3261 §8.2), our
 * Contact and Allow. Client requests are in uac.h, registration in reg.h.
 * struct sip_ua is in ua_priv.h, for the files of csrc/sip; code outside
 * them uses the functions here. */
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

/* The endpoint's settings, as ua:timers, ua:max_message, ua:max_calls and
 * ua:rtp_ports set them. Timers in ms (RFC 3261 §17.1.1.1); the limits
 * apply to transports opened from then on; an INVITE beyond max_sessions
 * calls in progress gets 503; RTP ports come from [min, max]. */
void sip_ua_set_timers(struct sip_ua *ua, uint32_t t1, uint32_t t2, uint32_t t4);
void sip_ua_set_max_msg(struct sip_ua *ua, size_t max_msg);
void sip_ua_set_max_sessions(struct sip_ua *ua, unsigned max_sessions);
void sip_ua_set_rtp_ports(struct sip_ua *ua, uint16_t min, uint16_t max);
void sip_ua_rtp_ports(const struct sip_ua *ua, uint16_t *min, uint16_t *max);
/* Closed: sip_ua_close was called. Closing: sip_ua_close is ending the
 * calls right now. */
bool sip_ua_closed(const struct sip_ua *ua);
bool sip_ua_closing(const struct sip_ua *ua);
/* The default From given to sip_ua_alloc, or NULL. */
const char *sip_ua_identity(const struct sip_ua *ua);

#endif
