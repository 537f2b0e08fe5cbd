/* An incoming INVITE that replaces one of our calls (RFC 3891 §3): the
 * dialog its Replaces header names, found by Call-ID and tags, decides
 * whether it may; once the new call is confirmed the old one ends (BYE,
 * or CANCEL for an early dialog we started), with the end "replaced".
 *
 * A dialog that has ended is out of the endpoint's table, so the calls
 * that ended lately are remembered by their dialog's identifiers: a
 * Replaces that names one of them gets 603, not 481. Each is kept for
 * 64*T1 (as long as any retransmission of that call can come) and at most
 * MAX_ENDED of them: past that the oldest are forgotten and a late
 * Replaces for them gets 481, the answer for a dialog never heard of. */
#include "sip/replaces.h"
#include "sip/sess_priv.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <stdio.h>
#include <string.h>

#define MAX_ENDED 1024

struct ended_dialog {
	struct hnode hn;
	struct le le;               /* in ua->ended_list, oldest first */
	uint64_t at;                /* when the call ended */
	char key[];                 /* Call-ID, local tag, remote tag */
};

static void ended_key(struct sbuf *b, const char *call_id, const char *local_tag,
		      const char *remote_tag)
{
	sbuf_cat(b, call_id, "\n", local_tag, "\n", remote_tag, NULL);
}

static void forget(struct sip_ua *ua, struct ended_dialog *e)
{
	htab_remove(&ua->ended_dialogs, &e->hn);
	list_unlink(&e->le);
	ua->nended--;
	mem_deref(e);
}

/* Forgets the dialogs that ended more than 64*T1 ago. */
static void forget_old(struct sip_ua *ua)
{
	uint64_t now = ua->stack.tq->now, keep = 64ull * ua->stack.t.t1;
	while (!list_empty(&ua->ended_list)) {
		struct ended_dialog *e = container_of(ua->ended_list.next, struct ended_dialog, le);
		if (now - e->at < keep)
			break;
		forget(ua, e);
	}
}

void sip_sess_forget_ended(struct sip_ua *ua)
{
	while (!list_empty(&ua->ended_list))
		forget(ua, container_of(ua->ended_list.next, struct ended_dialog, le));
}

void sess_replace_remember(struct sip_sess *s)
{
	struct sip_ua *ua = s->ua;
	const struct sip_dialog *d = s->dlg;
	if (!d || !*d->remote_tag || ua->closing || ua->closed)
		return;
	forget_old(ua);
	if (ua->nended >= MAX_ENDED)
		forget(ua, container_of(ua->ended_list.next, struct ended_dialog, le));
	struct sbuf b;
	sbuf_init(&b);
	ended_key(&b, d->call_id, d->local_tag, d->remote_tag);
	struct ended_dialog *e = b.err ? NULL : mem_alloc(sizeof(*e) + b.len + 1, NULL);
	if (e) {
		memset(e, 0, sizeof(*e));
		memcpy(e->key, b.d, b.len + 1);
		e->at = ua->stack.tq->now;
		if (!htab_find(&ua->ended_dialogs, e->key)) {
			htab_insert(&ua->ended_dialogs, &e->hn, e->key);
			list_append(&ua->ended_list, &e->le);
			ua->nended++;
		} else {
			mem_deref(e);
		}
	}
	sbuf_free(&b);
}

static bool ended_lately(struct sip_ua *ua, const struct sip_replaces *r)
{
	forget_old(ua);
	struct sbuf b;
	sbuf_init(&b);
	ended_key(&b, r->call_id, r->to_tag, r->from_tag);
	bool found = !b.err && htab_find(&ua->ended_dialogs, b.d);
	sbuf_free(&b);
	return found;
}

/* The call whose dialog (or early dialog of a fork) d is. */
static struct sip_sess *sess_of(const struct sip_dialog *d)
{
	return d && d->h == &sess_dialog_handlers ? d->arg : NULL;
}

static bool refuse(struct sip_strans *st, int status, const char *reason, const char *why)
{
	char warning[160];
	snprintf(warning, sizeof(warning), "Warning: 399 luasip \"%s\"\r\n", why);
	sip_strans_reply(st, status, reason, warning, NULL, 0);
	return false;
}

bool sess_replace_check(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req)
{
	struct sip_hdr h;
	if (!sip_msg_hdr(req, "Replaces", 0, &h))
		return true;
	if (sip_msg_hdr_count(req, "Replaces") > 1)
		return refuse(st, 400, "Bad Replaces", "More than one Replaces header");
	char v[600];
	struct sip_replaces r;
	if (h.value_len >= sizeof(v))
		return refuse(st, 400, "Bad Replaces", "The Replaces header is too long");
	sip_hdr_unfold(&h, v);
	if (sip_replaces_parse(v, &r) != 0)
		return refuse(st, 400, "Bad Replaces", "Malformed Replaces header");
	/* its to-tag is ours in that dialog, its from-tag the peer's */
	struct sip_sess *old = sess_of(sip_dialog_find(s->ua, r.call_id, r.to_tag, r.from_tag));
	if (!old || old->state == SIP_SESS_ENDED) {
		if (ended_lately(s->ua, &r))
			return refuse(st, 603, NULL, "The call to replace has ended");
		return refuse(st, 481, NULL, "No call to replace");
	}
	if (old->state == SIP_SESS_CONFIRMED) {
		/* early-only: the sender would rather fail than take a call
		 * that was answered meanwhile (§7.1) */
		if (r.early_only)
			return refuse(st, 486, NULL, "The call to replace is answered");
	} else if (!old->outgoing) {
		/* an early dialog we did not start, or one whose 2xx waits
		 * for its ACK: not ours to give away (§3) */
		return refuse(st, 481, NULL, "No call to replace");
	}
	s->replaces = mem_ref(old);
	return true;
}

void sess_replace_answered(struct sip_sess *s)
{
	struct sip_sess *old = s->replaces;
	if (!old || old->state == SIP_SESS_ENDED)
		return;
	mem_ref(old);
	if (old->state == SIP_SESS_CONFIRMED)
		sess_send_bye(old);
	else if (old->got_provisional)
		sip_uac_cancel(old->uac);  /* our early dialog: CANCEL (§3) */
	old->replaced_by = s;
	sess_end(old, SIP_END_REPLACED, 0, NULL, NULL);
	old->replaced_by = NULL;
	mem_deref(old);
}

struct sip_sess *sip_sess_replaces(const struct sip_sess *s)
{
	return s->replaces;
}

struct sip_sess *sip_sess_replaced_by(const struct sip_sess *s)
{
	return s->replaced_by;
}
