/* rtp_bridge_load: both ends of N bridged calls, for bench/bridge.sh.
 *
 *   rtp_bridge_load TABLE WARMUP SECONDS [PID]
 *
 * TABLE has one line per call, four UDP ports on 127.0.0.1 (the format
 * bench/bridge.lua and bench/rtp_relay_min share):
 *
 *   a_ours a_relay b_ours b_relay
 *
 * a_ours is the socket this program binds for the caller's end (the port
 * the caller's SDP named), a_relay the relay's socket of that leg; b the
 * same for the callee's end. Each call is two streams, A to B (sent from
 * a_ours to a_relay, expected on b_ours) and B to A.
 *
 * Every stream sends one 172-byte PCMU packet (12-byte RTP header, 160
 * bytes of payload) every 20 ms. The 2N streams are spread evenly over
 * the 20 ms: stream s is due at start + 20 ms * (k + s / 2N), and the
 * loop wakes at most every SLOT_NS to send what is due, so the relay sees
 * a steady flow and not a burst per tick. Each payload starts with a
 * magic, the stream's number, its sequence and the send time (monotonic
 * ns, taken just before the sendto), so that the relay may rewrite the
 * RTP header as it likes; the rest is a constant pattern of valid PCMU.
 *
 * What arrives on the other end is matched by the payload: the added
 * delay is its kernel arrival stamp (SO_TIMESTAMPNS, moved onto the
 * monotonic clock) minus the send time. The sockets are read without
 * waiting (epoll_wait with no timeout at each wake-up): a receiver
 * blocked in a wait is woken by each datagram the relay sends, and on
 * loopback that wake-up (an inter-processor interrupt) would be paid by
 * the measured relay (see bench/rtp_sink.c). The kernel's stamps keep the
 * arrival times exact.
 *
 * Timeline: WARMUP seconds of sending (the library latches onto the
 * sockets, caches warm; not counted), then SECONDS measured, then DRAIN_NS of receiving only.
 * Counted are the packets sent in the window and, of those, the ones
 * received (by the stream and sequence in the payload): loss is the
 * difference, out-of-order a packet whose sequence is below the highest
 * its stream had. With PID, the CPU time of that process (the relay)
 * over the window exactly: /proc/PID/task/STAR/schedstat summed (utime +
 * stime in ns), or utime + stime of /proc/PID/stat where schedstat is
 * missing.
 *
 * Prints one "load ..." line and exits; bounded by WARMUP + SECONDS +
 * DRAIN_NS. Delays in µs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_NS 20000000LL    /* 20 ms of G.711 a packet */
#define SLOT_NS 250000LL        /* wake-ups: 80 per packet period */
#define DRAIN_NS 1000000000LL   /* receive this long after the window */
#define PKT 172
#define MAGIC 0x4c53424eu       /* "LSBN" */
#define HIST 100000             /* delay histogram: 1 µs steps up to 100 ms */
#define BATCH 16
#define EVENTS 512

struct stream {
	int tx, rx;                 /* socket indexes */
	struct sockaddr_in dst;
	uint32_t seq;               /* next to send */
	uint16_t rtp_seq;
	uint32_t rtp_ts;
	uint64_t sent_window, recv_window;
	uint32_t max_seq;
	int seen;
};

static uint64_t hist[HIST], hist_n;
static int64_t hist_max;

