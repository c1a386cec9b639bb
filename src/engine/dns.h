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
	uint32_t ttl;			/* seconds the whole answer may be
					 * kept: OK, NXDOMAIN and NODATA (the
					 * negative TTL, RFC 2308 §5); 0 for
					 * TEMPFAIL and PERMFAIL */
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

/* "A", "MX", ... for logs and the CLI; "?" for a type not in the enum. */
const char *dns_type_name(enum dns_type t);
/* The type named s (case-insensitive: "a", "MX", "txt"); -1 if unknown. */
int dns_type_parse(const char *s, enum dns_type *t);
/* "ok", "nxdomain", "nodata", "tempfail", "permfail". */
const char *dns_status_name(enum dns_status s);
/* The name to ask PTR for an address given as text: "192.0.2.1" ->
 * "1.2.0.192.in-addr.arpa" (RFC 1035 §3.5), "2001:db8::1" -> 32 nibbles
 * ".ip6.arpa" (RFC 3596 §2.5).  Returns 0, -1 when ip is not an address. */
int dns_reverse_name(const char *ip, char out[DNS_NAME_MAX + 1]);

/* ---- a table of records, for tests (dns_table.c) ----
 * Built from a suite's zone data, then only read: the query semantics are
 * DNS's (RFC 1034 §3.6.2, §4.3.2): names are case-insensitive and a
 * trailing dot is ignored; a name with any record (or added with
 * dns_table_add_name) exists, so a type it lacks is NODATA, an unknown
 * name NXDOMAIN; a CNAME is followed (8 hops at most; a loop is TEMPFAIL,
 * as a resolver's SERVFAIL) unless the CNAME itself is asked.  A name that
 * cannot be asked (empty label, label over 63, name over 253) is PERMFAIL.
 * Every record, and every answer but TEMPFAIL and PERMFAIL, has TTL
 * DNS_TABLE_TTL. */
#define DNS_TABLE_TTL	300
#define DNS_TABLE_MAX	100000	/* records in one table */

/* An empty table; NULL when out of memory.  Free with dns_lookup_free. */
struct dns_lookup *dns_table_new(void);
/* Add one record to name, data in presentation form: A "192.0.2.1", AAAA
 * "2001:db8::1", MX "10 mx.example.com" (or a bare host: preference 0),
 * PTR and CNAME a name, TXT and SPF one string (see dns_table_add_txt).
 * Returns 0, -1 on bad data, a bad name, a full table or no memory. */
int dns_table_add(struct dns_lookup *l, const char *name, enum dns_type type,
    const char *data);
/* A TXT or SPF record of n strings, joined without spaces (RFC 7208 §3.3);
 * n = 0 is a record of no strings (empty text).  Returns 0 or -1. */
int dns_table_add_txt(struct dns_lookup *l, const char *name,
    enum dns_type type, const char *const *strs, size_t n);
/* The name exists, with no records yet (zone data's "TXT: NONE").  0/-1. */
int dns_table_add_name(struct dns_lookup *l, const char *name);
/* Every query for name answers TEMPFAIL (zone data's TIMEOUT), except one
 * for a type the name has records of, as the openspf suite's own driver
 * does (its "spftimeout" case).  The name exists.  Returns 0 or -1. */
int dns_table_timeout(struct dns_lookup *l, const char *name);

/* ---- libunbound, for the daemon and the CLI (dns_unbound.c) ----
 * resolver "HOST[:PORT]" (HOST an IPv4 or IPv6 address, "[v6]:PORT" with a
 * port; 53 by default) forwards every query there; "" recurses from the
 * root itself (with DNSSEC when Debian's /usr/share/dns/root.key exists).
 * One context for all threads, its cache honouring TTLs.  A query not
 * answered within the timeout (DNS_TIMEOUT_MS) is cancelled: TEMPFAIL.
 * NULL with a message in err on a bad resolver or a libunbound failure. */
#define DNS_TIMEOUT_MS	5000
/* resolver ("" excluded) as libunbound's "ADDR@PORT" into out; 0 or -1. */
int dns_resolver_addr(const char *resolver, char *out, size_t outlen);
/* The check of the resolver parameter: NULL when v is "" or good, else
 * what is wrong (static text). */
const char *dns_resolver_check(const char *v);
struct dns_lookup *dns_unbound_new(const char *resolver, char *err,
    size_t errlen);
/* Set the timeout of a lookup from dns_unbound_new, before sharing it. */
void dns_unbound_timeout(struct dns_lookup *l, int ms);

/* ---- an answer cache in front of any lookup (dns_cache.c) ----
 * Answers OK, NXDOMAIN and NODATA from inner once per TTL, keyed by the
 * normalized name (case-insensitive) and type: an OK answer is kept for
 * its least record TTL up to DNS_CACHE_TTL_MAX, a negative one for its
 * ttl up to DNS_CACHE_NEG_TTL_MAX (RFC 2308 §5); TEMPFAIL, PERMFAIL and
 * a TTL of 0 are never kept.  A hit is the stored answer with its TTLs
 * less the seconds it was kept (the secure flag kept).  Thread-safe:
 * DNS_CACHE_SHARDS shards, one mutex each, LRU within a shard; at most
 * max_entries answers and max_entries * DNS_CACHE_ENTRY_BYTES octets. */
#define DNS_CACHE_TTL_MAX	3600
#define DNS_CACHE_NEG_TTL_MAX	300
#define DNS_CACHE_SHARDS	16	/* when max_entries >= 1024, else 1 */
#define DNS_CACHE_ENTRY_BYTES	2048	/* average room per answer */
#define DNS_CACHE_SIZE_MAX	1000000	/* max_entries */

struct dns_cache_stats {
	unsigned long long hits, misses, evictions;
	size_t entries, bytes;
};

/* A cache of at most max_entries (1 .. DNS_CACHE_SIZE_MAX) answers of
 * inner, which it owns from now on (freed with the cache, and at once
 * when this fails).  NULL when out of memory or max_entries is out of
 * range. */
struct dns_lookup *dns_cache_new(struct dns_lookup *inner,
    size_t max_entries);
/* Counters and sizes, summed over the shards. */
void dns_cache_stats(struct dns_lookup *l, struct dns_cache_stats *st);
/* For tests, before sharing: the clock (seconds, monotonic), instead of
 * CLOCK_MONOTONIC. */
void dns_cache_clock(struct dns_lookup *l, int64_t (*now)(void));

#endif
