/* test_dns.c - the table lookup (NXDOMAIN vs NODATA, CNAME, TIMEOUT,
 * case), type names, and the wire rdata parsers. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "engine/dns_int.h"
#include "harness.h"

/* A zone like the openspf suite's zonedata. */
static struct dns_lookup *
zone(void)
{
	static const char *const joined[] = { "v=spf1 ", "ip4:192.0.2.5", " -all" };
	struct dns_lookup *l = dns_table_new();
	int rc = 0;

	rc |= dns_table_add(l, "mail.Example.com", DNS_T_A, "192.0.2.1");
	rc |= dns_table_add(l, "mail.example.com", DNS_T_A, "192.0.2.2");
	rc |= dns_table_add(l, "mail.example.com.", DNS_T_AAAA, "2001:db8::1");
	rc |= dns_table_add(l, "example.com", DNS_T_MX, "10 mail.example.com.");
	rc |= dns_table_add(l, "example.com", DNS_T_MX, "Mx2.Example.com");
	rc |= dns_table_add(l, "example.com", DNS_T_TXT, "v=spf1 mx -all");
	rc |= dns_table_add(l, "example.com", DNS_T_SPF, "v=spf1 -all");
	rc |= dns_table_add_txt(l, "joined.example.com", DNS_T_TXT, joined, 3);
	rc |= dns_table_add_txt(l, "empty.example.com", DNS_T_TXT, NULL, 0);
	rc |= dns_table_add(l, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "Mail.example.com.");
	rc |= dns_table_add(l, "www.example.com", DNS_T_CNAME, "Mail.example.com");
	rc |= dns_table_add(l, "www2.example.com", DNS_T_CNAME, "www.example.com");
	rc |= dns_table_add(l, "dangling.example.com", DNS_T_CNAME, "nowhere.example.com");
	rc |= dns_table_add(l, "loop1.example.com", DNS_T_CNAME, "loop2.example.com");
	rc |= dns_table_add(l, "loop2.example.com", DNS_T_CNAME, "LOOP1.example.com");
	rc |= dns_table_add(l, "self.example.com", DNS_T_CNAME, "self.example.com");
	rc |= dns_table_add_name(l, "none.example.com");
	rc |= dns_table_timeout(l, "slow.example.com");
	rc |= dns_table_add(l, "half.example.com", DNS_T_TXT, "v=spf1 -all");
	rc |= dns_table_timeout(l, "half.example.com");
	rc |= dns_table_add(l, "nullmx.example.com", DNS_T_MX, "0 .");
	CHECK_INT(rc, 0, "building the zone");
	return l;
}

static void
test_table_status(struct dns_lookup *l)
{
	static const struct {
		const char *name;
		enum dns_type type;
		enum dns_status st;
		size_t n;
	} rows[] = {
		{ "mail.example.com", DNS_T_A, DNS_OK, 2 },
		{ "MAIL.EXAMPLE.COM.", DNS_T_A, DNS_OK, 2 },
		{ "mail.example.com", DNS_T_AAAA, DNS_OK, 1 },
		{ "mail.example.com", DNS_T_MX, DNS_NODATA, 0 },
		{ "mail.example.com", DNS_T_TXT, DNS_NODATA, 0 },
		{ "nothing.example.com", DNS_T_A, DNS_NXDOMAIN, 0 },
		{ "com", DNS_T_A, DNS_NXDOMAIN, 0 },	/* no implied parents */
		{ "example.com", DNS_T_MX, DNS_OK, 2 },
		{ "example.com", DNS_T_TXT, DNS_OK, 1 },
		{ "example.com", DNS_T_SPF, DNS_OK, 1 },
		{ "example.com", DNS_T_A, DNS_NODATA, 0 },
		{ "www.example.com", DNS_T_A, DNS_OK, 2 },
		{ "www2.example.com", DNS_T_AAAA, DNS_OK, 1 },
		{ "www2.example.com", DNS_T_MX, DNS_NODATA, 0 },
		{ "www.example.com", DNS_T_CNAME, DNS_OK, 1 },
		{ "dangling.example.com", DNS_T_A, DNS_NXDOMAIN, 0 },
		{ "loop1.example.com", DNS_T_A, DNS_TEMPFAIL, 0 },
		{ "self.example.com", DNS_T_TXT, DNS_TEMPFAIL, 0 },
		{ "loop1.example.com", DNS_T_CNAME, DNS_OK, 1 },
		{ "none.example.com", DNS_T_TXT, DNS_NODATA, 0 },
		{ "slow.example.com", DNS_T_A, DNS_TEMPFAIL, 0 },
		{ "slow.example.com", DNS_T_TXT, DNS_TEMPFAIL, 0 },
		{ "half.example.com", DNS_T_TXT, DNS_OK, 1 },
		{ "half.example.com", DNS_T_SPF, DNS_TEMPFAIL, 0 },
		{ "", DNS_T_A, DNS_PERMFAIL, 0 },
		{ ".", DNS_T_A, DNS_PERMFAIL, 0 },
		{ "a..example.com", DNS_T_A, DNS_PERMFAIL, 0 },
		{ ".example.com", DNS_T_A, DNS_PERMFAIL, 0 },
		{ "a b.example.com", DNS_T_A, DNS_PERMFAIL, 0 },
		{ "a1234567890123456789012345678901234567890123456789012345678901"
		  "23.example.com", DNS_T_A, DNS_PERMFAIL, 0 },
		{ "a123456789012345678901234567890123456789012345678901234567890"
		  "12.example.com", DNS_T_A, DNS_NXDOMAIN, 0 },	/* 63: fine */
	};
	struct dns_result r;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		CHECK_INT(dns_query(l, rows[i].name, rows[i].type, &r), 0,
		    "query %s", rows[i].name);
		CHECK_STR(dns_status_name(r.status),
		    dns_status_name(rows[i].st), "status of %s %s",
		    rows[i].name, dns_type_name(rows[i].type));
		CHECK_INT(r.n, rows[i].n, "records of %s %s", rows[i].name,
		    dns_type_name(rows[i].type));
	}
	CHECK_INT(dns_query(l, NULL, DNS_T_A, &r), -1, "NULL name");
}

