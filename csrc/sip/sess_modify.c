/* Changing a call: our re-INVITE (RFC 3261 §14) or UPDATE (RFC 3311) with
 * a new offer, the far end's, and glare: a 491 when both sides offer at
 * once, then a retry after the random wait of §14.1. */
#include "sip/sess_priv.h"
#include "util/mem.h"
#include "util/rand.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>


static int send_offer(struct sip_sess *s);

void sess_modify_stop(struct sip_sess *s)
{
	tmr_cancel(&s->glare);
	sip_uac_release(s->mod);
	s->mod = NULL;
	sip_uac_release(s->mod_prev);
	s->mod_prev = NULL;
}

/* 500 with the random Retry-After of RFC 3261 §14.2 and RFC 3311 §5.2. */
static void retry_later(struct sip_strans *st)
{
	char extra[40];
	snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", (unsigned)(rand_u64() % 11));
	sip_strans_reply(st, 500, NULL, extra, NULL, 0);
}

static void done(struct sip_sess *s, int err, const struct sip_msg *resp)
{
	bool refresh = s->mod_refresh;
	/* an answered re-INVITE stays at hand: a retransmission of its 2xx
	 * (our ACK was lost) comes through its transaction and is ACKed again */
	sip_uac_release(s->mod_prev);
	s->mod_prev = NULL;
	if (!s->mod_update && resp && resp->status < 300) {
		s->mod_prev = s->mod;
		s->mod_prev_cseq = resp->cseq;
	} else {
		sip_uac_release(s->mod);
	}
	s->mod = NULL;
	s->mod_refresh = false;
	/* refused, or answered without usable SDP: the session stays as it
	 * was (RFC 3261 §14.1), and so does the direction we want, which
	 * answers the peer's next offer */
	if (err || !resp || resp->status >= 300)
		s->sdp.dir = s->dir_before;
	if (!refresh && s->h && s->h->modify_done)
		s->h->modify_done(s->arg, err, resp);
}

/* Our re-INVITE or UPDATE failed in a way that ends the dialog
 * (§12.2.1.2). An incoming call not answered yet is refused rather than
 * hung up: the callee sends no BYE before its 2xx (§15). */
static void end_failed(struct sip_sess *s, bool bye, int status, const char *reason,
		       const struct sip_msg *resp)
{
	if (!s->outgoing && s->st && !sip_strans_answered(s->st))
		sip_strans_reply(s->st, 500, NULL, NULL, NULL, 0);
	else if (bye)
		sess_send_bye(s);
	sess_end(s, SIP_END_FAILED, status, reason, resp);
}

static void on_glare_over(void *arg)
{
	struct sip_sess *s = arg;
	if (s->st_2xx) {
		/* their offer got in first and waits for its ACK (RFC 3264 §4) */
		tmr_start(s->ua->stack.tq, &s->glare, 200, on_glare_over, s);
		return;
	}
	int err = send_offer(s);
	if (err)
		done(s, err, NULL);
}

static void on_answer(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;
	if (!err && resp->status < 200)
		return;
	if (!err && resp->status < 300 && !s->mod && s->mod_prev &&
	    resp->cseq == s->mod_prev_cseq) {
		sip_dialog_ack(s->dlg, resp->cseq, NULL, NULL, 0);  /* a retransmission */
		return;
	}
	if (!s->mod)
		return;
	mem_ref(s);
	if (err) {
		/* no answer to a request in the dialog ends it (§12.2.1.2) */
		done(s, err, NULL);
		end_failed(s, true, 408, "Request Timeout", NULL);
	} else if (resp->status < 300) {
		sip_dialog_cseq_used(s->dlg, resp->cseq);
		/* the 2xx's Contact is the remote target of its ACK too (§12.2.1.2) */
		sip_dialog_refresh(s->dlg, resp);
		if (!s->mod_update)
			sip_dialog_ack(s->dlg, resp->cseq, NULL, NULL, 0);
		int bad = sess_has_sdp(resp) ? sdp_accept(&s->sdp, resp->body, resp->body_len,
							 &s->media) : -EBADMSG;
		if (!bad)
			sess_keep_remote_sdp(s, resp);
		if (s->state == SIP_SESS_CONFIRMED) {
			/* an early UPDATE refreshes nothing: the timer is the INVITE's */
			sess_timer_response(s, resp);
			sess_timer_start(s);
		}
		done(s, bad, resp);
	} else if (resp->status == 491) {
		/* §14.1: the Call-ID's owner waits 2.1-4 s, the other 0-2 s */
		uint64_t wait = s->outgoing ? 2100 + rand_u64() % 1900 : rand_u64() % 2000;
		sip_dialog_cseq_used(s->dlg, resp->cseq);
		sip_uac_release(s->mod);
		s->mod = NULL;
		tmr_start(s->ua->stack.tq, &s->glare, wait, on_glare_over, s);
	} else if (resp->status == 481 || resp->status == 408) {
		done(s, 0, resp);
		end_failed(s, resp->status == 408, resp->status, resp->reason, resp);
	} else {
		/* refused: the session stays as it was (§14.1) */
		sip_dialog_cseq_used(s->dlg, resp->cseq);
		done(s, 0, resp);
	}
	mem_deref(s);
}

