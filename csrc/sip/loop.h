/* The event loop every endpoint of a process shares: libuv for I/O and one
 * libuv timer that drives the tmrq holding every SIP timer. */
#ifndef LUASIP_LOOP_H
#define LUASIP_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "util/tmr.h"

struct sip_loop {
	uv_loop_t *uv;
	struct tmrq tq;
	uv_timer_t timer;       /* armed for the earliest deadline in tq */
	uv_prepare_t prepare;   /* re-arms it before the loop blocks */
	unsigned holds;         /* while > 0 the loop runs even without I/O */
	uint64_t turns;         /* passes of the loop so far, counted before each poll */
	uint64_t behind_turn;   /* 1 + the pass in which a SIP socket last had more
	                         * queued than one read takes; 0: never */
};

int sip_loop_init(struct sip_loop *l, uv_loop_t *uv);
void sip_loop_close(struct sip_loop *l);
/* Current time in milliseconds for timers started outside a loop pass. */
void sip_loop_update(struct sip_loop *l);
/* Something that waits only on timers (a sleeping task) keeps the loop
 * running between hold and release. */
void sip_loop_hold(struct sip_loop *l);
void sip_loop_release(struct sip_loop *l);
/* A transport read a whole batch: more was waiting in its socket. */
void sip_loop_note_backlog(struct sip_loop *l);
/* Whether that happened in this pass of the loop or the one before: the
 * process is behind on its signalling (a pass that drains the queue reads
 * the whole batches first, and the work they bring runs after them). */
bool sip_loop_behind(const struct sip_loop *l);

#endif
