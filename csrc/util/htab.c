#include "util/htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int htab_init(struct htab *t, size_t nbuckets)
{
	size_t n = 16;
	while (n < nbuckets)
		n <<= 1;
	t->bucket = calloc(n, sizeof(*t->bucket));
	if (!t->bucket)
		return -ENOMEM;
	t->nbuckets = n;
	t->count = 0;
	return 0;
}

void htab_close(struct htab *t)
{
	free(t->bucket);
	t->bucket = NULL;
	t->nbuckets = t->count = 0;
}

uint32_t htab_hash(const char *key)
{
	/* FNV-1a: short keys, good spread, no allocation. */
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

static void grow(struct htab *t)
{
	size_t n = t->nbuckets * 2;
	struct hnode **b = calloc(n, sizeof(*b));
	if (!b)
		return;  /* the table still works, only with longer chains */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct hnode *e = t->bucket[i];
		while (e) {
			struct hnode *next = e->next;
			size_t j = e->hash & (n - 1);
			e->next = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = n;
}

void htab_insert(struct htab *t, struct hnode *n, const char *key)
{
	if (t->count >= t->nbuckets)
		grow(t);
	n->key = key;
	n->hash = htab_hash(key);
	size_t i = n->hash & (t->nbuckets - 1);
	n->next = t->bucket[i];
	t->bucket[i] = n;
	t->count++;
}

struct hnode *htab_find(const struct htab *t, const char *key)
{
	uint32_t h = htab_hash(key);
	for (struct hnode *e = t->bucket[h & (t->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

void htab_remove(struct htab *t, struct hnode *n)
{
	struct hnode **pp = &t->bucket[n->hash & (t->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}