static int send_offer(struct sip_sess *s)
{
	char *offer;
	size_t len;
	s->sdp.dir = s->mod_dir;
	int err = sdp_offer(&s->sdp, &offer, &len);
	if (err)
		return err;
	struct sbuf b;
	sbuf_init(&b);
	sbuf_puts(&b, SDP_CONTENT_TYPE);
	if (s->state == SIP_SESS_CONFIRMED)
		sess_timer_headers(s, &b, true);
	err = b.err ? -ENOMEM : sip_dialog_request(s->dlg, &s->mod, s->mod_update ? "UPDATE" :
						   "INVITE", b.d, offer, len, s->user,
						   s->password, on_answer, s);
	sbuf_free(&b);
	mem_deref(offer);
	return err;
}

int sess_refresh(struct sip_sess *s)
{
	/* the same SDP again: sdp_offer keeps its version (RFC 4028 §7.4) */
	int err = sip_sess_modify(s, s->sdp.dir, false);
	if (!err)
		s->mod_refresh = true;
	return err;
}

/* RFC 3311 §5.1: before the 2xx only UPDATE may offer, in the early
 * dialog, once the INVITE's offer/answer is done: the answer came (or, as
 * the callee, went) in a reliable 1xx that was PRACKed. */
static bool may_offer_early(const struct sip_sess *s, bool update)
{
	return update && s->state == SIP_SESS_EARLY && s->early_answer_acked && !s->rel_pending;
}

int sip_sess_modify(struct sip_sess *s, enum sdp_dir dir, bool update)
{
	if (!s->dlg || (s->state != SIP_SESS_CONFIRMED && !may_offer_early(s, update)))
		return -ENOTCONN;
	if (s->mod || tmr_running(&s->glare) || s->st_2xx)
		return -EBUSY;  /* one offer at a time (RFC 3264 §4) */
	s->mod_dir = dir;
	s->mod_update = update;
	s->dir_before = s->sdp.dir;
	int err = send_offer(s);
	if (err)
		s->sdp.dir = s->dir_before;
	return err;
}

/* Their re-INVITE or UPDATE. */
void sess_modify_recv(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req)
{
	bool invite = sip_method_is(req, "INVITE");
	bool offer = sess_has_sdp(req);
	if (s->state != SIP_SESS_CONFIRMED && invite) {
		retry_later(st);  /* a re-INVITE before our final answer: §14.2 */
		return;
	}
	if (s->mod || (s->st_2xx && s->offer_in_2xx && offer)) {
		/* an offer of ours is open (RFC 3261 §14.2, RFC 3311 §5.2); the
		 * wait after our own 491 is not one: their retry gets through */
		sip_strans_reply(st, 491, NULL, NULL, NULL, 0);
		return;
	}
	if (s->st_2xx) {
		retry_later(st);  /* their previous re-INVITE is not acknowledged */
		return;
	}
	if (!invite && offer && s->state != SIP_SESS_CONFIRMED &&
	    !(s->outgoing ? s->have_media : s->early_answer_acked)) {
		retry_later(st);  /* RFC 3311 §5.2: the first offer is not answered */
		return;
	}
	if (s->state == SIP_SESS_CONFIRMED && !sess_timer_request(s, st, req))
		return;  /* 422 */
	sip_dialog_refresh(s->dlg, req);
	char *sdp = NULL;
	size_t len = 0;
	int err = 0;
	bool offer_in_2xx = false;
	if (offer) {
		err = sdp_answer(&s->sdp, req->body, req->body_len, &s->media, &sdp, &len);
		if (err) {
			if (err == -ENOTSUP)
				sip_strans_reply(st, 488, NULL, NULL, NULL, 0);
			else
				sip_strans_reply(st, 400, "Bad SDP",
						 "Warning: 399 luasip \"Malformed SDP\"\r\n", NULL, 0);
			return;
		}
		sess_keep_remote_sdp(s, req);
	} else if (invite) {
		/* an offer-less re-INVITE: ours goes in the 2xx, in the
		 * direction we want (a call we hold stays held) */
		err = sdp_offer(&s->sdp, &sdp, &len);
		offer_in_2xx = true;
	}
	if (!err)
		err = sess_reply(s, st, 200, NULL, sdp, len);
	mem_deref(sdp);
	if (err)
		return;
	sess_timer_start(s);
	if (invite) {
		s->offer_in_2xx = offer_in_2xx;
		sess_start_2xx(s, st);
	}
	if (!offer_in_2xx && s->h && s->h->modified && (invite || req->body_len))
		s->h->modified(s->arg);
}

/* The ACK of their re-INVITE: with an offer-less one it has the answer. */
void sess_modify_ack(struct sip_sess *s, const struct sip_msg *ack)
{
	if (!s->offer_in_2xx)
		return;
	s->offer_in_2xx = false;
	if (!sess_has_sdp(ack) ||
	    sdp_accept(&s->sdp, ack->body, ack->body_len, &s->media) != 0) {
		sess_send_bye(s);
		sess_end(s, SIP_END_FAILED, 400, "No usable SDP answer in the ACK", ack);
		return;
	}
	sess_keep_remote_sdp(s, ack);
	if (s->h && s->h->modified)
		s->h->modified(s->arg);
}
