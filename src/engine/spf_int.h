/* spf_int.h - what spf.c, spf_term.c and spf_macro.c share; not an API. */
#ifndef JAGA_ENGINE_SPF_INT_H
#define JAGA_ENGINE_SPF_INT_H

#include <stdint.h>

#include "engine/spf.h"
#include "util/buf.h"

enum spf_mech {
	SPF_M_ALL, SPF_M_INCLUDE, SPF_M_A, SPF_M_MX, SPF_M_PTR, SPF_M_IP4,
	SPF_M_IP6, SPF_M_EXISTS,
	SPF_M_REDIRECT, SPF_M_EXP, SPF_M_UNKNOWN,	/* modifiers */
};

/* One term of a record, as views into the record text. */
struct spf_term {
	char qual;			/* '+' '-' '~' '?' */
	enum spf_mech mech;
	const char *text;		/* the whole term */
	size_t textlen;
	const char *arg;		/* domain-spec, network or macro-string */
	size_t arglen;			/* 0: none given */
	int cidr4, cidr6;		/* prefix lengths; full when absent */
	uint8_t net[16];		/* ip4/ip6: the network */
};

/* The state of one check_host() evaluation and its nested ones. */
struct spf_ctx {
	struct dns_lookup *dns;
	int family;			/* AF_INET or AF_INET6 */
	uint8_t ip[16];			/* 4 octets for IPv4 */
	const char *local;		/* sender local part */
	const char *sdomain;		/* sender domain */
	const char *sender;		/* local@domain */
	const char *helo;
	int terms, voids;
	struct dns_result *res;		/* scratch answers, heap */
	struct dns_result *res2;
	struct spf_result *out;
};

#define SPF_SYNTAX	(-1)		/* permerror */
#define SPF_DNSERR	(-2)		/* temperror */

/* Parse the term at rec[*pos] (no leading space) up to the next SP or
 * end; *pos moves past it.  Returns 0 or SPF_SYNTAX. */
int spf_term_parse(const char *rec, size_t len, size_t *pos,
    struct spf_term *t);
/* Is s[0..n) a macro-string of §7.1 (exp: c, r, t allowed)? */
int spf_macro_valid(const char *s, size_t n, int exp);
/* Expand macro-string s[0..n) for the current domain into out (§7.3).
 * Returns 0, SPF_SYNTAX, or -3 when out's limit is reached. */
int spf_macro_expand(struct spf_ctx *c, const char *domain, const char *s,
    size_t n, int exp, struct buf *out);
/* Expand a domain-spec into dom (DNS_NAME_MAX + 1), trimming labels from
 * the left to 253 octets (§7.3).  Returns 0, SPF_SYNTAX, or 1 when the
 * result is no valid domain name (empty label, over-long label). */
int spf_domain_expand(struct spf_ctx *c, const char *cur,
    const struct spf_term *t, char *dom);
/* The validated name of the client (§5.5, %{p}) into name (DNS_NAME_MAX
 * + 1; "" when none), trying at most SPF_PTRNAMES_MAX names.  Returns 1
 * when a name equal to or under domain was validated, 0 otherwise,
 * SPF_SYNTAX past the void limit (counted only when count_void). */
int spf_ptr_validated(struct spf_ctx *c, const char *domain, char *name,
    int count_void);



/* spf_dns.c: the querying mechanisms.  Each returns 1 (match), 0,
 * SPF_DNSERR or SPF_SYNTAX (a limit; the reason in out->problem). */
int spf_ip_match(const struct spf_ctx *c, const uint8_t *net, int af,
    int bits);
int spf_addr_match(struct spf_ctx *c, const char *name, int cidr4, int cidr6,
    int count_void, struct dns_result *r);
int spf_mx(struct spf_ctx *c, const char *name, int cidr4, int cidr6);
int spf_exists(struct spf_ctx *c, const char *name);

#endif
