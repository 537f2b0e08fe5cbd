/* The direction rules of csrc/media/flow.c: which way a call's audio
 * flows for each state of its session and each direction offer and answer
 * agreed (RFC 3264 §6.1, hold §8.4), early media both ways (RFC 3960),
 * and no media at all (no SDP, a declined stream, an ended call). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/flow.h"
#include "sip/sess_priv.h"

#include <string.h>

/* A session in state st with an agreed PCMU stream of direction d (our
 * side's) to 192.0.2.1:4000. */
static struct sip_sess sess(enum sip_sess_state st, bool outgoing, enum sdp_dir d)
{
	struct sip_sess s;
	memset(&s, 0, sizeof(s));
	s.state = st;
	s.outgoing = outgoing;
	s.have_media = true;
	sa_set(&s.media.remote, "192.0.2.1", 4000);
	s.media.dir = d;
	s.media.pt = s.media.rtp_pt = 0;
	s.media.te_pt = 101;
	return s;
}

#define assert_flow(f, on_, send_, recv_) do { \
	struct media_flow f_ = (f); \
	assert_int_equal(f_.on, on_); \
	assert_int_equal(f_.send, send_); \
	assert_int_equal(f_.recv, recv_); \
} while (0)

/* RFC 3264 §6.1: our direction after the answer says who sends. */
static void test_confirmed_directions(void **state)
{
	for (int out = 0; out < 2; out++) {
		struct sip_sess s = sess(SIP_SESS_CONFIRMED, out, SDP_SENDRECV);
		assert_flow(media_flow(&s, false, false), true, true, true);
		s.media.dir = SDP_SENDONLY;
		assert_flow(media_flow(&s, false, false), true, true, false);
		s.media.dir = SDP_RECVONLY;
		assert_flow(media_flow(&s, false, false), true, false, true);
		/* inactive: the stream stays set up (its address and numbers)
		 * but neither sends nor receives */
		s.media.dir = SDP_INACTIVE;
		assert_flow(media_flow(&s, false, false), true, false, false);
	}
}

/* Held by the far end (§8.4): sdp.c turns its sendonly, inactive or
 * c=0.0.0.0 into our recvonly or inactive; and even a direction that says
 * send sends nothing to the unspecified address or to port 0. */
static void test_hold(void **state)
{
	struct sip_sess s = sess(SIP_SESS_CONFIRMED, false, SDP_RECVONLY);
	assert_flow(media_flow(&s, true, false), true, false, true);
	s.media.dir = SDP_SENDRECV;
	sa_set(&s.media.remote, "0.0.0.0", 4000);
	assert_flow(media_flow(&s, true, false), true, false, true);
	sa_set(&s.media.remote, "192.0.2.1", 0);
	assert_flow(media_flow(&s, true, false), true, false, true);
}

/* RFC 3960 §3.1: a caller hears early media from a 183 with SDP (an
 * early dialog with an answer) and sends nothing until the call is
 * confirmed; before any provisional, nothing. */
static void test_early_media_caller(void **state)
{
	struct sip_sess s = sess(SIP_SESS_EARLY, true, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, false), true, false, true);
	s.media.dir = SDP_SENDONLY;  /* the callee only listens: nothing to hear */
	assert_flow(media_flow(&s, false, false), true, false, false);
	s = sess(SIP_SESS_CALLING, true, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, false), false, false, false);
	/* a 180 without SDP: no answer, no media */
	s = sess(SIP_SESS_EARLY, true, SDP_SENDRECV);
	s.have_media = false;
	assert_flow(media_flow(&s, false, false), false, false, false);
}

/* RFC 3960 §3: a caller that sends digits to what answered with early
 * media (an IVR) sends from then on, where the direction allows it. */
static void test_early_media_caller_sends_digits(void **state)
{
	struct sip_sess s = sess(SIP_SESS_EARLY, true, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, true), true, true, true);
	s.media.dir = SDP_RECVONLY;  /* the callee does not listen */
	assert_flow(media_flow(&s, false, true), true, false, true);
	s = sess(SIP_SESS_CALLING, true, SDP_SENDRECV);  /* no early dialog: nothing */
	assert_flow(media_flow(&s, false, true), false, false, false);
}

/* A callee's media flows both ways once its SDP has gone, in a 183 or in
 * the 2xx, before the ACK; not before, and not while its offer (an
 * INVITE without SDP) waits for the answer in the ACK. */
static void test_early_media_callee(void **state)
{
	struct sip_sess s = sess(SIP_SESS_INCOMING, false, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, false), false, false, false);
	assert_flow(media_flow(&s, true, false), true, true, true);
	s.state = SIP_SESS_EARLY;  /* a 180 went: still nothing without our SDP */
	assert_flow(media_flow(&s, false, false), false, false, false);
	assert_flow(media_flow(&s, true, false), true, true, true);
	s.media.dir = SDP_RECVONLY;  /* the caller offered sendonly */
	assert_flow(media_flow(&s, true, false), true, false, true);
	/* once confirmed, what went before no longer matters */
	s = sess(SIP_SESS_CONFIRMED, false, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, false), true, true, true);
}

/* No media: no SDP agreed, a declined or codec-less stream, an ended call. */
static void test_no_media(void **state)
{
	struct sip_sess s = sess(SIP_SESS_CONFIRMED, false, SDP_SENDRECV);
	s.have_media = false;
	assert_flow(media_flow(&s, true, false), false, false, false);
	s = sess(SIP_SESS_CONFIRMED, true, SDP_SENDRECV);
	s.media.pt = s.media.rtp_pt = -1;  /* port 0 in the answer: declined */
	sa_set(&s.media.remote, "192.0.2.1", 0);
	assert_flow(media_flow(&s, true, false), false, false, false);
	s = sess(SIP_SESS_ENDED, false, SDP_SENDRECV);
	assert_flow(media_flow(&s, true, false), false, false, false);
	s = sess(SIP_SESS_ENDED, true, SDP_SENDRECV);
	assert_flow(media_flow(&s, false, false), false, false, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confirmed_directions),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_early_media_caller),
		cmocka_unit_test(test_early_media_caller_sends_digits),
		cmocka_unit_test(test_early_media_callee),
		cmocka_unit_test(test_no_media),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
