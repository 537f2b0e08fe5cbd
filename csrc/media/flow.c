/* The direction rules of flow.h. */
#include "media/flow.h"
#include "sip/sess.h"

struct media_flow media_flow(const struct sip_sess *s, bool sdp_sent, bool early_send)
{
	struct media_flow f = { false, false, false };
	enum sip_sess_state state = sip_sess_state_of(s);
	bool outgoing = sip_sess_outgoing(s);
	const struct sdp_result *m = sip_sess_media(s);
	if (state == SIP_SESS_ENDED || !m || m->pt < 0)
		return f;
	bool confirmed = state == SIP_SESS_CONFIRMED;
	bool early = outgoing ? state == SIP_SESS_EARLY : sdp_sent;
	if (!confirmed && !early)
		return f;
	enum sdp_dir d = m->dir;
	f.on = true;
	f.send = (d == SDP_SENDRECV || d == SDP_SENDONLY) && sa_port(&m->remote) != 0 &&
		 !sa_is_any(&m->remote);
	f.recv = d == SDP_SENDRECV || d == SDP_RECVONLY;
	/* a caller hears early media; it sends once the call is up, or from
	 * when it sends digits to what answered early (an IVR) */
	if (!confirmed && outgoing && !early_send)
		f.send = false;
	return f;
}
