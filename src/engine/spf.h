/* spf.h - Sender Policy Framework, check_host() of RFC 7208 §4.
 *
 * spf_check evaluates the SPF record of the MAIL FROM domain, or of the HELO
 * name when the sender is empty (§2.4, postmaster@helo), for one client IP.
 * It resolves through struct dns_lookup only (engine/dns.h), one synchronous
 * query at a time: the daemon calls it from a job-pool thread.
 * Every limit is here and fixed by the RFC: 10 DNS-querying terms and 2 void
 * lookups (§4.6.4), 10 MX and 10 PTR names per lookup, domain names of 253
 * octets (§4.3, §7.3), records of DNS_TXT_MAX octets.
 */
#ifndef JAGA_ENGINE_SPF_H
#define JAGA_ENGINE_SPF_H

#include <stddef.h>
#include <sys/socket.h>

#include "engine/dns.h"

#define SPF_TERMS_MAX	10	/* RFC 7208 §4.6.4: include a mx ptr exists
				 * redirect */
#define SPF_VOID_MAX	2	/* RFC 7208 §4.6.4: NXDOMAIN or no answer */
#define SPF_MXNAMES_MAX	10	/* RFC 7208 §4.6.4: names per mx */
#define SPF_PTRNAMES_MAX 10	/* RFC 7208 §4.6.4: names per ptr / %{p} */
#define SPF_EXPL_MAX	512	/* explanation text kept; ours */
#define SPF_MECH_MAX	128	/* matched mechanism text kept; ours */

enum spf_res {
	SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL,
	SPF_TEMPERROR, SPF_PERMERROR,
};

struct spf_result {
	enum spf_res result;
	int helo_identity;		/* 1: the HELO name was checked */
	char client_ip[46];		/* textual, IPv4-mapped shown as IPv4 */
	char sender[2 * DNS_NAME_MAX + 2];	/* the identity as checked */
	char helo[DNS_NAME_MAX + 1];
	char domain[DNS_NAME_MAX + 1];	/* the domain whose record decided */
	char mechanism[SPF_MECH_MAX];	/* the term that matched, "" if none */
	char expl[SPF_EXPL_MAX];	/* fail: exp= text (§6.2) or default */
	int expl_from_record;		/* 1: expl came from an exp= record */
	char problem[128];		/* permerror/temperror: why */
	int lookups;			/* DNS-querying terms used */
	int voids;			/* void lookups seen */
};

/* check_host() for client ip (IPv4 or IPv6 text; IPv4-mapped IPv6 is
 * treated as IPv4), sender (MAIL FROM, may be "" or NULL: then the HELO
 * identity, §2.3) and helo.  Fills *out completely; returns 0, or -1 when
 * ip is not an address (out->result is then SPF_PERMERROR). */
int spf_check(struct dns_lookup *dns, const char *ip, const char *sender,
    const char *helo, struct spf_result *out);
/* As spf_check with the client address as a socket address. */
int spf_check_sa(struct dns_lookup *dns, const struct sockaddr *sa,
    const char *sender, const char *helo, struct spf_result *out);

/* "pass", "fail", ... as RFC 7208 §2.6 names them. */
const char *spf_res_name(enum spf_res r);

/* Write the Received-SPF header field (RFC 7208 §9.1), name included, no
 * CRLF, into out (outlen octets, NUL-terminated, truncated to fit);
 * receiver is the authserv name.  Returns the length it needed. */
size_t spf_received(const struct spf_result *r, const char *receiver,
    char *out, size_t outlen);

#endif
