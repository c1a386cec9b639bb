/* inauth.h - inbound authentication in the daemon (issue 5 §5): what every
 * worker shares for SPF, DKIM and DMARC on inbound listeners (one
 * libunbound lookup, one Public Suffix List), and the local policy that
 * turns a DMARC result into what happens to the message.
 *
 * Parameters (gateway/params.c): inbound_auth, authserv_id, resolver,
 * dns_timeout, public_suffix_list, dmarc_enforce, dmarc_quarantine,
 * dmarc_temperror, dmarc_trusted_forwarders, dmarc_allow_domains.
 */
#ifndef JAGA_GATEWAY_INAUTH_H
#define JAGA_GATEWAY_INAUTH_H

#include <stddef.h>
#include <sys/socket.h>

#include "engine/dmarc.h"
#include "util/netaddr.h"

struct settings;
struct dns_lookup;

/* The local policy, apart from the resolver so it can be tested alone. */
struct inauth_policy {
	int enforce;			/* dmarc_enforce: 0 = monitor only */
	int hold;			/* dmarc_quarantine = hold */
	int temperror_accept;		/* dmarc_temperror = accept */
	const struct cidr *forwarders;	/* dmarc_trusted_forwarders */
	size_t nforwarders;
	const char *const *allow;	/* dmarc_allow_domains, lowercase */
	size_t nallow;
};

struct inauth {
	struct dns_lookup *dns;		/* shared, thread-safe */
	struct dmarc_psl *psl;		/* shared, read-only */
	char servid[256];		/* authserv_id, else myhostname */
	char quarantine_dir[4096];	/* state_dir/quarantine */
	struct inauth_policy pol;
	void *priv;			/* storage of pol's lists */
};

/* 1 when inbound_auth is on and some listener is inbound: only then does
 * the daemon build a struct inauth (no resolver for a submission-only
 * gateway). */
int inauth_wanted(const struct settings *st);
/* Build the resolver, the list and the policy from st.  NULL with the
 * reason in err (a resolver or list that cannot be loaded). */
struct inauth *inauth_new(const struct settings *st, char *err,
    size_t errlen);
/* Takes NULL. */
void inauth_free(struct inauth *ia);

enum inauth_action {
	INAUTH_ACCEPT,		/* send on, with our A-R */
	INAUTH_MARK,		/* quarantine = header: X-Jaga-Quarantine */
	INAUTH_HOLD,		/* quarantine = hold: store, 250, not sent */
	INAUTH_REJECT,		/* 550 5.7.1 */
	INAUTH_TEMPFAIL,	/* 451 4.4.3 */
};

/* What the policy makes of a DMARC result for a client: tempfail is
 * msgauth_dmarc_tempfail's answer.  *override is NULL, or the RFC 7489
 * §7.2 reason ("trusted_forwarder", "local_policy") when the policy made
 * the action milder than the disposition asks. */
enum inauth_action inauth_decide(const struct inauth_policy *p,
    const struct dmarc_result *d, int tempfail, const struct sockaddr *client,
    const char **override);
/* "accept", "quarantine-header", "hold", "reject", "tempfail". */
const char *inauth_action_name(enum inauth_action a);

#endif
