/* The insides of INVITE sessions: what the sess_*.c files share and
 * nobody else calls. What a session offers its owner and the endpoint is in
 * sess.h. */
#ifndef LUASIP_SESS_PRIV_H
#define LUASIP_SESS_PRIV_H

#include "sip/sess.h"
#include "sip/ua_priv.h"

/* A new session, listed in the endpoint; one reference for the owner. */
struct sip_sess *sess_alloc(struct sip_ua *ua, const union sa *rtp,
			    const struct sip_sess_handlers *h, void *arg);
void sess_end(struct sip_sess *s, enum sip_sess_end why, int status, const char *reason,
	      const struct sip_msg *msg);
extern const struct sip_dialog_handlers sess_dialog_handlers;
/* The URI of a name-addr ("Bob" <sip:b@h>;tag=1 -> sip:b@h), a mem string. */
char *sess_uri_of(const char *v);
/* The SDP of a message: true when it has a body of SDP_MEDIA_TYPE. */
bool sess_has_sdp(const struct sip_msg *m);
void sess_keep_remote_sdp(struct sip_sess *s, const struct sip_msg *m);
/* Whether a header (Supported, Require ...) lists an option tag. */
bool sess_hdr_has_token(const struct sip_msg *m, const char *name, const char *token);
/* Answers a request of the session: Contact, Allow, Supported and the
 * session timer as the status asks, the header lines of more, the SDP. */
int sess_reply(struct sip_sess *s, struct sip_strans *st, int status, const char *more,
	       const char *sdp, size_t sdp_len);
/* sess_prack.c: a 1xx to the INVITE, reliable when the caller can PRACK
 * it; the PRACK that comes; the PRACK we send for a reliable 1xx (false
 * when resp is a retransmission to ignore). */
int sess_provisional(struct sip_sess *s, int status, const char *sdp);
bool sess_answer_waits(struct sip_sess *s);
void sess_prack_recv(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req);
bool sess_prack_send(struct sip_sess *s, const struct sip_msg *resp);
/* The index in s->forks of the early dialog with that remote tag, or -1. */
int sess_find_fork(struct sip_sess *s, const char *tag);
void sess_prack_stop(struct sip_sess *s);
/* sess_connect.c: our INVITE went again as a new transaction (after a 422,
 * or to another target): what its predecessor's answers set up is gone. */
void sess_invite_restart(struct sip_sess *s);
/* sess_redirect.c: the target set of a call that follows 3xx. init makes
 * it with the first target; outcome tells it a final answer (err 0) or a
 * failure (err < 0, resp NULL) of the current target and sends the INVITE
 * to the next target when there is one to try (true: the call goes on);
 * answered records the 2xx; free lets it go. */
int sess_targets_init(struct sip_sess *s, const char *uri, unsigned follow);
bool sess_targets_outcome(struct sip_sess *s, int err, const struct sip_msg *resp);
void sess_targets_answered(struct sip_sess *s, const struct sip_msg *resp);
void sess_targets_free(struct sip_sess *s);
/* sess_timer.c: Session-Expires and Min-SE of a request (false when it was
 * answered 422), of a 2xx to ours; the header lines we send; the timer. */
bool sess_timer_request(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req);
void sess_timer_response(struct sip_sess *s, const struct sip_msg *resp);
struct sbuf;
void sess_timer_headers(const struct sip_sess *s, struct sbuf *b, bool request);
/* The header lines of our INVITE again after its 422, raised to the 422's
 * Min-SE (a mem string); NULL when that would not raise the interval. */
char *sess_timer_after_422(struct sip_sess *s, const char *headers, const struct sip_msg *resp);
void sess_timer_start(struct sip_sess *s);
void sess_timer_stop(struct sip_sess *s);
/* sess_modify.c: a re-INVITE that changes nothing, to refresh the session. */
int sess_refresh(struct sip_sess *s);
int sess_answer_now(struct sip_sess *s);
void sess_start_2xx(struct sip_sess *s, struct sip_strans *st);
void sess_stop_2xx(struct sip_sess *s);
int sess_send_bye(struct sip_sess *s);
void sess_modify_recv(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req);
void sess_modify_ack(struct sip_sess *s, const struct sip_msg *ack);
void sess_modify_stop(struct sip_sess *s);
/* sess_replace.c: the Replaces of an incoming INVITE, checked before its
 * owner sees it (false: answered 400, 481, 486 or 603); the replaced call
 * ended once ours is answered; a dialog that ends, remembered for a while
 * so that a Replaces naming it gets 603 rather than 481. */
bool sess_replace_check(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req);
void sess_replace_answered(struct sip_sess *s);
void sess_replace_remember(struct sip_sess *s);

#endif
