/* relay.h - the open-relay decision (never an open relay).
 *
 * A recipient is accepted for relaying when its real final domain is one of
 * the configured local domains, or when the client is trusted (in a trusted
 * network, or authenticated).  From untrusted clients, routing tricks are
 * refused even for local domains: '%', '!' or '@' inside the (decoded) local
 * part, address literals that are not listed as local, trailing dots.
 * Refusals are 550 5.7.1 (RFC 3463 §3.8: delivery not authorized).
 */
#ifndef JAGA_ENGINE_RELAY_H
#define JAGA_ENGINE_RELAY_H

#include "mail/addr.h"

struct relay_policy {
	const char *const *local_domains;	/* lowercase; NULL-terminated */
};

enum relay_verdict {
	RELAY_OK = 0,		/* local domain, or trusted client */
	RELAY_DENIED,		/* non-local domain from an untrusted client */
	RELAY_ROUTING,		/* a routing trick from an untrusted client */
};

/* Decide for one parsed recipient.  trusted is nonzero for authenticated
 * clients and clients in trusted networks. */
enum relay_verdict relay_check(const struct relay_policy *p,
    const struct addr *rcpt, int trusted);

/* Is domain (any case, no trailing dot) one of the local domains? */
int relay_is_local_domain(const struct relay_policy *p, const char *domain);

/* The reply text for a refusal, e.g. "Relay access denied". */
const char *relay_reason(enum relay_verdict v);

#endif
