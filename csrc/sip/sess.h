/* INVITE sessions (RFC 3261 §13-15, RFC 3264, RFC 3311): a call, placed
 * (sess_connect.c) or received (sess_accept.c), its offer/answer exchanges
 * and modifications (sess_modify.c), and its end (sess.c). One dialog per
 * session; the owner (the Lua binding) hears what happens through
 * sip_sess_handlers and acts through the functions below. What the
 * sess_*.c files share among themselves is in sess_priv.h. struct sip_sess
 * is still whole here: the owner and media_flow read some of its fields
 * (docs/architecture.md, "Headers", lists which). */
#ifndef LUASIP_SESS_H
#define LUASIP_SESS_H

#include "sip/dialog.h"
#include "sip/sdp.h"
#include "sip/uac.h"

enum sip_sess_state {
	SIP_SESS_CALLING,           /* our INVITE sent, nothing back yet */
	SIP_SESS_INCOMING,          /* their INVITE, nothing but 100 sent */
	SIP_SESS_EARLY,             /* a provisional with a To tag, either way */
	SIP_SESS_CONFIRMED,         /* 2xx and ACK */
	SIP_SESS_ENDED,
};

/* Why a session ended. */
enum sip_sess_end {
	SIP_END_NONE = 0,
	SIP_END_LOCAL,              /* we hung up (BYE or CANCEL sent) */
	SIP_END_HANGUP,             /* the far end sent BYE */
	SIP_END_CANCELLED,          /* the caller cancelled our incoming call */
	SIP_END_REJECTED,           /* a final answer other than 2xx, either way */
	SIP_END_TIMEOUT,            /* no ACK for our 2xx, or no answer at all */
	SIP_END_FAILED,             /* transport failure, bad SDP in a 2xx, 481 */
	SIP_END_CLOSED,             /* the endpoint closed */
	SIP_END_REPLACED,           /* an INVITE with Replaces took its place
	                               (RFC 3891): BYE or CANCEL sent */
};

struct sip_sess_handlers {
	/* Outgoing: a provisional response other than 100. */
	void (*progress)(void *arg, const struct sip_msg *resp);
	/* The call is up: ours when the 2xx came (ACK sent), theirs when the
	 * ACK came. */
	void (*established)(void *arg, const struct sip_msg *msg);
	/* The far end changed the session (re-INVITE or UPDATE answered). */
	void (*modified)(void *arg);
	/* Our modification ended: status of the final answer, or err < 0. */
	void (*modify_done)(void *arg, int err, const struct sip_msg *resp);
	/* A request in the call other than INVITE, UPDATE, BYE: the owner
	 * answers st (INFO, OPTIONS, REFER, NOTIFY ...). */
	void (*request)(void *arg, struct sip_strans *st, const struct sip_msg *req);
	/* The end, once. status/reason: the SIP answer that ended it where
	 * there is one (486 Busy Here, 487 ...); msg the message, or NULL. */
	void (*ended)(void *arg, enum sip_sess_end why, int status, const char *reason,
		      const struct sip_msg *msg);
};

/* The requests a call takes: the one list that the Allow header of a call
 * (sip_ua_allow), the dispatch of the requests of its dialog (sess.c) and
 * the events of call:on (lua/sip/call.lua, docs/api.md) read. */
enum sip_sess_answerer {
	SIP_SESS_ANSWERS,           /* the session itself (INVITE, BYE ...) */
	SIP_SESS_OWNER_OR_200,      /* the owner's handler; without one 200 */
	SIP_SESS_OWNER_OR_405,      /* the owner's handler; without one 405 */
	SIP_SESS_OWNER_TRANSFERS,   /* REFER: the owner's handler, which may
	                               refuse; else the owner takes it and
	                               transfers the call (the Lua call does:
	                               lua/sip/transfer.lua); an owner with no
	                               handler at all declines it, 603 */
};
struct sip_sess_method {
	const char *name;
	enum sip_sess_answerer by;
};
extern const struct sip_sess_method sip_sess_methods[];  /* up to a NULL name */
/* The entry of method, or NULL for a method no call takes. */
const struct sip_sess_method *sip_sess_method(const char *method);

struct sip_sess_params {
	const char *uri;            /* Request-URI */
	const char *from, *to;      /* as sip_uac_params */
	const char *headers;        /* extra header lines (CRLF-ended) */
	const char *user, *password;
	bool late_offer;            /* no SDP in the INVITE */
	union sa rtp;               /* our RTP address for the SDP */
	unsigned follow;            /* 3xx: INVITEs to at most this many more
	                               targets (sess_redirect.c); 0: a 3xx ends
	                               the call */
};

