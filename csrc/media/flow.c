/* The direction rules of flow.h. */
#include "media/flow.h"
#include "sip/sess.h"

struct media_flow media_flow(const struct sip_sess *s, bool sdp_sent, bool early_send)
{
	struct media_flow f = { false, false, false };
	if (s->state == SIP_SESS_ENDED || !s->have_media || s->media.pt < 0)
		return f;
	bool confirmed = s->state == SIP_SESS_CONFIRMED;
	bool early = s->outgoing ? s->state == SIP_SESS_EARLY : sdp_sent;
	if (!confirmed && !early)
		return f;
	enum sdp_dir d = s->media.dir;
	f.on = true;
	f.send = (d == SDP_SENDRECV || d == SDP_SENDONLY) && sa_port(&s->media.remote) != 0 &&
		 !sa_is_any(&s->media.remote);
	f.recv = d == SDP_SENDRECV || d == SDP_RECVONLY;
	/* a caller hears early media; it sends once the call is up, or from
	 * when it sends digits to what answered early (an IVR) */
	if (!confirmed && s->outgoing && !early_send)
		f.send = false;
	return f;
}
