/* The decoder's structured parse of a message's headers (msg_struct.c). */
#ifndef LUASIP_MSG_STRUCT_H
#define LUASIP_MSG_STRUCT_H

#include "sip/msg.h"

/* The top Via, From, To, and Content-Type when there is a body, into
 * m->top_via, from, to, content_type. An absent header is no error here
 * (the decoder knows which are mandatory). 0, -EBADMSG when one does not
 * parse, -ENOMEM. Needs the header index (sip_msg_index). */
int sip_msg_parse_headers(struct sip_msg *m);

/* CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16), the number at most
 * 2**31 - 1, into m->cseq and m->cseq_method. 0 when absent too. */
int sip_msg_parse_cseq(struct sip_msg *m);

#endif
