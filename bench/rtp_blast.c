/* rtp_blast: the raw-socket baseline of bench/playback.sh.
 *
 *   rtp_blast N PORT WARMUP SECONDS [read]
 *
 * N UDP sockets on 127.0.0.1, each sending one 172-byte RTP packet (12-byte
 * header, 160 bytes of G.711) every 20 ms to 127.0.0.1:PORT, all from one
 * timer at absolute deadlines on CLOCK_MONOTONIC (tick k due at start +
 * 20k ms): the same packet rate and the same clock discipline as the
 * library's media clock, with nothing else.  One sendto() per packet, as
 * the library does (N sockets, so no batching is possible for either).
 *
 * After WARMUP seconds it measures SECONDS: its CPU time (getrusage), the
 * lateness of each wake-up against its deadline and how long each tick's
 * sends took, and prints one "blast ..." line.  Bounded: it ends after
 * WARMUP + SECONDS.
 *
 * With "read", every socket is also in an epoll set for reading, as an
 * endpoint's RTP sockets are (the library's, in libuv's): nothing is read,
 * but each packet sent then wakes the socket's wait queue when the kernel
 * frees it (write space), which is part of what the library pays. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 20000000LL
#define STEPS 10000  /* 10 µs steps up to 100 ms */

static uint64_t late_h[STEPS], dur_h[STEPS], nticks;

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void put(uint64_t *h, int64_t ns)
{
	int64_t s = ns / 10000;
	h[s < 0 ? 0 : s < STEPS ? s : STEPS - 1]++;
}

static double quantile(const uint64_t *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)nticks), seen = 0;
	for (int i = 0; i < STEPS; i++) {
		seen += h[i];
		if (seen > want)
			return (i + 1) * 0.01;
	}
	return STEPS * 0.01;
}

static double cpu_s(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: rtp_blast N PORT WARMUP SECONDS [read]\n");
		return 2;
	}
	int n = atoi(argv[1]), port = atoi(argv[2]);
	double warm = atof(argv[3]), secs = atof(argv[4]);
	int ep = argc > 5 && strcmp(argv[5], "read") == 0 ? epoll_create1(EPOLL_CLOEXEC) : -1;
	int *fd = calloc((size_t)n, sizeof(int));
	uint32_t *ts = calloc((size_t)n, sizeof(uint32_t));
	uint16_t *seq = calloc((size_t)n, sizeof(uint16_t));
	if (!fd || !ts || !seq)
		return 1;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srand((unsigned)now_ns());
	for (int i = 0; i < n; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (fd[i] < 0) {
			fprintf(stderr, "rtp_blast: socket %d of %d: %s\n", i, n, strerror(errno));
			return 1;
		}
		struct sockaddr_in a = { .sin_family = AF_INET };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd[i], (struct sockaddr *)&a, sizeof(a));
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd[i] };
		if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev) != 0) {
			fprintf(stderr, "rtp_blast: epoll_ctl: %s\n", strerror(errno));
			return 1;
		}
		ts[i] = (uint32_t)rand();
		seq[i] = (uint16_t)rand();
	}
	uint8_t payload[160];
	for (int i = 0; i < 160; i++)
		payload[i] = (uint8_t)(0x80 + (i * 7) % 64);  /* not all one byte */

	int64_t start = now_ns() + TICK_NS;
	long warm_ticks = (long)(warm * 50), meas_ticks = (long)(secs * 50);
	uint64_t sent = 0, errs = 0, sent_meas = 0;
	double c0 = 0;
	int64_t w0 = 0, lmax = 0;
	for (long k = 0; k < warm_ticks + meas_ticks; k++) {
		int64_t due = start + k * TICK_NS;
		struct timespec t = { due / 1000000000, due % 1000000000 };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
			;
		int64_t woke = now_ns();
		if (k == warm_ticks) {
			c0 = cpu_s();
			w0 = woke;
		}
		uint8_t pkt[172];
		for (int i = 0; i < n; i++) {
			pkt[0] = 0x80;
			pkt[1] = 0;
			pkt[2] = (uint8_t)(seq[i] >> 8);
			pkt[3] = (uint8_t)seq[i];
			pkt[4] = (uint8_t)(ts[i] >> 24);
			pkt[5] = (uint8_t)(ts[i] >> 16);
			pkt[6] = (uint8_t)(ts[i] >> 8);
			pkt[7] = (uint8_t)ts[i];
			uint32_t ssrc = 0xb1a50000u + (uint32_t)i;
			pkt[8] = (uint8_t)(ssrc >> 24);
			pkt[9] = (uint8_t)(ssrc >> 16);
			pkt[10] = (uint8_t)(ssrc >> 8);
			pkt[11] = (uint8_t)ssrc;
			memcpy(pkt + 12, payload, sizeof(payload));
			if (sendto(fd[i], pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) ==
			    (ssize_t)sizeof(pkt)) {
				sent++;
				if (k >= warm_ticks)
					sent_meas++;
			} else {
				errs++;
			}
			seq[i]++;
			ts[i] += 160;
		}
		if (k >= warm_ticks) {
			int64_t late = woke - due;
			put(late_h, late);
			put(dur_h, now_ns() - woke);
			if (late > lmax)
				lmax = late;
			nticks++;
		}
	}
	double c1 = cpu_s();
	/* the wall time of the measured ticks: first wake-up to the end of the last tick */
	double wall = (start + (warm_ticks + meas_ticks) * TICK_NS - (start + warm_ticks * TICK_NS)) / 1e9;
	(void)w0;
	printf("blast streams %d cpu_s %.4f wall_s %.3f sent %llu sent_window %llu errors %llu ticks %llu"
	       " late_p50 %.2f late_p99 %.2f late_p999 %.2f late_max %.2f"
	       " tick_p50 %.2f tick_p99 %.2f\n",
	       n, c1 - c0, wall, (unsigned long long)sent, (unsigned long long)sent_meas,
	       (unsigned long long)errs, (unsigned long long)nticks, quantile(late_h, 0.5),
	       quantile(late_h, 0.99), quantile(late_h, 0.999), lmax / 1e6, quantile(dur_h, 0.5),
	       quantile(dur_h, 0.99));
	return 0;
}
