/* RTP port pairs and their pool of spares: a pair comes from the range,
 * a released one serves the next allocation in the same range, emptied of
 * what arrived meanwhile, the pool keeps no more than its maximum, and a
 * flush closes the spares of a range so that their ports are free again.
 * With the loop's pass count, only a pair released in this pass or the
 * last one is emptied by asking its sockets: an older spare has had what
 * arrived read and dropped by the loop.
 *
 * The pairs are bound from a fixed range and the tests check which ports are
 * free, so they run in a network namespace of their own (netns.h). Nothing
 * waits for a time: "nothing arrived" is checked by sending one packet more
 * and waiting for it, which comes after anything that was left. */
#define _GNU_SOURCE  /* unshare (netns.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/rtp_sock.h"
#include "netns.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define RANGE_MIN 30000
#define RANGE_MAX 40000

struct world {
	uv_loop_t uv;
	struct rtp_pool pool;
	union sa ip;
	unsigned got;
	uint64_t turns;             /* stands for sip_loop.turns */
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	uv_loop_init(&w->uv);
	rtp_pool_init(&w->pool, 2, NULL);
	sa_set(&w->ip, "127.0.0.1", 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	rtp_pool_close(&w->pool);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

static void count(void *arg, const uint8_t *buf, size_t len, const union sa *src)
{
	struct world *w = arg;
	w->got++;
}

static void on_hang(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until done(w) (the pairs do not keep it alive: a timer
 * does, and stops a hung test after 10 s; it is not what is waited for). */
static void run_until(struct world *w, bool (*done)(struct world *w))
{
	bool hung = false;
	uv_timer_t t;
	uv_timer_init(&w->uv, &t);
	t.data = &hung;
	uv_timer_start(&t, on_hang, 10000, 0);
	while (!done(w) && !hung)
		uv_run(&w->uv, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_false(hung);
}

static bool got_one(struct world *w)
{
	return w->got > 0;
}

static bool closed(struct world *w)
{
	return true;  /* run_until's last pass runs the close callbacks */
}

static bool got_two(struct world *w)
{
	return w->got > 1;
}

static struct rtp_sock *unread_of;

/* The loop has read (and dropped) all that waited on unread_of's RTP port. */
static bool all_read(struct world *w)
{
	int n = 0;
	assert_int_equal(ioctl(unread_of->rtp_fd, FIONREAD, &n), 0);
	return n == 0;
}

/* True when a new socket can bind port on loopback. */
static bool port_free(uint16_t port)
{
	union sa a;
	sa_set(&a, "127.0.0.1", port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok = bind(fd, &a.sa, sa_len(&a)) == 0;
	close(fd);
	return ok;
}

static void send_to(const struct rtp_sock *r)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	static const uint8_t pkt[12] = { 0x80 };
	assert_int_equal(sendto(fd, pkt, sizeof(pkt), 0, &r->addr.sa, sa_len(&r->addr)),
			 (ssize_t)sizeof(pkt));
	close(fd);
}

static void test_released_pair_is_reused_empty(void **state)
{
	struct world *w = *state;
	struct rtp_sock *a, *b;
	assert_int_equal(rtp_sock_alloc(&a, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	uint16_t port = sa_port(&a->addr);
	assert_true(port >= RANGE_MIN && port < RANGE_MAX && port % 2 == 0);
	rtp_sock_release(a);
	assert_int_equal(w->pool.n, 1);
	/* late packets of the last call, still in the kernel */
	send_to(a);
	send_to(a);
	assert_int_equal(rtp_sock_alloc(&b, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(w->pool.n, 0);
	rtp_sock_recv(b, count, w);
	/* what comes now is the new call's: it is all that reaches the
	 * handler (the late packets, had they been left, came before it) */
	send_to(b);
	run_until(w, got_one);
	assert_int_equal(w->got, 1);
	rtp_sock_close(b);
}

static void test_other_range_binds_anew(void **state)
{
	struct world *w = *state;
	struct rtp_sock *a, *b;
	assert_int_equal(rtp_sock_alloc(&a, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	rtp_sock_release(a);
	assert_int_equal(rtp_sock_alloc(&b, &w->pool, &w->uv, &w->ip, RANGE_MAX + 2, RANGE_MAX + 1000), 0);
	assert_ptr_not_equal(a, b);
	assert_true(sa_port(&b->addr) >= RANGE_MAX + 2);
	assert_int_equal(w->pool.n, 1);
	rtp_sock_close(b);
}

static void test_pool_keeps_at_most_max(void **state)
{
	struct world *w = *state;
	struct rtp_sock *r[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(rtp_sock_alloc(&r[i], &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	uint16_t last = sa_port(&r[2]->addr);
	for (int i = 0; i < 3; i++)
		rtp_sock_release(r[i]);
	assert_int_equal(w->pool.n, 2);
	run_until(w, closed);
	assert_true(port_free(last));
}

static void test_flush_frees_the_ports(void **state)
{
	struct world *w = *state;
	struct rtp_sock *a;
	assert_int_equal(rtp_sock_alloc(&a, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	uint16_t port = sa_port(&a->addr);
	rtp_sock_release(a);
	assert_false(port_free(port));
	rtp_pool_flush(&w->pool, RANGE_MAX + 2, RANGE_MAX + 1000);  /* another range: kept */
	assert_int_equal(w->pool.n, 1);
	rtp_pool_flush(&w->pool, RANGE_MIN, RANGE_MAX);
	assert_int_equal(w->pool.n, 0);
	run_until(w, closed);
	assert_true(port_free(port));
	assert_true(port_free((uint16_t)(port + 1)));
}

/* A pair reused in the pass after its release may hold what the loop has
 * not read yet: it is emptied. */
static void test_spare_of_the_last_pass_is_emptied(void **state)
{
	struct world *w = *state;
	struct rtp_sock *a, *b;
	rtp_pool_init(&w->pool, 2, &w->turns);
	w->turns = 5;
	assert_int_equal(rtp_sock_alloc(&a, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	rtp_sock_release(a);
	send_to(a);
	send_to(a);
	w->turns = 6;
	assert_int_equal(rtp_sock_alloc(&b, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	assert_ptr_equal(a, b);
	rtp_sock_recv(b, count, w);
	send_to(b);  /* after the two: it alone reaches the handler */
	run_until(w, got_one);
	assert_int_equal(w->got, 1);
	rtp_sock_close(b);
}

/* A spare released two passes back is taken without asking its sockets:
 * the loop has read and dropped what came for its last call, and what it
 * has not read yet (here: sent without running the loop, as if it came
 * during this pass) goes to the new handler. */
static void test_spare_of_older_passes_is_taken_as_it_is(void **state)
{
	struct world *w = *state;
	struct rtp_sock *a, *b;
	rtp_pool_init(&w->pool, 2, &w->turns);
	assert_int_equal(rtp_sock_alloc(&a, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	rtp_sock_release(a);
	send_to(a);
	unread_of = a;
	run_until(w, all_read);  /* read with no handler: dropped */
	send_to(a);
	w->turns += 2;
	assert_int_equal(rtp_sock_alloc(&b, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	assert_ptr_equal(a, b);
	rtp_sock_recv(b, count, w);
	run_until(w, got_one);
	send_to(b);  /* and nothing before this one is left */
	run_until(w, got_two);
	assert_int_equal(w->got, 2);
	rtp_sock_close(b);
}

int main(void)
{
	if (netns_enter() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_released_pair_is_reused_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_range_binds_anew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_keeps_at_most_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_frees_the_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_of_the_last_pass_is_emptied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_of_older_passes_is_taken_as_it_is, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
