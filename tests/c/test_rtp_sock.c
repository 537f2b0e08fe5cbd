/* RTP port pairs and their pool of spares: a pair comes from the range,
 * a released one serves the next allocation in the same range, emptied of
 * what arrived meanwhile, the pool keeps no more than its maximum, and a
 * flush closes the spares of a range so that their ports are free again.
 * With the loop's pass count, only a pair released in this pass or the
 * last one is emptied by asking its sockets: an older spare has had what
 * arrived read and dropped by the loop.
 *
 * The range below is asserted free, so tests/c/run.sh runs this test in a
 * private network namespace where it is. Arrivals are waited for as
 * events: a marker datagram sent last (loopback keeps the order) is read
 * after everything sent before it, however slow the machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/rtp_sock.h"

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
	bool marker;                /* the datagram sent last has been read */
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

#define MARKER 0x4d

static void count(void *arg, const uint8_t *buf, size_t len, const union sa *src)
{
	struct world *w = arg;
	w->got++;
	if (len > 1 && buf[1] == MARKER)
		w->marker = true;
}

static void on_timeout(uv_timer_t *t)
{
}

/* Runs the loop for ms milliseconds: the pairs do not keep it alive. */
static void run_for(struct world *w, uint64_t ms)
{
	uv_timer_t t;
	uv_timer_init(&w->uv, &t);
	uv_timer_start(&t, on_timeout, ms, 0);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&w->uv, UV_RUN_DEFAULT);
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

/* Runs the loop a millisecond at a time until done(w), for at most a
 * generous number of passes (a guard that it happened, not a speed check:
 * loopback has queued a datagram by the time sendto returns). */
static bool run_until(struct world *w, bool (*done)(struct world *w))
{
	for (int i = 0; i < 5000 && !done(w); i++)
		run_for(w, 1);
	return done(w);
}

static bool marker_read(struct world *w)
{
	return w->marker;
}

static void send_pkt(const struct rtp_sock *r, uint8_t second_byte)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	const uint8_t pkt[12] = { 0x80, second_byte };
	assert_int_equal(sendto(fd, pkt, sizeof(pkt), 0, &r->addr.sa, sa_len(&r->addr)),
			 (ssize_t)sizeof(pkt));
	close(fd);
}

static void send_to(const struct rtp_sock *r)
{
	send_pkt(r, 0);
}

/* Sends the marker and runs the loop until it has been read. */
static void send_marker_and_wait(struct world *w, const struct rtp_sock *r)
{
	send_pkt(r, MARKER);
	assert_true(run_until(w, marker_read));
}

static const struct rtp_sock *watched;

static bool nothing_queued(struct world *w)
{
	int n = -1;
	assert_int_equal(ioctl(watched->rtp_fd, FIONREAD, &n), 0);
	return n == 0;
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
	/* what comes now is the new call's, and only that */
	send_marker_and_wait(w, b);
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
	run_for(w, 0);
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
	run_for(w, 0);
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
	send_marker_and_wait(w, b);
	assert_int_equal(w->got, 1);  /* the marker alone */
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
	watched = a;
	assert_true(run_until(w, nothing_queued));  /* read with no handler: dropped */
	send_to(a);
	w->turns += 2;
	assert_int_equal(rtp_sock_alloc(&b, &w->pool, &w->uv, &w->ip, RANGE_MIN, RANGE_MAX), 0);
	assert_ptr_equal(a, b);
	rtp_sock_recv(b, count, w);
	send_marker_and_wait(w, b);
	assert_int_equal(w->got, 2);  /* the one not read yet, and the marker */
	rtp_sock_close(b);
}

int main(void)
{
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
