/* A SIP message as received: the raw bytes, the start line parsed by us, the
 * headers parsed by libosip2 where we need their structure, and the fields
 * the transaction and dialog layers match on.
 *
 * libosip2 is lenient in places where RFC 3261 is not and strict in places
 * where RFC 4475 asks for leniency (a NUL inside a quoted display name, an
 * unknown URI scheme), so the start line, the framing, the header counts
 * and CSeq are checked here, and osip only parses single header values
 * (msg_struct.c). */
#ifndef LUASIP_MSG_H
#define LUASIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "sip/addr.h"
#include "sip/osip_arena.h"

/* The top Via, as the transaction layer and response routing need it. */
struct sip_via {
	enum sip_proto proto;       /* UDP unless the Via says TCP (others: UDP) */
	const char *transport;      /* as written: "UDP", "TCP", "SCTP" ... */
	const char *host;           /* sent-by host, brackets removed */
	uint16_t port;              /* 0 when absent */
	const char *branch;         /* NULL when absent */
	const char *received;       /* NULL when absent */
	bool rport;                 /* rport present */
	uint16_t rport_value;       /* 0 when present without a value */
	const char *maddr;
};

/* The header names the library looks up by name, each with one id, so that
 * a lookup in a message's index compares numbers: the long and the compact
 * form of a name (RFC 3261 §7.3.3) have the same id. Other names are
 * SIP_HDR_OTHER and compared as text. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ACCEPT_CONTACT,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_CALL_ID,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_IDENTITY,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_MIN_SE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_RACK,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_REJECT_CONTACT,
	SIP_HDR_REQUEST_DISPOSITION,
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_RSEQ,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_TO,
	SIP_HDR_VIA,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_COUNT
};

/* One header line as RFC 3261 §7.3.3 lets it be written. */
struct sip_hdr {
	const char *name;
	size_t name_len;            /* 0: not a header line (name is the line) */
	const char *value;          /* raw, may hold folded lines */
	size_t value_len;
	enum sip_hdr_id id;         /* set by sip_hdr_next */
};

struct sip_msg {
	char *buf;                  /* the framed message, NUL-terminated (mem) */
	size_t len;
	size_t hdr_len;             /* start line and headers, with the empty line */
	const char *body;           /* inside buf */
	size_t body_len;

	bool request;
	char *method;               /* request method; for a response the CSeq method */
	char *ruri;                 /* request URI as written */
	int status;
	char *reason;

	/* Structured headers, parsed with libosip2 when decoded: the top Via,
	 * From, To, and Content-Type when there is a body. */
	osip_via_t *top_via;
	osip_from_t *from;
	osip_to_t *to;
	osip_content_type_t *content_type;  /* NULL when absent */
	osip_uri_t *ruri_parsed;    /* NULL unless the scheme is sip or sips */
	/* The headers only some messages need (Contact, Record-Route, the
	 * challenges): parsed on first use, see sip_msg_osip. */
	osip_message_t *lazy;
	bool lazy_done;
	osip_contact_t *contact;    /* the first Contact value (sip_msg_contact) */
	bool contact_done;
	/* where osip's parse trees of this message live (osip_arena.h) */
	struct osip_arena arena;
	struct sip_via via;
	char *call_id;              /* trimmed value (mem) */
	uint32_t cseq;
	char *cseq_method;          /* (mem) */
	const char *from_tag, *to_tag;
	int max_forwards;           /* -1 when absent */

	/* The answer the receive path owes an invalid request (0: none or drop)
	 * and why, for the reason phrase and a Warning header. */
	int error_status;
	const char *error_reason;

	struct sip_peer src;        /* where it came from */

	/* Every header line with its id, found once when the message is
	 * decoded: a lookup compares ids instead of scanning the text again
	 * (a request is looked up some thirty times). */
	struct sip_hdr *hdrs;
	unsigned nhdrs;
};


/* Builds m->hdrs from the header text in one pass (sip_msg_decode does
 * it); -ENOMEM. */
int sip_msg_index(struct sip_msg *m);
/* Walks the raw header lines of a message: *pos starts at 0. */
bool sip_hdr_next(const struct sip_msg *m, size_t *pos, struct sip_hdr *h);
/* The id of a header name of len octets, long or compact form. */
enum sip_hdr_id sip_hdr_id(const char *name, size_t len);
/* True when h is the header called name (long or compact form). */
bool sip_hdr_is(const struct sip_hdr *h, const char *name);
/* The idx-th header line called name, or false. */
bool sip_msg_hdr(const struct sip_msg *m, const char *name, unsigned idx, struct sip_hdr *h);
unsigned sip_msg_hdr_count(const struct sip_msg *m, const char *name);
/* The same for a known header: no name to compare. */
bool sip_msg_hdr_id(const struct sip_msg *m, enum sip_hdr_id id, unsigned idx, struct sip_hdr *h);
unsigned sip_msg_hdr_id_count(const struct sip_msg *m, enum sip_hdr_id id);
/* Copies a value with folding replaced by one space and ends trimmed; returns
 * the length written (dst must hold value_len + 1 bytes). */
size_t sip_hdr_unfold(const struct sip_hdr *h, char *dst);

/* Datagram framing (RFC 3261 §18.3): the message ends at Content-Length,
 * extra octets are ignored; a shorter datagram is an error. For a stream the
 * framer (sip_frame) has already cut exactly one message. Returns the
 * message, or NULL when nothing can be made of the bytes (not even an error
 * answer). An invalid request comes back with error_status set. */
struct sip_msg *sip_msg_decode(const char *buf, size_t len, bool stream);
/* Contact, Record-Route, WWW-Authenticate and Proxy-Authenticate of m as
 * libosip2 lists them (comma-separated values split), parsed the first
 * time they are asked for: a request that creates no dialog and carries
 * no challenge never pays for them. NULL when they do not parse. */
const osip_message_t *sip_msg_osip(const struct sip_msg *m);
/* The first Contact value of m, parsed the first time it is asked for (a
 * dialog's remote target: without the rest of sip_msg_osip); NULL when
 * there is none or it does not parse. */
const osip_contact_t *sip_msg_contact(const struct sip_msg *m);

/* Sets libosip2 up (its header tables) and silences its log, which would
 * print a line on stdout for every malformed message a peer sends. Called by
 * sip_stack_init; idempotent. */
void sip_msg_init(void);

/* Stream framing: the length of the first complete message in buf (leading
 * CRLFs, which are keep-alives, included), 0 when more bytes are needed, or
 * -1 when the stream cannot be framed (no or bad Content-Length, too big). */
long sip_frame(const char *buf, size_t len, size_t max_size);

/* Composes the text of a response to req (RFC 3261 §8.2.6): Via, From,
 * Call-ID and CSeq copied as received, To with to_tag added when it has no
 * tag and the status is above 100. extra holds whole header lines (CRLF
 * ended) or is NULL. Returns a mem string, or NULL. */
char *sip_reply_text(const struct sip_msg *req, int status, const char *reason,
		     const char *to_tag, const char *extra, const char *body,
		     size_t body_len, size_t *len);

const char *sip_reason_phrase(int status);
bool sip_method_is(const struct sip_msg *m, const char *method);

#endif
