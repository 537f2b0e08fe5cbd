/* Client transactions (RFC 3261 §17.1, RFC 6026 §8.4) over a fake transport
 * in virtual time: T1 = 500 ms, T2 = 4 s, T4 = 5 s unless a test says
 * otherwise. Every send is recorded with the virtual time it left at. */
#include "fake.h"

#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *proto_name(enum sip_proto p)
{
	return p == SIP_TCP ? "TCP" : "UDP";
}

/* The request text a TU would hand to sip_ctrans_start (a mem string). */
static char *make_request(const char *method, const char *branch, unsigned cseq,
			  enum sip_proto proto, const char *extra, size_t *len)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf),
		"%s sip:bob@192.0.2.9:5070 SIP/2.0\r\n"
		"Via: SIP/2.0/%s 192.0.2.1:5060;branch=%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: Alice <sip:alice@192.0.2.1>;tag=ftag1\r\n"
		"To: Bob <sip:bob@192.0.2.9>\r\n"
		"Call-ID: ct-call-1@192.0.2.1\r\n"
		"CSeq: %u %s\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n",
		method, proto_name(proto), branch, cseq, method, extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	*len = (size_t)n;
	return mem_strdup(buf);
}

static void start(struct fake *f, const char *method, const char *branch, enum sip_proto proto,
		  const char *extra)
{
	struct sip_peer dst;
	size_t len;
	fake_peer(&dst, proto, FAKE_PEER_HOST, FAKE_PEER_PORT);
	char *req = make_request(method, branch, 1, proto, extra, &len);
	assert_non_null(req);
	assert_int_equal(sip_ctrans_start(&f->ct, &f->s, &dst, method, branch, req, len,
					  fake_resp_h, f), 0);
	assert_non_null(f->ct);
}

/* A response from the peer to the request start() sent. */
static void respond(struct fake *f, const char *branch, const char *method, int status,
		    const char *to_tag, enum sip_proto proto)
{
	char buf[2048];
	char tag[80] = "";
	if (to_tag)
		snprintf(tag, sizeof(tag), ";tag=%s", to_tag);
	int n = snprintf(buf, sizeof(buf),
		"SIP/2.0 %d %s\r\n"
		"Via: SIP/2.0/%s 192.0.2.1:5060;branch=%s\r\n"
		"From: Alice <sip:alice@192.0.2.1>;tag=ftag1\r\n"
		"To: Bob <sip:bob@192.0.2.9>%s\r\n"
		"Call-ID: ct-call-1@192.0.2.1\r\n"
		"CSeq: 1 %s\r\n"
		"Content-Length: 0\r\n\r\n",
		status, sip_reason_phrase(status), proto_name(proto), branch, tag, method);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	fake_recv(f, buf, proto);
}

static void assert_report(const struct fake *f, size_t i, uint64_t at, int err, int status)
{
	assert_true(i < f->nreports);
	assert_int_equal(f->reports[i].at, at);
	assert_int_equal(f->reports[i].err, err);
	assert_int_equal(f->reports[i].status, status);
}

/* Every send from index 1 on repeats the request byte for byte, to the same
 * destination. */
static void assert_all_retransmissions(const struct fake *f, size_t upto)
{
	for (size_t i = 1; i < upto; i++) {
		assert_int_equal(f->sent[i].len, f->sent[0].len);
		assert_memory_equal(f->sent[i].buf, f->sent[0].buf, f->sent[0].len);
		assert_true(sa_equal(&f->sent[i].dst.addr, &f->sent[0].dst.addr));
		assert_int_equal(f->sent[i].dst.proto, f->sent[0].dst.proto);
	}
}

/* ------------------------------------------------------------------------ */
/* non-INVITE (§17.1.2)                                                     */

