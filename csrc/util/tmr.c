#include "util/tmr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool earlier(const struct tmr *a, const struct tmr *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct tmrq *q, size_t i, struct tmr *t)
{
	q->heap[i] = t;
	t->idx = i;
}

static void sift_up(struct tmrq *q, size_t i)
{
	struct tmr *t = q->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!earlier(t, q->heap[parent]))
			break;
		place(q, i, q->heap[parent]);
		i = parent;
	}
	place(q, i, t);
}

static void sift_down(struct tmrq *q, size_t i)
{
	struct tmr *t = q->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && earlier(q->heap[c + 1], q->heap[c]))
			c++;
		if (!earlier(q->heap[c], t))
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, t);
}

void tmrq_init(struct tmrq *q, uint64_t now)
{
	memset(q, 0, sizeof(*q));
	q->now = now;
}

void tmrq_close(struct tmrq *q)
{
	for (size_t i = 0; i < q->n; i++)
		q->heap[i]->q = NULL;
	free(q->heap);
	q->heap = NULL;
	q->n = q->cap = 0;
}

int64_t tmrq_next(const struct tmrq *q)
{
	if (q->n == 0)
		return -1;
	uint64_t due = q->heap[0]->due;
	return due > q->now ? (int64_t)(due - q->now) : 0;
}

void tmrq_run(struct tmrq *q, uint64_t now)
{
	if (now > q->now)
		q->now = now;
	/* A handler may start timers that are due at once; they run in this
	 * pass only if they were due before it began, so a zero-delay restart
	 * loop cannot spin here forever. */
	uint64_t seq_limit = q->seq;
	while (q->n > 0) {
		struct tmr *t = q->heap[0];
		if (t->due > q->now || t->seq >= seq_limit)
			break;
		tmr_cancel(t);
		t->h(t->arg);
	}
}

void tmr_init(struct tmr *t)
{
	memset(t, 0, sizeof(*t));
}

int tmr_start(struct tmrq *q, struct tmr *t, uint64_t delay_ms, tmr_h *h, void *arg)
{
	tmr_cancel(t);
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct tmr **heap = realloc(q->heap, cap * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		q->heap = heap;
		q->cap = cap;
	}
	t->q = q;
	t->due = q->now + delay_ms;
	t->seq = q->seq++;
	t->h = h;
	t->arg = arg;
	place(q, q->n++, t);
	sift_up(q, t->idx);
	return 0;
}

void tmr_cancel(struct tmr *t)
{
	struct tmrq *q = t->q;
	if (!q)
		return;
	size_t i = t->idx;
	struct tmr *last = q->heap[--q->n];
	t->q = NULL;
	if (last == t)
		return;
	place(q, i, last);
	if (i > 0 && earlier(last, q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

uint64_t tmr_left(const struct tmr *t)
{
	if (!t->q)
		return 0;
	return t->due > t->q->now ? t->due - t->q->now : 0;
}
