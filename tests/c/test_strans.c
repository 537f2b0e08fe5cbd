/* Server transactions (RFC 3261 §17.2, §9.2, RFC 6026 §7.1, §8.5-8.7) over a
 * fake transport in virtual time: T1 = 500 ms, T2 = 4 s, T4 = 5 s. Requests
 * come from 192.0.2.9:5070; the fake TU records every call. */
#include "fake.h"

#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct req {
	const char *method;
	const char *branch;         /* NULL: an RFC 2543 request, no branch */
	unsigned cseq;
	const char *cseq_method;    /* NULL: method */
	const char *to_tag;
	const char *sent_by;        /* NULL: 192.0.2.9:5070 */
	const char *via_params;     /* more Via parameters (";rport") */
	enum sip_proto proto;
};

static void send_req(struct fake *f, const struct req *r)
{
	char buf[2048], branch[128] = "", tag[80] = "";
	if (r->branch)
		snprintf(branch, sizeof(branch), ";branch=%s", r->branch);
	if (r->to_tag)
		snprintf(tag, sizeof(tag), ";tag=%s", r->to_tag);
	int n = snprintf(buf, sizeof(buf),
		"%s sip:carol@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/%s %s%s%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: Bob <sip:bob@192.0.2.9>;tag=btag\r\n"
		"To: Carol <sip:carol@192.0.2.1>%s\r\n"
		"Call-ID: st-call-1@192.0.2.9\r\n"
		"CSeq: %u %s\r\n"
		"Content-Length: 0\r\n\r\n",
		r->method, r->proto == SIP_TCP ? "TCP" : "UDP",
		r->sent_by ? r->sent_by : "192.0.2.9:5070", branch,
		r->via_params ? r->via_params : "", tag, r->cseq ? r->cseq : 1,
		r->cseq_method ? r->cseq_method : r->method);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	fake_recv(f, buf, r->proto);
}

static void invite(struct fake *f, const char *branch, enum sip_proto proto)
{
	send_req(f, &(struct req){ .method = "INVITE", .branch = branch, .proto = proto });
}

static void ack(struct fake *f, const char *branch, const char *to_tag, enum sip_proto proto)
{
	send_req(f, &(struct req){ .method = "ACK", .branch = branch, .to_tag = to_tag,
				   .proto = proto });
}

static void options(struct fake *f, const char *branch, enum sip_proto proto)
{
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = branch, .proto = proto });
}

static void reply(struct fake *f, int status)
{
	assert_non_null(f->st);
	assert_int_equal(sip_strans_reply(f->st, status, NULL, NULL, NULL, 0), 0);
}

static void assert_same_bytes(const struct fake *f, size_t a, size_t b)
{
	assert_int_equal(f->sent[a].len, f->sent[b].len);
	assert_memory_equal(f->sent[a].buf, f->sent[b].buf, f->sent[b].len);
}

static void assert_sent_to(const struct fake *f, size_t i, enum sip_proto proto, uint16_t port)
{
	struct sip_peer want;
	fake_peer(&want, proto, FAKE_PEER_HOST, port);
	assert_int_equal(f->sent[i].dst.proto, proto);
	assert_true(sa_equal(&f->sent[i].dst.addr, &want.addr));
}

/* ------------------------------------------------------------------------ */
/* non-INVITE (§17.2.2)                                                     */

