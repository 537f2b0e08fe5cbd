#include "util/mem.h"
#include "util/slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mem_head {
	unsigned refs;
	uint32_t slab_size;         /* the block's size in the slab; 0: malloc'ed */
	mem_destroy_h *destroy;
	/* keeps the object that follows aligned for any type */
	max_align_t align[];
};

static struct mem_head *head_of(const void *obj)
{
	return (struct mem_head *)((char *)obj - offsetof(struct mem_head, align));
}

/* Not zeroed: for what the caller fills at once (strings, buffers). */
static void *alloc_raw(size_t size, mem_destroy_h *destroy)
{
	size_t total = sizeof(struct mem_head) + size;
	struct mem_head *h = slab_alloc(total);
	if (h) {
		h->slab_size = (uint32_t)total;
	} else {
		h = malloc(total);
		if (!h)
			return NULL;
		h->slab_size = 0;
	}
	h->refs = 1;
	h->destroy = destroy;
	return h->align;
}

void *mem_alloc(size_t size, mem_destroy_h *destroy)
{
	void *obj = alloc_raw(size, destroy);
	if (obj)
		memset(obj, 0, size);
	return obj;
}

static void head_free(struct mem_head *h)
{
	if (h->slab_size)
		slab_free(h, h->slab_size);
	else
		free(h);
}

void *mem_realloc(void *obj, size_t size)
{
	if (!obj)
		return alloc_raw(size, NULL);
	struct mem_head *h = head_of(obj);
	if (!h->slab_size) {
		h = realloc(h, sizeof(*h) + size);
		return h ? h->align : NULL;
	}
	/* out of the slab: a new block, the contents copied */
	size_t old = h->slab_size - sizeof(*h);
	void *moved = alloc_raw(size, h->destroy);
	if (!moved)
		return NULL;
	memcpy(moved, obj, old < size ? old : size);
	head_of(moved)->refs = h->refs;
	head_free(h);
	return moved;
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
	head_free(h);
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
