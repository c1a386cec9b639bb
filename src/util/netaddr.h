/* netaddr.h - IP addresses, CIDR networks and host:port parsing. */
#ifndef JAGA_UTIL_NETADDR_H
#define JAGA_UTIL_NETADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; first 4 used for v4 */
	int prefix;
};

/* Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (full prefix).
 * Returns 0 or -1. */
int cidr_parse(const char *s, struct cidr *c);
/* Does the socket address fall inside c?  IPv4-mapped IPv6 addresses match
 * IPv4 networks. */
int cidr_match(const struct cidr *c, const struct sockaddr *sa);

/* Parse "host:port", "[v6]:port" or ":port" into a numeric sockaddr (no DNS:
 * host must be a literal address; empty host means any).  Returns 0 or -1. */
int hostport_parse(const char *s, struct sockaddr_storage *ss, socklen_t *slen);

/* Write the numeric address of sa (no port) into out (>= INET6_ADDRSTRLEN);
 * IPv4-mapped IPv6 addresses are shown as IPv4. */
void sockaddr_ntop(const struct sockaddr *sa, char *out, size_t outlen);
/* The port of sa in host byte order. */
unsigned sockaddr_port(const struct sockaddr *sa);

#endif
