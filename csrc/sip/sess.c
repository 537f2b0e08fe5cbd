/* INVITE sessions: what placed and received calls share. Requests that
 * come in the dialog, the 2xx a UAS retransmits until its ACK comes
 * (RFC 3261 §13.3.1.4), BYE both ways, and the end of a session. */
#include "sip/sess_priv.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *sip_sess_state_name(enum sip_sess_state st)
{
	switch (st) {
	case SIP_SESS_CALLING:   return "calling";
	case SIP_SESS_INCOMING:  return "incoming";
	case SIP_SESS_EARLY:     return "early";
	case SIP_SESS_CONFIRMED: return "confirmed";
	default:                 return "ended";
	}
}

const char *sip_sess_end_name(enum sip_sess_end why)
{
	switch (why) {
	case SIP_END_LOCAL:     return "local";
	case SIP_END_HANGUP:    return "hangup";
	case SIP_END_CANCELLED: return "cancelled";
	case SIP_END_REJECTED:  return "rejected";
	case SIP_END_TIMEOUT:   return "timeout";
	case SIP_END_FAILED:    return "failed";
	case SIP_END_CLOSED:    return "closed";
	case SIP_END_REPLACED:  return "replaced";
	default:                return "none";
	}
}

bool sess_has_sdp(const struct sip_msg *m)
{
	const osip_content_type_t *ct = m->content_type;
	return m->body_len > 0 && ct && sdp_is_media_type(ct->type, ct->subtype);
}

void sess_keep_remote_sdp(struct sip_sess *s, const struct sip_msg *m)
{
	char *copy = mem_strndup(m->body, m->body_len);
	if (!copy)
		return;
	mem_deref(s->remote_sdp);
	s->remote_sdp = copy;
}

bool sess_hdr_has_token(const struct sip_msg *m, const char *name, const char *token)
{
	struct sip_hdr h;
	size_t tl = strlen(token);
	for (unsigned i = 0; sip_msg_hdr(m, name, i, &h); i++) {
		const char *p = h.value, *end = h.value + h.value_len;
		while (p < end) {
			while (p < end && strchr(", \t\r\n", *p))
				p++;
			const char *t = p;
			while (p < end && !strchr(", \t\r\n;", *p))
				p++;
			if ((size_t)(p - t) == tl && strncasecmp(t, token, tl) == 0)
				return true;
			while (p < end && *p != ',')
				p++;
		}
	}
	return false;
}

/* Answers a request of the session: our Contact on what sets up or
 * refreshes the dialog, what we allow and support on a 2xx, the session
 * timer where one runs, the lines of more, and the SDP with its type. */
int sess_reply(struct sip_sess *s, struct sip_strans *st, int status, const char *more,
	       const char *sdp, size_t sdp_len)
{
	const struct sip_msg *req = sip_strans_request(st);
	char contact[160];
	struct sbuf b;
	sbuf_init(&b);
	bool target = sip_method_is(req, "INVITE") || sip_method_is(req, "UPDATE");
	if (target && status > 100 && status < 300 &&
	    sip_ua_contact(s->ua, req->src.proto, req->src.addr.sa.sa_family, contact,
			   sizeof(contact)))
		sbuf_cat(&b, "Contact: ", contact, "\r\n", NULL);
	/* §12.1.1: what sets up a dialog copies the Record-Route of the
	 * INVITE, so the caller routes through the same proxies */
	struct sip_hdr h;
	if (sip_method_is(req, "INVITE") && status > 100 && status < 300)
		for (unsigned i = 0; sip_msg_hdr_id(req, SIP_HDR_RECORD_ROUTE, i, &h); i++) {
			sbuf_puts(&b, "Record-Route: ");
			sbuf_add(&b, h.value, h.value_len);
			sbuf_puts(&b, "\r\n");
		}
	if (target && status >= 200 && status < 300) {
		sbuf_puts(&b, "Allow: ");
		sbuf_puts(&b, sip_ua_allow(s->ua, true));
		sbuf_puts(&b, "\r\nSupported: " SIP_SUPPORTED "\r\n");
		/* the INVITE's 2xx, or a refresh; an early UPDATE is neither */
		if (sip_method_is(req, "INVITE") || s->state == SIP_SESS_CONFIRMED)
			sess_timer_headers(s, &b, false);
	}
	if (more)
		sbuf_puts(&b, more);
	if (sdp)
		sbuf_puts(&b, SDP_CONTENT_TYPE);
	int err = b.err ? -ENOMEM : sip_strans_reply(st, status, NULL, b.d, sdp, sdp ? sdp_len : 0);
	sbuf_free(&b);
	return err;
}

