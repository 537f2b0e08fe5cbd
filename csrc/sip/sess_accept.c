/* Receiving a call (RFC 3261 §13.3): the offer of the INVITE (or none:
 * then ours goes in the 2xx and the answer comes in the ACK), 180, 183
 * with early media, the 2xx, a final refusal, and the caller's CANCEL. */
#include "sip/sess_priv.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void on_cancel(void *arg)
{
	struct sip_sess *s = arg;
	if (!s->st || sip_strans_answered(s->st))
		return;
	/* §9.2: the CANCEL got its 200; the INVITE gets 487 */
	sip_strans_reply(s->st, 487, NULL, NULL, NULL, 0);
	sess_end(s, SIP_END_CANCELLED, 487, "Request Terminated", NULL);
}

static void refuse_sdp(struct sip_strans *st, int err)
{
	if (err == -ENOTSUP)
		sip_strans_reply(st, 488, NULL, "Warning: 304 luasip \"No acceptable media\"\r\n",
				 NULL, 0);
	else
		sip_strans_reply(st, 400, "Bad SDP", "Warning: 399 luasip \"Malformed SDP\"\r\n",
				 NULL, 0);
}

int sip_sess_accept(struct sip_sess **sp, struct sip_ua *ua, struct sip_strans *st,
		    const struct sip_msg *req, const union sa *rtp,
		    const struct sip_sess_handlers *h, void *arg)
{
	if (ua->closed)
		return -ECANCELED;
	if (ua->nsessions >= ua->max_sessions) {
		sip_strans_reply(st, 503, "Too Many Calls", "Retry-After: 5\r\n", NULL, 0);
		return -EBUSY;
	}
	struct sip_sess *s = sess_alloc(ua, rtp, h, arg);
	if (!s)
		return -ENOMEM;
	int err = 0;
	s->state = SIP_SESS_INCOMING;
	s->st = mem_ref(st);
	s->invite = mem_ref((void *)req);
	s->invite_cseq = req->cseq;
	s->peer_100rel = sess_hdr_has_token(req, "Supported", "100rel") ||
			 sess_hdr_has_token(req, "Require", "100rel");
	if (!sess_timer_request(s, st, req)) {
		err = -EPROTO;  /* 422: the session interval is too small */
		goto out;
	}
	if (!sess_replace_check(s, st, req)) {
		err = -ENOENT;  /* its Replaces names no call it may replace */
		goto out;
	}
	if (sess_has_sdp(req)) {
		char *ans = NULL;
		size_t len;
		err = sdp_answer(&s->sdp, req->body, req->body_len, &s->media, &ans, &len);
		mem_deref(ans);  /* kept in s->sdp.last, sent with 183 or 200 */
		if (err) {
			refuse_sdp(st, err);
			goto out;
		}
		s->have_media = true;
		sess_keep_remote_sdp(s, req);
	} else if (req->body_len == 0) {
		s->offer_in_2xx = true;
	} else {
		sip_strans_reply(st, 415, NULL, SDP_ACCEPT, NULL, 0);
		err = -EBADMSG;
		goto out;
	}
	err = sip_dialog_from_request(&s->dlg, ua, req, sip_strans_to_tag(st),
				      &sess_dialog_handlers, s);
	if (err) {
		sip_strans_reply(st, 400, "Missing Contact",
				 "Warning: 399 luasip \"An INVITE needs a Contact\"\r\n", NULL, 0);
		goto out;
	}
	s->call_id = mem_strdup(req->call_id);
	s->local_uri = sess_uri_of(s->dlg->local);
	s->remote_uri = sess_uri_of(s->dlg->remote);
	sip_strans_on_cancel(st, on_cancel, s);
out:
	if (err) {
		s->h = NULL;
		sess_end(s, SIP_END_REJECTED, 0, NULL, NULL);
		mem_deref(s);
		return err;
	}
	*sp = s;
	return 0;
}

static bool pending(const struct sip_sess *s)
{
	return !s->outgoing && s->st && !sip_strans_answered(s->st) &&
	       (s->state == SIP_SESS_INCOMING || s->state == SIP_SESS_EARLY);
}

int sip_sess_ring(struct sip_sess *s)
{
	if (!pending(s))
		return -EALREADY;
	s->state = SIP_SESS_EARLY;
	return sess_provisional(s, 180, NULL);
}

int sip_sess_progress(struct sip_sess *s)
{
	if (!pending(s))
		return -EALREADY;
	s->state = SIP_SESS_EARLY;
	/* without an offer from the caller an SDP here would be an offer in
	 * an unreliable provisional, which RFC 3261 §13.3.1.1 rules out */
	return sess_provisional(s, 183, s->offer_in_2xx ? NULL : s->sdp.last);
}

int sip_sess_answer(struct sip_sess *s)
{
	if (!pending(s) || s->answer_deferred)
		return -EALREADY;
	if (sess_answer_waits(s))
		return 0;  /* the 200 goes when the PRACK comes */
	return sess_answer_now(s);
}

int sess_answer_now(struct sip_sess *s)
{
	char *sdp = NULL;
	size_t len = 0;
	int err = 0;
	if (s->offer_in_2xx)
		err = sdp_offer(&s->sdp, &sdp, &len);
	else
		sdp = mem_ref(s->sdp.last), len = sdp ? strlen(sdp) : 0;
	if (!err)
		err = sess_reply(s, s->st, 200, NULL, sdp, len);
	mem_deref(sdp);
	if (err) {
		/* the 200 could not go (the transaction is over): the call is */
		sess_end(s, SIP_END_FAILED, 503, "Service Unavailable", NULL);
		return err;
	}
	sess_start_2xx(s, s->st);
	return 0;
}

int sip_sess_reject(struct sip_sess *s, int status, const char *reason, const char *extra)
{
	if (status < 300 || status > 699)
		return -EINVAL;
	if (!pending(s))
		return -EALREADY;
	int err = sip_strans_reply(s->st, status, reason, extra, NULL, 0);
	sess_end(s, SIP_END_REJECTED, status, reason ? reason : sip_reason_phrase(status), NULL);
	return err;
}