static void test_nict_timer_e_doubles_up_to_t2(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-e", SIP_UDP, NULL);
	fake_run_until(f, 31999);
	/* E: T1, then min(2E, T2) */
	static const uint64_t want[] = {0, 500, 1500, 3500, 7500, 11500, 15500, 19500,
					23500, 27500, 31500};
	fake_assert_send_times(f, 0, want, N(want));
	assert_all_retransmissions(f, f->nsent);
	struct sip_peer peer;
	fake_peer(&peer, SIP_UDP, FAKE_PEER_HOST, FAKE_PEER_PORT);
	assert_true(sa_equal(&f->sent[0].dst.addr, &peer.addr));
	assert_int_equal(f->nreports, 0);
}

static void test_nict_timers_follow_stack_values(void **state)
{
	struct fake *f = *state;
	f->s.t.t1 = 100;
	f->s.t.t2 = 400;
	start(f, "OPTIONS", "z9hG4bKnict-t", SIP_UDP, NULL);
	fake_run_until(f, 6399);
	static const uint64_t want[] = {0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100,
					3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300};
	fake_assert_send_times(f, 0, want, N(want));
	assert_int_equal(f->nreports, 0);
	fake_run_until(f, 6400);  /* F = 64 * T1 */
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 6400, -ETIMEDOUT, 0);
}

static void test_nict_proceeding_retransmits_every_t2(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-p", SIP_UDP, NULL);
	fake_run_until(f, 600);
	respond(f, "z9hG4bKnict-p", "OPTIONS", 100, NULL, SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 600, 0, 100);
	fake_run_until(f, 20000);
	/* E was due at 1500 already; from then on it is reset to T2 */
	static const uint64_t want[] = {0, 500, 1500, 5500, 9500, 13500, 17500};
	fake_assert_send_times(f, 0, want, N(want));
	assert_all_retransmissions(f, f->nsent);
	assert_int_equal(f->nreports, 1);
}

static void test_nict_timer_f_reports_timeout_once(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-f", SIP_UDP, NULL);
	fake_run_until(f, 31999);
	assert_int_equal(f->nreports, 0);
	size_t sends = f->nsent;
	fake_run_until(f, 32000);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 32000, -ETIMEDOUT, 0);
	fake_run_until(f, 300000);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nsent, sends);  /* no retransmission after F */
	assert_int_equal(tmrq_next(&f->q), -1);
	/* the transaction is gone: a late answer is nobody's */
	respond(f, "z9hG4bKnict-f", "OPTIONS", 200, "late", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->stray_status, 200);
}

static void test_nict_timer_f_runs_in_proceeding(void **state)
{
	struct fake *f = *state;
	start(f, "REGISTER", "z9hG4bKnict-fp", SIP_UDP, NULL);
	fake_run_until(f, 100);
	respond(f, "z9hG4bKnict-fp", "REGISTER", 100, NULL, SIP_UDP);
	fake_run_until(f, 31999);
	assert_int_equal(f->nreports, 1);
	fake_run_until(f, 32000);
	assert_int_equal(f->nreports, 2);
	assert_report(f, 1, 32000, -ETIMEDOUT, 0);
	fake_run_until(f, 100000);
	assert_int_equal(f->nreports, 2);
}

static void test_nict_final_stops_retransmissions_and_reports_once(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-fin", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKnict-fin", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 700, 0, 200);
	assert_string_equal(f->reports[0].to_tag, "bob1");
	/* retransmissions of the final are absorbed, not reported again */
	fake_run_until(f, 800);
	respond(f, "z9hG4bKnict-fin", "OPTIONS", 200, "bob1", SIP_UDP);
	fake_run_until(f, 3000);
	respond(f, "z9hG4bKnict-fin", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nstrays, 0);
	fake_run_until(f, 100000);
	static const uint64_t want[] = {0, 500};
	fake_assert_send_times(f, 0, want, N(want));
	assert_int_equal(f->nreports, 1);  /* and no Timer F */
}