static void test_nist_trying_absorbs_retransmission(void **state)
{
	struct fake *f = *state;
	options(f, "z9hG4bKnist-t", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_string_equal(f->req_method, "OPTIONS");
	assert_int_equal(f->nsent, 0);  /* no 100 for a non-INVITE */
	struct sip_strans *first = f->st;
	options(f, "z9hG4bKnist-t", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_ptr_equal(f->st, first);
	assert_int_equal(f->nsent, 0);
	assert_false(sip_strans_answered(f->st));
}

static void test_nist_retransmission_gets_last_response(void **state)
{
	struct fake *f = *state;
	options(f, "z9hG4bKnist-p", SIP_UDP);
	reply(f, 100);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(fake_sent_status(f, 0), 100);
	/* Proceeding: the provisional again */
	options(f, "z9hG4bKnist-p", SIP_UDP);
	assert_int_equal(f->nsent, 2);
	assert_same_bytes(f, 1, 0);
	reply(f, 200);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(fake_sent_status(f, 2), 200);
	assert_true(sip_strans_answered(f->st));
	/* Completed lasts 32 s and needs only the response */
	assert_null(sip_strans_request(f->st));
	/* Completed: the final again, never the provisional */
	options(f, "z9hG4bKnist-p", SIP_UDP);
	assert_int_equal(f->nsent, 4);
	assert_same_bytes(f, 3, 2);
	assert_int_equal(f->nrequests, 1);
	assert_sent_to(f, 3, SIP_UDP, FAKE_PEER_PORT);
}

static void test_nist_final_not_retransmitted_by_timer(void **state)
{
	struct fake *f = *state;
	options(f, "z9hG4bKnist-c", SIP_UDP);
	reply(f, 200);
	fake_run_until(f, 31000);
	assert_int_equal(f->nsent, 1);  /* only retransmitted requests trigger it */
	assert_int_equal(sip_strans_reply(f->st, 500, NULL, NULL, NULL, 0), -EALREADY);
	assert_int_equal(f->nsent, 1);
}

static void test_nist_timer_j_udp(void **state)
{
	struct fake *f = *state;
	options(f, "z9hG4bKnist-j", SIP_UDP);
	fake_run_until(f, 100);
	reply(f, 404);
	fake_run_until(f, 32099);  /* J = 64 * T1 */
	options(f, "z9hG4bKnist-j", SIP_UDP);
	assert_int_equal(f->nsent, 2);
	assert_same_bytes(f, 1, 0);
	assert_int_equal(f->nrequests, 1);
	fake_run_until(f, 32100);
	/* gone: the same request is new to the stack */
	options(f, "z9hG4bKnist-j", SIP_UDP);
	assert_int_equal(f->nrequests, 2);
	assert_int_equal(f->nsent, 2);
	assert_false(sip_strans_answered(f->st));
}

static void test_nist_timer_j_tcp_is_zero(void **state)
{
	struct fake *f = *state;
	options(f, "z9hG4bKnist-jt", SIP_TCP);
	fake_run_until(f, 100);
	reply(f, 200);
	assert_sent_to(f, 0, SIP_TCP, FAKE_PEER_PORT);
	fake_run_until(f, 100);
	options(f, "z9hG4bKnist-jt", SIP_TCP);
	assert_int_equal(f->nrequests, 2);
	assert_int_equal(f->nsent, 1);
}

static void test_response_destination(void **state)
{
	struct fake *f = *state;
	/* §18.2.2: the source address, at the sent-by port */
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKdst1",
				   .sent_by = "192.0.2.9:5080" });
	reply(f, 200);
	assert_sent_to(f, 0, SIP_UDP, 5080);
	/* no port in sent-by: 5060 */
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKdst2",
				   .sent_by = "192.0.2.9" });
	reply(f, 200);
	assert_sent_to(f, 1, SIP_UDP, 5060);
	/* RFC 3581 rport: the source port */
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKdst3",
				   .sent_by = "192.0.2.9:5080", .via_params = ";rport" });
	reply(f, 200);
	assert_sent_to(f, 2, SIP_UDP, FAKE_PEER_PORT);
	/* a stream: back where it came from */
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKdst4",
				   .sent_by = "192.0.2.9:5080", .proto = SIP_TCP });
	reply(f, 200);
	assert_sent_to(f, 3, SIP_TCP, FAKE_PEER_PORT);
}

/* ------------------------------------------------------------------------ */
/* INVITE (§17.2.1, RFC 6026)                                               */

