/* The insides of an endpoint: struct sip_ua, which the files of csrc/sip
 * (transactions, dialogs, sessions, registrations, subscriptions) read and
 * keep their lists in. Code outside csrc/sip uses ua.h; tests/c and fuzz
 * may read it too. */
#ifndef LUASIP_UA_PRIV_H
#define LUASIP_UA_PRIV_H

#include "sip/ua.h"
#include "util/htab.h"
#include "util/list.h"

struct sip_ua {
	struct sip_loop *loop;
	struct sip_stack stack;
	struct le transports;
	const struct sip_ua_handlers *h;
	void *arg;
	struct sip_tp_limits limits;  /* for transports opened from now on */
	char *user;                 /* user part for Contact */
	char *identity;             /* default From: a URI or "Name" <URI> */
	bool closed;
	bool closing;               /* sip_ua_close is ending the calls */
	struct le regs;             /* active registrations */
	struct htab dialogs;        /* struct sip_dialog, by Call-ID and tags */
	struct le sessions;         /* struct sip_sess that are not over */
	struct le subs;             /* struct sip_sub that are not over (sub.c) */
	struct htab ended_dialogs;  /* dialogs of calls that ended lately, by
	                               Call-ID and tags (sess_replace.c) */
	struct le ended_list;       /* the same, oldest first */
	unsigned nended;
	unsigned nsessions, max_sessions;  /* an INVITE beyond the limit gets 503 */
	uint16_t rtp_min, rtp_max;  /* the range RTP ports come from */
	/* The Allow values made from the handlers, outside and inside a
	 * call; "" until made, and again when the handlers change (every
	 * 2xx of a call carries one). */
	char allow[2][128];
};

#endif