static void test_nict_final_cancels_timer_f(void **state)
{
	struct fake *f = *state;
	f->s.t.t1 = 50;  /* F = 3.2 s, shorter than K = T4 = 5 s */
	start(f, "OPTIONS", "z9hG4bKnict-fk", SIP_UDP, NULL);
	fake_run_until(f, 100);
	respond(f, "z9hG4bKnict-fk", "OPTIONS", 200, "bob1", SIP_UDP);
	fake_run_until(f, 5099);
	respond(f, "z9hG4bKnict-fk", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 0);  /* still Completed */
	fake_run_until(f, 20000);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 100, 0, 200);
}

static void test_nict_timer_k_udp(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-k", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKnict-k", "OPTIONS", 404, "bob1", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nsent, 2);  /* no ACK for a non-INVITE */
	/* Completed for T4: a retransmitted final is absorbed */
	fake_run_until(f, 5699);
	respond(f, "z9hG4bKnict-k", "OPTIONS", 404, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 0);
	assert_int_equal(f->nreports, 1);
	/* then Timer K: the transaction is gone and the response is a stray */
	fake_run_until(f, 5700);
	respond(f, "z9hG4bKnict-k", "OPTIONS", 404, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->stray_status, 404);
	assert_string_equal(f->stray_method, "OPTIONS");
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nsent, 2);
}

static void test_nict_tcp_timer_k_is_zero(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-tk", SIP_TCP, NULL);
	fake_run_until(f, 100);
	respond(f, "z9hG4bKnict-tk", "OPTIONS", 200, "bob1", SIP_TCP);
	assert_int_equal(f->nreports, 1);
	fake_run_until(f, 100);  /* K = 0: runs at the same instant */
	respond(f, "z9hG4bKnict-tk", "OPTIONS", 200, "bob1", SIP_TCP);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(tmrq_next(&f->q), -1);
}

static void test_nict_tcp_no_retransmissions(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-tcp", SIP_TCP, NULL);
	assert_int_equal(f->sent[0].dst.proto, SIP_TCP);
	fake_run_until(f, 31999);
	assert_int_equal(f->nsent, 1);
	fake_run_until(f, 32000);  /* F still guards a reliable transport */
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 32000, -ETIMEDOUT, 0);
	fake_run_until(f, 100000);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->nreports, 1);
}

static void test_nict_transport_error_on_retransmission(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-te", SIP_UDP, NULL);
	f->send_err = -ENETUNREACH;
	fake_run_until(f, 500);
	assert_int_equal(f->nsent, 2);  /* the retransmission was tried */
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 500, -ENETUNREACH, 0);
	f->send_err = 0;
	fake_run_until(f, 100000);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->nreports, 1);  /* no Timer F after the failure */
	respond(f, "z9hG4bKnict-te", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->nreports, 1);
}

static void test_nict_transport_error_at_start(void **state)
{
	struct fake *f = *state;
	struct sip_peer dst;
	struct sip_ctrans *ct = NULL;
	size_t len;
	fake_peer(&dst, SIP_UDP, FAKE_PEER_HOST, FAKE_PEER_PORT);
	char *req = make_request("OPTIONS", "z9hG4bKnict-ts", 1, SIP_UDP, NULL, &len);
	f->send_err = -EHOSTUNREACH;
	assert_int_equal(sip_ctrans_start(&ct, &f->s, &dst, "OPTIONS", "z9hG4bKnict-ts", req,
					  len, fake_resp_h, f), -EHOSTUNREACH);
	assert_null(ct);
	assert_int_equal(f->nreports, 0);
	assert_int_equal(tmrq_next(&f->q), -1);  /* nothing left running */
	f->send_err = 0;
	respond(f, "z9hG4bKnict-ts", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 1);
}

static void test_nict_tcp_send_failure_reported(void **state)
{
	struct fake *f = *state;
	f->hold_sent = true;
	start(f, "OPTIONS", "z9hG4bKnict-ta", SIP_TCP, NULL);
	assert_int_equal(f->npending, 1);
	fake_run_until(f, 50);
	fake_complete_sends(f, -ECONNRESET);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 50, -ECONNRESET, 0);
	fake_run_until(f, 100000);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nsent, 1);
}

