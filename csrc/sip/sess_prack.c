/* Reliable provisional responses (RFC 3262). As the callee: when the
 * caller supports 100rel, our 180 and 183 carry Require: 100rel and an RSeq
 * and go again at T1, 2T1 ... until the PRACK, one at a time; a 200 waits
 * for the PRACK of a 1xx that carried SDP; an offer in the PRACK is
 * answered in its 200 (§5). As the caller: each new reliable 1xx is
 * acknowledged with a PRACK in its early dialog. */
#include "sip/sess_priv.h"
#include "util/mem.h"
#include "util/rand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sess_prack_stop(struct sip_sess *s)
{
	tmr_cancel(&s->rel_retx);
	tmr_cancel(&s->rel_timeout);
	s->rel_pending = false;
	s->rel_queued = 0;
}

static void on_rel_retx(void *arg)
{
	struct sip_sess *s = arg;
	sip_strans_retransmit(s->st);
	s->rel_interval *= 2;
	tmr_start(s->ua->stack.tq, &s->rel_retx, s->rel_interval, on_rel_retx, s);
}

static void on_rel_timeout(void *arg)
{
	struct sip_sess *s = arg;
	/* §3: no PRACK within 64*T1: the INVITE is refused with a 5xx */
	sess_prack_stop(s);
	if (s->st && !sip_strans_answered(s->st))
		sip_strans_reply(s->st, 500, "No PRACK", NULL, NULL, 0);
	sess_end(s, SIP_END_FAILED, 500, "No PRACK", NULL);
}

static int send_reliable(struct sip_sess *s, int status, const char *sdp)
{
	struct sip_stack *stk = &s->ua->stack;
	if (s->rseq == 0)
		s->rseq = 1 + (uint32_t)(rand_u64() % 0x7fffffffu);  /* §3: 1 to 2**31-1 */
	else
		s->rseq++;
	char more[80];
	snprintf(more, sizeof(more), "Require: 100rel\r\nRSeq: %u\r\n", s->rseq);
	int err = sess_reply(s, s->st, status, more, sdp, sdp ? strlen(sdp) : 0);
	if (err)
		return err;
	s->rel_pending = true;
	s->rel_sdp = sdp != NULL;
	s->rel_interval = stk->t.t1;
	tmr_start(stk->tq, &s->rel_retx, s->rel_interval, on_rel_retx, s);
	tmr_start(stk->tq, &s->rel_timeout, 64ull * stk->t.t1, on_rel_timeout, s);
	return 0;
}

int sess_provisional(struct sip_sess *s, int status, const char *sdp)
{
	if (!s->peer_100rel)
		return sess_reply(s, s->st, status, NULL, sdp, sdp ? strlen(sdp) : 0);
	if (s->rel_pending) {
		/* §3: one unacknowledged reliable 1xx at a time; the newest waits */
		s->rel_queued = status;
		s->rel_queued_sdp = sdp != NULL;
		return 0;
	}
	return send_reliable(s, status, sdp);
}

bool sess_answer_waits(struct sip_sess *s)
{
	s->rel_queued = 0;  /* the 200 says more than a waiting 1xx would */
	if (s->rel_pending && s->rel_sdp) {
		/* §3: no 2xx before the PRACK of a 1xx with SDP */
		s->answer_deferred = true;
		return true;
	}
	sess_prack_stop(s);
	return false;
}

/* RFC 3262 §5: an offer in a PRACK is answered in the 2xx to it; it may
 * come once the INVITE's own offer/answer is done (our reliable 1xx had
 * the answer, this PRACK acknowledges it) and no offer of ours is open.
 * An offer we cannot take is refused (488, or 400 when malformed) and
 * leaves the session as it was. True when the session changed. */
static bool answer_prack_offer(struct sip_sess *s, struct sip_strans *st,
			       const struct sip_msg *req)
{
	if (!s->early_answer_acked || s->mod) {
		sip_strans_reply(st, 491, NULL, NULL, NULL, 0);
		return false;
	}
	char *sdp = NULL;
	size_t len = 0;
	int err = sdp_answer(&s->sdp, req->body, req->body_len, &s->media, &sdp, &len);
	if (err == -ENOTSUP)
		sip_strans_reply(st, 488, NULL, "Warning: 304 luasip \"No acceptable media\"\r\n",
				 NULL, 0);
	else if (err)
		sip_strans_reply(st, 400, "Bad SDP", "Warning: 399 luasip \"Malformed SDP\"\r\n",
				 NULL, 0);
	else
		sess_reply(s, st, 200, NULL, sdp, len);
	mem_deref(sdp);
	if (err)
		return false;
	sess_keep_remote_sdp(s, req);
	return true;
}

