/* test_netaddr.c - CIDR parsing and matching, host:port, printing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "util/netaddr.h"
#include "harness.h"

/* A sockaddr from "4:a.b.c.d" or "6:x::y". */
static const struct sockaddr *
mk(struct sockaddr_storage *ss, const char *s)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	int ok;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '4') {
		s4->sin_family = AF_INET;
		ok = inet_pton(AF_INET, s + 2, &s4->sin_addr);
	} else {
		s6->sin6_family = AF_INET6;
		ok = inet_pton(AF_INET6, s + 2, &s6->sin6_addr);
	}
	CHECK(ok == 1, "test address %s", s);
	return (const struct sockaddr *)ss;
}

static void
test_cidr_parse(void)
{
	static const struct {
		const char *in;
		int ok, family, prefix;
		const char *addr;	/* network, printed */
	} rows[] = {
		{ "192.0.2.0/24", 0, AF_INET, 24, "192.0.2.0" },
		{ "10.0.0.0/8", 0, AF_INET, 8, "10.0.0.0" },
		{ "0.0.0.0/0", 0, AF_INET, 0, "0.0.0.0" },
		{ "192.0.2.1", 0, AF_INET, 32, "192.0.2.1" },
		{ "192.0.2.1/32", 0, AF_INET, 32, "192.0.2.1" },
		{ "192.0.2.128/25", 0, AF_INET, 25, "192.0.2.128" },
		{ "2001:db8::/32", 0, AF_INET6, 32, "2001:db8::" },
		{ "2001:db8:8000::/33", 0, AF_INET6, 33, "2001:db8:8000::" },
		{ "::1", 0, AF_INET6, 128, "::1" },
		{ "::/0", 0, AF_INET6, 0, "::" },
		{ "::ffff:192.0.2.0/120", 0, AF_INET, 24, "192.0.2.0" },
		{ "::ffff:10.1.2.3", 0, AF_INET, 32, "10.1.2.3" },
		{ "::ffff:0:0/96", 0, AF_INET, 0, "0.0.0.0" },
		{ "::fffe:0:0/95", 0, AF_INET6, 95, NULL },
		{ "::ffff:0:0/95", -1, 0, 0, NULL },
		{ "", -1, 0, 0, NULL },
		{ "192.0.2.0/33", -1, 0, 0, NULL },
		{ "192.0.2.1/24", -1, 0, 0, NULL },	/* host bits set */
		{ "192.0.2.0/", -1, 0, 0, NULL },
		{ "192.0.2.0/-1", -1, 0, 0, NULL },
		{ "192.0.2.0/+8", -1, 0, 0, NULL },
		{ "192.0.2.0/ 8", -1, 0, 0, NULL },
		{ "192.0.2.0/0024", -1, 0, 0, NULL },
		{ "192.0.2.0/24/24", -1, 0, 0, NULL },
		{ "300.0.0.0/8", -1, 0, 0, NULL },
		{ "1.2.3", -1, 0, 0, NULL },
		{ " 1.2.3.4", -1, 0, 0, NULL },
		{ "2001:db8::/129", -1, 0, 0, NULL },
		{ "2001:db8::1/32", -1, 0, 0, NULL },
		{ "fe80::1%eth0", -1, 0, 0, NULL },
		{ "example.org", -1, 0, 0, NULL },
		{ "/24", -1, 0, 0, NULL },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/8", -1,
		  0, 0, NULL },
	};
	struct sockaddr_storage ss;
	char out[INET6_ADDRSTRLEN];
	struct cidr c;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int rc = cidr_parse(rows[i].in, &c);
		CHECK_INT(rc, rows[i].ok, "cidr_parse(\"%s\")", rows[i].in);
		if (rc != 0 || rows[i].ok != 0)
			continue;
		CHECK_INT(c.family, rows[i].family, "family of %s", rows[i].in);
		CHECK_INT(c.prefix, rows[i].prefix, "prefix of %s", rows[i].in);
		if (c.family != AF_INET)
			continue;
		memset(&ss, 0, sizeof ss);
		ss.ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, c.addr, 4);
		sockaddr_ntop((struct sockaddr *)&ss, out, sizeof out);
		CHECK_STR(out, rows[i].addr, "network of %s", rows[i].in);
	}
}

