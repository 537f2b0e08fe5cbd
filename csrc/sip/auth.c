#include "sip/auth.h"
#include "util/rand.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_md5.h>

static void hex(const unsigned char d[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[32] = '\0';
}

void sip_md5_hex(const void *data, size_t len, char out[33])
{
	osip_MD5_CTX ctx;
	unsigned char d[16];
	osip_MD5Init(&ctx);
	osip_MD5Update(&ctx, (unsigned char *)data, (unsigned int)len);
	osip_MD5Final(d, &ctx);
	hex(d, out);
}

/* MD5 of parts joined with ':' */
static void md5_join(char out[33], int n, const char *const parts[])
{
	osip_MD5_CTX ctx;
	unsigned char d[16];
	osip_MD5Init(&ctx);
	for (int i = 0; i < n; i++) {
		if (i)
			osip_MD5Update(&ctx, (unsigned char *)":", 1);
		osip_MD5Update(&ctx, (unsigned char *)parts[i], (unsigned int)strlen(parts[i]));
	}
	osip_MD5Final(d, &ctx);
	hex(d, out);
}

/* osip keeps the quotes of quoted-string values */
static void unquote(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= 2 && src[0] == '"' && src[n - 1] == '"') {
		src++;
		n -= 2;
	}
	if (n >= size)
		n = size - 1;
	if (src)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int sip_challenge_parse(const struct sip_msg *resp, struct sip_challenge *c)
{
	osip_www_authenticate_t *wa = NULL;
	memset(c, 0, sizeof(*c));
	const osip_message_t *o = sip_msg_osip(resp);
	if (!o)
		return -ENOENT;
	c->proxy = resp->status == 407;
	const osip_list_t *list = c->proxy ? &o->proxy_authenticates : &o->www_authenticates;
	for (int i = 0; i < osip_list_size(list); i++) {
		osip_www_authenticate_t *w = osip_list_get(list, i);
		if (!w->auth_type || strcasecmp(w->auth_type, "Digest") != 0)
			continue;
		char alg[32];
		unquote(alg, sizeof(alg), w->algorithm);
		if (w->algorithm && strcasecmp(alg, "MD5") != 0 && strcasecmp(alg, "MD5-sess") != 0)
			continue;  /* SHA-256 and others are not spoken here */
		c->sess = w->algorithm && strcasecmp(alg, "MD5-sess") == 0;
		wa = w;
		break;
	}
	if (!wa || !wa->nonce || !wa->realm)
		return -ENOENT;
	unquote(c->realm, sizeof(c->realm), wa->realm);
	unquote(c->nonce, sizeof(c->nonce), wa->nonce);
	if (wa->opaque)
		unquote(c->opaque, sizeof(c->opaque), wa->opaque);
	if (wa->stale) {
		char stale[16];
		unquote(stale, sizeof(stale), wa->stale);
		c->stale = strcasecmp(stale, "true") == 0;
	}
	if (wa->qop_options) {
		char qop[128];
		unquote(qop, sizeof(qop), wa->qop_options);
		for (char *save = NULL, *t = strtok_r(qop, ", \t", &save); t;
		     t = strtok_r(NULL, ", \t", &save)) {
			if (strcasecmp(t, "auth") == 0)
				c->qop_auth = true;
			else if (strcasecmp(t, "auth-int") == 0)
				c->qop_auth_int = true;
		}
	}
	return 0;
}

int sip_auth_header(const struct sip_challenge *c, const char *user, const char *password,
		    const char *method, const char *uri, const char *body, size_t body_len,
		    uint32_t nc, char *out, size_t size)
{
	char ha1[33], ha2[33], response[33], cnonce[17], ncs[9], hbody[33];
	const char *qop = c->qop_auth ? "auth" : c->qop_auth_int ? "auth-int" : NULL;

	rand_hex(cnonce, 16);
	snprintf(ncs, sizeof(ncs), "%08x", nc);
	md5_join(ha1, 3, (const char *const[]){ user, c->realm, password });
	if (c->sess)
		md5_join(ha1, 3, (const char *const[]){ ha1, c->nonce, cnonce });
	if (qop && strcmp(qop, "auth-int") == 0) {
		sip_md5_hex(body ? body : "", body ? body_len : 0, hbody);
		md5_join(ha2, 3, (const char *const[]){ method, uri, hbody });
	} else {
		md5_join(ha2, 2, (const char *const[]){ method, uri });
	}
	if (qop)
		md5_join(response, 6, (const char *const[]){ ha1, c->nonce, ncs, cnonce, qop, ha2 });
	else
		md5_join(response, 3, (const char *const[]){ ha1, c->nonce, ha2 });

	int n = snprintf(out, size,
			 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s",
			 c->proxy ? "Proxy-Authorization" : "Authorization", user, c->realm,
			 c->nonce, uri, response, c->sess ? "MD5-sess" : "MD5");
	if (n > 0 && (size_t)n < size && c->opaque[0])
		n += snprintf(out + n, size - (size_t)n, ", opaque=\"%s\"", c->opaque);
	if (n > 0 && (size_t)n < size && qop)
		n += snprintf(out + n, size - (size_t)n, ", qop=%s, nc=%s, cnonce=\"%s\"", qop,
			      ncs, cnonce);
	if (n > 0 && (size_t)n < size)
		n += snprintf(out + n, size - (size_t)n, "\r\n");
	return n > 0 && (size_t)n < size ? 0 : -ENOSPC;
}
