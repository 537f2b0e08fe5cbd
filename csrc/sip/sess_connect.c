/* Placing a call (RFC 3261 §13.2): the INVITE with our offer (or none, a
 * late offer), provisional answers and early media, the 2xx and its ACK,
 * CANCEL, and the extra 2xx of a forked INVITE; 3xx are followed in
 * sess_redirect.c. */
#include "sip/sess_priv.h"
#include "sip/uri_headers.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <string.h>


static int send_ack(struct sip_sess *s, struct sip_dialog *d, uint32_t cseq)
{
	bool body = s->ack_body && cseq == s->invite_cseq;
	return sip_dialog_ack(d, cseq, body ? SDP_CONTENT_TYPE : NULL, body ? s->ack_body : NULL,
			      body ? strlen(s->ack_body) : 0);
}

/* A 2xx from another branch of a forked INVITE, once we have our call:
 * acknowledged, then ended at once (§13.2.2.4). */
static void end_fork(struct sip_sess *s, const struct sip_msg *resp)
{
	struct sip_dialog *d;
	if (sip_dialog_from_response(&d, s->ua, resp, NULL, NULL) != 0)
		return;
	sip_dialog_ack(d, resp->cseq, NULL, NULL, 0);
	struct sip_uac *u;
	if (sip_dialog_request(d, &u, "BYE", NULL, NULL, 0, s->user, s->password, NULL,
			       NULL) == 0)
		sip_uac_release(u);
	sip_dialog_close(d);
}

/* Reads the SDP of a 2xx: the answer to our offer, or a late offer that
 * our ACK answers. 0, or the status that says what was wrong. */
static int take_2xx_sdp(struct sip_sess *s, const struct sip_msg *resp)
{
	int err = 0;
	if (s->ack_body || !s->sdp.last) {
		/* late offer: the 2xx must carry the offer */
		char *ans = NULL;
		size_t len;
		if (!sess_has_sdp(resp))
			return 400;
		err = sdp_answer(&s->sdp, resp->body, resp->body_len, &s->media, &ans, &len);
		if (!err) {
			mem_deref(s->ack_body);
			s->ack_body = ans;
		}
	} else if (s->early_answer_acked) {
		return 0;    /* the answer came in a reliable provisional (§13.2.1) */
	} else if (sess_has_sdp(resp)) {
		err = sdp_accept(&s->sdp, resp->body, resp->body_len, &s->media);
	} else if (!s->have_media) {
		return 400;  /* an offer of ours without an answer (§13.2.1) */
	} else {
		return 0;    /* the answer came in a provisional already */
	}
	if (err)
		return err == -ENOTSUP ? 488 : 400;
	s->have_media = true;
	sess_keep_remote_sdp(s, resp);
	return 0;
}

int sess_find_fork(struct sip_sess *s, const char *tag)
{
	for (int i = 0; tag && i < SESS_MAX_FORKS; i++)
		if (s->forks[i] && strcmp(s->forks[i]->remote_tag, tag) == 0)
			return i;
	return -1;
}

static void close_forks(struct sip_sess *s)
{
	for (int i = 0; i < SESS_MAX_FORKS; i++) {
		sip_dialog_close(s->forks[i]);
		s->forks[i] = NULL;
	}
}

/* The early dialog of a 1xx with a To tag (§13.2.2.1), for PRACK, UPDATE
 * and a BYE before the 2xx; the first is the session's, those of other
 * forks are kept beside it. */
static void early_dialog(struct sip_sess *s, const struct sip_msg *resp)
{
	struct sip_dialog *d;
	if (s->dlg && strcmp(s->dlg->remote_tag, resp->to_tag) == 0)
		return;
	if (sess_find_fork(s, resp->to_tag) >= 0)
		return;
	int slot = -1;
	for (int i = 0; s->dlg && i < SESS_MAX_FORKS && slot < 0; i++)
		if (!s->forks[i])
			slot = i;
	if (s->dlg && slot < 0)
		return;  /* more forks than we keep apart: no PRACK for this one */
	if (sip_dialog_from_response(&d, s->ua, resp, &sess_dialog_handlers, s) != 0)
		return;  /* no Contact: no early dialog */
	if (!s->dlg) {
		s->dlg = d;
	} else {
		s->forks[slot] = d;
		s->forks_rseq[slot] = 0;
	}
}