/* A target an outgoing call tried: its Request-URI and the final answer
 * it gave (0 and NULL while it is the one being tried). */
struct sip_sess_target {
	const char *uri;
	int status;
	const char *reason;
};

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

/* Places a call: sends the INVITE. *sp gets the owner's reference. */
int sip_sess_connect(struct sip_sess **sp, struct sip_ua *ua, const struct sip_sess_params *p,
		     const struct sip_sess_handlers *h, void *arg);
/* Takes an incoming INVITE (100 Trying already sent). An offer we cannot
 * take is answered here, 400 (malformed, with a Warning) or 488, and the
 * error returned (-EBADMSG, -ENOTSUP); so is a Replaces that names no
 * call this one may replace (400, 481, 486, 603: -ENOENT, RFC 3891 §3);
 * no session is made then. */
int sip_sess_accept(struct sip_sess **sp, struct sip_ua *ua, struct sip_strans *st,
		    const struct sip_msg *req, const union sa *rtp,
		    const struct sip_sess_handlers *h, void *arg);

int sip_sess_ring(struct sip_sess *s);          /* 180 */
int sip_sess_progress(struct sip_sess *s);      /* 183 with SDP */
int sip_sess_answer(struct sip_sess *s);        /* 200 with SDP */
/* 3xx-6xx to an incoming call; extra: header lines (Contact for 3xx). */
int sip_sess_reject(struct sip_sess *s, int status, const char *reason, const char *extra);
/* The INVITE that set the call up: the one received, or the one we sent
 * last (a retry after a challenge or a 422), parsed anew; NULL when there is
 * none. The caller owns the reference. */
struct sip_msg *sip_sess_request_msg(const struct sip_sess *s);
/* The dialog's tags: ours (for a call we place, from its INVITE on) and the
 * peer's (NULL until its answer has one, or when it sent none). */
const char *sip_sess_local_tag(const struct sip_sess *s);
const char *sip_sess_remote_tag(const struct sip_sess *s);
/* What a request of the call gets when its owner has no handler for it:
 * 200, 603 for a REFER (the transfer declined), or 405 with the Allow
 * header that RFC 3261 §21.4.6 asks for. */
int sip_sess_reply_unhandled(struct sip_sess *s, struct sip_strans *st);
/* BYE, CANCEL, or 480 for an incoming call not yet answered. */
int sip_sess_hangup(struct sip_sess *s);
/* A new offer: re-INVITE, or UPDATE (also before the 2xx, in the early
 * dialog, once the INVITE's offer/answer is done: RFC 3311 §5.1).
 * -ENOTCONN when the call cannot take one, -EBUSY while another is open. */
int sip_sess_modify(struct sip_sess *s, enum sdp_dir dir, bool update);
/* Sends a request in the call (INFO ...); h hears its outcome as with
 * sip_uac_send. -ENOTCONN unless the call is confirmed. */
int sip_sess_request(struct sip_sess *s, struct sip_uac **up, const char *method,
		     const char *extra, const char *body, size_t body_len, sip_uac_h *h,
		     void *arg);
/* The owner lets go: no more callbacks; a call that is not over is hung
 * up. Drops the owner's reference. */
void sip_sess_release(struct sip_sess *s);
/* The endpoint closes: every session ends (SIP_END_CLOSED), hung up first. */
void sip_sess_close_all(struct sip_ua *ua);
/* The i-th target an outgoing call that follows 3xx tried, in the order
 * tried (the first is the call's own URI); false past the last, and for a
 * call without params.follow. */
bool sip_sess_tried(const struct sip_sess *s, unsigned i, struct sip_sess_target *t);
/* Replaces (RFC 3891): the call an incoming call replaces once answered,
 * or NULL; the call that replaced s, only while s's end is told (the
 * ended handler, why SIP_END_REPLACED), else NULL. */
struct sip_sess *sip_sess_replaces(const struct sip_sess *s);
struct sip_sess *sip_sess_replaced_by(const struct sip_sess *s);
/* The endpoint goes: what it remembers of ended calls goes too. */
void sip_sess_forget_ended(struct sip_ua *ua);
const char *sip_sess_state_name(enum sip_sess_state st);
const char *sip_sess_end_name(enum sip_sess_end why);

#endif
