/* Dialogs (RFC 3261 §12): the peer-to-peer relation an INVITE sets up.
 * A dialog is found by Call-ID and both tags in its endpoint's table; it
 * composes the requests sent in it (Request-URI and Route from the remote
 * target and the route set, strict routers included; CSeq counting up) and
 * hands what comes in it to its usages (RFC 5057): NOTIFY and SUBSCRIBE to
 * the subscription they name (sub.c), the other requests, ACKs and stray 2xx
 * retransmissions to the INVITE session. It stays in the table while any
 * usage holds it. */
#ifndef LUASIP_DIALOG_H
#define LUASIP_DIALOG_H

#include "sip/uac.h"

struct sip_dialog;

struct sip_dialog_handlers {
	/* A request in the dialog (CSeq checked); the owner answers st. */
	void (*request)(void *arg, struct sip_strans *st, const struct sip_msg *req);
	/* An ACK for a 2xx of ours. */
	void (*ack)(void *arg, const struct sip_msg *ack);
	/* A 2xx to our INVITE that no transaction took (a retransmission). */
	void (*response)(void *arg, const struct sip_msg *resp);
};

/* A usage of a dialog other than its INVITE session: a subscription. */
struct sip_dialog_usage {
	struct le le;               /* in the dialog's list */
	/* Whether a NOTIFY or SUBSCRIBE in the dialog is this usage's. */
	bool (*owns)(struct sip_dialog_usage *u, const struct sip_msg *req);
	/* Such a request (CSeq checked); the usage answers st. */
	void (*request)(struct sip_dialog_usage *u, struct sip_strans *st,
			const struct sip_msg *req);
};

struct sip_dialog {
	struct hnode hn;
	char *key;                  /* Call-ID, local tag, remote tag */
	struct sip_ua *ua;
	char *call_id;
	char *local_tag, *remote_tag;   /* remote_tag "": the peer sent none */
	char *local;                /* our From value, tag included */
	char *remote;               /* their To value, with their tag if any */
	char *target;               /* remote target URI (Contact) */
	char *route;                /* Route header lines (CRLF-ended) or NULL;
	                               with a strict router, the route set after it */
	char *route_uri;            /* the first route, where requests go: their
	                               next hop, or their Request-URI when strict */
	bool strict;                /* the first route is a strict router (no ;lr) */
	uint32_t local_cseq;
	uint32_t remote_cseq;       /* 0: none seen */
	bool listed;                /* in the endpoint's table */
	const struct sip_dialog_handlers *h;   /* the session; NULL once it let go */
	void *arg;
	struct le usages;           /* struct sip_dialog_usage */
	bool had_usages;            /* a subscription of ours was ever in it */
};

/* The UAC side: from a response to our INVITE; one without a To tag makes
 * a dialog with an empty remote tag, which takes the peer's requests that
 * have no From tag (§12.1.2). */
int sip_dialog_from_response(struct sip_dialog **dp, struct sip_ua *ua,
			     const struct sip_msg *resp, const struct sip_dialog_handlers *h,
			     void *arg);
/* The UAS side: from the INVITE and the To tag of our answers. */
int sip_dialog_from_request(struct sip_dialog **dp, struct sip_ua *ua,
			    const struct sip_msg *req, const char *local_tag,
			    const struct sip_dialog_handlers *h, void *arg);
/* The session lets go: no more callbacks to it; drops its reference. The
 * dialog leaves the table now, or with its last other usage. */
void sip_dialog_close(struct sip_dialog *d);
/* A usage joins the dialog (and holds a reference to it) or leaves it;
 * the dialog leaves the table with its last usage. */
void sip_dialog_use(struct sip_dialog *d, struct sip_dialog_usage *u);
void sip_dialog_unuse(struct sip_dialog *d, struct sip_dialog_usage *u);
/* A target refresh (RFC 3261 §12.2): the Contact of a re-INVITE, UPDATE or
 * their 2xx becomes the remote target. */
void sip_dialog_refresh(struct sip_dialog *d, const struct sip_msg *m);
/* The 2xx that confirms an early dialog of ours sets its route set and
 * target anew (RFC 3261 §13.2.2.4). */
void sip_dialog_reroute(struct sip_dialog *d, const struct sip_msg *resp);

/* Sends a request in the dialog (the next CSeq). extra holds header lines,
 * body its Content-Type line among them. *up as with sip_uac_send. */
int sip_dialog_request(struct sip_dialog *d, struct sip_uac **up, const char *method,
		       const char *extra, const char *body, size_t body_len,
		       const char *user, const char *password, sip_uac_h *h, void *arg);
/* The ACK for a 2xx to the INVITE of CSeq cseq (RFC 3261 §13.2.2.4): no
 * transaction, sent again for every retransmitted 2xx. */
int sip_dialog_ack(struct sip_dialog *d, uint32_t cseq, const char *extra, const char *body,
		   size_t body_len);
/* After a request that answered challenges: its CSeq went up. */
void sip_dialog_cseq_used(struct sip_dialog *d, uint32_t cseq);

/* The dialog of Call-ID call_id with our tag local_tag and the peer's
 * remote_tag, or NULL (a Replaces header names one so, RFC 3891 §3). */
struct sip_dialog *sip_dialog_find(struct sip_ua *ua, const char *call_id,
				   const char *local_tag, const char *remote_tag);

/* The receive side (ua.c): a request with a To tag, an ACK, a response that
 * matched no transaction. false when no dialog took it. */
bool sip_dialog_recv_request(struct sip_ua *ua, struct sip_strans *st,
			     const struct sip_msg *req);
bool sip_dialog_recv_stray(struct sip_ua *ua, const struct sip_msg *m);

/* A URI as a mem string; as a Request-URI (§19.1.1, Table 1) without its
 * method parameter and its headers (a route set entry, a 3xx's Contact). */
char *sip_uri_dup(const osip_uri_t *u, bool request_uri);
/* A Contact's q (RFC 3261 §20.10) in thousandths: "0.5" is 500; none, or
 * one out of range or malformed, is 1000 (q=1.0). */
unsigned sip_contact_q(const osip_contact_t *c);

#endif
