/* Session timers (RFC 4028), when the peer asks for them: the interval
 * and the refresher are agreed in Session-Expires; the refresher sends a
 * re-INVITE halfway through, the other side ends the call with BYE when no
 * refresh came shortly before the interval is over. */
#define _GNU_SOURCE  /* strcasestr */
#include "sip/sess.h"
#include "util/mem.h"
#include "util/sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_SE 90   /* seconds; RFC 4028 §4: at least 90 */

void sess_timer_stop(struct sip_sess *s)
{
	tmr_cancel(&s->se_tmr);
}

/* Session-Expires: delta [;refresher=uac|uas]. refresher: 'c', 's' or 0. */
static bool parse_se(const struct sip_msg *m, unsigned long *delta, char *refresher)
{
	struct sip_hdr h;
	char v[128];
	*refresher = 0;
	if (!sip_msg_hdr_id(m, SIP_HDR_SESSION_EXPIRES, 0, &h) || h.value_len >= sizeof(v))
		return false;
	sip_hdr_unfold(&h, v);
	char *end;
	*delta = strtoul(v, &end, 10);
	if (end == v || *delta == 0)
		return false;
	const char *r = strcasestr(end, "refresher=");
	if (r) {
		r += 10;
		if (strncasecmp(r, "uac", 3) == 0)
			*refresher = 'c';
		else if (strncasecmp(r, "uas", 3) == 0)
			*refresher = 's';
	}
	return true;
}

bool sess_timer_request(struct sip_sess *s, struct sip_strans *st, const struct sip_msg *req)
{
	unsigned long delta;
	char refresher;
	s->se_peer_supports = sess_hdr_has_token(req, "Supported", "timer") ||
			      sess_hdr_has_token(req, "Require", "timer");
	if (!parse_se(req, &delta, &refresher)) {
		s->se = 0;  /* no timer asked for (or, in a refresh, no more) */
		sess_timer_stop(s);
		return true;
	}
	if (delta < MIN_SE) {
		char extra[40];
		snprintf(extra, sizeof(extra), "Min-SE: %u\r\n", MIN_SE);
		sip_strans_reply(st, 422, NULL, extra, NULL, 0);
		return false;
	}
	s->se = delta > 86400 ? 86400 : (uint32_t)delta;
	/* §9: unless the request names one, the peer refreshes if it can */
	if (refresher == 'c')
		s->se_refresher = false;
	else if (refresher == 's')
		s->se_refresher = true;
	else
		s->se_refresher = !s->se_peer_supports;
	return true;
}

void sess_timer_response(struct sip_sess *s, const struct sip_msg *resp)
{
	unsigned long delta;
	char refresher;
	if (!parse_se(resp, &delta, &refresher)) {
		s->se = 0;
		sess_timer_stop(s);
		return;
	}
	s->se = delta < MIN_SE ? MIN_SE : delta > 86400 ? 86400 : (uint32_t)delta;
	s->se_refresher = refresher != 's';  /* we were the UAC of this exchange */
	s->se_peer_supports = true;
}

void sess_timer_headers(const struct sip_sess *s, struct sbuf *b, bool request)
{
	if (!s->se)
		return;
	/* refresher names a role in this transaction: uac is whoever sends it */
	bool uac = request ? s->se_refresher : !s->se_refresher;
	sbuf_printf(b, "Session-Expires: %u;refresher=%s\r\n", s->se, uac ? "uac" : "uas");
	if (!request && s->se_peer_supports)
		sbuf_puts(b, "Require: timer\r\n");
}

static void on_timer(void *arg)
{
	struct sip_sess *s = arg;
	if (s->state != SIP_SESS_CONFIRMED)
		return;
	if (!s->se_refresher) {
		/* §10: no refresh came in time */
		sess_send_bye(s);
		sess_end(s, SIP_END_TIMEOUT, 408, "Session Expired", NULL);
		return;
	}
	if (sess_refresh(s) != 0)  /* another offer is open: try again soon */
		tmr_start(s->ua->stack.tq, &s->se_tmr, 2000, on_timer, s);
}

void sess_timer_start(struct sip_sess *s)
{
	sess_timer_stop(s);
	if (!s->se || s->state != SIP_SESS_CONFIRMED)
		return;
	uint64_t ms = 1000ull * s->se;
	if (s->se_refresher)
		ms /= 2;  /* §7.4: halfway */
	else
		ms -= 1000ull * (s->se / 3 < 32 ? s->se / 3 : 32);  /* §10 */
	tmr_start(s->ua->stack.tq, &s->se_tmr, ms, on_timer, s);
}
