/* A fake transport and transaction user around one struct sip_stack, driven
 * by virtual time: every message the stack sends is recorded with the time it
 * left, every callback into the TU is recorded, and messages come in through
 * fake_recv as if a transport had framed them.
 *
 * This header brings in <cmocka.h> with what it needs; fake.c uses cmocka's
 * assertions, so a broken helper fails the test that called it. */
#ifndef LUASIP_TEST_FAKE_H
#define LUASIP_TEST_FAKE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/stack.h"

#define FAKE_MAX_SENT 512
#define FAKE_MAX_REPORTS 64
#define FAKE_MAX_PENDING 64

/* Where the fake peer sends from: requests arrive from here, and a client
 * transaction's destination is here. */
#define FAKE_PEER_HOST "192.0.2.9"
#define FAKE_PEER_PORT 5070

struct fake_sent {
	uint64_t at;                /* virtual time of the send */
	struct sip_peer dst;
	char *buf;                  /* malloc'd copy, NUL-terminated */
	size_t len;
	struct sip_msg *m;          /* decoded on demand by fake_sent_msg */
};

/* One call of the client TU's response handler. */
struct fake_report {
	uint64_t at;
	int err;
	int status;                 /* 0 when resp was NULL */
	char to_tag[64];
};

struct fake;
typedef void (fake_request_h)(struct fake *f, struct sip_strans *st, const struct sip_msg *req);

struct fake {
	struct tmrq q;
	struct sip_stack s;
	struct sip_stack_ops ops;

	/* transport */
	struct fake_sent sent[FAKE_MAX_SENT];
	size_t nsent;
	int send_err;               /* every send returns this while non-zero */
	bool hold_sent;             /* keep sent_h callbacks for fake_complete_sends;
	                             * otherwise they are never called */
	struct { sip_sent_h *h; void *arg; } pending[FAKE_MAX_PENDING];
	size_t npending;

	/* client TU */
	struct sip_ctrans *ct;      /* the test's reference, released at the end */
	struct fake_report reports[FAKE_MAX_REPORTS];
	size_t nreports;

	/* server TU */
	unsigned nrequests;
	struct sip_strans *st;      /* the newest server transaction (referenced) */
	char req_method[32];
	fake_request_h *on_request; /* optional: answers from the callback */
	unsigned ncancels;
	struct sip_strans *cancelled;

	/* responses and ACKs that matched no transaction */
	unsigned nstrays;
	char stray_method[32];
	int stray_status;           /* 0 for a request */
};

struct fake *fake_new(void);
void fake_free(struct fake *f);

/* cmocka group fixtures: parser_init once; a fresh fake per test. */
int fake_group_setup(void **state);
int fake_setup(void **state);
int fake_teardown(void **state);

/* Moves virtual time to t, stopping at every deadline on the way so that each
 * timer runs at its own time (tmrq_run only runs timers that were started
 * before it was called). */
void fake_run_until(struct fake *f, uint64_t t);
static inline uint64_t fake_now(const struct fake *f) { return f->q.now; }

void fake_peer(struct sip_peer *p, enum sip_proto proto, const char *host, uint16_t port);
/* Decodes text (as a stream when proto is TCP), sets its source to the fake
 * peer and hands it to the stack. */
void fake_recv(struct fake *f, const char *text, enum sip_proto proto);
void fake_recv_from(struct fake *f, const char *text, const struct sip_peer *src);

/* The i-th sent message, decoded (owned by the fake). */
const struct sip_msg *fake_sent_msg(struct fake *f, size_t i);
/* The status of the i-th sent message, 0 for a request. */
int fake_sent_status(struct fake *f, size_t i);
/* The unfolded value of the first header called name of the i-th sent
 * message, in a static buffer; NULL when absent. */
const char *fake_sent_hdr(struct fake *f, size_t i, const char *name);
/* Sends in [from, to] virtual time. */
size_t fake_sends_between(const struct fake *f, uint64_t from, uint64_t to);

/* Runs the held sent_h callbacks with err. */
void fake_complete_sends(struct fake *f, int err);

/* The client TU's response handler (arg: the fake). */
void fake_resp_h(int err, const struct sip_msg *resp, void *arg);

/* Asserts that the sends recorded from index first on left at exactly the
 * times in want[0..n-1] and that there are no more. */
void fake_assert_send_times(const struct fake *f, size_t first, const uint64_t *want, size_t n);

#endif
