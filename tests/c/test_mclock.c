/* The media clock: ticks come at 20 ms deadlines without drift, every
 * client sees every tick once and in order, clients may leave from inside
 * a tick, and a stalled loop catches up a bounded number of ticks.
 *
 * The clock is driven on virtual time (mclock_advance) so that what is
 * checked is exact and does not depend on how fast the machine is; one test
 * runs it on its timer fd and a real loop, and checks there only what the
 * kernel guarantees whatever the load (a timer never fires early). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/mclock.h"

#include <stdbool.h>

#define TICK_NS (MCLOCK_PTIME_MS * 1000000ull)
#define MS 1000000ull

struct counter {
	struct mclock_client cl;
	struct mclock *c;
	uint64_t first, last, n;
	bool in_order;
	uint64_t stop_after;        /* removes itself after this many ticks */
	uint64_t early;             /* ticks that ran before their deadline */
};

static uint64_t clock_now(const struct mclock *c)
{
	return c->driven ? c->driven_ns : uv_hrtime();
}

static void on_tick(struct mclock_client *cl, uint64_t tick)
{
	struct counter *k = container_of(cl, struct counter, cl);
	if (k->n == 0)
		k->first = tick;
	else if (tick != k->last + 1)
		k->in_order = false;
	if (clock_now(k->c) < k->c->start_ns + tick * TICK_NS)
		k->early++;
	k->last = tick;
	if (++k->n == k->stop_after)
		mclock_remove(k->c, cl);
}

static void counter_init(struct counter *k, struct mclock *c, uint64_t stop_after)
{
	*k = (struct counter){ .cl.tick = on_tick, .c = c, .in_order = true,
			       .stop_after = stop_after };
}

/* A clock on virtual time that starts at 0. */
static void driven_init(struct mclock *c, uv_loop_t *uv)
{
	uv_loop_init(uv);
	assert_int_equal(mclock_init(c, uv), 0);
	mclock_advance(c, 0);
}

static void clock_done(struct mclock *c, uv_loop_t *uv)
{
	mclock_close(c, NULL);
	uv_run(uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(uv), 0);
}

/* Moves virtual time to the next tick's deadline. */
static void step(struct mclock *c)
{
	mclock_advance(c, c->start_ns + c->next * TICK_NS);
}

/* On the timer fd and a real loop: ticks come in order and none before its
 * deadline; ten of them take at least ten periods. No upper bound: how late
 * the loop wakes depends on the machine's load, not on the clock. */
static void test_ticks_on_the_timer(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	uv_loop_init(&uv);
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a, b;
	counter_init(&a, &c, 10);
	counter_init(&b, &c, 5);
	uint64_t t0 = uv_hrtime();
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	/* the clock does not hold the loop: we do, until a has seen its ticks
	 * (each pass waits for the next tick; the count only stops a hang) */
	for (int pass = 0; pass < 100000 && a.n < 10; pass++) {
		uv_ref((uv_handle_t *)&c.wake);
		uv_run(&uv, UV_RUN_ONCE);
	}
	uint64_t elapsed = uv_hrtime() - t0;
	assert_int_equal(a.n, 10);
	assert_int_equal(b.n, 5);
	assert_true(a.in_order && b.in_order);
	assert_int_equal(a.first, 0);
	assert_int_equal(a.early + b.early, 0);
	/* tick 9 is due ten periods after the start: never sooner */
	assert_true(elapsed >= 10 * TICK_NS);
	assert_int_equal(c.nclients, 0);
	clock_done(&c, &uv);
}

/* Every wake-up comes late, by a different amount up to almost a period:
 * each runs the one tick that is due, and the deadlines after it stay
 * where they were (no drift). Fifty ticks take one second to the
 * nanosecond, the first one period after the start. */
static void test_ticks_without_drift(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	driven_init(&c, &uv);
	struct counter a, b;
	counter_init(&a, &c, 50);
	counter_init(&b, &c, 25);
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	assert_int_equal(c.start_ns, TICK_NS);
	uint64_t late_max = 0;
	for (uint64_t k = 0; k < 49; k++) {
		uint64_t late = (k * 7 % 20) * MS + 999;   /* 0-19 ms and a bit */
		late_max = late > late_max ? late : late_max;
		mclock_advance(&c, TICK_NS + k * TICK_NS + late);
		assert_int_equal(a.n, k + 1);
	}
	/* tick 49 is due 1.0 s after mclock_add: not a nanosecond sooner */
	mclock_advance(&c, 1000 * MS - 1);
	assert_int_equal(a.n, 49);
	mclock_advance(&c, 1000 * MS);
	assert_int_equal(a.n, 50);
	assert_int_equal(b.n, 25);
	assert_true(a.in_order && b.in_order);
	assert_int_equal(a.first, 0);
	assert_int_equal(a.last, 49);
	assert_int_equal(a.early + b.early, 0);
	assert_int_equal(c.late_max_ns, late_max);
	assert_int_equal(c.skipped, 0);
	assert_int_equal(c.nclients, 0);
	clock_done(&c, &uv);
}

