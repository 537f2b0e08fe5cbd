/* Small blocks by size class: see slab.h. */
#include "util/slab.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_OFF 1
#endif
#endif

#define STEP 16u
#define CLASSES (SLAB_MAX / STEP)
/* Address space only; pages are touched as blocks are first handed out.
 * Past it the heap serves. */
#define RESERVE ((size_t)1 << 30)

static char *base, *end;           /* the reserved range, once reserved */
static void *free_list[CLASSES];   /* each block links the next in its first word */
#ifndef SLAB_OFF
static char *next;                 /* where the range's unused part begins */
static bool reserve_failed;
#endif

/* Class c holds blocks of (c + 1) * STEP octets. */
static unsigned class_of(size_t n)
{
	return n ? (unsigned)((n - 1) / STEP) : 0;
}

bool slab_owns(const void *p)
{
	return (const char *)p >= base && (const char *)p < end;
}

void *slab_alloc(size_t n)
{
#ifdef SLAB_OFF
	(void)n;
	return NULL;
#else
	if (n > SLAB_MAX)
		return NULL;
	unsigned c = class_of(n);
	void *p = free_list[c];
	if (p) {
		memcpy(&free_list[c], p, sizeof(void *));
		/* A freed block is often cold (a transaction's goes 32 s after
		 * its request came): reading its link was most of the time
		 * here. The next one is fetched while the caller works. */
		if (free_list[c])
			__builtin_prefetch(free_list[c]);
		return p;
	}
	if (!base) {
		if (reserve_failed)
			return NULL;
		void *r = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED) {
			reserve_failed = true;
			return NULL;
		}
		base = next = r;
		end = base + RESERVE;
	}
	size_t size = (size_t)(c + 1) * STEP;
	if ((size_t)(end - next) < size)
		return NULL;
	p = next;
	next += size;
	return p;
#endif
}

size_t slab_block_size(size_t n)
{
	return (size_t)(class_of(n) + 1) * STEP;
}

void slab_free(void *p, size_t n)
{
	unsigned c = class_of(n);
	memcpy(p, &free_list[c], sizeof(void *));
	free_list[c] = p;
}
