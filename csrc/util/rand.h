/* Random tokens for branches, tags, Call-IDs and cnonces (RFC 3261 §8.1.1.7,
 * §19.3): unguessable enough to be globally unique, fast enough per message. */
#ifndef LUASIP_RAND_H
#define LUASIP_RAND_H

#include <stddef.h>
#include <stdint.h>

uint64_t rand_u64(void);
/* Writes n random lowercase hex digits and a NUL into buf (n + 1 bytes). */
void rand_hex(char *buf, size_t n);

#endif
