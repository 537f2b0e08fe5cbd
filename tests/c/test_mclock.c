/* The media clock on a real libuv loop: ticks come at 20 ms deadlines
 * without drift, every client sees every tick once and in order, clients
 * may leave from inside a tick, and a stalled loop catches up a bounded
 * number of ticks. Timing bounds are loose (the machine is shared): what
 * is checked is the count against the monotonic clock, not a latency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/mclock.h"

#include <stdbool.h>
#include <time.h>

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
	if (uv_hrtime() < k->c->start_ns + tick * 20000000ull)
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

static void test_ticks_without_drift(void **state)
{
	uv_loop_t uv;
	uv_loop_init(&uv);
	struct mclock c;
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a, b;
	counter_init(&a, &c, 50);   /* one second */
	counter_init(&b, &c, 25);
	uint64_t t0 = uv_hrtime();
	mclock_add(&c, &a.cl);
	mclock_add(&c, &b.cl);
	run_until(&c, &a, 50);
	uint64_t elapsed = uv_hrtime() - t0;
	assert_int_equal(a.n, 50);
	assert_int_equal(b.n, 25);
	assert_true(a.in_order && b.in_order);
	assert_int_equal(a.first, 0);
	assert_int_equal(a.early + b.early, 0);
	/* 50 ticks, the first one period after the start: 1.0 s, never less */
	assert_true(elapsed >= 1000000000ull);
	assert_true(elapsed < 1400000000ull);
	assert_int_equal(c.nclients, 0);
	mclock_close(&c, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void stall(struct mclock_client *cl, uint64_t tick)
{
	struct counter *k = container_of(cl, struct counter, cl);
	on_tick(cl, tick);
	if (k->n == 3)
		sleep_ms(100);   /* the loop stalls for five ticks: they run late */
	if (k->n == 10)
		sleep_ms(400);   /* twenty ticks: beyond the catch-up bound */
}

static void test_stall_catch_up_and_skip(void **state)
{
	uv_loop_t uv;
	uv_loop_init(&uv);
	struct mclock c;
	assert_int_equal(mclock_init(&c, &uv), 0);
	struct counter a;
	counter_init(&a, &c, 40);
	a.cl.tick = stall;
	mclock_add(&c, &a.cl);
	run_until(&c, &a, 40);
	/* the short stall was caught up tick by tick, the long one skipped */
	assert_true(c.skipped >= MCLOCK_MAX_CATCHUP);
	assert_true(c.late_max_ns >= 80000000ull);
	assert_int_equal(a.early, 0);
	mclock_close(&c, NULL);
	uv_run(&uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&uv), 0);
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
		cmocka_unit_test(test_ticks_without_drift),
		cmocka_unit_test(test_stall_catch_up_and_skip),
		cmocka_unit_test(test_remove_next_in_tick),
		cmocka_unit_test(test_flush_after_every_tick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
