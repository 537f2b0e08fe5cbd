#include "fake.h"

#include "util/mem.h"

#include <errno.h>
#include <osipparser2/osip_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fake_send(void *arg, const struct sip_peer *dst, const char *buf, size_t len,
		     sip_sent_h *sent_h, void *sent_arg)
{
	struct fake *f = arg;
	assert_true(f->nsent < FAKE_MAX_SENT);
	struct fake_sent *r = &f->sent[f->nsent++];
	r->at = f->q.now;
	sip_peer_copy(&r->dst, dst);
	r->buf = malloc(len + 1);
	assert_non_null(r->buf);
	memcpy(r->buf, buf, len);
	r->buf[len] = '\0';
	r->len = len;
	if (f->send_err)
		return f->send_err;
	if (sent_h && f->hold_sent) {
		assert_true(f->npending < FAKE_MAX_PENDING);
		f->pending[f->npending].h = sent_h;
		f->pending[f->npending].arg = mem_ref(sent_arg);
		f->npending++;
	}
	return 0;
}

static void fake_request(void *arg, struct sip_strans *st, const struct sip_msg *req)
{
	struct fake *f = arg;
	f->nrequests++;
	mem_deref(f->st);
	f->st = mem_ref(st);
	snprintf(f->req_method, sizeof(f->req_method), "%s", req->method ? req->method : "");
	if (f->on_request)
		f->on_request(f, st, req);
}

static void fake_cancel(void *arg, struct sip_strans *st)
{
	struct fake *f = arg;
	f->ncancels++;
	f->cancelled = st;
}

static void fake_stray(void *arg, const struct sip_msg *msg)
{
	struct fake *f = arg;
	f->nstrays++;
	snprintf(f->stray_method, sizeof(f->stray_method), "%s", msg->method ? msg->method : "");
	f->stray_status = msg->request ? 0 : msg->status;
}

void fake_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct fake *f = arg;
	assert_true(f->nreports < FAKE_MAX_REPORTS);
	struct fake_report *r = &f->reports[f->nreports++];
	r->at = f->q.now;
	r->err = err;
	r->status = resp ? resp->status : 0;
	snprintf(r->to_tag, sizeof(r->to_tag), "%s", resp && resp->to_tag ? resp->to_tag : "");
}

struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	tmrq_init(&f->q, 0);
	f->ops.send = fake_send;
	f->ops.request = fake_request;
	f->ops.cancel = fake_cancel;
	f->ops.stray = fake_stray;
	if (sip_stack_init(&f->s, &f->q, &f->ops, f) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

void fake_free(struct fake *f)
{
	if (!f)
		return;
	f->send_err = 0;
	fake_complete_sends(f, 0);
	sip_ctrans_release(f->ct);
	f->ct = NULL;
	f->st = mem_deref(f->st);
	sip_stack_close(&f->s);
	tmrq_close(&f->q);
	for (size_t i = 0; i < f->nsent; i++) {
		sip_peer_clear(&f->sent[i].dst);
		free(f->sent[i].buf);
		mem_deref(f->sent[i].m);
	}
	free(f);
}

int fake_group_setup(void **state)
{
	(void)state;
	return parser_init() == 0 ? 0 : -1;
}

int fake_setup(void **state)
{
	*state = fake_new();
	return *state ? 0 : -1;
}

int fake_teardown(void **state)
{
	fake_free(*state);
	*state = NULL;
	return 0;
}

void fake_run_until(struct fake *f, uint64_t t)
{
	for (unsigned guard = 0;; guard++) {
		assert_true(guard < 1000000);  /* a timer that keeps re-arming at once */
		int64_t n = tmrq_next(&f->q);
		if (n < 0 || f->q.now + (uint64_t)n > t)
			break;
		tmrq_run(&f->q, f->q.now + (uint64_t)n);
	}
	tmrq_run(&f->q, t);
}

void fake_peer(struct sip_peer *p, enum sip_proto proto, const char *host, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->proto = proto;
	assert_int_equal(sa_set(&p->addr, host, port), 0);
}

void fake_recv_from(struct fake *f, const char *text, const struct sip_peer *src)
{
	struct sip_msg *m = sip_msg_decode(text, strlen(text), src->proto == SIP_TCP);
	assert_non_null(m);
	sip_peer_copy(&m->src, src);
	sip_stack_recv(&f->s, m);
	mem_deref(m);
}

void fake_recv(struct fake *f, const char *text, enum sip_proto proto)
{
	struct sip_peer src;
	fake_peer(&src, proto, FAKE_PEER_HOST, FAKE_PEER_PORT);
	fake_recv_from(f, text, &src);
}

const struct sip_msg *fake_sent_msg(struct fake *f, size_t i)
{
	assert_true(i < f->nsent);
	struct fake_sent *r = &f->sent[i];
	if (!r->m)
		r->m = sip_msg_decode(r->buf, r->len, false);
	assert_non_null(r->m);
	return r->m;
}

int fake_sent_status(struct fake *f, size_t i)
{
	const struct sip_msg *m = fake_sent_msg(f, i);
	return m->request ? 0 : m->status;
}

const char *fake_sent_hdr(struct fake *f, size_t i, const char *name)
{
	static char buf[1024];
	struct sip_hdr h;
	if (!sip_msg_hdr(fake_sent_msg(f, i), name, 0, &h))
		return NULL;
	assert_true(h.value_len < sizeof(buf));
	sip_hdr_unfold(&h, buf);
	return buf;
}

size_t fake_sends_between(const struct fake *f, uint64_t from, uint64_t to)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nsent; i++)
		if (f->sent[i].at >= from && f->sent[i].at <= to)
			n++;
	return n;
}

void fake_complete_sends(struct fake *f, int err)
{
	/* a callback may send again and queue more; run what is queued now */
	size_t n = f->npending;
	for (size_t i = 0; i < n; i++) {
		f->pending[i].h(err, f->pending[i].arg);
		mem_deref(f->pending[i].arg);
	}
	memmove(f->pending, f->pending + n, (f->npending - n) * sizeof(f->pending[0]));
	f->npending -= n;
}

void fake_assert_send_times(const struct fake *f, size_t first, const uint64_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (first + i >= f->nsent)
			fail_msg("send %zu (due at %llu ms) never happened; %zu sends in all",
				 first + i, (unsigned long long)want[i], f->nsent);
		if (f->sent[first + i].at != want[i])
			fail_msg("send %zu left at %llu ms, expected %llu ms", first + i,
				 (unsigned long long)f->sent[first + i].at,
				 (unsigned long long)want[i]);
	}
	if (f->nsent != first + n)
		fail_msg("%zu sends, expected %zu (extra one at %llu ms)", f->nsent, first + n,
			 (unsigned long long)f->sent[first + n].at);
}
