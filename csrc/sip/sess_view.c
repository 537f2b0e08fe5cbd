/* What a session's owner and media_flow read of it: one plain function a
 * field, so that struct sip_sess stays among the sess_*.c files. */
#include "sip/sess_priv.h"

struct sip_ua *sip_sess_ua(const struct sip_sess *s)
{
	return s->ua;
}

void *sip_sess_arg(const struct sip_sess *s, const struct sip_sess_handlers *h)
{
	return s->h == h ? s->arg : NULL;
}

enum sip_sess_state sip_sess_state_of(const struct sip_sess *s)
{
	return s->state;
}

bool sip_sess_outgoing(const struct sip_sess *s)
{
	return s->outgoing;
}

struct sip_dialog *sip_sess_dialog(const struct sip_sess *s)
{
	return s->dlg;
}

const char *sip_sess_call_id(const struct sip_sess *s)
{
	return s->call_id;
}

const char *sip_sess_local_uri(const struct sip_sess *s)
{
	return s->local_uri;
}

const char *sip_sess_remote_uri(const struct sip_sess *s)
{
	return s->remote_uri;
}

const char *sip_sess_local_sdp(const struct sip_sess *s)
{
	return s->sdp.last;
}

const char *sip_sess_remote_sdp(const struct sip_sess *s)
{
	return s->remote_sdp;
}

const union sa *sip_sess_rtp_addr(const struct sip_sess *s)
{
	return &s->sdp.addr;
}

const struct sdp_result *sip_sess_media(const struct sip_sess *s)
{
	return s->have_media ? &s->media : NULL;
}

bool sip_sess_offer_in_2xx(const struct sip_sess *s)
{
	return s->offer_in_2xx;
}

const char *sip_sess_user(const struct sip_sess *s)
{
	return s->user;
}

const char *sip_sess_password(const struct sip_sess *s)
{
	return s->password;
}
