/* rtp_sink: the receiving end of bench/playback.sh and bench/drift.sh.
 *
 *   rtp_sink PORT [BUCKETS]
 *
 * Binds 127.0.0.1:PORT (RTP) and PORT+1 (RTCP, only counted) and counts
 * what arrives, per SSRC: packets, sequence gaps (RFC 3550 A.1 style:
 * expected - received), timestamp steps other than 160 per sequence step
 * (but for a talkspurt's first packet, which has the marker bit).
 * It is C on its own core so that counting costs the measured sender
 * nothing (a library receiver on the same core would double the cost).
 *
 * Arrival times are the kernel's (SO_TIMESTAMPNS), moved onto
 * CLOCK_MONOTONIC, so that the sink's own scheduling delays (it reads in
 * batches) do not show as lateness.  For each stream the offset of a packet
 * is arrival - timestamp/8000; its lateness is the offset above the lowest
 * offset that stream had so far.  That lateness goes into a histogram
 * between SIGUSR1 (start the window, clear it) and SIGUSR2 (end it).
 *
 * With BUCKETS > 0 (drift), the lowest offset of each second of arrival is
 * kept (the minimum filters out scheduling noise, which only ever adds
 * delay), so that the drift of the stream's timestamp clock against the
 * monotonic clock is the lowest offset of the last 10 s minus that of the
 * first 10 s.
 *
 * The sink never waits on its sockets: it reads what has come, sleeps a
 * millisecond and reads again.  A receiver blocked in poll or recv is woken
 * by the sender's sendto, which on loopback runs the receive path: each
 * wake-up of a sleeping sink is an inter-processor interrupt, a VM exit on
 * a virtual machine, paid by the measured sender (28% of rtp_blast's time
 * at 3000 streams, in perf).  A far end on another host never costs the
 * sender that.  The kernel's time stamps keep the arrival times exact; the
 * receive buffer holds far more than a millisecond of packets.
 *
 * SIGTERM or SIGINT: prints one "sink ..." line (and "drift ..." lines) and
 * exits.  Every loop is bounded by the signals the benchmark sends. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TABLE 32768             /* > 2x the most streams a step uses */
#define BATCH 64
#define STEPS 10000             /* lateness histogram: 10 µs steps up to 100 ms */
#define WARM 50                 /* a stream's first second: its minimum settles */

struct stream {
	uint32_t ssrc;
	int used;
	uint64_t packets;
	uint32_t base_seq, max_ext;  /* extended sequence numbers */
	uint16_t last_seq;
	uint32_t last_ts;
	int64_t ts_ext;             /* timestamp since the first packet, unwrapped */
	int64_t min_off;            /* ns */
	int64_t first_arr;
	int64_t last_arr, last_off;
	int64_t *bucket_min;        /* drift: per second of arrival */
	uint64_t ts_err, markers;
};

static struct stream table[TABLE];
static unsigned nstreams;
static uint64_t packets, bytes, rtcp, ts_err, markers, overflow;
static uint64_t hist[STEPS], hist_n;
static int64_t hist_max;
static int buckets;
static volatile sig_atomic_t window_on, window_start, stop;

static void on_sig(int s)
{
	if (s == SIGUSR1)
		window_start = 1;
	else if (s == SIGUSR2)
		window_on = 0;
	else
		stop = 1;
}