static void test_ist_sends_100_at_once(void **state)
{
	struct fake *f = *state;
	fake_run_until(f, 250);
	invite(f, "z9hG4bKist-100", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_string_equal(f->req_method, "INVITE");
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].at, 250);
	const struct sip_msg *m = fake_sent_msg(f, 0);
	assert_int_equal(m->status, 100);
	assert_null(m->to_tag);  /* a 100 carries no To tag (§8.2.6.2) */
	assert_string_equal(m->via.branch, "z9hG4bKist-100");
	assert_int_equal(m->cseq, 1);
	assert_string_equal(m->cseq_method, "INVITE");
	assert_string_equal(m->call_id, "st-call-1@192.0.2.9");
	assert_string_equal(m->from_tag, "btag");
	assert_sent_to(f, 0, SIP_UDP, FAKE_PEER_PORT);
	assert_false(sip_strans_answered(f->st));
}

static void test_ist_retransmission_gets_last_provisional(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-r", SIP_UDP);
	invite(f, "z9hG4bKist-r", SIP_UDP);
	assert_int_equal(f->nsent, 2);
	assert_same_bytes(f, 1, 0);
	reply(f, 180);
	assert_int_equal(f->nsent, 3);
	const struct sip_msg *ringing = fake_sent_msg(f, 2);
	assert_int_equal(ringing->status, 180);
	assert_non_null(ringing->to_tag);
	assert_string_equal(ringing->to_tag, sip_strans_to_tag(f->st));
	invite(f, "z9hG4bKist-r", SIP_UDP);
	assert_int_equal(f->nsent, 4);
	assert_same_bytes(f, 3, 2);
	assert_int_equal(f->nrequests, 1);
	fake_run_until(f, 60000);  /* provisionals are not retransmitted by time */
	assert_int_equal(f->nsent, 4);
}

static void test_ist_timer_g(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-g", SIP_UDP);
	fake_run_until(f, 100);
	reply(f, 486);
	fake_run_until(f, 32099);
	/* G: T1, doubling, capped at T2; H ends it at 32100 */
	static const uint64_t want[] = {0, 100, 600, 1600, 3600, 7600, 11600, 15600, 19600,
					23600, 27600, 31600};
	fake_assert_send_times(f, 0, want, N(want));
	assert_int_equal(fake_sent_status(f, 1), 486);
	for (size_t i = 2; i < f->nsent; i++)
		assert_same_bytes(f, i, 1);
	assert_int_equal(f->nrequests, 1);
}

static void test_ist_retransmitted_invite_gets_final_in_completed(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-cr", SIP_UDP);
	reply(f, 404);
	fake_run_until(f, 200);
	invite(f, "z9hG4bKist-cr", SIP_UDP);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(f->sent[2].at, 200);
	assert_same_bytes(f, 2, 1);
	assert_int_equal(f->nrequests, 1);
}

