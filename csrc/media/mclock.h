/* The media clock: one timer (a timerfd polled by libuv) that ticks every
 * 20 ms for every RTP stream of the process. Tick k is due at
 * start + k * 20 ms on the monotonic clock, an absolute deadline: a late
 * wake-up delays one tick but never the ones after it, so streams do not
 * drift. A wake-up runs every tick that is due (a stalled loop catches
 * up, within a bound), and each tick visits every stream once, so a
 * thousand streams cost one wake-up.
 *
 * A tick runs in phases (port.h): first every client of the read phase
 * (a stream takes in what it received), then those of the mix phase (what
 * combines the audio of several streams), then those of the send phase (a
 * stream makes the packet it sends), then every send-phase client's flush.
 * So what one stream hands another goes one tick later whatever the order
 * the clients were added in. A client is in one phase; a stream that
 * receives has a client in each of the two. */
#ifndef LUASIP_MCLOCK_H
#define LUASIP_MCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "util/list.h"

#define MCLOCK_PTIME_MS 20
/* After a stall longer than this the clock skips ahead instead of
 * bursting: a burst of old packets helps no listener. */
#define MCLOCK_MAX_CATCHUP 10

struct mclock;

/* In the order they run. A zeroed client is of the send phase, where most
 * of the work is. */
enum mclock_phase {
	MCLOCK_SEND = 0,
	MCLOCK_READ,
	MCLOCK_MIX,
	MCLOCK_PHASES
};

struct mclock_client {
	struct le le;
	/* Once per tick, in the client's phase; tick counts from the clock's
	 * start. */
	void (*tick)(struct mclock_client *cl, uint64_t tick);
	/* Send phase only: once every client has ticked, each one's flush
	 * (may be NULL): the packets a tick made leave back to back, not
	 * spread over the work of making them (a receiver on the same host
	 * is woken once a tick instead of once a stream). Must not add or
	 * remove clients. */
	void (*flush)(struct mclock_client *cl);
	enum mclock_phase phase;
};

struct mclock {
	uv_loop_t *uv;
	uv_poll_t wake;             /* readable when the timer fd fires */
	int fd;                     /* timerfd on CLOCK_MONOTONIC */
	uint64_t start_ns;          /* when tick 0 was due */
	uint64_t next;              /* the next tick to run */
	struct le clients[MCLOCK_PHASES];
	unsigned nclients;          /* in every phase */
	unsigned nphase[MCLOCK_PHASES];
	struct le *iter_next;       /* the client a running phase visits next */
	uint64_t skipped;           /* ticks dropped after a stall */
	uint64_t late_max_ns;       /* the latest a tick ran after its deadline */
	void (*late_h)(void *arg, uint64_t late_ns);  /* each tick's lateness, for benchmarks */
	void *late_arg;
	/* Asked once a tick, when set: whether the process is behind on other
	 * work (its signalling). While it is, pressed is true and clients
	 * leave out what they send only as a courtesy (a stream's silence),
	 * so that the media does not take the time that would catch up. */
	bool (*pressure)(void *arg);
	void *pressure_arg;
	bool pressed;
	/* The time it ticks on, in ns: uv_hrtime, whose clock the timer fd
	 * counts on. A test may set its own before the first client. */
	uint64_t (*now)(void);
};

/* 0, or a negative errno when no timer fd can be had. */
int mclock_init(struct mclock *c, uv_loop_t *uv);
/* Closes the timer (clients must be gone); memory is the owner's, after
 * the libuv close callback (cb may be NULL when the loop closes next). */
void mclock_close(struct mclock *c, uv_close_cb cb);
/* The clock runs while it has clients. A client joins the phase it names
 * (cl->phase), at its end; clients may be added and removed from inside a
 * tick. */
void mclock_add(struct mclock *c, struct mclock_client *cl);
void mclock_remove(struct mclock *c, struct mclock_client *cl);
/* Runs the next tick's phases now, whatever the time. The timer does this
 * for every tick that is due; tests and fuzzers call it to drive the
 * clients in virtual time (they stay ahead of the timer, which then finds
 * nothing due). */
void mclock_tick(struct mclock *c);

#endif
