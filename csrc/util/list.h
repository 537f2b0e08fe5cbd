/* Intrusive doubly linked list, as in the Linux kernel and libuv's queue.h:
 * the node lives inside the object, so linking never allocates. */
#ifndef LUASIP_LIST_H
#define LUASIP_LIST_H

#include <stddef.h>
#include <stdbool.h>

struct le {
	struct le *prev, *next;
};

#define LIST_INIT(l) { &(l), &(l) }
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct le *l) { l->prev = l->next = l; }
static inline bool list_empty(const struct le *l) { return l->next == l; }
/* A node that was initialised or unlinked with list_unlink is not linked. */
static inline bool le_linked(const struct le *e) { return e->next && e->next != e; }

static inline void list_append(struct le *l, struct le *e)
{
	e->prev = l->prev;
	e->next = l;
	l->prev->next = e;
	l->prev = e;
}

static inline void list_unlink(struct le *e)
{
	if (!le_linked(e))
		return;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

#define list_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
