/* Client requests of an endpoint (uac.c): a request sent in a client
 * transaction, with digest authentication when challenged (RFC 3261 §22),
 * retried after a 422 or redirected to another target; also the stateless
 * ACK for a 2xx. */
#ifndef LUASIP_UAC_H
#define LUASIP_UAC_H

#include "sip/ua.h"

struct sip_uac;

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

#endif
