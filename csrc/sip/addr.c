#include "sip/addr.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *sip_proto_name(enum sip_proto p)
{
	return p == SIP_TCP ? "TCP" : "UDP";
}

int sip_proto_parse(const char *s, enum sip_proto *p)
{
	if (strcasecmp(s, "udp") == 0)
		*p = SIP_UDP;
	else if (strcasecmp(s, "tcp") == 0)
		*p = SIP_TCP;
	else
		return -EPROTONOSUPPORT;
	return 0;
}

int sa_set(union sa *a, const char *host, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	memset(a, 0, sizeof(*a));
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET, host, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

uint16_t sa_port(const union sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

void sa_set_port(union sa *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->in6.sin6_port = htons(port);
	else
		a->in.sin_port = htons(port);
}

socklen_t sa_len(const union sa *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

bool sa_same_host(const union sa *a, const union sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	return false;
}

bool sa_equal(const union sa *a, const union sa *b)
{
	return sa_same_host(a, b) && sa_port(a) == sa_port(b);
}

bool sa_is_any(const union sa *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr);
	return true;
}

/* Writes v (< 100000) in decimal at p; returns the end. */
static char *put_decimal(char *p, unsigned v)
{
	char tmp[5];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 5);
	while (n)
		*p++ = tmp[--n];
	return p;
}

const char *sa_host(const union sa *a, char *buf, size_t size)
{
	if (a->sa.sa_family == AF_INET && size >= INET_ADDRSTRLEN) {
		/* every response and SDP names one: without inet_ntop's printf */
		const unsigned char *o = (const unsigned char *)&a->in.sin_addr;
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_decimal(p, o[i]);
		}
		*p = '\0';
		return buf;
	}
	const void *src = a->sa.sa_family == AF_INET6 ? (const void *)&a->in6.sin6_addr
	                                               : (const void *)&a->in.sin_addr;
	if (!inet_ntop(a->sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET, src, buf, size))
		snprintf(buf, size, "?");
	return buf;
}

const char *sa_hostport(const union sa *a, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN + 8], *p = text;
	bool v6 = a->sa.sa_family == AF_INET6;
	if (v6)
		*p++ = '[';
	sa_host(a, p, INET6_ADDRSTRLEN);
	p += strlen(p);
	if (v6)
		*p++ = ']';
	*p++ = ':';
	*put_decimal(p, sa_port(a)) = '\0';
	size_t n = strlen(text);
	if (size) {
		n = n < size ? n : size - 1;
		memcpy(buf, text, n);
		buf[n] = '\0';
	}
	return buf;
}

void sip_peer_copy(struct sip_peer *dst, const struct sip_peer *src)
{
	if (dst == src)
		return;
	struct sip_conn *old = dst->conn;
	*dst = *src;
	mem_ref(dst->conn);
	mem_deref(old);
}

void sip_peer_clear(struct sip_peer *p)
{
	p->conn = mem_deref(p->conn);
}
