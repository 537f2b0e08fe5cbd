/* The insides of INVITE sessions: what the sess_*.c files share and
 * nobody else calls, struct sip_sess first (tests/c and fuzz read it too).
 * What a session offers its owner and the endpoint is in sess.h. */
#ifndef LUASIP_SESS_PRIV_H
#define LUASIP_SESS_PRIV_H

#include "sip/sess.h"
#include "sip/ua_priv.h"
#include "util/tmr.h"

/* Early dialogs of a forked INVITE we keep apart for PRACK. */
#define SESS_MAX_FORKS 4

struct sip_sess {
	struct le le;               /* in the endpoint's list while not ended */
	struct sip_ua *ua;
	enum sip_sess_state state;
	bool outgoing;
	enum sip_sess_end end;
	const struct sip_sess_handlers *h;
	void *arg;

	struct sip_dialog *dlg;
	char *call_id;
	char *local_uri, *remote_uri;   /* our URI and theirs (From/To, no tags) */
	struct sip_msg *invite;         /* the initial INVITE (incoming), or NULL */
	char *local_tag, *remote_tag;   /* the dialog's, kept when it goes */

	/* offer/answer */
	struct sdp_local sdp;
	struct sdp_result media;
	bool have_media;
	char *remote_sdp;               /* the last SDP received (mem) */

	/* outgoing INVITE (sess_connect.c) */
	struct sip_uac *uac;
	uint32_t invite_cseq;
	bool got_provisional, cancel_pending, cancelling;
	char *ack_body;                 /* late offer: our answer, in every ACK */
	char *user, *password;          /* for requests in the call */
	struct sess_targets *targets;   /* the target set while following 3xx
	                                   (sess_redirect.c), else NULL */

	/* incoming INVITE or re-INVITE answered 2xx, waiting for the ACK */
	struct sip_strans *st;          /* the pending INVITE (incoming) */
	struct sip_strans *st_2xx;      /* the one whose 2xx we retransmit */
	uint32_t interval;
	struct tmr retx_2xx, no_ack;
	bool offer_in_2xx;              /* the ACK brings the answer */

	/* modifications (sess_modify.c) */
	struct sip_uac *mod;            /* our re-INVITE or UPDATE in flight */
	bool mod_update;
	enum sdp_dir mod_dir;
	enum sdp_dir dir_before;        /* sdp.dir before our offer: back to it
	                                   when the offer is refused */
	struct tmr glare;               /* the back-off after 491 */
	bool remote_reinvite;           /* their re-INVITE awaits its ACK */

	struct sip_uac *bye;
	struct tmr guard;               /* bounds the wait for 487 after CANCEL */
	bool bye_pending;               /* hung up after our 2xx: BYE once the ACK came */
	bool self_held;                 /* a reference of its own while bye_pending */

	/* outgoing: early dialogs of other forks, for their PRACKs */
	struct sip_dialog *forks[SESS_MAX_FORKS];
	uint32_t forks_rseq[SESS_MAX_FORKS];
	struct sip_uac *mod_prev;       /* our last re-INVITE, answered: its 2xx
	                                   retransmissions get their ACK */
	uint32_t mod_prev_cseq;
	bool early_answer_acked;        /* the INVITE's offer/answer is done before
	                                   the 2xx (RFC 3311 §5.1): incoming, a
	                                   reliable 1xx with our answer was PRACKed;
	                                   outgoing, the answer came in a reliable 1xx
	                                   of the session's early dialog */

	/* reliable provisional responses, RFC 3262 (sess_prack.c) */
	bool peer_100rel;               /* the caller supports or requires it */
	uint32_t rseq;                  /* the last RSeq we sent */
	bool rel_pending, rel_sdp;      /* a reliable 1xx awaits its PRACK; with SDP */
	int rel_queued;                 /* a 1xx waiting for that PRACK, 0 none */
	bool rel_queued_sdp;
	bool answer_deferred;           /* our 200 waits for that PRACK */
	struct tmr rel_retx, rel_timeout;
	uint32_t rel_interval;
	uint32_t peer_rseq;             /* outgoing: the last RSeq acknowledged */

	/* session timer, RFC 4028 (sess_timer.c) */
	uint32_t se;                    /* the session interval, s; 0: no timer */
	bool se_refresher;              /* we send the refreshes */
	bool se_peer_supports;          /* the peer said Supported: timer */
	bool mod_refresh;               /* the re-INVITE in flight is a refresh */
	uint32_t min_se;                /* a 422's Min-SE, said again in refreshes */
	struct tmr se_tmr;

	/* Replaces, RFC 3891 (sess_replace.c) */
	struct sip_sess *replaces;      /* incoming: the call this one takes the
	                                   place of once answered (a reference) */
	struct sip_sess *replaced_by;   /* the call that took this one's place,
	                                   while its end is told; else NULL */
};

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