static void test_nict_released_transaction_keeps_retransmitting(void **state)
{
	struct fake *f = *state;
	start(f, "OPTIONS", "z9hG4bKnict-rel", SIP_UDP, NULL);
	sip_ctrans_release(f->ct);
	f->ct = NULL;
	fake_run_until(f, 3600);
	static const uint64_t want[] = {0, 500, 1500, 3500};
	fake_assert_send_times(f, 0, want, N(want));
	/* the machine still absorbs its final response, silently */
	respond(f, "z9hG4bKnict-rel", "OPTIONS", 200, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 0);
	fake_run_until(f, 100000);
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->nreports, 0);
}

/* ------------------------------------------------------------------------ */
/* INVITE (§17.1.1, RFC 6026 §7.2, §8.4)                                    */

static void test_ict_timer_a_doubles_without_cap(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-a", SIP_UDP, NULL);
	fake_run_until(f, 31999);
	static const uint64_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	fake_assert_send_times(f, 0, want, N(want));
	assert_all_retransmissions(f, f->nsent);
	assert_int_equal(f->nreports, 0);
}

static void test_ict_timer_b(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-b", SIP_UDP, NULL);
	fake_run_until(f, 31999);
	assert_int_equal(f->nreports, 0);
	fake_run_until(f, 32000);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 32000, -ETIMEDOUT, 0);
	fake_run_until(f, 300000);
	assert_int_equal(f->nreports, 1);
	assert_int_equal(f->nsent, 7);
	respond(f, "z9hG4bKict-b", "INVITE", 180, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->nreports, 1);
}

static void test_ict_provisional_stops_retransmissions(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-1xx", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKict-1xx", "INVITE", 180, "bob1", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 700, 0, 180);
	fake_run_until(f, 5000);
	respond(f, "z9hG4bKict-1xx", "INVITE", 183, "bob1", SIP_UDP);
	assert_int_equal(f->nreports, 2);
	assert_report(f, 1, 5000, 0, 183);
	/* Proceeding: no more retransmissions, and Timer B is not running */
	fake_run_until(f, 200000);
	static const uint64_t want[] = {0, 500};
	fake_assert_send_times(f, 0, want, N(want));
	assert_int_equal(f->nreports, 2);
}

/* A proceeding INVITE whose TU let go can no longer be cancelled by anyone:
 * it ends 64*T1 after the release instead of living for ever. */
static void test_ict_released_in_proceeding_ends(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-rel", SIP_UDP, NULL);
	respond(f, "z9hG4bKict-rel", "INVITE", 180, "bob1", SIP_UDP);
	fake_run_until(f, 1000);
	sip_ctrans_release(f->ct);
	f->ct = NULL;
	fake_run_until(f, 32999);
	respond(f, "z9hG4bKict-rel", "INVITE", 180, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 0);  /* still there, absorbing */
	fake_run_until(f, 33000);
	respond(f, "z9hG4bKict-rel", "INVITE", 180, "bob1", SIP_UDP);
	assert_int_equal(f->nstrays, 1);  /* gone */
	assert_int_equal(f->nreports, 1); /* nothing after the release */
}