static void
test_table_data(struct dns_lookup *l)
{
	struct dns_result r;
	char a[INET6_ADDRSTRLEN];

	dns_query(l, "www2.example.com", DNS_T_AAAA, &r);
	inet_ntop(AF_INET6, r.rr[0].addr, a, sizeof a);
	CHECK_STR(a, "2001:db8::1", "AAAA through two CNAMEs");
	CHECK_INT(r.rr[0].type, DNS_T_AAAA, "only the type asked");
	CHECK_INT(r.rr[0].ttl, DNS_TABLE_TTL, "ttl");
	dns_query(l, "mail.example.com", DNS_T_A, &r);
	inet_ntop(AF_INET, r.rr[1].addr, a, sizeof a);
	CHECK_STR(a, "192.0.2.2", "second A, in order added");
	dns_query(l, "example.com", DNS_T_MX, &r);
	CHECK_INT(r.rr[0].pref, 10, "MX pref");
	CHECK_STR(r.rr[0].name, "mail.example.com", "MX host");
	CHECK_INT(r.rr[1].pref, 0, "bare MX host: pref 0");
	CHECK_STR(r.rr[1].name, "mx2.example.com", "MX host lowercased");
	dns_query(l, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_STR(r.rr[0].name, "mail.example.com", "PTR, no trailing dot");
	dns_query(l, "www.example.com", DNS_T_CNAME, &r);
	CHECK_STR(r.rr[0].name, "mail.example.com", "CNAME asked itself");
	dns_query(l, "joined.example.com", DNS_T_TXT, &r);
	CHECK_STR(r.rr[0].txt, "v=spf1 ip4:192.0.2.5 -all", "strings joined");
	CHECK_INT(r.rr[0].txtlen, 25, "txtlen");
	dns_query(l, "empty.example.com", DNS_T_TXT, &r);
	CHECK(r.status == DNS_OK && r.n == 1 && r.rr[0].txt != NULL &&
	    r.rr[0].txtlen == 0, "a TXT of no strings is an empty text");
	dns_query(l, "example.com", DNS_T_SPF, &r);
	CHECK_STR(r.rr[0].txt, "v=spf1 -all", "SPF type kept apart");
	dns_query(l, "nullmx.example.com", DNS_T_MX, &r);
	CHECK_STR(r.rr[0].name, "", "null MX (RFC 7505)");
}

static void
test_table_bad(void)
{
	static const struct {
		enum dns_type type;
		const char *data;
	} rows[] = {
		{ DNS_T_A, "192.0.2" }, { DNS_T_A, "2001:db8::1" },
		{ DNS_T_AAAA, "192.0.2.1" }, { DNS_T_MX, "70000 mx.example" },
		{ DNS_T_MX, "10" }, { DNS_T_MX, "10 a..b" },
		{ DNS_T_PTR, "a..b" }, { DNS_T_CNAME, "a b" },
	};
	struct dns_lookup *l = dns_table_new();
	struct dns_result r;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		CHECK_INT(dns_table_add(l, "x.example", rows[i].type,
		    rows[i].data), -1, "bad %s \"%s\"",
		    dns_type_name(rows[i].type), rows[i].data);
	CHECK_INT(dns_table_add(l, "a..example", DNS_T_A, "192.0.2.1"), -1,
	    "bad owner name");
	dns_query(l, "x.example", DNS_T_A, &r);
	CHECK_INT(r.status, DNS_NXDOMAIN, "refused records leave no name");
	for (i = 0; i < DNS_RR_MAX + 5; i++) {
		char a[32];

		snprintf(a, sizeof a, "10.0.%zu.%zu", i / 256, i % 256);
		dns_table_add(l, "many.example", DNS_T_A, a);
	}
	dns_query(l, "many.example", DNS_T_A, &r);
	CHECK_INT(r.n, DNS_RR_MAX, "answer bounded");
	CHECK_INT(r.truncated, 5, "the rest counted");
	dns_lookup_free(l);
	dns_lookup_free(NULL);
}

static void
test_names(void)
{
	enum dns_type t;

	CHECK_INT(dns_type_parse("mx", &t), 0, "parse mx");
	CHECK_INT(t, DNS_T_MX, "mx");
	CHECK_INT(dns_type_parse("AAAA", &t), 0, "parse AAAA");
	CHECK_STR(dns_type_name(t), "AAAA", "AAAA name");
	CHECK_INT(dns_type_parse("NS", &t), -1, "NS unknown");
	CHECK_STR(dns_status_name(DNS_NODATA), "nodata", "status name");
}

static void
test_wire(void)
{
	static const struct {
		enum dns_type type;
		const char *rdata;	/* octets, escaped */
		size_t len;
		int rc;
		const char *want;	/* name or text */
	} rows[] = {
		{ DNS_T_MX, "\x00\x0a\x04mail\x07" "Example\x03" "com\x00", 20, 0,
		  "mail.example.com" },
		{ DNS_T_MX, "\x00\x00\x00", 3, 0, "" },	/* null MX */
		{ DNS_T_MX, "\x00\x0a\x04mail", 7, -1, NULL },	/* no end */
		{ DNS_T_MX, "\x00\x0a\x04ma", 5, -1, NULL },	/* past len */
		{ DNS_T_MX, "\x00\x0a", 2, -1, NULL },
		{ DNS_T_PTR, "\xc0\x0c", 2, -1, NULL },	/* compression */
		{ DNS_T_PTR, "\x01" "a\x00\x00", 4, -1, NULL },	/* trailing */
		{ DNS_T_PTR, "\x03" "a.b\x00", 5, 0, "a\\046b" },
		{ DNS_T_CNAME, "\x02" "A\xff\x00", 4, 0, "a\\255" },
		{ DNS_T_TXT, "\x03" "abc\x02" "de", 7, 0, "abcde" },
		{ DNS_T_TXT, "\x00", 1, 0, "" },
		{ DNS_T_TXT, "\x05" "abc", 4, -1, NULL },
		{ DNS_T_TXT, "", 0, -1, NULL },
		{ DNS_T_A, "\xc0\x00\x02\x01", 4, 0, NULL },
		{ DNS_T_A, "\xc0\x00\x02", 3, -1, NULL },
		{ DNS_T_AAAA, "\xc0\x00\x02\x01", 4, -1, NULL },
	};
	struct dns_result r;
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct dns_rr *rr = &r.rr[0];
		int rc;

		dns_result_init(&r, DNS_OK);
		rc = dns_rdata_add(&r, rows[i].type, 60,
		    (const uint8_t *)rows[i].rdata, rows[i].len);
		CHECK_INT(rc, rows[i].rc, "rdata row %zu", i);
		CHECK_INT(r.n, rc == 0, "row %zu records", i);
		CHECK_INT(r.truncated, 0, "row %zu not truncated", i);
		if (rc != 0 || rows[i].want == NULL)
			continue;
		CHECK_STR(rows[i].type == DNS_T_TXT ? rr->txt : rr->name,
		    rows[i].want, "row %zu", i);
	}
}

/* A name of 127 one-letter labels is 253 octets: the longest allowed;
 * with octets that need escaping it no longer fits. */
static void
test_wire_long(void)
{
	uint8_t w[300];
	char out[DNS_NAME_MAX + 1];
	size_t i, used;

	for (i = 0; i < 127; i++) {
		w[2 * i] = 1;
		w[2 * i + 1] = 'x';
	}
	w[254] = 0;
	CHECK_INT(dns_wire_name(w, 255, &used, out), 0, "253 octets");
	CHECK_INT(strlen(out), 253, "253 long");
	CHECK_INT(used, 255, "used");
	w[253] = '!';
	CHECK_INT(dns_wire_name(w, 255, &used, out), -1, "escaped: too long");
	w[254] = 1;
	CHECK_INT(dns_wire_name(w, 255, &used, out), -1, "no end in rdata");
}

int
main(void)
{
	struct dns_lookup *l = zone();

	test_table_status(l);
	test_table_data(l);
	dns_lookup_free(l);
	test_table_bad();
	test_names();
	test_wire();
	test_wire_long();
	return harness_end("dns");
}
