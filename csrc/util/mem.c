#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

struct mem_head {
	unsigned refs;
	mem_destroy_h *destroy;
	/* keeps the object that follows aligned for any type */
	max_align_t align[];
};

static struct mem_head *head_of(const void *obj)
{
	return (struct mem_head *)((char *)obj - offsetof(struct mem_head, align));
}

void *mem_alloc(size_t size, mem_destroy_h *destroy)
{
	struct mem_head *h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->refs = 1;
	h->destroy = destroy;
	return h->align;
}

/* Not zeroed: for what the caller fills at once (strings, buffers). */
static void *alloc_raw(size_t size, mem_destroy_h *destroy)
{
	struct mem_head *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->refs = 1;
	h->destroy = destroy;
	return h->align;
}

void *mem_realloc(void *obj, size_t size)
{
	if (!obj)
		return alloc_raw(size, NULL);
	struct mem_head *h = realloc(head_of(obj), sizeof(*h) + size);
	return h ? h->align : NULL;
}

void *mem_ref(void *obj)
{
	if (obj)
		head_of(obj)->refs++;
	return obj;
}

void *mem_deref(void *obj)
{
	if (!obj)
		return NULL;
	struct mem_head *h = head_of(obj);
	if (--h->refs > 0)
		return NULL;
	if (h->destroy) {
		/* A destructor may take and drop references to its own object
		 * (a callback that runs during teardown); keep it alive until done. */
		h->refs = 1;
		h->destroy(obj);
	}
	free(h);
	return NULL;
}

unsigned mem_refs(const void *obj)
{
	return obj ? head_of(obj)->refs : 0;
}

char *mem_strndup(const char *s, size_t n)
{
	char *d = alloc_raw(n + 1, NULL);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *mem_strdup(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}
