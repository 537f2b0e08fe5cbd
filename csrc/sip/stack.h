/* The transaction layer of one endpoint (RFC 3261 §17) and its receive path.
 *
 * A stack knows nothing of sockets or of Lua: messages come in through
 * sip_stack_recv, go out through ops->send, and time comes from a tmrq. The
 * endpoint (ua.c) plugs real transports into it; the unit tests plug in a
 * fake transport and virtual time. */
#ifndef LUASIP_STACK_H
#define LUASIP_STACK_H

#include "sip/msg.h"
#include "util/htab.h"
#include "util/list.h"
#include "util/tmr.h"

struct sip_stack;
struct sip_ctrans;
struct sip_strans;

struct sip_stack_ops {
	/* Sends buf to dst. 0 or a negative errno. */
	int (*send)(void *arg, const struct sip_peer *dst, const char *buf, size_t len,
		    sip_sent_h *sent_h, void *sent_arg);
	/* A new request, its server transaction made. The TU answers through
	 * sip_strans_reply, now or later (mem_ref the transaction to keep it). */
	void (*request)(void *arg, struct sip_strans *st, const struct sip_msg *req);
	/* A CANCEL matched the pending INVITE transaction st; the CANCEL
	 * itself has been answered 200. */
	void (*cancel)(void *arg, struct sip_strans *st);
	/* A response or ACK that matched no transaction (a 2xx retransmission,
	 * the ACK for a 2xx): for the dialog layer. May be NULL. */
	void (*stray)(void *arg, const struct sip_msg *msg);
};

struct sip_timers {
	uint32_t t1, t2, t4;        /* ms; RFC 3261 defaults 500, 4000, 5000 */
};

struct sip_stack {
	struct tmrq *tq;
	struct sip_timers t;
	const struct sip_stack_ops *ops;
	void *arg;
	struct htab ctrans;         /* by branch and method */
	struct htab strans;         /* by branch, sent-by and method */
	char server_tag[9];         /* To tag for stateless answers */
	bool closing;               /* no new client transactions */
};

int sip_stack_init(struct sip_stack *s, struct tmrq *tq, const struct sip_stack_ops *ops,
		   void *arg);
/* Terminates every transaction without sending anything more. */
void sip_stack_close(struct sip_stack *s);
/* The entry point of the receive path: one decoded message, src set. */
void sip_stack_recv(struct sip_stack *s, struct sip_msg *m);
/* Answers a request without a transaction (an invalid one, say). */
int sip_stack_reply_stateless(struct sip_stack *s, const struct sip_msg *req, int status,
			      const char *reason, const char *extra);
/* Where responses to req go (RFC 3261 §18.2.2, RFC 3581). */
void sip_response_dest(const struct sip_msg *req, struct sip_peer *dst);

/* ---- client transactions (ctrans.c) ---- */

/* A provisional or final response, or err (-ETIMEDOUT for Timer B/F, other
 * negative errno for a transport failure) with resp NULL. */
typedef void (sip_resp_h)(int err, const struct sip_msg *resp, void *arg);

/* Sends the request text req (a mem string, taken over) to dst and runs the
 * client machine for it; *ctp gets the TU's reference. */
int sip_ctrans_start(struct sip_ctrans **ctp, struct sip_stack *s, const struct sip_peer *dst,
		     const char *method, const char *branch, char *req, size_t len,
		     sip_resp_h *resph, void *arg);
/* The TU lets go: no more callbacks; retransmissions and absorption go on
 * until the machine ends. Drops the TU's reference. */
void sip_ctrans_release(struct sip_ctrans *ct);
const struct sip_peer *sip_ctrans_dest(const struct sip_ctrans *ct);
/* Sends a CANCEL for a proceeding INVITE (RFC 3261 §9.1): -EALREADY when
 * no provisional response came yet or the final one did. The INVITE's
 * final answer (487, or a 2xx that crossed the CANCEL) still comes. */
int sip_ctrans_cancel(struct sip_ctrans *ct);

/* ---- server transactions (strans.c) ---- */

int sip_strans_create(struct sip_strans **stp, struct sip_stack *s, const struct sip_msg *req);
/* Sends a response; a final one ends the TU's part. */
int sip_strans_reply(struct sip_strans *st, int status, const char *reason,
		     const char *extra, const char *body, size_t body_len);
/* The request; NULL once a non-INVITE transaction has sent its final
 * response, or the TU is done with an INVITE it accepted: it keeps only
 * what absorbing retransmissions needs. */
const struct sip_msg *sip_strans_request(const struct sip_strans *st);
bool sip_strans_answered(const struct sip_strans *st);  /* final response sent */
const char *sip_strans_to_tag(const struct sip_strans *st);
void sip_strans_set_to_tag(struct sip_strans *st, const char *tag);
/* The TU is done with an INVITE it accepted (its 2xx was acknowledged, or
 * never will be): the transaction stays for Timer L only to absorb
 * retransmitted INVITEs, which needs neither the request nor the response,
 * so both go now instead of in 32 s. The ACK of a 2xx carries a branch of
 * its own and so never reaches the transaction to tell it. */
void sip_strans_accepted_done(struct sip_strans *st);
/* Sends the last response again (the TU's 2xx retransmissions, §13.3.1.4). */
int sip_strans_retransmit(struct sip_strans *st);
/* Who hears that a CANCEL matched this pending INVITE (the session). */
void sip_strans_on_cancel(struct sip_strans *st, void (*h)(void *arg), void *arg);
/* Tells the handler set by sip_strans_on_cancel, once. */
void sip_strans_cancelled(struct sip_strans *st);
/* Finds the transaction a request belongs to (retransmission, ACK, CANCEL). */
struct sip_strans *sip_strans_find(struct sip_stack *s, const struct sip_msg *req,
				   const char *method);
void sip_strans_recv(struct sip_strans *st, const struct sip_msg *req);
struct sip_ctrans *sip_ctrans_find(struct sip_stack *s, const struct sip_msg *resp);
void sip_ctrans_recv(struct sip_ctrans *ct, const struct sip_msg *resp);
void sip_ctrans_close_all(struct sip_stack *s);
void sip_strans_close_all(struct sip_stack *s);

#endif
