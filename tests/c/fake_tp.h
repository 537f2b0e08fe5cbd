/* A fake of the transport layer (csrc/sip/transport.c and tcp.c) for tests
 * that run a whole endpoint (struct sip_ua) without sockets: sip_tp_listen
 * makes a transport that only has its address, sip_tp_send records every
 * message with the virtual time it left, and nothing ever arrives by itself;
 * the test hands messages to the stack as a transport would. */
#ifndef LUASIP_TEST_FAKE_TP_H
#define LUASIP_TEST_FAKE_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"
#include "sip/transport.h"

#define FAKE_TP_MAX_SENT 1024

struct fake_tp_sent {
	uint64_t at;                /* virtual time of the send */
	enum sip_proto proto;       /* of the transport it left on */
	struct sip_peer dst;
	char *buf;                  /* malloc'd copy, NUL-terminated */
	size_t len;
	struct sip_msg *m;          /* decoded on demand (fake_tp_msg) */
};

struct fake_tp {
	struct fake_tp_sent sent[FAKE_TP_MAX_SENT];
	size_t nsent;
	int send_err;               /* every send fails with this while non-zero */
	unsigned open;              /* transports listening and not closed */
	unsigned sends_after_close; /* sends on a closed transport (a bug) */
};

extern struct fake_tp fake_tp;

/* Forgets every record (frees the copies); call between tests. */
void fake_tp_reset(void);
/* The i-th message sent, decoded (owned by the record); NULL when the
 * bytes do not decode. */
const struct sip_msg *fake_tp_msg(size_t i);

#endif