char *sess_uri_of(const char *v)
{
	if (!v)
		return NULL;
	const char *lt = strchr(v, '<');
	if (lt) {
		const char *gt = strchr(lt, '>');
		return gt ? mem_strndup(lt + 1, (size_t)(gt - lt - 1)) : mem_strdup(lt + 1);
	}
	v += strspn(v, " \t");
	return mem_strndup(v, strcspn(v, "; \t"));
}

/* ---- lifetime ---- */

static void teardown(struct sip_sess *s);

static void sess_destroy(void *arg)
{
	struct sip_sess *s = arg;
	if (s->state != SIP_SESS_ENDED)
		teardown(s);
	sip_uac_release(s->uac);
	sip_uac_release(s->bye);
	sip_uac_release(s->mod_prev);
	mem_deref(s->st);
	mem_deref(s->invite);
	mem_deref(s->local_tag);
	mem_deref(s->remote_tag);
	mem_deref(s->call_id);
	mem_deref(s->local_uri);
	mem_deref(s->remote_uri);
	mem_deref(s->replaces);
	mem_deref(s->remote_sdp);
	mem_deref(s->ack_body);
	mem_deref(s->user);
	mem_deref(s->password);
	sess_targets_free(s);
	sdp_local_close(&s->sdp);
	mem_deref(s->ua);
}

struct sip_sess *sess_alloc(struct sip_ua *ua, const union sa *rtp,
			    const struct sip_sess_handlers *h, void *arg)
{
	struct sip_sess *s = mem_alloc(sizeof(*s), sess_destroy);
	if (!s)
		return NULL;
	s->ua = mem_ref(ua);
	s->h = h;
	s->arg = arg;
	sdp_local_init(&s->sdp, rtp);
	list_append(&ua->sessions, &s->le);
	ua->nsessions++;
	return s;
}

/* ---- the 2xx retransmitted until the ACK ---- */

void sess_stop_2xx(struct sip_sess *s)
{
	tmr_cancel(&s->retx_2xx);
	tmr_cancel(&s->no_ack);
	if (s->st_2xx)
		sip_strans_accepted_done(s->st_2xx);  /* acknowledged, or given up */
	s->st_2xx = mem_deref(s->st_2xx);
}

static void on_retx_2xx(void *arg)
{
	struct sip_sess *s = arg;
	const struct sip_timers *t = &s->ua->stack.t;
	sip_strans_retransmit(s->st_2xx);
	s->interval = s->interval * 2 < t->t2 ? s->interval * 2 : t->t2;
	tmr_start(s->ua->stack.tq, &s->retx_2xx, s->interval, on_retx_2xx, s);
}

static void on_no_ack(void *arg)
{
	struct sip_sess *s = arg;
	/* §13.3.1.4: confirmed without an ACK, but the session ends with BYE */
	sess_stop_2xx(s);
	sess_send_bye(s);
	if (s->bye_pending)
		sess_end(s, SIP_END_LOCAL, 0, NULL, NULL);
	else
		sess_end(s, SIP_END_TIMEOUT, 408, "No ACK", NULL);
}

void sess_start_2xx(struct sip_sess *s, struct sip_strans *st)
{
	struct sip_stack *stk = &s->ua->stack;
	sess_stop_2xx(s);
	s->st_2xx = mem_ref(st);
	s->interval = stk->t.t1;
	/* over TCP the transport is reliable, but the 2xx still goes again
	 * (§13.3.1.4 does not depend on the transport) */
	tmr_start(stk->tq, &s->retx_2xx, s->interval, on_retx_2xx, s);
	tmr_start(stk->tq, &s->no_ack, 64ull * stk->t.t1, on_no_ack, s);
}

