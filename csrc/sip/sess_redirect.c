/* Following redirections (RFC 3261 §8.1.3.4): the target set of a call
 * placed with params.follow. A 300, 301 or 302 adds its Contacts to the
 * set; the next INVITE goes to the untried target of highest q (equal q:
 * the one heard of first), and a target that fails (4xx, 5xx, no answer,
 * a transport failure) makes way for the next one. A 6xx ends the search
 * (§21.6: the user is known and does not want the call), as do our own
 * CANCEL, an empty set and the limit on new INVITEs. A URI enters the set
 * once (§19.1.4 equality), so two targets that redirect to each other end
 * when the set runs dry, with the last failure.
 *
 * Each new INVITE is sip_uac_redirect of the first: the same Call-ID, From
 * tag, To, headers and offer, the next CSeq. §8.1.3.4 asks that the
 * request to a new target reuse the header fields and body of the
 * original; keeping the Call-ID and From tag makes it one call attempt, as
 * a proxy recursing on a 3xx would, and the next CSeq keeps a UAS that saw
 * the first INVITE (a redirect server that is also a target) from taking
 * the second for a merged request (§8.2.2.2, 482 Loop Detected). */
#include "sip/sess_priv.h"
#include "util/mem.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define SESS_MAX_TARGETS 16   /* Contacts beyond it are left out */
#define Q_DEFAULT 1000        /* the first target's q */

struct target {
	char *uri;          /* a Request-URI: no method parameter, no headers */
	char *reason;
	int status;
	unsigned q;         /* thousandths */
	unsigned seq;       /* the order targets were heard of */
};

struct sess_targets {
	struct target t[SESS_MAX_TARGETS];
	unsigned n;         /* targets in the set */
	unsigned ntried;    /* t[0 .. ntried) were tried, in that order; the
	                       last of them is the current one */
	unsigned seq;
	unsigned follow, hops;  /* INVITEs after the first: allowed, sent */
};

static void targets_destroy(void *arg)
{
	struct sess_targets *ts = arg;
	for (unsigned i = 0; i < ts->n; i++) {
		mem_deref(ts->t[i].uri);
		mem_deref(ts->t[i].reason);
	}
}

static const char *param(const osip_uri_t *u, const char *name)
{
	osip_uri_param_t *p = NULL;
	if (osip_uri_uparam_get_byname((osip_uri_t *)u, (char *)name, &p) != 0 || !p)
		return NULL;
	return p->gvalue ? p->gvalue : "";
}

