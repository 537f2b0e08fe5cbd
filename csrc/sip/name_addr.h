/* A From value as the user gives it: a URI, or "Display Name" <URI>
 * (name_addr.c). */
#ifndef LUASIP_NAME_ADDR_H
#define LUASIP_NAME_ADDR_H

#include <stddef.h>

/* 0, or -EINVAL with *why saying what is wrong with v. */
int sip_name_addr_check(const char *v, const char **why);
/* The URI of a checked value: what is inside <...>, or all of it. */
size_t sip_name_addr_uri(const char *v, const char **uri);

#endif