/* ---- the end ---- */

static void on_bye_answer(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;
	if (err || resp->status >= 200) {
		struct sip_uac *u = s->bye;
		s->bye = NULL;
		sip_uac_release(u);
	}
}

int sess_send_bye(struct sip_sess *s)
{
	if (!s->dlg || s->bye)
		return -EALREADY;
	return sip_dialog_request(s->dlg, &s->bye, "BYE", NULL, NULL, 0, s->user, s->password,
				  on_bye_answer, s);
}

/* What ties a session to the endpoint and the clock: its place in the
 * endpoint's list, its timers, its dialogs. */
static void teardown(struct sip_sess *s)
{
	s->state = SIP_SESS_ENDED;
	list_unlink(&s->le);
	s->ua->nsessions--;
	sess_stop_2xx(s);
	sess_modify_stop(s);
	sess_prack_stop(s);
	s->bye_pending = false;
	sess_timer_stop(s);
	tmr_cancel(&s->guard);
	if (s->st)
		sip_strans_on_cancel(s->st, NULL, NULL);
	if (s->dlg) {
		sess_replace_remember(s);
		/* the call's tags stay readable after its end */
		s->local_tag = mem_ref(s->dlg->local_tag);
		s->remote_tag = mem_ref(s->dlg->remote_tag);
	}
	sip_dialog_close(s->dlg);
	s->dlg = NULL;
	for (int i = 0; i < SESS_MAX_FORKS; i++) {
		sip_dialog_close(s->forks[i]);
		s->forks[i] = NULL;
	}
}

void sess_end(struct sip_sess *s, enum sip_sess_end why, int status, const char *reason,
	      const struct sip_msg *msg)
{
	if (s->state == SIP_SESS_ENDED)
		return;
	s->end = why;
	teardown(s);
	mem_ref(s);
	if (s->h && s->h->ended)
		s->h->ended(s->arg, why, status, reason, msg);
	if (s->self_held) {
		s->self_held = false;
		mem_deref(s);
	}
	mem_deref(s);  /* the caller must hold s if it goes on using it */
}

/* ---- what the owner reads ---- */

struct sip_msg *sip_sess_request_msg(const struct sip_sess *s)
{
	if (!s->outgoing)
		return mem_ref(s->invite);
	size_t len;
	const char *text = s->uac ? sip_uac_sent(s->uac, &len) : NULL;
	return text ? sip_msg_decode(text, len, false) : NULL;
}

const char *sip_sess_local_tag(const struct sip_sess *s)
{
	if (s->dlg)
		return s->dlg->local_tag;
	if (s->local_tag)
		return s->local_tag;
	return s->outgoing && s->uac ? sip_uac_from_tag(s->uac) : NULL;
}

const char *sip_sess_remote_tag(const struct sip_sess *s)
{
	const char *tag = s->dlg ? s->dlg->remote_tag : s->remote_tag;
	return tag && *tag ? tag : NULL;
}

/* ---- requests in the dialog ---- */

const struct sip_sess_method sip_sess_methods[] = {
	{ "INVITE", SIP_SESS_ANSWERS },
	{ "ACK", SIP_SESS_ANSWERS },
	{ "BYE", SIP_SESS_ANSWERS },
	{ "CANCEL", SIP_SESS_ANSWERS },
	{ "UPDATE", SIP_SESS_ANSWERS },
	{ "PRACK", SIP_SESS_ANSWERS },
	/* RFC 6086: a call takes INFO it has no use for (and OPTIONS is a
	 * question any UA answers) */
	{ "INFO", SIP_SESS_OWNER_OR_200 },
	{ "OPTIONS", SIP_SESS_OWNER_OR_200 },
	{ "REFER", SIP_SESS_OWNER_TRANSFERS },
	{ "NOTIFY", SIP_SESS_OWNER_OR_405 },
	{ "MESSAGE", SIP_SESS_OWNER_OR_405 },
	{ NULL, SIP_SESS_ANSWERS },
};

