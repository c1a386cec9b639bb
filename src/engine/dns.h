/* dns.h - DNS lookups for SPF, DKIM and DMARC (issue 5 §1).
 *
 * The protocol engines (spf.c, dkim*.c, dmarc.c) resolve through struct
 * dns_lookup only, one synchronous query at a time, so that
 *   - a test replaces it with a table built from a suite's zone data
 *     (dns_table_new), and
 *   - the daemon runs a whole check in a job-pool thread (util/jobq.h), where
 *     waiting on the resolver never holds up the event loop, with one shared
 *     caching resolver behind it (dns_unbound_new: libunbound, TTLs honoured,
 *     forwarding to the configured `resolver` or recursing itself).
 * Every answer is bounded: at most DNS_RR_MAX records, TXT strings joined
 * (RFC 7208 §3.3) up to DNS_TXT_MAX octets.  A timeout, SERVFAIL or network
 * failure is DNS_TEMPFAIL, which each protocol maps to its temporary error.
 */
#ifndef JAGA_ENGINE_DNS_H
#define JAGA_ENGINE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	253	/* RFC 1035 §2.3.4, presentation form */
#define DNS_RR_MAX	64	/* records kept per answer; more are dropped
				 * and counted in dns_result.truncated */
#define DNS_TXT_MAX	4096	/* one TXT record, its strings joined */

enum dns_type {
	DNS_T_A = 1, DNS_T_CNAME = 5, DNS_T_PTR = 12, DNS_T_MX = 15,
	DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SPF = 99,
};

enum dns_status {
	DNS_OK,			/* n >= 1 records of the type asked */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_TEMPFAIL,		/* timeout, SERVFAIL, network: try later */
	DNS_PERMFAIL,		/* a name that cannot be asked (bad syntax,
				 * too long), REFUSED, a malformed answer */
};

struct dns_rr {
	enum dns_type type;
	uint32_t ttl;
	uint8_t addr[16];		/* A: first 4 octets; AAAA: 16 */
	uint16_t pref;			/* MX preference */
	char name[DNS_NAME_MAX + 1];	/* MX exchange, PTR/CNAME target,
					 * lowercase, no trailing dot */
	char *txt;			/* TXT/SPF: into the result's txtbuf,
					 * NUL-terminated; may hold NULs
					 * (see txtlen) */
	size_t txtlen;
};

struct dns_result {
	enum dns_status status;
	int secure;			/* DNSSEC validated (libunbound) */
	size_t n;
	size_t truncated;		/* records dropped past DNS_RR_MAX */
	struct dns_rr rr[DNS_RR_MAX];
	char txtbuf[4 * DNS_TXT_MAX];	/* room for every TXT of an answer;
					 * records past it are truncated */
	size_t txtused;
};

/* A resolver as the engines see it.  query fills *out (status always set)
 * and returns 0; -1 only for a bug-level misuse (NULL name).  Thread-safe
 * for dns_unbound; a table is read-only once built. */
struct dns_lookup {
	int (*query)(struct dns_lookup *l, const char *name,
	    enum dns_type type, struct dns_result *out);
	void (*free)(struct dns_lookup *l);
};

static inline int
dns_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	return l->query(l, name, type, out);
}

/* Free any lookup; takes NULL. */
void dns_lookup_free(struct dns_lookup *l);

#endif