static bool same_str(const char *a, const char *b, bool nocase)
{
	a = a ? a : "";
	b = b ? b : "";
	return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* §19.1.4: user and password compare case-sensitively, scheme, host and
 * parameters not; a port left out is not 5060; user, ttl, method, maddr and
 * transport must agree when either URI has them, other parameters only
 * when both have them. Headers are not compared: targets have none. */
static bool uri_equal(const osip_uri_t *a, const osip_uri_t *b)
{
	static const char *const strict[] = {"transport", "user", "ttl", "method", "maddr"};
	if (!same_str(a->scheme, b->scheme, true) || !same_str(a->username, b->username, false) ||
	    !same_str(a->password, b->password, false) || !same_str(a->host, b->host, true) ||
	    !same_str(a->port, b->port, false))
		return false;
	for (size_t i = 0; i < sizeof(strict) / sizeof(strict[0]); i++) {
		const char *pa = param(a, strict[i]), *pb = param(b, strict[i]);
		if ((pa || pb) && !(pa && pb && strcasecmp(pa, pb) == 0))
			return false;
	}
	osip_uri_param_t *p;
	for (int i = 0; (p = osip_list_get(&a->url_params, i)) != NULL; i++) {
		const char *pb = p->gname ? param(b, p->gname) : NULL;
		if (pb && !same_str(p->gvalue, pb, true))
			return false;
	}
	return true;
}

/* Whether the set holds a URI equal to u already. */
static bool known(const struct sess_targets *ts, const osip_uri_t *u)
{
	bool found = false;
	for (unsigned i = 0; i < ts->n && !found; i++) {
		osip_uri_t *v = NULL;
		if (osip_uri_init(&v) == 0 && osip_uri_parse(v, ts->t[i].uri) == 0)
			found = uri_equal(u, v);
		if (v)
			osip_uri_free(v);
	}
	return found;
}

static bool add(struct sess_targets *ts, const osip_uri_t *u, unsigned q)
{
	if (ts->n == SESS_MAX_TARGETS || !u->scheme || !u->host ||
	    strcasecmp(u->scheme, "sip") != 0 || known(ts, u))
		return true;
	char *s = sip_uri_dup(u, true);
	if (!s)
		return false;
	ts->t[ts->n++] = (struct target){.uri = s, .q = q, .seq = ts->seq++};
	return true;
}

/* The Contacts of a 300, 301 or 302 join the set. (305's Contact is a
 * proxy to go through, 380's alternative services: neither is a target.) */
static void add_contacts(struct sess_targets *ts, const struct sip_msg *resp)
{
	if (resp->status != 300 && resp->status != 301 && resp->status != 302)
		return;
	const osip_message_t *o = sip_msg_osip(resp);
	if (!o)
		return;
	osip_contact_t *c;
	for (int i = 0; (c = osip_list_get(&o->contacts, i)) != NULL; i++) {
		if (!c->url)
			continue;
		if (!add(ts, c->url, sip_contact_q(c)))
			return;
	}
}

static void record(struct target *t, int status, const char *reason)
{
	t->status = status;
	mem_deref(t->reason);
	t->reason = reason ? mem_strdup(reason) : NULL;
}

/* The untried target to call next: highest q, then first heard of; moved
 * to the end of the tried ones. NULL when every target was tried. */
static struct target *next_target(struct sess_targets *ts)
{
	unsigned best = ts->n;
	for (unsigned i = ts->ntried; i < ts->n; i++)
		if (best == ts->n || ts->t[i].q > ts->t[best].q ||
		    (ts->t[i].q == ts->t[best].q && ts->t[i].seq < ts->t[best].seq))
			best = i;
	if (best == ts->n)
		return NULL;
	struct target t = ts->t[best];
	memmove(&ts->t[ts->ntried + 1], &ts->t[ts->ntried],
		(best - ts->ntried) * sizeof(ts->t[0]));
	ts->t[ts->ntried] = t;
	return &ts->t[ts->ntried++];
}

int sess_targets_init(struct sip_sess *s, const char *uri, unsigned follow)
{
	struct sess_targets *ts = mem_alloc(sizeof(*ts), targets_destroy);
	if (!ts)
		return -ENOMEM;
	ts->t[0].uri = mem_strdup(uri);
	if (!ts->t[0].uri) {
		mem_deref(ts);
		return -ENOMEM;
	}
	ts->t[0].q = Q_DEFAULT;
	ts->n = ts->ntried = 1;
	ts->seq = 1;
	ts->follow = follow;
	s->targets = ts;
	return 0;
}

bool sess_targets_outcome(struct sip_sess *s, int err, const struct sip_msg *resp)
{
	struct sess_targets *ts = s->targets;
	if (!ts || err == -ECANCELED)
		return false;  /* the endpoint closes */
	struct target *cur = &ts->t[ts->ntried - 1];
	if (resp)
		record(cur, resp->status, resp->reason);
	else
		record(cur, err == -ETIMEDOUT ? 408 : 503,
		       err == -ETIMEDOUT ? "Request Timeout" : "Service Unavailable");
	if (s->cancelling || s->cancel_pending || s->state == SIP_SESS_ENDED ||
	    s->state == SIP_SESS_CONFIRMED || (resp && resp->status >= 600))
		return false;
	if (resp)
		add_contacts(ts, resp);
	struct target *t;
	while (ts->hops < ts->follow && (t = next_target(ts)) != NULL) {
		ts->hops++;
		int e = sip_uac_redirect(s->uac, t->uri);
		if (e == 0) {
			sess_invite_restart(s);
			return true;
		}
		/* a target we cannot send to (a host name, sips): the next one */
		record(t, 503, "Service Unavailable");
	}
	return false;
}

void sess_targets_answered(struct sip_sess *s, const struct sip_msg *resp)
{
	if (s->targets)
		record(&s->targets->t[s->targets->ntried - 1], resp->status, resp->reason);
}

void sess_targets_free(struct sip_sess *s)
{
	s->targets = mem_deref(s->targets);
}

bool sip_sess_tried(const struct sip_sess *s, unsigned i, struct sip_sess_target *t)
{
	if (!s->targets || i >= s->targets->ntried)
		return false;
	const struct target *x = &s->targets->t[i];
	*t = (struct sip_sess_target){.uri = x->uri, .status = x->status, .reason = x->reason};
	return true;
}
