/* The media clock: ticks come at 20 ms deadlines without drift, every
 * client sees every tick once and in order, clients may leave from inside
 * a tick, and a stalled loop catches up a bounded number of ticks.
 *
 * Drift and stalls are checked on virtual time (the clock's now set by the
 * test, its timer fd woken by the test), exactly and whatever the machine's
 * speed; one test runs on the real timer and checks there only what holds
 * under any load: no tick before its deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/mclock.h"

#include <stdbool.h>
#include <sys/timerfd.h>

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

static void on_tick(struct mclock_client *cl, uint64_t tick)
{
	struct counter *k = container_of(cl, struct counter, cl);
	if (k->n == 0)
		k->first = tick;
	else if (tick != k->last + 1)
		k->in_order = false;
	if (k->c->now() < k->c->start_ns + tick * TICK_NS)
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

/* The clock does not hold the loop: it runs until k has seen n ticks. */
static void run_until(struct mclock *c, const struct counter *k, uint64_t n)
{
	while (k->n < n) {
		uv_ref((uv_handle_t *)&c->wake);
		uv_run(c->uv, UV_RUN_ONCE);
	}
}

/* On the timer fd and a real loop: ticks come in order and none before its
 * deadline, so ten of them take at least ten periods. No upper bound: how
 * late the loop wakes depends on the machine's load, not on the clock
 * (bench/drift.sh measures that). */
