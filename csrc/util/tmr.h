/* Timers on a binary heap, as libuv keeps its own.
 *
 * Every SIP timer (A to M, registration refresh) is one entry in a tmrq; the
 * queue is driven from outside: by one libuv timer armed for the earliest
 * deadline (sip/loop.c), or by a test that moves virtual time forward. Nothing
 * ever scans all timers. Times are milliseconds on a monotonic clock.
 */
#ifndef LUASIP_TMR_H
#define LUASIP_TMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tmr;
typedef void (tmr_h)(void *arg);

struct tmrq {
	struct tmr **heap;
	size_t n, cap;
	uint64_t now;    /* the queue's idea of the current time */
	uint64_t seq;    /* breaks ties so equal deadlines fire in start order */
};

struct tmr {
	struct tmrq *q;  /* set while running */
	size_t idx;
	uint64_t due, seq;
	tmr_h *h;
	void *arg;
};

void tmrq_init(struct tmrq *q, uint64_t now);
void tmrq_close(struct tmrq *q);           /* forgets every timer */
/* Milliseconds until the earliest deadline, or -1 when nothing runs. */
int64_t tmrq_next(const struct tmrq *q);
/* Sets the time to now and runs every timer that is due, in deadline order. */
void tmrq_run(struct tmrq *q, uint64_t now);

void tmr_init(struct tmr *t);
int tmr_start(struct tmrq *q, struct tmr *t, uint64_t delay_ms, tmr_h *h, void *arg);
void tmr_cancel(struct tmr *t);
static inline bool tmr_running(const struct tmr *t) { return t->q != NULL; }
/* Milliseconds left before t fires (0 when not running). */
uint64_t tmr_left(const struct tmr *t);

#endif