void sess_prack_recv(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_hdr h;
	char v[80], method[16] = "";
	unsigned long rseq = 0, cseq = 0;
	if (!s->rseq || !sip_msg_hdr_id(req, SIP_HDR_RACK, 0, &h) || h.value_len >= sizeof(v)) {
		sip_strans_reply(st, 481, NULL, NULL, NULL, 0);
		return;
	}
	sip_hdr_unfold(&h, v);
	if (sscanf(v, "%lu %lu %15s", &rseq, &cseq, method) != 3 || rseq != s->rseq ||
	    cseq != s->invite_cseq || strcmp(method, "INVITE") != 0) {
		sip_strans_reply(st, 481, NULL, NULL, NULL, 0);  /* §7.2: matches nothing */
		return;
	}
	/* a PRACK for our last reliable 1xx: also when the final answer went
	 * before it came (the 1xx had no SDP), it gets its 200; one refused
	 * for its offer still acknowledges the 1xx, which goes no more */
	bool was_pending = s->rel_pending;
	tmr_cancel(&s->rel_retx);
	tmr_cancel(&s->rel_timeout);
	s->rel_pending = false;
	if (was_pending && s->rel_sdp && !s->offer_in_2xx)
		s->early_answer_acked = true;  /* offer/answer done: UPDATE may come */
	bool changed = false;
	if (sess_has_sdp(req))
		changed = answer_prack_offer(s, st, req);
	else
		sess_reply(s, st, 200, NULL, NULL, 0);
	mem_ref(s);
	if (changed && s->h && s->h->modified)
		s->h->modified(s->arg);  /* the media follows the new answer */
	if (!was_pending || s->state == SIP_SESS_ENDED) {
		mem_deref(s);
		return;
	}
	if (s->answer_deferred) {
		s->answer_deferred = false;
		sess_answer_now(s);
	} else if (s->rel_queued) {
		int status = s->rel_queued;
		s->rel_queued = 0;
		send_reliable(s, status, s->rel_queued_sdp ? s->sdp.last : NULL);
	}
	mem_deref(s);
}

bool sess_prack_send(struct sip_sess *s, const struct sip_msg *resp)
{
	struct sip_hdr h;
	char v[32];
	if (!sip_msg_hdr_id(resp, SIP_HDR_RSEQ, 0, &h) || h.value_len >= sizeof(v))
		return true;  /* no RSeq: not reliable after all (§7.1) */
	sip_hdr_unfold(&h, v);
	char *end;
	unsigned long rseq = strtoul(v, &end, 10);
	if (*end || rseq == 0 || rseq > 0xffffffffu)
		return true;
	/* RSeq counts per early dialog (RFC 3262 §4, erratum 4604) */
	struct sip_dialog *d = NULL;
	uint32_t *last = NULL;
	if (s->dlg && resp->to_tag && strcmp(resp->to_tag, s->dlg->remote_tag) == 0) {
		d = s->dlg;
		last = &s->peer_rseq;
	} else {
		int i = sess_find_fork(s, resp->to_tag);
		if (i < 0)
			return true;  /* no early dialog to PRACK in (no Contact) */
		d = s->forks[i];
		last = &s->forks_rseq[i];
	}
	/* §4: a retransmission, or one out of order, is ignored */
	if (*last && rseq != (unsigned long)*last + 1)
		return false;
	*last = (uint32_t)rseq;
	char extra[80];
	snprintf(extra, sizeof(extra), "RAck: %lu %u INVITE\r\n", rseq, resp->cseq);
	struct sip_uac *u;
	if (sip_dialog_request(d, &u, "PRACK", extra, NULL, 0, s->user, s->password, NULL,
			       NULL) == 0)
		sip_uac_release(u);
	return true;
}