static void
test_cidr_match(void)
{
	static const struct {
		const char *net, *addr;
		int want;
	} rows[] = {
		{ "192.0.2.0/24", "4:192.0.2.77", 1 },
		{ "192.0.2.0/24", "4:192.0.2.0", 1 },
		{ "192.0.2.0/24", "4:192.0.2.255", 1 },
		{ "192.0.2.0/24", "4:192.0.3.1", 0 },
		{ "192.0.2.0/24", "6:::ffff:192.0.2.5", 1 },	/* v4-mapped */
		{ "192.0.2.0/24", "6:::ffff:192.0.3.5", 0 },
		{ "192.0.2.0/24", "6:2001:db8::", 0 },
		{ "192.0.2.0/24", "6:::c000:205", 0 },	/* v4-compatible: no */
		{ "192.0.2.128/25", "4:192.0.2.127", 0 },
		{ "192.0.2.128/25", "4:192.0.2.200", 1 },
		{ "10.0.0.0/9", "4:10.127.255.255", 1 },
		{ "10.0.0.0/9", "4:10.128.0.0", 0 },
		{ "0.0.0.0/0", "4:203.0.113.9", 1 },
		{ "0.0.0.0/0", "6:::ffff:203.0.113.9", 1 },
		{ "0.0.0.0/0", "6:2001:db8::1", 0 },
		{ "192.0.2.1", "4:192.0.2.1", 1 },
		{ "192.0.2.1", "4:192.0.2.2", 0 },
		{ "2001:db8::/32", "6:2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "6:2001:db9::", 0 },
		{ "2001:db8::/32", "4:32.1.13.184", 0 },
		{ "2001:db8::/33", "6:2001:db8:7fff::", 1 },
		{ "2001:db8::/33", "6:2001:db8:8000::", 0 },
		{ "2001:db8::1", "6:2001:db8::1", 1 },
		{ "2001:db8::1", "6:2001:db8::2", 0 },
		{ "::/0", "6:2001:db8::2", 1 },
		{ "::/0", "6:::ffff:1.2.3.4", 0 },	/* that is IPv4 */
		{ "::ffff:192.0.2.0/120", "4:192.0.2.9", 1 },
		{ "::ffff:192.0.2.0/120", "6:::ffff:192.0.2.9", 1 },
		{ "::ffff:192.0.2.0/120", "4:192.0.1.9", 0 },
	};
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	struct cidr c;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (cidr_parse(rows[i].net, &c) != 0) {
			CHECK(0, "cidr_parse(\"%s\") failed", rows[i].net);
			continue;
		}
		CHECK_INT(cidr_match(&c, mk(&ss, rows[i].addr)), rows[i].want,
		    "%s in %s", rows[i].addr, rows[i].net);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	cidr_parse("0.0.0.0/0", &c);
	CHECK_INT(cidr_match(&c, (struct sockaddr *)&sun), 0, "AF_UNIX");
	CHECK_INT(cidr_match(&c, NULL), 0, "NULL address");
}

static void
test_hostport(void)
{
	static const struct {
		const char *in;
		int ok, family;
		const char *addr;
		unsigned port;
	} rows[] = {
		{ "127.0.0.1:2525", 0, AF_INET, "127.0.0.1", 2525 },
		{ "0.0.0.0:65535", 0, AF_INET, "0.0.0.0", 65535 },
		{ ":587", 0, AF_INET, "0.0.0.0", 587 },
		{ "192.0.2.1:0", 0, AF_INET, "192.0.2.1", 0 },
		{ "[::1]:25", 0, AF_INET6, "::1", 25 },
		{ "[::]:465", 0, AF_INET6, "::", 465 },
		{ "[2001:db8::10]:10025", 0, AF_INET6, "2001:db8::10", 10025 },
		{ "[::ffff:192.0.2.1]:25", 0, AF_INET6, "192.0.2.1", 25 },
		{ "127.0.0.1:025", 0, AF_INET, "127.0.0.1", 25 },
		{ "", -1, 0, NULL, 0 },
		{ "127.0.0.1", -1, 0, NULL, 0 },
		{ "127.0.0.1:", -1, 0, NULL, 0 },
		{ ":", -1, 0, NULL, 0 },
		{ "127.0.0.1:65536", -1, 0, NULL, 0 },
		{ "127.0.0.1:123456", -1, 0, NULL, 0 },
		{ "127.0.0.1:-1", -1, 0, NULL, 0 },
		{ "127.0.0.1:+25", -1, 0, NULL, 0 },
		{ "127.0.0.1:25x", -1, 0, NULL, 0 },
		{ "127.0.0.1: 25", -1, 0, NULL, 0 },
		{ "::1:25", -1, 0, NULL, 0 },
		{ "[::1]25", -1, 0, NULL, 0 },
		{ "[::1]", -1, 0, NULL, 0 },
		{ "[::1:25", -1, 0, NULL, 0 },
		{ "[]:25", -1, 0, NULL, 0 },
		{ "[1.2.3.4]:25", -1, 0, NULL, 0 },
		{ "localhost:25", -1, 0, NULL, 0 },
		{ "256.0.0.1:25", -1, 0, NULL, 0 },
		{ "[fe80::1%lo]:25", -1, 0, NULL, 0 },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc"
		  "dddd:eeee:ffff:25", -1, 0, NULL, 0 },
	};
	struct sockaddr_storage ss;
	char out[INET6_ADDRSTRLEN];
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int rc = hostport_parse(rows[i].in, &ss, &len);
		CHECK_INT(rc, rows[i].ok, "hostport_parse(\"%s\")", rows[i].in);
		if (rc != 0 || rows[i].ok != 0)
			continue;
		CHECK_INT(ss.ss_family, rows[i].family, "family of %s",
		    rows[i].in);
		CHECK_INT(len, rows[i].family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
		    "length of %s", rows[i].in);
		sockaddr_ntop((struct sockaddr *)&ss, out, sizeof out);
		CHECK_STR(out, rows[i].addr, "address of %s", rows[i].in);
		CHECK_INT(sockaddr_port((struct sockaddr *)&ss), rows[i].port,
		    "port of %s", rows[i].in);
	}
}