/* A loop that stalls for five periods runs the five ticks it missed, late,
 * in one wake-up; one that stalls for twenty (past the catch-up bound)
 * skips them and goes on with the tick that is due. */
static void test_stall_catch_up_and_skip(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	driven_init(&c, &uv);
	struct counter a;
	counter_init(&a, &c, 0);
	mclock_add(&c, &a.cl);
	for (int i = 0; i < 3; i++)
		step(&c);
	assert_int_equal(a.n, 3);
	/* ticks 3-7 due: 100 ms after tick 3's deadline the loop wakes */
	uint64_t due3 = c.start_ns + 3 * TICK_NS;
	mclock_advance(&c, due3 + 100 * MS);
	assert_int_equal(a.n, 9);          /* ticks 3 to 8, 8 just due */
	assert_int_equal(c.skipped, 0);
	assert_int_equal(c.late_max_ns, 100 * MS);
	assert_true(a.in_order);
	/* the next wake-up 400 ms after tick 9's deadline: twenty ticks behind */
	uint64_t due9 = c.start_ns + 9 * TICK_NS;
	mclock_advance(&c, due9 + 400 * MS);
	assert_int_equal(c.skipped, 20);
	assert_int_equal(a.n, 10);         /* tick 29 alone, on time */
	assert_int_equal(a.last, 29);
	assert_int_equal(a.early, 0);
	step(&c);
	assert_int_equal(a.last, 30);
	mclock_remove(&c, &a.cl);
	clock_done(&c, &uv);
}

static struct counter *victim;

static void remove_other(struct mclock_client *cl, uint64_t tick)
{
	struct counter *k = container_of(cl, struct counter, cl);
	on_tick(cl, tick);
	if (k->n == 4)
		mclock_remove(k->c, &victim->cl);  /* the client after us, mid-tick */
}

/* A client that takes out the next one while the tick runs: the next one
 * is not visited again, nothing else is skipped, nothing crashes. */
static void test_remove_next_in_tick(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	driven_init(&c, &uv);
	struct counter a, b, d;
	counter_init(&a, &c, 10);
	counter_init(&b, &c, 0);
	counter_init(&d, &c, 10);
	a.cl.tick = remove_other;
	victim = &b;
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	mclock_add(&c, &d.cl);
	while (d.n < 10)
		step(&c);
	assert_int_equal(b.n, 3);   /* ticks 0-2: removed in tick 3 before its turn */
	assert_int_equal(d.n, 10);
	assert_true(d.in_order);
	assert_int_equal(c.nclients, 0);
	clock_done(&c, &uv);
}

/* Flushes come after every client has ticked, once per tick per client:
 * the order the streams' batched sends rely on. */
static unsigned ticks_seen, flush_order_errors;
static uint64_t flushes[2];
static struct counter *pair[2];

static void count_tick(struct mclock_client *cl, uint64_t tick)
{
	on_tick(cl, tick);
	ticks_seen++;
}

static void check_flush(struct mclock_client *cl)
{
	struct counter *k = container_of(cl, struct counter, cl);
	int i = k == pair[1];
	/* both ticked this round before either flushes */
	if (pair[0]->n != pair[1]->n || ticks_seen != 2 * pair[0]->n)
		flush_order_errors++;
	flushes[i]++;
}

static void test_flush_after_every_tick(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	driven_init(&c, &uv);
	struct counter a, b;
	counter_init(&a, &c, 0);
	counter_init(&b, &c, 0);
	a.cl.tick = b.cl.tick = count_tick;
	a.cl.flush = b.cl.flush = check_flush;
	pair[0] = &a;
	pair[1] = &b;
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	for (int i = 0; i < 5; i++)
		step(&c);
	mclock_remove(&c, &a.cl);
	mclock_remove(&c, &b.cl);
	assert_int_equal(flush_order_errors, 0);
	assert_int_equal(flushes[0], a.n);
	assert_int_equal(flushes[1], b.n);
	clock_done(&c, &uv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticks_on_the_timer),
		cmocka_unit_test(test_ticks_without_drift),
		cmocka_unit_test(test_stall_catch_up_and_skip),
		cmocka_unit_test(test_remove_next_in_tick),
		cmocka_unit_test(test_flush_after_every_tick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
