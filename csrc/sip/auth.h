/* HTTP Digest authentication for SIP clients (RFC 3261 §22, RFC 2617,
 * RFC 7616 with MD5 and MD5-sess, qop auth and auth-int). */
#ifndef LUASIP_AUTH_H
#define LUASIP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/msg.h"

struct sip_challenge {
	bool proxy;                 /* 407 Proxy-Authenticate */
	bool stale;
	bool sess;                  /* MD5-sess */
	bool qop_auth, qop_auth_int;
	char realm[128], nonce[256], opaque[256];
};

/* Reads the first Digest challenge of a 401 or 407. 0, or -ENOENT when there
 * is none we can answer (another scheme or algorithm). */
int sip_challenge_parse(const struct sip_msg *resp, struct sip_challenge *c);

/* Appends the Authorization or Proxy-Authorization line (CRLF ended) for
 * one request to out (size bytes). nc counts uses of the nonce. */
int sip_auth_header(const struct sip_challenge *c, const char *user, const char *password,
		    const char *method, const char *uri, const char *body, size_t body_len,
		    uint32_t nc, char *out, size_t size);

/* Lowercase hex MD5 of a string, for tests and servers: out gets 33 bytes. */
void sip_md5_hex(const void *data, size_t len, char out[33]);

#endif
