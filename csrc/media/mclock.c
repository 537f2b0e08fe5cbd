/* The media clock: absolute 20 ms deadlines on uv_hrtime's clock.
 *
 * libuv's timers count whole milliseconds, so a deadline between two of
 * them is met up to a millisecond late (rounded up) or early (rounded down,
 * then polled for). A timerfd takes the deadline itself, in nanoseconds on
 * CLOCK_MONOTONIC, the clock uv_hrtime reads: the loop wakes when the
 * kernel's timer fires, tens of microseconds after the deadline, never
 * before it. */
#include "media/mclock.h"

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TICK_NS (MCLOCK_PTIME_MS * 1000000ull)

static void arm(struct mclock *c);

static void on_wake(uv_poll_t *p, int status, int events)
{
	struct mclock *c = p->data;
	uint64_t expirations;
	/* clears the readiness; EAGAIN when a re-arm raced the wake-up */
	if (read(c->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	uint64_t now = c->now();
	uint64_t due = c->start_ns + c->next * TICK_NS;
	if (now < due) {
		arm(c);  /* a wake-up left over from an earlier arming */
		return;
	}
	uint64_t behind = (now - due) / TICK_NS;
	if (behind >= MCLOCK_MAX_CATCHUP) {
		c->skipped += behind;
		c->next += behind;
	}
	/* every tick that is due, each visiting every client */
	while (c->nclients && c->start_ns + c->next * TICK_NS <= now) {
		uint64_t late = now - (c->start_ns + c->next * TICK_NS);
		if (late > c->late_max_ns)
			c->late_max_ns = late;
		if (c->late_h)
			c->late_h(c->late_arg, late);
		mclock_tick(c);
	}
	if (c->nclients)
		arm(c);
}

/* One phase: a client's tick may remove any client, itself or the next
 * one (a call that ends stops another's stream): mclock_remove moves
 * iter_next past the one it takes out. With thousands of calls a client
 * is cold by its next tick: the next one is fetched while this one works. */
static void run_phase(struct mclock *c, struct le *list, uint64_t tick)
{
	for (struct le *e = list->next; e != list; e = c->iter_next) {
		c->iter_next = e->next;
		__builtin_prefetch(e->next);
		struct mclock_client *cl = container_of(e, struct mclock_client, le);
		cl->tick(cl, tick);
	}
	c->iter_next = NULL;
}

void mclock_tick(struct mclock *c)
{
	uint64_t tick = c->next++;
	c->pressed = c->pressure && c->pressure(c->pressure_arg);
	run_phase(c, &c->clients[MCLOCK_READ], tick);
	run_phase(c, &c->clients[MCLOCK_MIX], tick);
	run_phase(c, &c->clients[MCLOCK_SEND], tick);
	struct le *send = &c->clients[MCLOCK_SEND];
	for (struct le *e = send->next; e != send; e = e->next) {
		__builtin_prefetch(e->next);
		struct mclock_client *cl = container_of(e, struct mclock_client, le);
		if (cl->flush)
			cl->flush(cl);
	}
}

static void arm(struct mclock *c)
{
	uint64_t due = c->start_ns + c->next * TICK_NS;
	/* one shot at an absolute time: a deadline already past fires at once */
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(due / 1000000000ull),
			      .tv_nsec = (long)(due % 1000000000ull) },
	};
	timerfd_settime(c->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void disarm(struct mclock *c)
{
	struct itimerspec off = { 0 };
	timerfd_settime(c->fd, TFD_TIMER_ABSTIME, &off, NULL);
	uv_poll_stop(&c->wake);
}

int mclock_init(struct mclock *c, uv_loop_t *uv)
{
	c->uv = uv;
	c->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	int err = uv_poll_init(uv, &c->wake, c->fd);
	if (err) {
		close(c->fd);
		return err;
	}
	c->wake.data = c;
	/* the clock alone does not keep the loop alive: the calls do */
	uv_unref((uv_handle_t *)&c->wake);
	for (int i = 0; i < MCLOCK_PHASES; i++) {
		list_init(&c->clients[i]);
		c->nphase[i] = 0;
	}
	c->nclients = 0;
	c->iter_next = NULL;
	c->next = 0;
	c->skipped = 0;
	c->late_max_ns = 0;
	c->late_h = NULL;
	c->pressure = NULL;
	c->pressed = false;
	c->now = uv_hrtime;
	return 0;
}

void mclock_close(struct mclock *c, uv_close_cb cb)
{
	uv_close((uv_handle_t *)&c->wake, cb);
	/* uv_close has taken the fd out of the loop's epoll set already */
	close(c->fd);
	c->fd = -1;
}

void mclock_add(struct mclock *c, struct mclock_client *cl)
{
	list_append(&c->clients[cl->phase], &cl->le);
	c->nphase[cl->phase]++;
	if (c->nclients++ == 0) {
		/* a new run of the clock: tick 0 is one period from now */
		c->start_ns = c->now() + TICK_NS;
		c->next = 0;
		arm(c);
		uv_poll_start(&c->wake, UV_READABLE, on_wake);
	}
}

void mclock_remove(struct mclock *c, struct mclock_client *cl)
{
	if (!le_linked(&cl->le))
		return;
	if (c->iter_next == &cl->le)
		c->iter_next = cl->le.next;
	list_unlink(&cl->le);
	c->nphase[cl->phase]--;
	if (--c->nclients == 0)
		disarm(c);
}