static void test_ist_timer_h_without_ack(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-h", SIP_UDP);
	reply(f, 500);
	fake_run_until(f, 31999);
	size_t sends = f->nsent;
	fake_run_until(f, 32000);  /* H = 64 * T1 */
	fake_run_until(f, 200000);
	assert_int_equal(f->nsent, sends);  /* retransmissions stopped */
	assert_int_equal(tmrq_next(&f->q), -1);
	/* gone: a late ACK matches nothing, the INVITE is new again */
	ack(f, "z9hG4bKist-h", sip_strans_to_tag(f->st), SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_string_equal(f->stray_method, "ACK");
	invite(f, "z9hG4bKist-h", SIP_UDP);
	assert_int_equal(f->nrequests, 2);
	assert_int_equal(f->nsent, sends + 1);
	assert_int_equal(fake_sent_status(f, sends), 100);
}

static void test_ist_ack_confirms_and_timer_i(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-ack", SIP_UDP);
	reply(f, 486);
	char tag[64];
	snprintf(tag, sizeof(tag), "%s", sip_strans_to_tag(f->st));
	fake_run_until(f, 600);
	assert_int_equal(f->nsent, 3);  /* 100, 486, 486 at T1 */
	ack(f, "z9hG4bKist-ack", tag, SIP_UDP);
	assert_int_equal(f->nstrays, 0);  /* the transaction's own ACK */
	assert_int_equal(f->nrequests, 1);
	/* Confirmed: no more retransmissions, ACK copies absorbed for T4 */
	fake_run_until(f, 5599);
	assert_int_equal(f->nsent, 3);
	ack(f, "z9hG4bKist-ack", tag, SIP_UDP);
	invite(f, "z9hG4bKist-ack", SIP_UDP);
	assert_int_equal(f->nstrays, 0);
	assert_int_equal(f->nrequests, 1);
	fake_run_until(f, 5600);  /* Timer I */
	ack(f, "z9hG4bKist-ack", tag, SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	fake_run_until(f, 100000);
	assert_int_equal(f->nsent, 3);
}

static void test_ist_tcp_no_timer_g_and_timer_i_zero(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-tcp", SIP_TCP);
	reply(f, 486);
	fake_run_until(f, 31999);
	assert_int_equal(f->nsent, 2);  /* 100 and 486, nothing by Timer G */
	assert_sent_to(f, 1, SIP_TCP, FAKE_PEER_PORT);
	ack(f, "z9hG4bKist-tcp", sip_strans_to_tag(f->st), SIP_TCP);
	assert_int_equal(f->nstrays, 0);
	fake_run_until(f, 31999);  /* I = 0 */
	ack(f, "z9hG4bKist-tcp", sip_strans_to_tag(f->st), SIP_TCP);
	assert_int_equal(f->nstrays, 1);
}

static void test_ist_tcp_timer_h(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-tcph", SIP_TCP);
	reply(f, 486);
	fake_run_until(f, 31999);
	invite(f, "z9hG4bKist-tcph", SIP_TCP);  /* still Completed: final again */
	assert_int_equal(f->nsent, 3);
	assert_same_bytes(f, 2, 1);
	fake_run_until(f, 32000);
	invite(f, "z9hG4bKist-tcph", SIP_TCP);
	assert_int_equal(f->nrequests, 2);
}

static void test_ist_2xx_accepted_and_timer_l(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKist-2xx", SIP_UDP);
	fake_run_until(f, 100);
	reply(f, 200);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(fake_sent_status(f, 1), 200);
	assert_true(sip_strans_answered(f->st));
	/* Accepted: the transaction does not retransmit the 2xx (the TU does)
	 * and absorbs INVITE copies without passing them up */
	fake_run_until(f, 32099);
	assert_int_equal(f->nsent, 2);
	invite(f, "z9hG4bKist-2xx", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_int_equal(f->nsent, 2);
	/* the ACK for a 2xx is a transaction of its own (new branch): the TU's */
	ack(f, "z9hG4bKist-2xx-ack", sip_strans_to_tag(f->st), SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_string_equal(f->stray_method, "ACK");
	fake_run_until(f, 32100);  /* Timer L = 64 * T1 */
	invite(f, "z9hG4bKist-2xx", SIP_UDP);
	assert_int_equal(f->nrequests, 2);
	assert_int_equal(fake_sent_status(f, f->nsent - 1), 100);
}

/* RFC 6026 §7.1: "Any ACKs received from the network while in the Accepted
 * state MUST be passed directly to the TU and not absorbed." An RFC 2543
 * client's ACK for a 2xx has the INVITE's transaction identity (same Request-
 * URI, CSeq number, Call-ID, From tag and Via, §17.2.3), so it matches the
 * INVITE server transaction; it must still reach the dialog layer. */
static void test_ist_accepted_passes_ack_to_tu(void **state)
{
	struct fake *f = *state;
	invite(f, NULL, SIP_UDP);
	reply(f, 200);
	ack(f, NULL, sip_strans_to_tag(f->st), SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_string_equal(f->stray_method, "ACK");
	/* the TU (here the test) still holds the transaction: it keeps the
	 * request it may still read */
	assert_non_null(sip_strans_request(f->st));
}

/* RFC 6026 §8.7: in Accepted a 2xx the TU passes down goes out again (the
 * TU retransmits its 2xx until the ACK); anything else is refused. */
static void test_ist_accepted_sends_tu_2xx_again(void **state)
{
	struct fake *f = *state;
	invite(f, NULL, SIP_UDP);
	reply(f, 200);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(sip_strans_reply(f->st, 200, NULL, NULL, NULL, 0), 0);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(fake_sent_status(f, 2), 200);
	assert_string_equal(fake_sent_msg(f, 2)->to_tag, fake_sent_msg(f, 1)->to_tag);
	assert_int_equal(sip_strans_reply(f->st, 486, NULL, NULL, NULL, 0), -EALREADY);
	assert_int_equal(sip_strans_reply(f->st, 180, NULL, NULL, NULL, 0), -EALREADY);
	assert_int_equal(f->nsent, 3);
}

/* ------------------------------------------------------------------------ */
/* CANCEL (§9.2)                                                            */

static void test_cancel_pending_invite(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKcan-1", SIP_UDP);
	reply(f, 180);
	struct sip_strans *inv = f->st;
	const char *ringing_tag = fake_sent_msg(f, 1)->to_tag;
	assert_non_null(ringing_tag);
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-1" });
	assert_int_equal(f->nrequests, 1);  /* not a new request for the TU */
	assert_int_equal(f->ncancels, 1);
	assert_ptr_equal(f->cancelled, inv);
	assert_int_equal(f->nsent, 3);
	const struct sip_msg *ok = fake_sent_msg(f, 2);
	assert_int_equal(ok->status, 200);
	assert_string_equal(ok->cseq_method, "CANCEL");
	assert_string_equal(ok->via.branch, "z9hG4bKcan-1");
	assert_non_null(ok->to_tag);
	assert_string_equal(ok->to_tag, ringing_tag);
	assert_sent_to(f, 2, SIP_UDP, FAKE_PEER_PORT);
	/* the TU ends the INVITE with 487, under the same tag */
	assert_int_equal(sip_strans_reply(inv, 487, NULL, NULL, NULL, 0), 0);
	const struct sip_msg *term = fake_sent_msg(f, 3);
	assert_int_equal(term->status, 487);
	assert_string_equal(term->cseq_method, "INVITE");
	assert_string_equal(term->to_tag, ringing_tag);
	/* a retransmitted CANCEL gets its 200 again and cancels nothing more */
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-1" });
	assert_int_equal(f->nsent, 5);
	assert_same_bytes(f, 4, 2);
	assert_int_equal(f->ncancels, 1);
}

static void test_cancel_before_any_tagged_response(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKcan-2", SIP_UDP);  /* only the 100, which has no tag */
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-2" });
	assert_int_equal(f->ncancels, 1);
	const struct sip_msg *ok = fake_sent_msg(f, 1);
	assert_int_equal(ok->status, 200);
	assert_non_null(ok->to_tag);
	reply(f, 487);
	assert_string_equal(fake_sent_msg(f, 2)->to_tag, ok->to_tag);
}

static void test_cancel_without_invite_gets_481(void **state)
{
	struct fake *f = *state;
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-none" });
	assert_int_equal(f->nsent, 1);
	const struct sip_msg *m = fake_sent_msg(f, 0);
	assert_int_equal(m->status, 481);
	assert_string_equal(m->cseq_method, "CANCEL");
	assert_int_equal(f->ncancels, 0);
	assert_int_equal(f->nrequests, 0);
	/* a CANCEL for another branch does not cancel a pending INVITE */
	invite(f, "z9hG4bKcan-3", SIP_UDP);
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-4" });
	assert_int_equal(fake_sent_status(f, f->nsent - 1), 481);
	assert_int_equal(f->ncancels, 0);
}

/* §9.2: "Regardless of the method of the original request, as long as the
 * CANCEL matched an existing transaction, the UAS answers the CANCEL request
 * itself with a 200 (OK) response." Once the final is sent the CANCEL has no
 * other effect (481 is for a CANCEL that matches nothing). */
static void test_cancel_after_final_gets_200_without_effect(void **state)
{
	struct fake *f = *state;
	invite(f, "z9hG4bKcan-5", SIP_UDP);
	reply(f, 486);
	size_t before = f->nsent;
	send_req(f, &(struct req){ .method = "CANCEL", .branch = "z9hG4bKcan-5" });
	assert_int_equal(f->nsent, before + 1);
	assert_int_equal(fake_sent_msg(f, before)->status, 200);
	assert_int_equal(f->ncancels, 0);
}

/* ------------------------------------------------------------------------ */
/* transaction identity (§17.2.3)                                           */

static void test_2543_invite_retransmission_detected(void **state)
{
	struct fake *f = *state;
	invite(f, NULL, SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	invite(f, NULL, SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_int_equal(f->nsent, 2);
	assert_same_bytes(f, 1, 0);
	/* another CSeq is another transaction */
	send_req(f, &(struct req){ .method = "INVITE", .cseq = 2 });
	assert_int_equal(f->nrequests, 2);
}

static void test_2543_non_invite_retransmission_detected(void **state)
{
	struct fake *f = *state;
	/* an RFC 2543 branch has no magic cookie and identifies nothing alone */
	options(f, "1", SIP_UDP);
	options(f, "1", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	reply(f, 200);
	options(f, "1", SIP_UDP);
	assert_int_equal(f->nrequests, 1);
	assert_int_equal(f->nsent, 2);
	assert_same_bytes(f, 1, 0);
	/* the same branch on the next request does not make it a copy */
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "1", .cseq = 2 });
	assert_int_equal(f->nrequests, 2);
}

static void test_2543_ack_confirms_non2xx(void **state)
{
	struct fake *f = *state;
	invite(f, NULL, SIP_UDP);
	reply(f, 603);
	ack(f, NULL, sip_strans_to_tag(f->st), SIP_UDP);
	assert_int_equal(f->nstrays, 0);
	fake_run_until(f, 40000);
	assert_int_equal(f->nsent, 2);  /* Confirmed at once: no Timer G sends */
}

static void test_same_branch_other_sent_by_is_other_transaction(void **state)
{
	struct fake *f = *state;
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKsame",
				   .sent_by = "192.0.2.9:5070" });
	send_req(f, &(struct req){ .method = "OPTIONS", .branch = "z9hG4bKsame",
				   .sent_by = "192.0.2.77:5070" });
	assert_int_equal(f->nrequests, 2);
	/* and the same branch with another method too */
	send_req(f, &(struct req){ .method = "INFO", .branch = "z9hG4bKsame" });
	assert_int_equal(f->nrequests, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fake_setup, fake_teardown)
		T(test_nist_trying_absorbs_retransmission),
		T(test_nist_retransmission_gets_last_response),
		T(test_nist_final_not_retransmitted_by_timer),
		T(test_nist_timer_j_udp),
		T(test_nist_timer_j_tcp_is_zero),
		T(test_response_destination),
		T(test_ist_sends_100_at_once),
		T(test_ist_retransmission_gets_last_provisional),
		T(test_ist_timer_g),
		T(test_ist_retransmitted_invite_gets_final_in_completed),
		T(test_ist_timer_h_without_ack),
		T(test_ist_ack_confirms_and_timer_i),
		T(test_ist_tcp_no_timer_g_and_timer_i_zero),
		T(test_ist_tcp_timer_h),
		T(test_ist_2xx_accepted_and_timer_l),
		T(test_ist_accepted_passes_ack_to_tu),
		T(test_ist_accepted_sends_tu_2xx_again),
		T(test_cancel_pending_invite),
		T(test_cancel_before_any_tagged_response),
		T(test_cancel_without_invite_gets_481),
		T(test_cancel_after_final_gets_200_without_effect),
		T(test_2543_invite_retransmission_detected),
		T(test_2543_non_invite_retransmission_detected),
		T(test_2543_ack_confirms_non2xx),
		T(test_same_branch_other_sent_by_is_other_transaction),
#undef T
	};
	return cmocka_run_group_tests_name("strans", tests, fake_group_setup, NULL);
}
