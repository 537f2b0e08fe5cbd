/* Subscriptions (RFC 6665) in a dialog: for now the implicit one a REFER
 * sets up (RFC 3515), on both sides, with RFC 4488's Refer-Sub: false.
 *
 * A subscription is a usage of its dialog (RFC 5057, dialog.h): the dialog
 * stays while it lives, even after the call's BYE. It is told apart from
 * the others of its dialog by its Event: package "refer" and id, the CSeq
 * number of its REFER. Our NOTIFYs always carry the id (RFC 3515 §2.4.6
 * allows it on the first REFER's too), so a peer never has to guess; a
 * NOTIFY of the peer without one is the dialog's first live refer
 * subscription's.
 *
 * The subscriber (we sent the REFER) hears each NOTIFY's sipfrag status
 * line; the notifier (we accepted one) says the status of the referred
 * request with sip_sub_notify, a final one ending the subscription. */
#ifndef LUASIP_SUB_H
#define LUASIP_SUB_H

#include "sip/dialog.h"

struct sip_sub;

/* How long an accepted REFER's subscription lasts unless the owner says
 * (s): long enough for a referred INVITE to ring out. */
#define SIP_SUB_REFER_EXPIRES 180

/* Why a subscription ended. */
enum sip_sub_end {
	SIP_SUB_END_NONE = 0,
	SIP_SUB_DONE,               /* the terminated NOTIFY went (notifier) or
	                               came (subscriber) */
	SIP_SUB_NO_SUBSCRIPTION,    /* subscriber: the REFER's 2xx said
	                               Refer-Sub: false; the 2xx is the outcome */
	SIP_SUB_REFUSED,            /* subscriber: the REFER got status >= 300 */
	SIP_SUB_EXPIRED,            /* its expiry passed without a refresh */
	SIP_SUB_TIMEOUT,            /* subscriber: no NOTIFY in time (the first
	                               within 64*T1, the final within the
	                               owner's timeout); no answer to a request */
	SIP_SUB_GONE,               /* our NOTIFY got 481 (status), or another
	                               error answer */
	SIP_SUB_FAILED,             /* a request could not go (transport) */
	SIP_SUB_CLOSED,             /* the endpoint closed, or the owner let go */
};

struct sip_sub_handlers {
	/* Subscriber: a NOTIFY's sipfrag, the status line of the referred
	 * request; final when the NOTIFY terminated the subscription. A
	 * NOTIFY whose body is no sipfrag status line has status 0. */
	void (*notified)(void *arg, int status, const char *reason, bool final);
	/* The end, once. status: the answer that ended it where there is one
	 * (the REFER's refusal or 2xx, a NOTIFY's error answer), else 0. */
	void (*ended)(void *arg, enum sip_sub_end why, int status);
};

struct sip_refer_params {
	const char *refer_to;       /* a URI (sent in <>) or a name-addr */
	const char *referred_by;    /* default: our URI in the dialog */
	bool no_subscription;       /* Refer-Sub: false (RFC 4488) */
	uint32_t timeout;           /* ms for the final NOTIFY after the 2xx;
	                               0: the subscription's expiry alone */
	const char *user, *password;  /* for a challenge to the REFER */
};

/* Subscriber: sends a REFER in the dialog. *sp gets the owner's reference;
 * h hears its NOTIFYs and its end. */
int sip_sub_refer(struct sip_sub **sp, struct sip_dialog *d, const struct sip_refer_params *p,
		  const struct sip_sub_handlers *h, void *arg);

/* Notifier: accepts a REFER that came in the dialog (st its transaction),
 * for expires s (0: SIP_SUB_REFER_EXPIRES): 202 and NOTIFY "100 Trying".
 * A REFER with Refer-Sub: false gets 200 with Refer-Sub: false and no
 * subscription (*sp NULL). One without exactly one Refer-To gets 400 and
 * -EBADMSG. h hears the end. */
int sip_sub_accept_refer(struct sip_sub **sp, struct sip_dialog *d, struct sip_strans *st,
			 const struct sip_msg *req, uint32_t expires,
			 const struct sip_sub_handlers *h, void *arg);
/* Notifier: a NOTIFY with the status line of the referred request; a
 * final status (>= 200) makes it the terminated one (reason=noresource)
 * and ends the subscription. While a NOTIFY awaits its answer the next one
 * waits (RFC 6665 §4.2.2), the latest status replacing an earlier one. */
int sip_sub_notify(struct sip_sub *s, int status, const char *reason);

/* The REFER's CSeq number, the id= of its Event. */
uint32_t sip_sub_id(const struct sip_sub *s);
bool sip_sub_active(const struct sip_sub *s);
/* The owner lets go: no more callbacks; a live subscription ends (a
 * notifier's with a terminated NOTIFY of its last status). */
void sip_sub_release(struct sip_sub *s);
/* The endpoint closes: every subscription ends (SIP_SUB_CLOSED). */
void sip_sub_close_all(struct sip_ua *ua);
const char *sip_sub_end_name(enum sip_sub_end why);

/* The status line of a message/sipfrag body (RFC 3420): status, and the
 * reason phrase copied into reason; false when it has none. */
bool sip_sipfrag_status(const char *body, size_t len, int *status, char *reason,
			size_t reason_size);

#endif