static void
test_print(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	char out[INET6_ADDRSTRLEN], tiny[4];

	sockaddr_ntop(mk(&ss, "6:2001:db8::1"), out, sizeof out);
	CHECK_STR(out, "2001:db8::1", "v6");
	sockaddr_ntop(mk(&ss, "6:::ffff:198.51.100.7"), out, sizeof out);
	CHECK_STR(out, "198.51.100.7", "v4-mapped shown as v4");
	sockaddr_ntop(mk(&ss, "4:203.0.113.1"), out, sizeof out);
	CHECK_STR(out, "203.0.113.1", "v4");
	CHECK_INT(sockaddr_port(mk(&ss, "4:203.0.113.1")), 0, "port 0");
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	sockaddr_ntop((struct sockaddr *)&sun, out, sizeof out);
	CHECK_STR(out, "unix", "AF_UNIX");
	CHECK_INT(sockaddr_port((struct sockaddr *)&sun), 0, "AF_UNIX port");
	sockaddr_ntop(mk(&ss, "4:203.0.113.1"), tiny, sizeof tiny);
	CHECK_STR(tiny, "?", "too small a buffer");
}

int
main(void)
{
	test_cidr_parse();
	test_cidr_match();
	test_hostport();
	test_print();
	return harness_end("netaddr");
}
