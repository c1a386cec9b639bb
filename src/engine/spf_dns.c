/* spf_dns.c - the mechanisms that query DNS (RFC 7208 §5.2-§5.7) and the
 * limits of §4.6.4 on them. */
#include "engine/spf_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A void lookup (§4.6.4): more than SPF_VOID_MAX is a permerror. */
static int
spf_void(struct spf_ctx *c)
{
	if (++c->voids > SPF_VOID_MAX) {
		snprintf(c->out->problem, sizeof c->out->problem,
		    "more than %d void lookups", SPF_VOID_MAX);
		return SPF_SYNTAX;
	}
	return 0;
}

/* Do the first bits of a and b agree? */
static int
spf_prefix_eq(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int
spf_ip_match(const struct spf_ctx *c, const uint8_t *net, int af, int bits)
{
	return c->family == af && spf_prefix_eq(c->ip, net, bits);
}

/* Does name have an A (AAAA for IPv6 clients) record inside the prefix?
 * Returns 1, 0, SPF_DNSERR, or SPF_SYNTAX (void limit when count_void). */
int
spf_addr_match(struct spf_ctx *c, const char *name, int cidr4, int cidr6,
    int count_void, struct dns_result *r)
{
	int v4 = c->family == AF_INET;
	size_t i;

	dns_query(c->dns, name, v4 ? DNS_T_A : DNS_T_AAAA, r);
	if (r->status == DNS_TEMPFAIL)
		return SPF_DNSERR;
	if (r->status != DNS_OK || r->n == 0)
		return count_void ? spf_void(c) : 0;
	for (i = 0; i < r->n; i++)
		if (spf_prefix_eq(c->ip, r->rr[i].addr, v4 ? cidr4 : cidr6))
			return 1;
	return 0;
}

/* mx (§5.4): more than SPF_MXNAMES_MAX exchanges is a permerror. */
int
spf_mx(struct spf_ctx *c, const char *name, int cidr4, int cidr6)
{
	char mx[SPF_MXNAMES_MAX][DNS_NAME_MAX + 1];
	size_t i, n;
	int r;

	dns_query(c->dns, name, DNS_T_MX, c->res);
	if (c->res->status == DNS_TEMPFAIL)
		return SPF_DNSERR;
	if (c->res->status != DNS_OK || c->res->n == 0)
		return spf_void(c);
	if (c->res->n > SPF_MXNAMES_MAX) {
		snprintf(c->out->problem, sizeof c->out->problem,
		    "more than %d MX names for %s", SPF_MXNAMES_MAX, name);
		return SPF_SYNTAX;
	}
	n = c->res->n;
	for (i = 0; i < n; i++)
		snprintf(mx[i], sizeof mx[i], "%s", c->res->rr[i].name);
	for (i = 0; i < n; i++) {
		if (mx[i][0] == '\0')
			continue;	/* "." null MX (RFC 7505) */
		r = spf_addr_match(c, mx[i], cidr4, cidr6, 0, c->res2);
		if (r != 0)
			return r;
	}
	return 0;
}

/* The reverse-lookup name of the client (RFC 1035 §3.5, RFC 3596 §2.5). */
static void
spf_rev_name(const struct spf_ctx *c, char *out, size_t outlen)
{
	size_t o = 0;
	int i;

	if (c->family == AF_INET) {
		snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", c->ip[3],
		    c->ip[2], c->ip[1], c->ip[0]);
		return;
	}
	for (i = 15; i >= 0; i--)
		o += (size_t)snprintf(out + o, outlen - o, "%x.%x.",
		    c->ip[i] & 15, c->ip[i] >> 4);
	snprintf(out + o, outlen - o, "ip6.arpa");
}

/* Is name equal to domain or below it? */
static int
spf_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' &&
	    strcasecmp(name + n - d, domain) == 0;
}

int
spf_ptr_validated(struct spf_ctx *c, const char *domain, char *name,
    int count_void)
{
	char ptr[SPF_PTRNAMES_MAX][DNS_NAME_MAX + 1], rev[80];
	size_t i, n;
	int r;

	name[0] = '\0';
	spf_rev_name(c, rev, sizeof rev);
	dns_query(c->dns, rev, DNS_T_PTR, c->res);
	if (c->res->status == DNS_NXDOMAIN || c->res->status == DNS_NODATA)
		return count_void ? spf_void(c) : 0;
	if (c->res->status != DNS_OK)
		return 0;	/* §5.5: a DNS error here is no match */
	/* §4.6.4: names past the first ten are ignored */
	n = c->res->n < SPF_PTRNAMES_MAX ? c->res->n : SPF_PTRNAMES_MAX;
	for (i = 0; i < n; i++)
		snprintf(ptr[i], sizeof ptr[i], "%s", c->res->rr[i].name);
	for (i = 0; i < n; i++) {
		r = spf_addr_match(c, ptr[i], 32, 128, 0, c->res2);
		if (r != 1)
			continue;	/* errors: that name is not validated */
		if (spf_under(ptr[i], domain)) {
			snprintf(name, DNS_NAME_MAX + 1, "%s", ptr[i]);
			return 1;
		}
		if (name[0] == '\0')
			snprintf(name, DNS_NAME_MAX + 1, "%s", ptr[i]);
	}
	return 0;
}

/* exists (§5.7): an A query, whatever the client's family. */
int
spf_exists(struct spf_ctx *c, const char *name)
{
	dns_query(c->dns, name, DNS_T_A, c->res);
	if (c->res->status == DNS_TEMPFAIL)
		return SPF_DNSERR;
	if (c->res->status != DNS_OK || c->res->n == 0)
		return spf_void(c);
	return 1;
}