static void test_ict_non2xx_final_sends_ack(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-ack", SIP_UDP,
	      "Route: <sip:proxy1.example.com;lr>\r\nRoute: <sip:proxy2.example.com;lr>\r\n");
	fake_run_until(f, 700);
	respond(f, "z9hG4bKict-ack", "INVITE", 486, "busytag", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 700, 0, 486);
	assert_int_equal(f->nsent, 3);  /* INVITE at 0 and 500, the ACK */
	assert_int_equal(f->sent[2].at, 700);

	const struct sip_msg *inv = fake_sent_msg(f, 0);
	const struct sip_msg *ack = fake_sent_msg(f, 2);
	const char *line = "ACK sip:bob@192.0.2.9:5070 SIP/2.0\r\n";
	assert_memory_equal(f->sent[2].buf, line, strlen(line));
	assert_true(ack->request);
	assert_string_equal(ack->method, "ACK");
	assert_string_equal(ack->ruri, inv->ruri);
	assert_int_equal(ack->error_status, 0);
	/* same top Via, so the same branch (§17.1.1.3) */
	assert_string_equal(ack->via.branch, "z9hG4bKict-ack");
	assert_string_equal(ack->via.host, inv->via.host);
	assert_int_equal(ack->via.port, inv->via.port);
	assert_int_equal(ack->cseq, inv->cseq);
	assert_string_equal(ack->cseq_method, "ACK");
	assert_string_equal(ack->call_id, inv->call_id);
	assert_string_equal(ack->from_tag, "ftag1");
	assert_non_null(ack->to_tag);
	assert_string_equal(ack->to_tag, "busytag");  /* the To of the response */
	assert_int_equal(sip_msg_hdr_count(ack, "Route"), 2);
	assert_string_equal(fake_sent_hdr(f, 2, "Route"), "<sip:proxy1.example.com;lr>");
	assert_int_equal(ack->body_len, 0);
	assert_true(sa_equal(&f->sent[2].dst.addr, &f->sent[0].dst.addr));
}

static void test_ict_retransmitted_final_gets_ack_again(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-ack2", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKict-ack2", "INVITE", 603, "dtag", SIP_UDP);
	assert_int_equal(f->nsent, 3);
	fake_run_until(f, 1000);
	respond(f, "z9hG4bKict-ack2", "INVITE", 603, "dtag", SIP_UDP);
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->sent[3].at, 1000);
	assert_int_equal(f->sent[3].len, f->sent[2].len);
	assert_memory_equal(f->sent[3].buf, f->sent[2].buf, f->sent[2].len);
	assert_int_equal(f->nreports, 1);  /* the TU hears of it once */
	assert_int_equal(f->nstrays, 0);
	fake_run_until(f, 20000);
	assert_int_equal(f->nsent, 4);  /* the INVITE is not retransmitted */
}

static void test_ict_timer_d_udp(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-d", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKict-d", "INVITE", 486, "busytag", SIP_UDP);
	assert_int_equal(f->nsent, 3);
	fake_run_until(f, 32699);  /* D = 32 s */
	respond(f, "z9hG4bKict-d", "INVITE", 486, "busytag", SIP_UDP);
	assert_int_equal(f->nsent, 4);
	assert_string_equal(fake_sent_msg(f, 3)->method, "ACK");
	fake_run_until(f, 32700);
	respond(f, "z9hG4bKict-d", "INVITE", 486, "busytag", SIP_UDP);
	assert_int_equal(f->nsent, 4);  /* gone: no ACK from the transaction */
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->stray_status, 486);
	assert_int_equal(f->nreports, 1);
}

static void test_ict_tcp_no_retransmissions_and_timer_d_zero(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-tcp", SIP_TCP, NULL);
	fake_run_until(f, 10000);
	assert_int_equal(f->nsent, 1);
	respond(f, "z9hG4bKict-tcp", "INVITE", 480, "t", SIP_TCP);
	assert_int_equal(f->nsent, 2);
	assert_string_equal(fake_sent_msg(f, 1)->method, "ACK");
	assert_int_equal(f->sent[1].dst.proto, SIP_TCP);
	fake_run_until(f, 10000);  /* D = 0 */
	respond(f, "z9hG4bKict-tcp", "INVITE", 480, "t", SIP_TCP);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->nreports, 1);
}

static void test_ict_tcp_timer_b(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-tcpb", SIP_TCP, NULL);
	fake_run_until(f, 31999);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->nreports, 0);
	fake_run_until(f, 32000);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 32000, -ETIMEDOUT, 0);
}

