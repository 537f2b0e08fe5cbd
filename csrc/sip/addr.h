/* Socket addresses and the peer a message came from or goes to. */
#ifndef LUASIP_ADDR_H
#define LUASIP_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum sip_proto { SIP_UDP = 0, SIP_TCP = 1 };

/* IPv4 or IPv6 only: no sockaddr_storage in it, which would make every
 * address 128 bytes where 28 hold any the library uses (a call keeps a
 * dozen of them) */
union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct sip_conn;

/* Where a message came from or goes to. conn is the TCP connection it came
 * on (a reference, see sip_peer_copy), so a response can go back on it. */
struct sip_peer {
	enum sip_proto proto;
	union sa addr;
	struct sip_conn *conn;
};

const char *sip_proto_name(enum sip_proto p);       /* "UDP" / "TCP" */
int sip_proto_parse(const char *s, enum sip_proto *p); /* case-insensitive */

/* host is a numeric IPv4 or IPv6 address, with or without [] */
int sa_set(union sa *a, const char *host, uint16_t port);
uint16_t sa_port(const union sa *a);
void sa_set_port(union sa *a, uint16_t port);
socklen_t sa_len(const union sa *a);
bool sa_equal(const union sa *a, const union sa *b);   /* address and port */
bool sa_same_host(const union sa *a, const union sa *b);  /* address only */
bool sa_is_any(const union sa *a);
/* Writes the address without brackets; returns buf. */
const char *sa_host(const union sa *a, char *buf, size_t size);
/* Writes "1.2.3.4:5060" or "[::1]:5060"; returns buf. */
const char *sa_hostport(const union sa *a, char *buf, size_t size);

/* Called once when a send that returned 0 is known to have failed or gone
 * out (stream transports; arg is a mem object, referenced until then). */
typedef void (sip_sent_h)(int err, void *arg);

void sip_peer_copy(struct sip_peer *dst, const struct sip_peer *src);
void sip_peer_clear(struct sip_peer *p);

#endif