static int64_t ns_of(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static double quantile(double q)
{
	uint64_t want = (uint64_t)(q * (double)hist_n), seen = 0;
	for (int i = 0; i < HIST; i++) {
		seen += hist[i];
		if (seen > want)
			return i + 1;
	}
	return HIST;
}

/* CPU time of every thread of pid in ns; -1 when it cannot be read */
static int64_t cpu_ns_of(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	int64_t sum = 0;
	int found = 0;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char p[320];
			snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", pid, e->d_name);
			FILE *f = fopen(p, "r");
			long long t;
			if (f && fscanf(f, "%lld", &t) == 1) {
				sum += t;
				found = 1;
			}
			if (f)
				fclose(f);
		}
		closedir(d);
	}
	if (found)
		return sum;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char buf[1024];
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	/* after ") ": state, then 10 fields, then utime and stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * (1000000000.0 / (double)sysconf(_SC_CLK_TCK)));
}

static double self_cpu_s(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: rtp_bridge_load TABLE WARMUP SECONDS [PID]\n");
		return 2;
	}
	int64_t warm = (int64_t)(atof(argv[2]) * 1e9), secs = (int64_t)(atof(argv[3]) * 1e9);
	int pid = argc > 4 ? atoi(argv[4]) : 0;
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "rtp_bridge_load: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	size_t cap = 1024, n = 0;
	int *ports = malloc(cap * 4 * sizeof(int));
	while (ports && fscanf(f, "%d %d %d %d", &ports[4 * n], &ports[4 * n + 1],
			       &ports[4 * n + 2], &ports[4 * n + 3]) == 4) {
		if (++n == cap) {
			cap *= 2;
			int *more = realloc(ports, cap * 4 * sizeof(int));
			if (!more)
				return 1;
			ports = more;
		}
	}
	fclose(f);
	if (!ports || n == 0) {
		fprintf(stderr, "rtp_bridge_load: no calls in %s\n", argv[1]);
		return 1;
	}
	size_t ns = 2 * n;
	int *fd = calloc(ns, sizeof(int));
	struct stream *st = calloc(ns, sizeof(*st));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fd || !st || ep < 0)
		return 1;
	srand((unsigned)ns_of(CLOCK_MONOTONIC));
	/* socket 2c is a_ours, 2c + 1 b_ours; stream 2c goes A to B, 2c + 1 B to A */
	for (size_t c = 0; c < n; c++) {
		for (int k = 0; k < 2; k++) {
			size_t i = 2 * c + (size_t)k;
			int port = ports[4 * c + 2 * (size_t)k];
			fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			int on = 1;
			struct sockaddr_in a = loopback(port);
			if (fd[i] < 0 ||
			    setsockopt(fd[i], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0 ||
			    bind(fd[i], (struct sockaddr *)&a, sizeof(a)) != 0) {
				fprintf(stderr, "rtp_bridge_load: socket on %d (call %zu of %zu): %s\n",
					port, c + 1, n, strerror(errno));
				return 1;
			}
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &ev) != 0) {
				fprintf(stderr, "rtp_bridge_load: epoll_ctl: %s\n", strerror(errno));
				return 1;
			}
			st[i].tx = (int)i;
			st[i].rx = (int)(i ^ 1);
			st[i].dst = loopback(ports[4 * c + 2 * (size_t)k + 1]);
			st[i].rtp_seq = (uint16_t)rand();
			st[i].rtp_ts = (uint32_t)rand();
		}
	}
	free(ports);

	uint8_t pkt[PKT];
	memset(pkt, 0xd5, sizeof(pkt));  /* PCMU near silence, not all zero */
	pkt[0] = 0x80;
	pkt[1] = 0;                      /* PT 0, PCMU */

	int64_t start = ns_of(CLOCK_MONOTONIC) + SLOT_NS;
	int64_t w0 = start + warm, w1 = w0 + secs, end = w1 + DRAIN_NS;
	int64_t cpu0 = -1, cpu1 = -1, cpu_t0 = 0, cpu_t1 = 0;
	double self0 = 0, self1 = 0;
	uint64_t sent = 0, errors = 0, received = 0, other = 0, reorder = 0;
	uint64_t sent_window = 0, recv_window = 0, late_sends = 0;
	int64_t send_late_max = 0;
	uint64_t k = 0;            /* the next packet in the global order */
	static uint8_t bufs[BATCH][2048];
	static char ctl[BATCH][64];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event evs[EVENTS];

	for (int64_t wake = start; wake < end; wake += SLOT_NS) {
		struct timespec t = { wake / 1000000000, wake % 1000000000 };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
			;
		int64_t now = ns_of(CLOCK_MONOTONIC);
		if (cpu0 < 0 && now >= w0) {
			cpu0 = pid ? cpu_ns_of(pid) : 0;
			cpu_t0 = now;
			self0 = self_cpu_s();
		}
		if (cpu1 < 0 && now >= w1) {
			cpu1 = pid ? cpu_ns_of(pid) : 0;
			cpu_t1 = now;
			self1 = self_cpu_s();
		}
		/* send what is due, until the window's end */
		for (;;) {
			int64_t due = start + (int64_t)(k / ns) * PERIOD_NS +
				      (int64_t)(k % ns) * PERIOD_NS / (int64_t)ns;
			if (due > now || due >= w1)
				break;
			struct stream *s = &st[k % ns];
			int64_t at = ns_of(CLOCK_MONOTONIC);
			if (at - due > send_late_max)
				send_late_max = at - due;
			if (at - due > 1000000)
				late_sends++;
			pkt[2] = (uint8_t)(s->rtp_seq >> 8);
			pkt[3] = (uint8_t)s->rtp_seq;
			put32(pkt + 4, s->rtp_ts);
			put32(pkt + 8, 0x5eed0000u + (uint32_t)(k % ns));
			put32(pkt + 12, MAGIC);
			put32(pkt + 16, (uint32_t)(k % ns));
			put32(pkt + 20, s->seq);
			put32(pkt + 24, (uint32_t)((uint64_t)at >> 32));
			put32(pkt + 28, (uint32_t)at);
			if (sendto(fd[s->tx], pkt, PKT, 0, (struct sockaddr *)&s->dst, sizeof(s->dst)) == PKT) {
				sent++;
				/* the window by the send time, as on receipt */
				if (at >= w0 && at < w1) {
					sent_window++;
					s->sent_window++;
				}
			} else {
				errors++;
			}
			s->seq++;
			s->rtp_seq++;
			s->rtp_ts += 160;
			k++;
		}
		/* read what has come, without waiting */
		int ne = epoll_wait(ep, evs, EVENTS, 0);
		int64_t rt = ns_of(CLOCK_REALTIME), mono = ns_of(CLOCK_MONOTONIC);
		for (int e = 0; e < ne; e++) {
			int sock = (int)evs[e].data.u64;
			for (;;) {
				for (int i = 0; i < BATCH; i++) {
					iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
					msgs[i].msg_hdr = (struct msghdr){
						.msg_iov = &iov[i], .msg_iovlen = 1,
						.msg_control = ctl[i], .msg_controllen = sizeof(ctl[i]) };
				}
				int got = recvmmsg(fd[sock], msgs, BATCH, MSG_DONTWAIT, NULL);
				if (got <= 0)
					break;
				for (int i = 0; i < got; i++) {
					const uint8_t *p = bufs[i];
					uint32_t id = msgs[i].msg_len >= 32 ? get32(p + 16) : 0;
					if (msgs[i].msg_len < 32 || get32(p + 12) != MAGIC || id >= ns ||
					    st[id].rx != sock) {
						other++;  /* the relay's own (its RTCP, silence) */
						continue;
					}
					received++;
					struct stream *s = &st[id];
					uint32_t seq = get32(p + 20);
					int64_t sent_at = (int64_t)((uint64_t)get32(p + 24) << 32 | get32(p + 28));
					if (s->seen && seq <= s->max_seq)
						reorder++;
					else
						s->max_seq = seq;
					s->seen = 1;
					if (sent_at < w0 || sent_at >= w1)
						continue;
					int64_t arr = mono;
					for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
					     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
						if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
							struct timespec ts;
							memcpy(&ts, CMSG_DATA(c), sizeof(ts));
							arr = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - (rt - mono);
						}
					int64_t d = arr - sent_at;
					int64_t b = d / 1000;
					hist[b < 0 ? 0 : b < HIST ? b : HIST - 1]++;
					hist_n++;
					if (d > hist_max)
						hist_max = d;
					recv_window++;
					s->recv_window++;
				}
				if (got < BATCH)
					break;
			}
		}
	}
	/* per stream, so that a duplicate on one cannot hide a loss on another */
	uint64_t lost = 0, streams_lossy = 0;
	for (size_t i = 0; i < ns; i++) {
		if (st[i].sent_window > st[i].recv_window) {
			lost += st[i].sent_window - st[i].recv_window;
			streams_lossy++;
		}
	}
	double wall = (cpu_t1 - cpu_t0) / 1e9;
	printf("load calls %zu streams %zu window_s %.3f sent %llu errors %llu received %llu other %llu"
	       " sent_window %llu recv_window %llu lost %llu lossy_streams %llu reorder %llu"
	       " delay_p50_us %.0f delay_p99_us %.0f delay_p999_us %.0f delay_max_us %.0f"
	       " cpu_ns %lld self_cpu_s %.3f send_late_max_us %.0f late_sends %llu\n",
	       n, ns, wall, (unsigned long long)sent, (unsigned long long)errors,
	       (unsigned long long)received, (unsigned long long)other,
	       (unsigned long long)sent_window, (unsigned long long)recv_window,
	       (unsigned long long)lost, (unsigned long long)streams_lossy,
	       (unsigned long long)reorder, hist_n ? quantile(0.5) : 0, hist_n ? quantile(0.99) : 0,
	       hist_n ? quantile(0.999) : 0, hist_max / 1e3,
	       (long long)(pid && cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1), self1 - self0,
	       send_late_max / 1e3, (unsigned long long)late_sends);
	return 0;
}
