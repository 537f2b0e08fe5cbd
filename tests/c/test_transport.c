/* The UDP transport on loopback: datagrams reach the receive handler with
 * the peer they came from, and a read that takes a whole recvmmsg batch
 * (more was queued than one read takes) tells the loop that the process is
 * behind on its signalling, for this pass and the next. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/loop.h"
#include "sip/transport.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct world {
	uv_loop_t uv;
	struct sip_loop loop;
	struct sip_transport *tp;
	int peer;                   /* a plain socket that sends to it */
	unsigned received;
	union sa last_src;
};

static void on_recv(void *arg, struct sip_transport *tp, const struct sip_peer *src,
		    const char *buf, size_t len)
{
	struct world *w = arg;
	w->received++;
	w->last_src = src->addr;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	assert_int_equal(uv_loop_init(&w->uv), 0);
	assert_int_equal(sip_loop_init(&w->loop, &w->uv), 0);
	union sa addr;
	sa_set(&addr, "127.0.0.1", 0);
	struct sip_tp_limits lim = { .max_msg = 65535, .partial_ms = 1000 };
	assert_int_equal(sip_tp_listen(&w->tp, w->loop.uv, &w->loop.tq, SIP_UDP, &addr, &lim,
				       on_recv, w), 0);
	w->tp->loop = &w->loop;
	w->peer = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(w->peer >= 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(w->peer, (struct sockaddr *)&me, sizeof(me)), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	close(w->peer);
	sip_tp_close(w->tp);
	sip_loop_close(&w->loop);
	uv_run(&w->uv, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&w->uv), 0);
	free(w);
	return 0;
}

/* n datagrams queued at once, before the loop looks */
static void send_burst(struct world *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char msg[64];
		int len = snprintf(msg, sizeof(msg), "OPTIONS sip:x SIP/2.0\r\n\r\n%u", i);
		assert_int_equal(sendto(w->peer, msg, (size_t)len, 0, &w->tp->addr.sa,
					sizeof(w->tp->addr.in)), len);
	}
}

/* One pass of the loop: what is queued is read (nothing else keeps it). */
static void one_pass(struct world *w)
{
	uv_run(&w->uv, UV_RUN_NOWAIT);
}

static void test_datagram_with_its_peer(void **state)
{
	struct world *w = *state;
	send_burst(w, 1);
	for (int i = 0; i < 100 && w->received == 0; i++)
		one_pass(w);
	assert_int_equal(w->received, 1);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	assert_int_equal(getsockname(w->peer, (struct sockaddr *)&from, &flen), 0);
	assert_int_equal(sa_port(&w->last_src), ntohs(from.sin_port));
	assert_false(sip_loop_behind(&w->loop));
}

static void test_a_full_batch_is_a_backlog(void **state)
{
	struct world *w = *state;
	if (!uv_udp_using_recvmmsg(&w->tp->h.udp))
		skip();  /* libuv without recvmmsg: one datagram a read, no batches */
	/* a few at a time: never a whole batch */
	send_burst(w, 5);
	bool seen = false;
	for (int i = 0; i < 100 && w->received < 5; i++) {
		one_pass(w);
		seen |= sip_loop_behind(&w->loop);
	}
	assert_int_equal(w->received, 5);
	assert_false(seen);
	/* more than a batch (20) queued: a read takes a whole one (libuv reads
	 * two batches a pass, so the rest waits for the next) */
	send_burst(w, 45);
	for (int i = 0; i < 100 && w->received < 50; i++) {
		one_pass(w);
		seen |= sip_loop_behind(&w->loop);
	}
	assert_int_equal(w->received, 50);
	assert_true(seen);
	/* it lasts for the pass of the read and the next one */
	one_pass(w);
	one_pass(w);
	assert_false(sip_loop_behind(&w->loop));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_datagram_with_its_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_full_batch_is_a_backlog, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
