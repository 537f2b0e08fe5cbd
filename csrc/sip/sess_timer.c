/* Session timers (RFC 4028), when the peer asks for them: the interval
 * and the refresher are agreed in Session-Expires; the refresher sends a
 * re-INVITE halfway through, the other side ends the call with BYE when no
 * refresh came shortly before the interval is over. A 422 to our INVITE
 * raises the interval we ask for to its Min-SE (sess_connect.c resends). */
#define _GNU_SOURCE  /* strcasestr */
#include "sip/sess_priv.h"
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
	if (request && s->min_se)
		sbuf_printf(b, "Min-SE: %u\r\n", s->min_se);  /* §7.4: as after the 422 */
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

/* Whether a header line (name: value) is called name or its compact form. */
static bool line_is(const char *line, size_t n, const char *name, const char *compact)
{
	size_t colon = 0;
	while (colon < n && line[colon] != ':')
		colon++;
	size_t len = colon;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return (len == strlen(name) && strncasecmp(line, name, len) == 0) ||
	       (compact && len == strlen(compact) && strncasecmp(line, compact, len) == 0);
}

char *sess_timer_after_422(struct sip_sess *s, const char *headers, const struct sip_msg *resp)
{
	struct sip_hdr h;
	char v[32];
	if (!sip_msg_hdr_id(resp, SIP_HDR_MIN_SE, 0, &h) || h.value_len >= sizeof(v))
		return NULL;
	sip_hdr_unfold(&h, v);
	char *end;
	unsigned long min = strtoul(v, &end, 10);
	if (end == v || min > 86400)
		return NULL;
	/* §7.1: the lines as they were, but Session-Expires at least the
	 * Min-SE of the 422 (its parameters kept) and Min-SE saying so */
	unsigned long asked = 0;
	char params[64] = "";
	struct sbuf b;
	sbuf_init(&b);
	for (const char *p = headers ? headers : ""; *p;) {
		size_t n = strcspn(p, "\r\n");
		size_t eol = n + strspn(p + n, "\r\n");
		if (line_is(p, n, "Session-Expires", "x")) {
			const char *val = memchr(p, ':', n);
			asked = val ? strtoul(val + 1, &end, 10) : 0;
			if (val) {
				size_t plen = (size_t)(p + n - end);
				if (plen < sizeof(params))
					snprintf(params, sizeof(params), "%.*s", (int)plen, end);
			}
		} else if (!line_is(p, n, "Min-SE", NULL)) {
			sbuf_add(&b, p, eol);
		}
		p += eol;
	}
	/* once per raise: a 422 that asks for no more than we did is the end */
	if (min <= asked || min < MIN_SE || b.err) {
		sbuf_free(&b);
		return NULL;
	}
	sbuf_printf(&b, "Session-Expires: %lu%s\r\nMin-SE: %lu\r\n", min, params, min);
	s->min_se = (uint32_t)min;
	return sbuf_take(&b, NULL);
}
