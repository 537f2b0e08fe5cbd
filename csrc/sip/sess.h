/* INVITE sessions (RFC 3261 §13-15, RFC 3264, RFC 3311): a call, placed
 * (sess_connect.c) or received (sess_accept.c), its offer/answer exchanges
 * and modifications (sess_modify.c), and its end (sess.c). One dialog per
 * session; the owner (the Lua binding) hears what happens through
 * sip_sess_handlers and acts through the functions below. What the
 * sess_*.c files share among themselves, struct sip_sess among it, is in
 * sess_priv.h; the owner and media_flow read a session through the
 * accessors at the end of this file. */
#ifndef LUASIP_SESS_H
#define LUASIP_SESS_H

#include "sip/dialog.h"
#include "sip/sdp.h"
#include "sip/uac.h"

struct sip_sess;             /* its insides: sess_priv.h */

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

/* What a session's owner and media_flow read of it (sess_view.c). */
struct sip_ua *sip_sess_ua(const struct sip_sess *s);
/* The owner's arg when its handlers are h, else NULL: tells the sessions
 * of one owner from those of another. */
void *sip_sess_arg(const struct sip_sess *s, const struct sip_sess_handlers *h);
enum sip_sess_state sip_sess_state_of(const struct sip_sess *s);
bool sip_sess_outgoing(const struct sip_sess *s);
/* The dialog, or NULL before the first answer with a To tag and after its end. */
struct sip_dialog *sip_sess_dialog(const struct sip_sess *s);
/* Call-ID, our URI and the peer's (From/To without tags); NULL when unknown. */
const char *sip_sess_call_id(const struct sip_sess *s);
const char *sip_sess_local_uri(const struct sip_sess *s);
const char *sip_sess_remote_uri(const struct sip_sess *s);
/* The last SDP we sent and the last one we received, or NULL. */
const char *sip_sess_local_sdp(const struct sip_sess *s);
const char *sip_sess_remote_sdp(const struct sip_sess *s);
/* Our RTP address, as our SDP gives it. */
const union sa *sip_sess_rtp_addr(const struct sip_sess *s);
/* What the last offer/answer agreed, or NULL before there was one. */
const struct sdp_result *sip_sess_media(const struct sip_sess *s);
/* Our offer went in a 2xx (their INVITE or re-INVITE had none) and its
 * answer, due in the ACK, has not come yet. */
bool sip_sess_offer_in_2xx(const struct sip_sess *s);
/* The credentials requests in the call answer challenges with, or NULL. */
const char *sip_sess_user(const struct sip_sess *s);
const char *sip_sess_password(const struct sip_sess *s);

#endif
