/* smtpd_msgauth.c - SPF, DKIM and DMARC on inbound mail (issue 5 §5).
 * Not built yet: every message goes on unchanged. */
#include "gateway/session_int.h"

void
smtpd_msgauth(struct session *s, smtpd_guard_fn *next)
{
	next(s, 0, NULL, NULL);
}

void
smtpd_msgauth_forget(struct session *s)
{
	(void)s;
}
