/* The Replaces header (RFC 3891 §6.1): the dialog an INVITE takes the place
 * of, named by its Call-ID and tags as its sender sees them. */
#ifndef LUASIP_REPLACES_H
#define LUASIP_REPLACES_H

#include <stdbool.h>

struct sip_replaces {
	char call_id[256];
	char to_tag[128];           /* the tag of the UA that receives the INVITE */
	char from_tag[128];         /* the tag of the other end of that dialog */
	bool early_only;            /* only an early dialog may be replaced */
};

/* Parses a Replaces value ("id@host;to-tag=1;from-tag=2;early-only", spaces
 * around ';' and '=' allowed, parameter names in any case, others
 * ignored). 0, or -EINVAL when malformed: no Call-ID, a tag missing,
 * repeated or empty, or a part too long. */
int sip_replaces_parse(const char *value, struct sip_replaces *r);

#endif
