/* Registration of an endpoint (reg.c, RFC 3261 §10): REGISTER with our
 * Contact, refreshed before it expires, 423 answered with a longer
 * interval, and the unregistration. */
#ifndef LUASIP_REG_H
#define LUASIP_REG_H

#include "sip/ua.h"

struct sip_reg;

struct sip_reg_params {
	const char *registrar;      /* Request-URI of the REGISTER */
	const char *aor;            /* To and From; default sip:user@registrar-host */
	const char *user, *password;
	uint32_t expires;           /* seconds asked for */
};

/* Each outcome: the first registration, every refresh, the unregistration.
 * err < 0 (no answer, transport) or status >= 300 is a failure. */
typedef void (sip_reg_h)(int err, const struct sip_msg *resp, void *arg);

int sip_reg_start(struct sip_reg **rp, struct sip_ua *ua, const struct sip_reg_params *p,
		  sip_reg_h *h, void *arg);
/* Sends Expires: 0 for our Contact; the outcome goes to the handler. */
int sip_reg_unregister(struct sip_reg *r);
uint32_t sip_reg_expires(const struct sip_reg *r);  /* granted, 0 if none */
/* Stops refreshing, says nothing more; drops the owner's reference. */
void sip_reg_close(struct sip_reg *r);
/* The endpoint closes: each registration stops, its owner hears -ECANCELED. */
void sip_reg_close_all(struct sip_ua *ua);

#endif