static void test_ticks_on_the_timer(void **state)
{
	uv_loop_t uv;
	uv_loop_init(&uv);
	struct mclock c;
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a, b;
	counter_init(&a, &c, 10);
	counter_init(&b, &c, 5);
	uint64_t t0 = uv_hrtime();
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	run_until(&c, &a, 10);
	uint64_t elapsed = uv_hrtime() - t0;
	assert_int_equal(a.n, 10);
	assert_int_equal(b.n, 5);
	assert_true(a.in_order && b.in_order);
	assert_int_equal(a.first, 0);
	assert_int_equal(a.early + b.early, 0);
	/* tick 9 is due ten periods after the start: never sooner */
	assert_true(elapsed >= 10 * TICK_NS);
	assert_int_equal(c.nclients, 0);
	mclock_close(&c, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
}

/* Virtual time for the clock: an hour ahead of the real one, so that the
 * timer fd it arms at its deadlines never fires by itself; the test wakes
 * it instead, at the virtual time it chooses. */
static uint64_t vnow;

static uint64_t virtual_now(void)
{
	return vnow;
}

static void virtual_init(struct mclock *c, uv_loop_t *uv)
{
	uv_loop_init(uv);
	assert_int_equal(mclock_init(c, uv), 0);
	vnow = uv_hrtime() + 3600 * 1000000000ull;
	c->now = virtual_now;
}

/* Moves virtual time to t and wakes the clock as its timer would: the fd
 * set to a deadline long past (1 ns) is readable at once. */
static void wake_at(struct mclock *c, uint64_t t)
{
	vnow = t;
	struct itimerspec past = { .it_value = { .tv_sec = 0, .tv_nsec = 1 } };
	assert_int_equal(timerfd_settime(c->fd, TFD_TIMER_ABSTIME, &past, NULL), 0);
	uv_ref((uv_handle_t *)&c->wake);
	uv_run(c->uv, UV_RUN_ONCE);
	uv_unref((uv_handle_t *)&c->wake);
}

static uint64_t due(const struct mclock *c, uint64_t tick)
{
	return c->start_ns + tick * TICK_NS;
}

static void virtual_done(struct mclock *c, uv_loop_t *uv)
{
	mclock_close(c, NULL);
	uv_run(uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(uv), 0);
}

/* Every wake-up comes late, each by a different amount up to almost a
 * period: each runs the one tick that is due, and the deadlines after it
 * stay where they were (no drift): tick 49 is due one second after the
 * start, to the nanosecond, however late the ones before it ran. */
static void test_ticks_without_drift(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	virtual_init(&c, &uv);
	struct counter a, b;
	counter_init(&a, &c, 50);   /* one second */
	counter_init(&b, &c, 25);
	uint64_t t0 = vnow;
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	assert_int_equal(c.start_ns, t0 + TICK_NS);
	uint64_t late_max = 0;
	for (uint64_t k = 0; k < 49; k++) {
		uint64_t late = (k * 7 % 20) * MS + 999;   /* 0 to 19 ms and a bit */
		if (late > late_max)
			late_max = late;
		wake_at(&c, due(&c, k) + late);
		assert_int_equal(a.n, k + 1);
	}
	wake_at(&c, t0 + 1000 * MS - 1);
	assert_int_equal(a.n, 49);
	wake_at(&c, t0 + 1000 * MS);
	assert_int_equal(a.n, 50);
	assert_int_equal(b.n, 25);
	assert_true(a.in_order && b.in_order);
	assert_int_equal(a.first, 0);
	assert_int_equal(a.last, 49);
	assert_int_equal(a.early + b.early, 0);
	assert_int_equal(c.late_max_ns, late_max);
	assert_int_equal(c.skipped, 0);
	assert_int_equal(c.nclients, 0);
	virtual_done(&c, &uv);
}

/* A loop that stalls for five periods runs the ticks it missed, late, in
 * one wake-up; one that stalls for twenty (past the catch-up bound) skips
 * them and goes on with the tick that is due. */
static void test_stall_catch_up_and_skip(void **state)
{
	uv_loop_t uv;
	struct mclock c;
	virtual_init(&c, &uv);
	struct counter a;
	counter_init(&a, &c, 0);
	mclock_add(&c, &a.cl);
	for (uint64_t k = 0; k < 3; k++)
		wake_at(&c, due(&c, k));
	assert_int_equal(a.n, 3);
	/* 100 ms after tick 3's deadline: ticks 3 to 8 are due, 8 just now */
	wake_at(&c, due(&c, 3) + 100 * MS);
	assert_int_equal(a.n, 9);
	assert_int_equal(a.last, 8);
	assert_int_equal(c.skipped, 0);
	assert_int_equal(c.late_max_ns, 100 * MS);
	/* 400 ms after tick 9's deadline: twenty ticks behind, skipped */
	wake_at(&c, due(&c, 9) + 400 * MS);
	assert_int_equal(c.skipped, 20);
	assert_int_equal(a.n, 10);          /* tick 29 alone, on time */
	assert_int_equal(a.last, 29);
	assert_true(a.in_order == false);   /* 9 to 28 never ran */
	assert_int_equal(a.early, 0);
	wake_at(&c, due(&c, 30));
	assert_int_equal(a.last, 30);
	mclock_remove(&c, &a.cl);
	virtual_done(&c, &uv);
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
	uv_loop_init(&uv);
	struct mclock c;
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a, b, d;
	counter_init(&a, &c, 10);
	counter_init(&b, &c, 0);
	counter_init(&d, &c, 10);
	a.cl.tick = remove_other;
	victim = &b;
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	mclock_add(&c, &d.cl);
	run_until(&c, &d, 10);
	assert_int_equal(b.n, 3);   /* ticks 0-2: removed in tick 3 before its turn */
	assert_int_equal(d.n, 10);
	assert_true(d.in_order);
	assert_int_equal(c.nclients, 0);
	mclock_close(&c, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
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
	uv_loop_init(&uv);
	struct mclock c;
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a, b;
	counter_init(&a, &c, 0);
	counter_init(&b, &c, 0);
	a.cl.tick = b.cl.tick = count_tick;
	a.cl.flush = b.cl.flush = check_flush;
	pair[0] = &a;
	pair[1] = &b;
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	run_until(&c, &a, 5);
	mclock_remove(&c, &a.cl);
	mclock_remove(&c, &b.cl);
	assert_int_equal(flush_order_errors, 0);
	assert_int_equal(flushes[0], a.n);
	assert_int_equal(flushes[1], b.n);
	mclock_close(&c, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
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