static void test_ict_2xx_accepted_and_timer_m(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-2xx", SIP_UDP, NULL);
	fake_run_until(f, 700);
	respond(f, "z9hG4bKict-2xx", "INVITE", 200, "fork1", SIP_UDP);
	assert_int_equal(f->nreports, 1);
	assert_report(f, 0, 700, 0, 200);
	assert_int_equal(f->nsent, 2);  /* no ACK: the TU sends it for a 2xx */
	/* Accepted: retransmissions and other forks go to the TU */
	fake_run_until(f, 1000);
	respond(f, "z9hG4bKict-2xx", "INVITE", 200, "fork1", SIP_UDP);
	respond(f, "z9hG4bKict-2xx", "INVITE", 200, "fork2", SIP_UDP);
	assert_int_equal(f->nreports, 3);
	assert_report(f, 1, 1000, 0, 200);
	assert_string_equal(f->reports[1].to_tag, "fork1");
	assert_string_equal(f->reports[2].to_tag, "fork2");
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->nstrays, 0);
	/* Timer M = 64 * T1 after the first 2xx; no INVITE retransmission and
	 * no Timer B meanwhile */
	fake_run_until(f, 32699);
	respond(f, "z9hG4bKict-2xx", "INVITE", 200, "fork1", SIP_UDP);
	assert_int_equal(f->nreports, 4);
	assert_int_equal(f->nsent, 2);
	fake_run_until(f, 32700);
	respond(f, "z9hG4bKict-2xx", "INVITE", 200, "fork1", SIP_UDP);
	assert_int_equal(f->nreports, 4);
	assert_int_equal(f->nstrays, 1);
	assert_int_equal(f->stray_status, 200);
	for (size_t i = 0; i < f->nreports; i++)
		assert_int_equal(f->reports[i].err, 0);
}

static void test_ict_response_to_other_branch_is_stray(void **state)
{
	struct fake *f = *state;
	start(f, "INVITE", "z9hG4bKict-x", SIP_UDP, NULL);
	respond(f, "z9hG4bKict-other", "INVITE", 180, "t", SIP_UDP);
	/* same branch, other method (§17.1.3: the CSeq method must match too) */
	respond(f, "z9hG4bKict-x", "CANCEL", 200, "t", SIP_UDP);
	assert_int_equal(f->nstrays, 2);
	assert_int_equal(f->nreports, 0);
	fake_run_until(f, 500);
	assert_int_equal(f->nsent, 2);  /* still Calling */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fake_setup, fake_teardown)
		T(test_nict_timer_e_doubles_up_to_t2),
		T(test_nict_timers_follow_stack_values),
		T(test_nict_proceeding_retransmits_every_t2),
		T(test_nict_timer_f_reports_timeout_once),
		T(test_nict_timer_f_runs_in_proceeding),
		T(test_nict_final_stops_retransmissions_and_reports_once),
		T(test_nict_final_cancels_timer_f),
		T(test_nict_timer_k_udp),
		T(test_nict_tcp_timer_k_is_zero),
		T(test_nict_tcp_no_retransmissions),
		T(test_nict_transport_error_on_retransmission),
		T(test_nict_transport_error_at_start),
		T(test_nict_tcp_send_failure_reported),
		T(test_nict_released_transaction_keeps_retransmitting),
		T(test_ict_timer_a_doubles_without_cap),
		T(test_ict_timer_b),
		T(test_ict_provisional_stops_retransmissions),
		T(test_ict_released_in_proceeding_ends),
		T(test_ict_non2xx_final_sends_ack),
		T(test_ict_retransmitted_final_gets_ack_again),
		T(test_ict_timer_d_udp),
		T(test_ict_tcp_no_retransmissions_and_timer_d_zero),
		T(test_ict_tcp_timer_b),
		T(test_ict_2xx_accepted_and_timer_m),
		T(test_ict_response_to_other_branch_is_stray),
#undef T
	};
	return cmocka_run_group_tests_name("ctrans", tests, fake_group_setup, NULL);
}