const struct sip_sess_method *sip_sess_method(const char *method)
{
	for (const struct sip_sess_method *m = sip_sess_methods; m->name; m++)
		if (strcmp(m->name, method) == 0)
			return m;
	return NULL;
}

int sip_sess_reply_unhandled(struct sip_sess *s, struct sip_strans *st)
{
	const struct sip_sess_method *m = sip_sess_method(sip_strans_request(st)->method);
	if (m && m->by == SIP_SESS_OWNER_OR_200)
		return sip_strans_reply(st, 200, NULL, NULL, NULL, 0);
	if (m && m->by == SIP_SESS_OWNER_TRANSFERS)
		return sip_strans_reply(st, 603, NULL, NULL, NULL, 0);
	char allow[160];
	snprintf(allow, sizeof(allow), "Allow: %s\r\n", sip_ua_allow(s->ua, true));
	return sip_strans_reply(st, 405, NULL, allow, NULL, 0);
}

static void recv_bye(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req)
{
	sess_reply(s, st, 200, NULL, NULL, 0);
	/* a BYE before our final answer ends the INVITE too (§15.1.2) */
	if (s->st && !sip_strans_answered(s->st))
		sip_strans_reply(s->st, 487, NULL, NULL, NULL, 0);
	sess_end(s, SIP_END_HANGUP, 0, NULL, req);
}

static void dlg_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_sess *s = arg;
	if (sip_method_is(req, "BYE"))
		recv_bye(s, st, req);
	else if (sip_method_is(req, "INVITE") || sip_method_is(req, "UPDATE"))
		sess_modify_recv(s, st, req);
	else if (sip_method_is(req, "PRACK"))
		sess_prack_recv(s, st, req);
	else if (s->h && s->h->request)
		s->h->request(s->arg, st, req);
	else
		sip_sess_reply_unhandled(s, st);
}

static void dlg_ack(void *arg, const struct sip_msg *ack)
{
	struct sip_sess *s = arg;
	if (!s->st_2xx || sip_strans_request(s->st_2xx)->cseq != ack->cseq)
		return;  /* a retransmitted ACK, or one for an older 2xx */
	sess_stop_2xx(s);
	if (s->state == SIP_SESS_CONFIRMED) {
		sess_modify_ack(s, ack);
		return;
	}
	/* the initial INVITE: a late offer's answer comes in the ACK */
	if (s->offer_in_2xx) {
		s->offer_in_2xx = false;
		int err = sess_has_sdp(ack) ? sdp_accept(&s->sdp, ack->body, ack->body_len,
							 &s->media) : -EBADMSG;
		if (err) {
			sess_send_bye(s);
			sess_end(s, SIP_END_FAILED, err == -ENOTSUP ? 488 : 400,
				 "No usable SDP answer in the ACK", ack);
			return;
		}
		s->have_media = true;
		sess_keep_remote_sdp(s, ack);
	}
	s->state = SIP_SESS_CONFIRMED;
	s->st = mem_deref(s->st);
	if (s->bye_pending) {
		sess_send_bye(s);
		sess_end(s, SIP_END_LOCAL, 0, NULL, NULL);
		return;
	}
	sess_timer_start(s);
	/* a call that replaces another (RFC 3891) takes its place once it is
	 * confirmed: the peer that sent the Replaces has the new dialog before
	 * it hears of the old one's end (a BYE crossing its ACK would find it
	 * still sending the ACK) */
	sess_replace_answered(s);
	if (s->state == SIP_SESS_ENDED)
		return;
	if (s->h && s->h->established)
		s->h->established(s->arg, ack);
}

/* A 2xx to one of our INVITEs that no transaction took any more: its ACK
 * was lost, so it goes again (§13.2.2.4). */
static void dlg_response(void *arg, const struct sip_msg *resp)
{
	struct sip_sess *s = arg;
	bool initial = resp->cseq == s->invite_cseq;
	sip_dialog_ack(s->dlg, resp->cseq, initial && s->ack_body ? SDP_CONTENT_TYPE
					: NULL, initial ? s->ack_body : NULL,
		       initial && s->ack_body ? strlen(s->ack_body) : 0);
}