static void on_2xx(struct sip_sess *s, const struct sip_msg *resp)
{
	/* a 2xx without a To tag makes a dialog with an empty remote tag (§12.1.2) */
	const char *tag = resp->to_tag ? resp->to_tag : "";
	if (s->state == SIP_SESS_CONFIRMED || s->state == SIP_SESS_ENDED) {
		/* The dialog's tag: a retransmission. Tagless 2xx of two forks
		 * have the same dialog identifiers, as would the requests of
		 * both peers: the second is taken for a retransmission of the
		 * first and ACKed in our dialog. */
		if (s->dlg && strcmp(tag, s->dlg->remote_tag) == 0)
			send_ack(s, s->dlg, resp->cseq);
		else
			end_fork(s, resp);
		return;
	}
	s->invite_cseq = resp->cseq;
	sess_targets_answered(s, resp);
	int err = 0;
	int fork = sess_find_fork(s, resp->to_tag);
	if (fork >= 0) {
		/* the 2xx comes from another fork's early dialog: that one is ours */
		sip_dialog_close(s->dlg);
		s->dlg = s->forks[fork];
		s->forks[fork] = NULL;
		s->early_answer_acked = false;  /* that answer was another fork's */
	}
	if (s->dlg && strcmp(s->dlg->remote_tag, tag) == 0) {
		sip_dialog_reroute(s->dlg, resp);  /* the early dialog is confirmed */
	} else {
		s->early_answer_acked = false;
		sip_dialog_close(s->dlg);
		err = sip_dialog_from_response(&s->dlg, s->ua, resp, &sess_dialog_handlers, s);
	}
	close_forks(s);
	if (err) {
		/* no Contact: no remote target to acknowledge it at */
		s->dlg = NULL;
		sess_end(s, SIP_END_FAILED, 400, "Bad 2xx to the INVITE", resp);
		return;
	}
	int bad = take_2xx_sdp(s, resp);
	send_ack(s, s->dlg, resp->cseq);
	if (bad) {
		sess_send_bye(s);
		sess_end(s, SIP_END_FAILED, bad, bad == 488 ? "Not Acceptable Here" :
			 "Bad SDP in the 2xx", resp);
		return;
	}
	tmr_cancel(&s->guard);
	if (s->cancelling) {
		/* the 2xx crossed our CANCEL: the call is not wanted (§9.1) */
		sess_send_bye(s);
		sess_end(s, SIP_END_LOCAL, 487, "Request Terminated", resp);
		return;
	}
	s->state = SIP_SESS_CONFIRMED;
	sess_timer_response(s, resp);
	sess_timer_start(s);
	if (s->h && s->h->established)
		s->h->established(s->arg, resp);
}

static void on_provisional(struct sip_sess *s, const struct sip_msg *resp)
{
	s->got_provisional = true;
	if (s->cancel_pending && sip_uac_cancel(s->uac) == 0)
		s->cancel_pending = false;
	if (resp->status == 100)
		return;
	if (resp->to_tag) {
		s->state = SIP_SESS_EARLY;
		early_dialog(s, resp);
	}
	bool reliable = sess_hdr_has_token(resp, "Require", "100rel");
	if (reliable && !sess_prack_send(s, resp))
		return;  /* a reliable 1xx we have seen already */
	/* an answer in a provisional: early media (RFC 3264 with §13.2.1);
	 * once one came reliably, the offer/answer is done and later SDP in
	 * responses to the INVITE is ignored (§13.2.1) */
	if (sess_has_sdp(resp) && s->sdp.last && !s->ack_body && !s->early_answer_acked &&
	    sdp_accept(&s->sdp, resp->body, resp->body_len, &s->media) == 0) {
		s->have_media = true;
		sess_keep_remote_sdp(s, resp);
		/* in the session's early dialog, UPDATE may now offer (RFC 3311 §5.1) */
		s->early_answer_acked = reliable && s->dlg && resp->to_tag &&
					strcmp(resp->to_tag, s->dlg->remote_tag) == 0;
	}
	if (s->h && s->h->progress)
		s->h->progress(s->arg, resp);
}

void sess_invite_restart(struct sip_sess *s)
{
	s->invite_cseq = sip_uac_cseq(s->uac);
	sip_dialog_close(s->dlg);
	s->dlg = NULL;
	close_forks(s);
	s->state = SIP_SESS_CALLING;
	s->got_provisional = false;
	s->peer_rseq = 0;
	s->have_media = false;
	s->early_answer_acked = false;
}

/* RFC 4028 §6, §7.1: 422 Session Interval Too Small. The INVITE goes
 * again, as after a 401 (same Call-ID and From tag, the next CSeq), with
 * the interval the 422 asks for; the early dialogs of the first one ended
 * with its 422. False when the 422 is the end (no raise, or cancelled). */
