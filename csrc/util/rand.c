#include "util/rand.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* xoshiro256** seeded once from the kernel: one getrandom() per process
 * instead of one system call per token. */
static uint64_t s[4];
static int seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void seed(void)
{
	if (getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		s[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		s[1] = (uint64_t)ts.tv_sec * 0x9e3779b97f4a7c15ull;
		s[2] = s[0] ^ 0xdeadbeefcafebabeull;
		s[3] = s[1] + 1;
	}
	seeded = 1;
}

uint64_t rand_u64(void)
{
	if (!seeded)
		seed();
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void rand_hex(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 16 == 0)
			r = rand_u64();
		buf[i] = hex[r & 15];
		r >>= 4;
	}
	buf[n] = '\0';
}