const struct sip_dialog_handlers sess_dialog_handlers = {
	.request = dlg_request,
	.ack = dlg_ack,
	.response = dlg_response,
};

/* ---- what the owner does ---- */

static void on_cancel_guard(void *arg)
{
	struct sip_sess *s = arg;
	/* a CANCEL whose INVITE never got a final answer: give up */
	sess_end(s, SIP_END_TIMEOUT, 408, "Request Timeout", NULL);
}

int sip_sess_hangup(struct sip_sess *s)
{
	switch (s->state) {
	case SIP_SESS_CALLING:
	case SIP_SESS_EARLY:
		if (s->outgoing) {
			if (s->cancelling)
				return 0;
			s->cancelling = true;
			/* §9.1: no CANCEL before a provisional response */
			if (!s->got_provisional || sip_uac_cancel(s->uac) != 0)
				s->cancel_pending = true;
			tmr_start(s->ua->stack.tq, &s->guard, 64ull * s->ua->stack.t.t1,
				  on_cancel_guard, s);
			return 0;
		}
		/* an incoming call not yet answered: */
		/* fall through */
	case SIP_SESS_INCOMING: {
		if (s->st_2xx && !s->bye_pending) {
			/* §15: no BYE before the ACK of our 2xx: it goes once
			 * the ACK came or the 2xx timed out; until then the
			 * session keeps itself */
			s->bye_pending = true;
			s->self_held = true;
			mem_ref(s);
			return 0;
		}
		if (!s->st || sip_strans_answered(s->st))
			return -EALREADY;
		/* the callee is not taking the call: 480, as when nobody
		 * answers; a script that means busy rejects with 486 */
		int err = sip_strans_reply(s->st, 480, NULL, NULL, NULL, 0);
		sess_end(s, SIP_END_LOCAL, 480, "Temporarily Unavailable", NULL);
		return err;
	}
	case SIP_SESS_CONFIRMED:
		sess_send_bye(s);
		sess_end(s, SIP_END_LOCAL, 0, NULL, NULL);
		return 0;
	default:
		return -EALREADY;
	}
}

int sip_sess_request(struct sip_sess *s, struct sip_uac **up, const char *method,
		     const char *extra, const char *body, size_t body_len, sip_uac_h *h,
		     void *arg)
{
	if (!s->dlg || s->state != SIP_SESS_CONFIRMED)
		return -ENOTCONN;
	return sip_dialog_request(s->dlg, up, method, extra, body, body_len, s->user,
				  s->password, h, arg);
}

void sip_sess_release(struct sip_sess *s)
{
	if (!s)
		return;
	s->h = NULL;
	/* an incoming call not answered yet gets 480; any other is hung up */
	if (!s->outgoing && s->st && !sip_strans_answered(s->st))
		sip_sess_reject(s, 480, NULL, NULL);
	else if (s->state != SIP_SESS_ENDED)
		sip_sess_hangup(s);
	/* a CANCEL in flight waits for its 487 no more; a BYE that waits for
	 * the ACK of our 2xx still goes */
	if (!s->bye_pending)
		sess_end(s, SIP_END_LOCAL, 0, NULL, NULL);
	mem_deref(s);
}

void sip_sess_close_all(struct sip_ua *ua)
{
	/* always the first: an owner told of one end may end others (a
	 * bridge hangs up its other call), so no next is safe to keep */
	while (!list_empty(&ua->sessions)) {
		struct sip_sess *s = container_of(ua->sessions.next, struct sip_sess, le);
		mem_ref(s);
		/* the endpoint goes now: a BYE cannot wait for the ACK */
		if (s->state == SIP_SESS_CONFIRMED || s->st_2xx)
			sess_send_bye(s);
		else if (s->outgoing && s->got_provisional)
			sip_uac_cancel(s->uac);
		else if (s->st && !sip_strans_answered(s->st))
			sip_strans_reply(s->st, 480, NULL, NULL, NULL, 0);
		sess_end(s, SIP_END_CLOSED, 0, NULL, NULL);
		mem_deref(s);
	}
}
