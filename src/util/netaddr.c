/* netaddr.c - IP addresses, CIDR networks and host:port parsing.
 *
 * Everything here is numeric: no DNS.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is treated as the IPv4 address it
 * carries, both in networks and in socket addresses, so a dual-stack
 * listener still matches "192.0.2.0/24".
 */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define NETADDR_TEXT_MAX 64	/* longer than any address/prefix text */

static const uint8_t netaddr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Parse 1-3 decimal digits (no sign, no space) not above max. */
static int
netaddr_prefix(const char *s, int max)
{
	int v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 3 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > max)
		return -1;
	return v;
}

/* Are all bits of addr after the first prefix bits zero? */
static int
netaddr_host_bits_zero(const uint8_t *addr, int nbytes, int prefix)
{
	int i;

	for (i = prefix / 8; i < nbytes; i++) {
		uint8_t mask = i == prefix / 8 ?
		    (uint8_t)(0xff >> (prefix % 8)) : 0xff;
		if (addr[i] & mask)
			return 0;
	}
	return 1;
}

/* Turn ::ffff:a.b.c.d/96+n into a.b.c.d/n. */
static void
netaddr_unmap(struct cidr *c)
{
	if (c->family != AF_INET6 || c->prefix < 96 ||
	    memcmp(c->addr, netaddr_v4mapped, 12) != 0)
		return;
	c->family = AF_INET;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->prefix -= 96;
}

int
cidr_parse(const char *s, struct cidr *c)
{
	char text[NETADDR_TEXT_MAX];
	const char *slash;
	size_t n = strlen(s);
	int maxbits;

	if (n == 0 || n >= sizeof text)
		return -1;
	memcpy(text, s, n + 1);
	memset(c, 0, sizeof *c);
	slash = strchr(s, '/');
	if (slash != NULL)
		text[slash - s] = '\0';
	if (inet_pton(AF_INET, text, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, text, c->addr) == 1)
		c->family = AF_INET6;
	else
		return -1;
	maxbits = c->family == AF_INET ? 32 : 128;
	c->prefix = slash == NULL ? maxbits : netaddr_prefix(slash + 1, maxbits);
	/* "192.0.2.1/24" is refused: the writer meant a host or a network,
	 * and guessing wrong would widen trust (Postfix refuses it too). */
	if (c->prefix < 0 ||
	    !netaddr_host_bits_zero(c->addr, maxbits / 8, c->prefix))
		return -1;
	netaddr_unmap(c);
	return 0;
}

/* The address bytes of sa with IPv4-mapped IPv6 turned into IPv4.
 * Returns the family, or AF_UNSPEC for anything that is not IP. */
static int
netaddr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	if (sa == NULL)
		return AF_UNSPEC;
	if (sa->sa_family == AF_INET) {
		memcpy(out, &s4->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return AF_UNSPEC;
	if (memcmp(&s6->sin6_addr, netaddr_v4mapped, 12) == 0) {
		memcpy(out, (const uint8_t *)&s6->sin6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, &s6->sin6_addr, 16);
	return AF_INET6;
}

int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	uint8_t a[16];
	int full, rest;

	if (netaddr_bytes(sa, a) != c->family)
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Decimal port 0..65535, digits only. */
static int
netaddr_port(const char *s, unsigned *port)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 5 || s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* Split "host:port" / "[v6]:port" into text[] (host) and the port text. */
static const char *
netaddr_split(const char *s, char *text, size_t textlen, int *v6)
{
	const char *colon, *end;
	size_t n;

	*v6 = s[0] == '[';
	if (*v6) {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return NULL;
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			return NULL;	/* IPv6 needs brackets */
		end = colon;
	}
	n = (size_t)(end - s);
	if (n >= textlen)
		return NULL;
	memcpy(text, s, n);
	text[n] = '\0';
	return colon + 1;
}

int
hostport_parse(const char *s, struct sockaddr_storage *ss, socklen_t *slen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[NETADDR_TEXT_MAX];
	const char *porttext;
	unsigned port;
	int v6;

	porttext = netaddr_split(s, host, sizeof host, &v6);
	if (porttext == NULL || netaddr_port(porttext, &port) < 0)
		return -1;
	memset(ss, 0, sizeof *ss);
	if (v6) {
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*slen = sizeof *s6;
		return 0;
	}
	/* An empty host means any address; IPv4, use [::] for IPv6. */
	if (host[0] == '\0')
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -1;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*slen = sizeof *s4;
	return 0;
}

void
sockaddr_ntop(const struct sockaddr *sa, char *out, size_t outlen)
{
	uint8_t a[16];
	int family;

	if (outlen == 0)
		return;
	family = netaddr_bytes(sa, a);
	if (family == AF_UNSPEC) {
		snprintf(out, outlen, "%s",
		    sa != NULL && sa->sa_family == AF_UNIX ? "unix" : "?");
		return;
	}
	if (inet_ntop(family, a, out, (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}

unsigned
sockaddr_port(const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}
