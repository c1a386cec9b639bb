/* dns.c - names and results shared by the dns_lookup implementations
 * (see dns.h, dns_int.h). */
#include "engine/dns_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/netaddr.h"

static const struct {
	enum dns_type type;
	const char *name;
} dns_types[] = {
	{ DNS_T_A, "A" }, { DNS_T_AAAA, "AAAA" }, { DNS_T_MX, "MX" },
	{ DNS_T_TXT, "TXT" }, { DNS_T_PTR, "PTR" }, { DNS_T_CNAME, "CNAME" },
	{ DNS_T_SPF, "SPF" },
};

const char *
dns_type_name(enum dns_type t)
{
	size_t i;

	for (i = 0; i < sizeof dns_types / sizeof dns_types[0]; i++)
		if (dns_types[i].type == t)
			return dns_types[i].name;
	return "?";
}

int
dns_type_parse(const char *s, enum dns_type *t)
{
	size_t i;

	for (i = 0; i < sizeof dns_types / sizeof dns_types[0]; i++)
		if (strcasecmp(s, dns_types[i].name) == 0) {
			*t = dns_types[i].type;
			return 0;
		}
	return -1;
}

const char *
dns_status_name(enum dns_status s)
{
	static const char *const names[] = {
		[DNS_OK] = "ok", [DNS_NXDOMAIN] = "nxdomain",
		[DNS_NODATA] = "nodata", [DNS_TEMPFAIL] = "tempfail",
		[DNS_PERMFAIL] = "permfail",
	};

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int
dns_reverse_name(const char *ip, char out[DNS_NAME_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t a[16];
	size_t o = 0;
	int i;

	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, DNS_NAME_MAX + 1, "%u.%u.%u.%u.in-addr.arpa",
		    a[3], a[2], a[1], a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	for (i = 15; i >= 0; i--) {	/* 64 + 8 octets: fits */
		out[o++] = hex[a[i] & 15];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof "ip6.arpa");
	return 0;
}

void
dns_lookup_free(struct dns_lookup *l)
{
	if (l != NULL)
		l->free(l);
}

int
dns_name_norm(const char *name, char out[DNS_NAME_MAX + 1])
{
	size_t len = strlen(name), i, label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c == 0x7f)
			return -1;
		if (c == '.') {
			if (label == 0)
				return -1;	/* empty label */
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[len] = '\0';
	return 0;
}

void
dns_result_init(struct dns_result *r, enum dns_status st)
{
	r->status = st;
	r->secure = 0;
	r->ttl = 0;
	r->n = 0;
	r->truncated = 0;
	r->txtused = 0;
}

struct dns_rr *
dns_result_push(struct dns_result *r, enum dns_type t, uint32_t ttl)
{
	struct dns_rr *rr;

	if (r->n >= DNS_RR_MAX) {
		r->truncated++;
		return NULL;
	}
	rr = &r->rr[r->n++];
	memset(rr, 0, sizeof *rr);
	rr->type = t;
	rr->ttl = ttl;
	return rr;
}

int
dns_result_txt(struct dns_result *r, struct dns_rr *rr, const void *s,
    size_t len)
{
	if (rr->txt == NULL) {
		if (r->txtused >= sizeof r->txtbuf)
			return -1;
		rr->txt = r->txtbuf + r->txtused;
		rr->txtlen = 0;
		r->txtused++;		/* the NUL */
		rr->txt[0] = '\0';
	}
	if (len > DNS_TXT_MAX - rr->txtlen ||
	    len > sizeof r->txtbuf - r->txtused)
		return -1;
	memcpy(rr->txt + rr->txtlen, s, len);
	rr->txtlen += len;
	rr->txt[rr->txtlen] = '\0';
	r->txtused += len;
	return 0;
}

void
dns_result_drop(struct dns_result *r)
{
	struct dns_rr *rr;

	if (r->n == 0)
		return;
	rr = &r->rr[--r->n];
	if (rr->txt != NULL)
		r->txtused = (size_t)(rr->txt - r->txtbuf);
	r->truncated++;
}

/* "HOST[:PORT]": a bare IPv6 address is HOST alone (it has colons), a
 * port with IPv6 needs "[v6]:PORT"; 53 by default. */
int
dns_resolver_addr(const char *resolver, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	char tmp[128], addr[INET6_ADDRSTRLEN];
	const char *colon = strchr(resolver, ':');

	if (resolver[0] == '[' && strstr(resolver, "]:") == NULL)
		snprintf(tmp, sizeof tmp, "%s:53", resolver);
	else if (resolver[0] == '[' || (colon && !strchr(colon + 1, ':')))
		snprintf(tmp, sizeof tmp, "%s", resolver);
	else if (colon)
		snprintf(tmp, sizeof tmp, "[%s]:53", resolver);
	else
		snprintf(tmp, sizeof tmp, "%s:53", resolver);
	if (tmp[0] == ':' || hostport_parse(tmp, &ss, &slen) != 0)
		return -1;
	sockaddr_ntop((struct sockaddr *)&ss, addr, sizeof addr);
	snprintf(out, outlen, "%s@%u", addr, sockaddr_port((struct sockaddr *)&ss));
	return 0;
}

const char *
dns_resolver_check(const char *v)
{
	char out[128];

	if (v[0] == '\0' || dns_resolver_addr(v, out, sizeof out) == 0)
		return NULL;
	return "want HOST[:PORT] with HOST an IP address ([v6]:PORT with a "
	    "port), or empty for recursion";
}
