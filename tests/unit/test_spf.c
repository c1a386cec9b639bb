/* test_spf.c - spf_check_sa, the client address forms and Received-SPF
 * (RFC 7208 §9.1).  The evaluation itself is tested by the suites
 * (test_spf_suite.c). */
#include <arpa/inet.h>
#include <string.h>

#include "engine/dns.h"
#include "engine/spf.h"
#include "harness.h"

static struct dns_lookup *
zone(void)
{
	struct dns_lookup *l = dns_table_new();

	dns_table_add(l, "example.com", DNS_T_TXT, "v=spf1 ip4:192.0.2.0/24 "
	    "ip6:2001:db8::/32 -all");
	dns_table_add(l, "mail.example.org", DNS_T_TXT, "v=spf1 a -all");
	dns_table_add(l, "mail.example.org", DNS_T_A, "192.0.2.7");
	return l;
}

static void
test_addresses(struct dns_lookup *l)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct spf_result r;

	inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
	CHECK_INT(spf_check_sa(l, (struct sockaddr *)&s6, "a@example.com",
	    "h.example.com", &r), 0, "mapped");
	CHECK_STR(spf_res_name(r.result), "pass", "mapped is IPv4");
	CHECK_STR(r.client_ip, "192.0.2.9", "mapped shown as IPv4");
	inet_pton(AF_INET, "198.51.100.1", &s4.sin_addr);
	spf_check_sa(l, (struct sockaddr *)&s4, "a@example.com", "", &r);
	CHECK_STR(spf_res_name(r.result), "fail", "outside the prefix");
	spf_check(l, "2001:db8:77::1", "a@example.com", "x.example", &r);
	CHECK_STR(spf_res_name(r.result), "pass", "ip6 in /32");
	CHECK_STR(r.mechanism, "ip6:2001:db8::/32", "mechanism kept");
	CHECK_INT(spf_check(l, "192.0.2.300", "a@example.com", "", &r), -1,
	    "bad ip");
	CHECK_STR(spf_res_name(r.result), "permerror", "bad ip result");
}

static void
test_received(struct dns_lookup *l)
{
	struct spf_result r;
	char h[512];
	size_t n;

	spf_check(l, "192.0.2.1", "a@example.com", "mail.example.org", &r);
	n = spf_received(&r, "mx.example.net", h, sizeof h);
	CHECK_STR(h, "Received-SPF: pass (mx.example.net: domain of "
	    "a@example.com designates 192.0.2.1 as permitted sender) "
	    "client-ip=192.0.2.1; envelope-from=\"a@example.com\"; "
	    "helo=mail.example.org; receiver=mx.example.net; "
	    "identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\"", "pass");
	CHECK_INT(n, strlen(h), "length");
	spf_check(l, "192.0.2.8", "", "mail.example.org", &r);
	spf_received(&r, "mx.example.net", h, sizeof h);
	CHECK_STR(h, "Received-SPF: fail (mx.example.net: domain of "
	    "mail.example.org does not designate 192.0.2.8 as permitted "
	    "sender) client-ip=192.0.2.8; helo=mail.example.org; "
	    "receiver=mx.example.net; identity=helo; mechanism=-all",
	    "helo identity");
	spf_check(l, "192.0.2.1", "\"q\\\" x\"@example.com", "h", &r);
	spf_received(&r, "mx", h, sizeof h);
	CHECK(strstr(h, "envelope-from=\"\\\"q\\\\\\\" x\\\"@example.com\";")
	    != NULL, "quoted-string escapes: %s", h);
	n = spf_received(&r, "mx", h, 20);
	CHECK(n > 19 && strlen(h) == 19, "truncated to fit");
}

int
main(void)
{
	struct dns_lookup *l = zone();

	test_addresses(l);
	test_received(l);
	dns_lookup_free(l);
	return harness_end("spf");
}
