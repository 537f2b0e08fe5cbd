/* rtp_relay_min: the floor of bench/bridge.sh, the least a relay of
 * bridged calls' RTP can do.
 *
 *   rtp_relay_min TABLE SECONDS
 *
 * TABLE has one line per call, four UDP ports on 127.0.0.1:
 *
 *   a_peer a_local b_peer b_local
 *
 * leg A's far end and our socket for it, then leg B's: the same table
 * bench/bridge.lua writes of the library's bridged calls (call.media's
 * port and local_port of each leg), so that bench/rtp_bridge_load drives
 * both the same way.
 *
 * What it does: binds every a_local and b_local, waits on all of them in
 * one epoll set, and for each readable socket takes what has come with
 * one recvmmsg (up to BATCH datagrams) and sends those datagrams with one
 * sendmmsg from the call's other socket to that leg's peer: A to B and B
 * to A, each datagram as it arrives.
 *
 * What it does not do, which the library's bridge does: no SIP, no
 * parsing (not even of the RTP header), no rewriting (the library gives
 * each leg its own SSRC, sequence and timestamp space: 12 bytes a
 * packet), no latching to the source (the peers are given), no RTCP, no
 * statistics per stream, no timers, no scripting. Socket buffers are the
 * kernel's defaults, as the library's are.
 *
 * Ends after SECONDS or on SIGTERM/SIGINT, printing one "relay ..." line
 * (datagrams received and sent, send errors). Prints "ready" once every
 * socket is bound. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32                /* far more than a leg sends between two passes */
#define EVENTS 256
#define DGRAM 2048

struct leg {
	int fd;
	struct sockaddr_in peer;    /* where what the other leg receives goes */
	struct leg *other;
};

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int bind_udp(int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = loopback(port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rtp_relay_min TABLE SECONDS\n");
		return 2;
	}
	double seconds = atof(argv[2]);
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "rtp_relay_min: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	size_t cap = 1024, n = 0;
	struct leg *legs = malloc(cap * 2 * sizeof(*legs));
	int ap, al, bp, bl;
	while (legs && fscanf(f, "%d %d %d %d", &ap, &al, &bp, &bl) == 4) {
		if (n == cap) {
			cap *= 2;
			struct leg *more = realloc(legs, cap * 2 * sizeof(*legs));
			if (!more)
				return 1;
			legs = more;
		}
		struct leg *a = &legs[2 * n], *b = &legs[2 * n + 1];
		a->fd = bind_udp(al);
		b->fd = bind_udp(bl);
		if (a->fd < 0 || b->fd < 0) {
			fprintf(stderr, "rtp_relay_min: cannot bind %d or %d: %s\n", al, bl,
				strerror(errno));
			return 1;
		}
		a->peer = loopback(ap);
		b->peer = loopback(bp);
		n++;
	}
	fclose(f);
	if (!legs || n == 0) {
		fprintf(stderr, "rtp_relay_min: no calls in %s\n", argv[1]);
		return 1;
	}
	/* the pointers only once the array no longer moves */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		legs[2 * i].other = &legs[2 * i + 1];
		legs[2 * i + 1].other = &legs[2 * i];
		for (size_t k = 2 * i; k <= 2 * i + 1; k++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &legs[k] };
			if (epoll_ctl(ep, EPOLL_CTL_ADD, legs[k].fd, &ev) != 0) {
				fprintf(stderr, "rtp_relay_min: epoll_ctl: %s\n", strerror(errno));
				return 1;
			}
		}
	}
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready calls %zu\n", n);
	fflush(stdout);

	static uint8_t bufs[BATCH][DGRAM];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event evs[EVENTS];
	uint64_t received = 0, sent = 0, errors = 0;
	double end = now_s() + seconds;
	while (!stop && now_s() < end) {
		int ne = epoll_wait(ep, evs, EVENTS, 100);
		for (int e = 0; e < ne; e++) {
			struct leg *in = evs[e].data.ptr, *out = in->other;
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ bufs[i], DGRAM };
				msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
			}
			int got = recvmmsg(in->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
			if (got <= 0)
				continue;
			received += (uint64_t)got;
			/* the same buffers go out, each as long as it came, to
			 * the other leg's peer */
			for (int i = 0; i < got; i++) {
				iov[i].iov_len = msgs[i].msg_len;
				msgs[i].msg_hdr.msg_name = &out->peer;
				msgs[i].msg_hdr.msg_namelen = sizeof(out->peer);
			}
			int done = 0;
			while (done < got) {
				int s = sendmmsg(out->fd, msgs + done, (unsigned)(got - done), 0);
				if (s <= 0) {
					/* full buffer or an ICMP error from a peer not
					 * listening yet: dropped, as a relay would */
					errors += (uint64_t)(got - done);
					break;
				}
				done += s;
				sent += (uint64_t)s;
			}
		}
	}
	printf("relay calls %zu received %llu sent %llu errors %llu\n", n,
	       (unsigned long long)received, (unsigned long long)sent, (unsigned long long)errors);
	return 0;
}
