/* The media clock: absolute 20 ms deadlines on uv_hrtime. */
#include "media/mclock.h"

#define TICK_NS (MCLOCK_PTIME_MS * 1000000ull)

static void arm(struct mclock *c);

static void on_timer(uv_timer_t *t)
{
	struct mclock *c = t->data;
	uint64_t now = uv_hrtime();
	uint64_t due = c->start_ns + c->next * TICK_NS;
	if (now < due) {
		arm(c);  /* libuv rounds to milliseconds: early by a fraction */
		return;
	}
	uint64_t behind = (now - due) / TICK_NS;
	if (behind >= MCLOCK_MAX_CATCHUP) {
		c->skipped += behind;
		c->next += behind;
	}
	/* every tick that is due, each visiting every client; a client may
	 * remove itself (or another) while it runs */
	while (c->nclients && c->start_ns + c->next * TICK_NS <= now) {
		uint64_t late = now - (c->start_ns + c->next * TICK_NS);
		if (late > c->late_max_ns)
			c->late_max_ns = late;
		if (c->late_h)
			c->late_h(c->late_arg, late);
		uint64_t tick = c->next++;
		/* a client's tick may remove any client, itself or the next one
		 * (a call that ends stops another's stream): mclock_remove
		 * moves iter_next past the one it takes out */
		for (struct le *e = c->clients.next; e != &c->clients; e = c->iter_next) {
			c->iter_next = e->next;
			struct mclock_client *cl = container_of(e, struct mclock_client, le);
			cl->tick(cl, tick);
		}
		c->iter_next = NULL;
		for (struct le *e = c->clients.next; e != &c->clients; e = e->next) {
			struct mclock_client *cl = container_of(e, struct mclock_client, le);
			if (cl->flush)
				cl->flush(cl);
		}
	}
	if (c->nclients)
		arm(c);
}

static void arm(struct mclock *c)
{
	uint64_t due = c->start_ns + c->next * TICK_NS;
	uint64_t now = uv_hrtime();
	/* whole milliseconds, rounded up: waking a fraction late costs less
	 * than polling the loop until the deadline (an early wake, which
	 * libuv's own rounding can still give, re-arms for the rest) */
	uint64_t ms = due > now ? (due - now + 999999ull) / 1000000ull : 0;
	uv_timer_start(&c->timer, on_timer, ms, 0);
}

void mclock_init(struct mclock *c, uv_loop_t *uv)
{
	c->uv = uv;
	uv_timer_init(uv, &c->timer);
	c->timer.data = c;
	/* the clock alone does not keep the loop alive: the calls do */
	uv_unref((uv_handle_t *)&c->timer);
	list_init(&c->clients);
	c->nclients = 0;
	c->iter_next = NULL;
	c->next = 0;
	c->skipped = 0;
	c->late_max_ns = 0;
	c->late_h = NULL;
}

void mclock_close(struct mclock *c, uv_close_cb cb)
{
	uv_close((uv_handle_t *)&c->timer, cb);
}

void mclock_add(struct mclock *c, struct mclock_client *cl)
{
	list_append(&c->clients, &cl->le);
	if (c->nclients++ == 0) {
		/* a new run of the clock: tick 0 is one period from now */
		c->start_ns = uv_hrtime() + TICK_NS;
		c->next = 0;
		arm(c);
	}
}

void mclock_remove(struct mclock *c, struct mclock_client *cl)
{
	if (!le_linked(&cl->le))
		return;
	if (c->iter_next == &cl->le)
		c->iter_next = cl->le.next;
	list_unlink(&cl->le);
	if (--c->nclients == 0)
		uv_timer_stop(&c->timer);
}