static bool retry_after_422(struct sip_sess *s, const struct sip_msg *resp)
{
	if (s->cancelling || s->state == SIP_SESS_ENDED)
		return false;
	char *h = sess_timer_after_422(s, sip_uac_headers(s->uac), resp);
	int err = h ? sip_uac_retry(s->uac, h) : -EPROTO;
	mem_deref(h);
	if (err)
		return false;
	sess_invite_restart(s);
	return true;
}

static void on_response(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;
	mem_ref(s);
	if (err) {
		if (sess_targets_outcome(s, err, NULL)) {
			/* the INVITE went to the next target */
		} else if (s->state != SIP_SESS_ENDED && s->state != SIP_SESS_CONFIRMED) {
			if (err == -ETIMEDOUT)
				sess_end(s, SIP_END_TIMEOUT, 408, "Request Timeout", NULL);
			else if (err == -ECANCELED)
				sess_end(s, SIP_END_CLOSED, 0, NULL, NULL);
			else
				sess_end(s, SIP_END_FAILED, 503, "Service Unavailable", NULL);
		}
	} else if (resp->status < 200) {
		if (s->state == SIP_SESS_CALLING || s->state == SIP_SESS_EARLY)
			on_provisional(s, resp);
	} else if (resp->status < 300) {
		on_2xx(s, resp);
	} else if (resp->status == 422 && retry_after_422(s, resp)) {
		/* the INVITE went again */
	} else if (sess_targets_outcome(s, 0, resp)) {
		/* the INVITE went to the next target (a 3xx, or this one failed) */
	} else if (s->state != SIP_SESS_ENDED) {
		sess_end(s, s->cancelling ? SIP_END_LOCAL : SIP_END_REJECTED, resp->status,
			 resp->reason, resp);
	}
	mem_deref(s);
}

int sip_sess_connect(struct sip_sess **sp, struct sip_ua *ua, const struct sip_sess_params *p,
		     const struct sip_sess_handlers *h, void *arg)
{
	if (ua->closed)
		return -ECANCELED;
	struct sip_sess *s = sess_alloc(ua, &p->rtp, h, arg);
	if (!s)
		return -ENOMEM;
	s->outgoing = true;
	s->state = SIP_SESS_CALLING;
	s->user = p->user ? mem_strdup(p->user) : NULL;
	s->password = p->password ? mem_strdup(p->password) : NULL;

	char *offer = NULL;
	size_t offer_len = 0;
	int err = 0;
	if (!p->late_offer)
		err = sdp_offer(&s->sdp, &offer, &offer_len);
	struct sbuf hdrs;
	sbuf_init(&hdrs);
	if (offer)
		sbuf_puts(&hdrs, SDP_CONTENT_TYPE);
	if (p->headers)
		sbuf_puts(&hdrs, p->headers);
	struct sip_uac_params up = {
		.method = "INVITE", .uri = p->uri, .from = p->from, .to = p->to,
		.headers = hdrs.len ? hdrs.d : NULL, .body = offer, .body_len = offer_len,
		.user = p->user, .password = p->password, .contact = true,
	};
	/* the URI's headers go into the INVITE (uac.c); the call's target is
	 * the URI without them */
	struct sip_uri_headers uh;
	if (!err)
		err = sip_uri_headers_split(p->uri, &uh, NULL, 0);
	else
		memset(&uh, 0, sizeof(uh));
	if (!err && p->follow)
		err = sess_targets_init(s, uh.uri, p->follow);
	if (!err)
		err = hdrs.err ? -ENOMEM : sip_uac_send(&s->uac, ua, &up, on_response, s);
	sbuf_free(&hdrs);
	mem_deref(offer);
	if (err) {
		sip_uri_headers_free(&uh);
		s->h = NULL;
		mem_deref(s);
		return err;
	}
	s->invite_cseq = sip_uac_cseq(s->uac);
	s->call_id = mem_strdup(sip_uac_call_id(s->uac));
	/* uri is a URI; from a URI or "Display Name" <URI>; to is a header
	 * value (params after > are its own) */
	const char *from = p->from ? p->from : ua->identity;
	s->local_uri = strchr(from, '<') ? sess_uri_of(from) : mem_strdup(from);
	s->remote_uri = p->to ? sess_uri_of(p->to) : mem_ref(uh.uri);
	sip_uri_headers_free(&uh);
	*sp = s;
	return 0;
}
