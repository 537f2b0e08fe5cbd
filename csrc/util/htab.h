/* String-keyed hash table with intrusive nodes and chaining.
 * Transactions are found by branch and dialogs by Call-ID and tags through
 * it: a lookup costs the same with ten or ten thousand entries. The key string
 * belongs to the object that embeds the node. */
#ifndef LUASIP_HTAB_H
#define LUASIP_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint32_t hash;
	const char *key;
};

struct htab {
	struct hnode **bucket;
	size_t nbuckets;  /* a power of two */
	size_t count;
};

int htab_init(struct htab *t, size_t nbuckets);
void htab_close(struct htab *t);   /* frees the buckets, not the entries */
uint32_t htab_hash(const char *key);
void htab_insert(struct htab *t, struct hnode *n, const char *key);
struct hnode *htab_find(const struct htab *t, const char *key);
void htab_remove(struct htab *t, struct hnode *n);

#endif