static int64_t ns_of(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct stream *lookup(uint32_t ssrc)
{
	unsigned h = (ssrc * 2654435761u) & (TABLE - 1);
	for (unsigned i = 0; i < TABLE; i++) {
		struct stream *s = &table[(h + i) & (TABLE - 1)];
		if (!s->used) {
			if (nstreams >= TABLE / 2)
				return NULL;
			s->used = 1;
			s->ssrc = ssrc;
			nstreams++;
			return s;
		}
		if (s->ssrc == ssrc)
			return s;
	}
	return NULL;
}

static void packet(const uint8_t *p, size_t n, int64_t arr)
{
	if (n < 12 || (p[0] >> 6) != 2)
		return;
	packets++;
	bytes += n;
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	struct stream *s = lookup(ssrc);
	if (!s) {
		overflow++;
		return;
	}
	if (p[1] & 0x80) {
		s->markers++;
		markers++;
	}
	if (s->packets == 0) {
		s->base_seq = s->max_ext = 0x10000u + seq;
		s->last_seq = seq;
		s->last_ts = ts;
		s->ts_ext = 0;
		s->first_arr = arr;
		s->min_off = arr;
		if (buckets) {
			s->bucket_min = malloc(sizeof(int64_t) * (size_t)buckets);
			for (int i = 0; s->bucket_min && i < buckets; i++)
				s->bucket_min[i] = INT64_MAX;
		}
	} else {
		uint16_t dseq = (uint16_t)(seq - s->last_seq);
		int32_t dts = (int32_t)(ts - s->last_ts);
		if (dseq < 3000) {
			/* in order (maybe after a gap): the timestamp moves 160 per packet */
			/* a timestamp jump with the marker bit is a new talkspurt
			 * after silence suppression (RFC 3551 §4.1), not an error */
			if ((int64_t)dts != 160 * (int64_t)dseq && !(p[1] & 0x80)) {
				/* the first few go to stderr, to tell a pattern */
				if (ts_err < 10)
					fprintf(stderr, "ts_step ssrc %08x seq %u dseq %u dts %d packet %llu\n",
						ssrc, seq, dseq, dts, (unsigned long long)s->packets);
				s->ts_err++;
				ts_err++;
			}
			s->max_ext += dseq;
			s->last_seq = seq;
			s->ts_ext += dts;
			s->last_ts = ts;
		}
	}
	s->packets++;
	int64_t off = arr - s->ts_ext * 125000;  /* 1/8000 s = 125 µs */
	if (off < s->min_off)
		s->min_off = off;
	s->last_arr = arr;
	s->last_off = off;
	if (window_on && s->packets > WARM) {
		int64_t late = off - s->min_off;
		int64_t step = late / 10000;
		hist[step < STEPS ? step : STEPS - 1]++;
		hist_n++;
		if (late > hist_max)
			hist_max = late;
	}
	if (s->bucket_min) {
		int64_t b = (arr - s->first_arr) / 1000000000;
		if (b >= 0 && b < buckets && off < s->bucket_min[b])
			s->bucket_min[b] = off;
	}
}

static double quantile(double q)
{
	uint64_t want = (uint64_t)(q * (double)hist_n), seen = 0;
	for (int i = 0; i < STEPS; i++) {
		seen += hist[i];
		if (seen > want)
			return (i + 1) * 0.01;
	}
	return STEPS * 0.01;
}

static int64_t min_over(const struct stream *s, int from, int to)
{
	int64_t m = INT64_MAX;
	for (int i = from < 0 ? 0 : from; i < to && i < buckets; i++)
		if (s->bucket_min[i] < m)
			m = s->bucket_min[i];
	return m;
}

static void report(void)
{
	uint64_t lost = 0, expected = 0;
	struct stream *top = NULL;
	for (unsigned i = 0; i < TABLE; i++) {
		struct stream *s = &table[i];
		if (!s->used)
			continue;
		uint64_t e = (uint64_t)(s->max_ext - s->base_seq) + 1;
		expected += e;
		if (e > s->packets)
			lost += e - s->packets;
		if (!top || s->packets > top->packets)
			top = s;
	}
	printf("sink packets %llu bytes %llu ssrcs %u expected %llu seq_lost %llu ts_err %llu"
	       " markers %llu rtcp %llu overflow %llu window_packets %llu"
	       " late_p50 %.2f late_p99 %.2f late_p999 %.2f late_max %.2f\n",
	       (unsigned long long)packets, (unsigned long long)bytes, nstreams,
	       (unsigned long long)expected, (unsigned long long)lost, (unsigned long long)ts_err,
	       (unsigned long long)markers, (unsigned long long)rtcp,
	       (unsigned long long)overflow, (unsigned long long)hist_n,
	       hist_n ? quantile(0.5) : 0, hist_n ? quantile(0.99) : 0,
	       hist_n ? quantile(0.999) : 0, hist_max / 1e6);
	if (buckets && top && top->bucket_min) {
		/* seconds with packets: the last is the one the last packet fell in */
		int last = (int)((top->last_arr - top->first_arr) / 1000000000);
		if (last >= buckets)
			last = buckets - 1;
		int64_t first10 = min_over(top, 0, 10), last10 = min_over(top, last - 9, last + 1);
		double span = (top->last_arr - top->first_arr) / 1e9;
		printf("drift ssrc %08x packets %llu span_s %.3f ts_span_s %.3f"
		       " raw_ms %.3f minfilt_ms %.3f ts_err %llu lost %llu\n",
		       top->ssrc, (unsigned long long)top->packets, span, top->ts_ext / 8000.0,
		       (top->last_off - top->first_arr) / 1e6,
		       (last10 - first10) / 1e6, (unsigned long long)top->ts_err,
		       (unsigned long long)((top->max_ext - top->base_seq + 1) - top->packets));
		/* the lowest offset of each minute, against that of the first 10 s:
		 * a steady drift is a slope, noise is not */
		printf("drift_curve");
		for (int m = 0; m * 60 <= last; m++) {
			int64_t v = min_over(top, m * 60, m * 60 + 60);
			if (v != INT64_MAX)
				printf(" %d:%.3f", m, (v - first10) / 1e6);
		}
		printf("\n");
	}
	fflush(stdout);
}

static int bind_udp(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* FORCE passes net.core.rmem_max as root; the plain one is the fallback */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rtp_sink PORT [BUCKETS]\n");
		return 2;
	}
	int port = atoi(argv[1]);
	buckets = argc > 2 ? atoi(argv[2]) : 0;
	int fd = bind_udp(port, 64 << 20), rfd = bind_udp(port + 1, 1 << 20);
	if (fd < 0 || rfd < 0) {
		fprintf(stderr, "rtp_sink: cannot bind 127.0.0.1:%d/%d: %s\n", port, port + 1,
			strerror(errno));
		return 1;
	}
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	static uint8_t bufs[BATCH][2048];
	static char ctl[BATCH][64];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	const struct timespec nap = { 0, 1000000 };
	while (!stop) {
		if (window_start) {
			window_start = 0;
			memset(hist, 0, sizeof(hist));
			hist_n = 0;
			hist_max = 0;
			window_on = 1;
		}
		nanosleep(&nap, NULL);
		uint8_t b[2048];
		while (recv(rfd, b, sizeof(b), MSG_DONTWAIT) > 0)
			rtcp++;
		for (;;) {
			memset(msgs, 0, sizeof(msgs));
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
				msgs[i].msg_hdr.msg_control = ctl[i];
				msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
			}
			int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			/* the kernel's stamps are CLOCK_REALTIME: moved onto the
			 * monotonic clock the sender's media clock runs on */
			int64_t rt = ns_of(CLOCK_REALTIME), mono = ns_of(CLOCK_MONOTONIC);
			for (int i = 0; i < n; i++) {
				int64_t arr = mono;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
				     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
					if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
						struct timespec t;
						memcpy(&t, CMSG_DATA(c), sizeof(t));
						arr = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec - (rt - mono);
					}
				packet(bufs[i], msgs[i].msg_len, arr);
			}
			if (n < BATCH)
				break;
		}
	}
	report();
	return 0;
}
