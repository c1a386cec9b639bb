/* test_inauth.c - gateway/inauth.h: the local DMARC policy, table-driven.
 * Every row: a DMARC result, the tempfail flag, the client, the policy
 * knobs; want the action and the RFC 7489 §7.2 override. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "gateway/inauth.h"
#include "harness.h"

struct row {
	const char *name;
	enum dmarc_res res;
	enum dmarc_disp disp;
	int tempfail;
	const char *client;
	int enforce, hold, temperror_accept;
	enum inauth_action want;
	const char *override;
};

static const struct row rows[] = {
	{ "pass", DMARC_PASS, DMARC_D_NONE, 0, "192.0.2.1", 1, 0, 0,
	  INAUTH_ACCEPT, NULL },
	{ "none", DMARC_NONE, DMARC_D_NONE, 0, "192.0.2.1", 1, 0, 0,
	  INAUTH_ACCEPT, NULL },
	{ "fail p=none", DMARC_FAIL, DMARC_D_NONE, 0, "192.0.2.1", 1, 0, 0,
	  INAUTH_ACCEPT, NULL },
	{ "fail reject", DMARC_FAIL, DMARC_D_REJECT, 0, "192.0.2.1", 1, 0, 0,
	  INAUTH_REJECT, NULL },
	{ "fail quarantine header", DMARC_FAIL, DMARC_D_QUARANTINE, 0,
	  "192.0.2.1", 1, 0, 0, INAUTH_MARK, NULL },
	{ "fail quarantine hold", DMARC_FAIL, DMARC_D_QUARANTINE, 0,
	  "192.0.2.1", 1, 1, 0, INAUTH_HOLD, NULL },
	{ "tempfail", DMARC_TEMPERROR, DMARC_D_NONE, 1, "192.0.2.1", 1, 0, 0,
	  INAUTH_TEMPFAIL, NULL },
	{ "tempfail accepted", DMARC_TEMPERROR, DMARC_D_NONE, 1, "192.0.2.1",
	  1, 0, 1, INAUTH_ACCEPT, NULL },
	{ "temperror that cannot matter", DMARC_TEMPERROR, DMARC_D_NONE, 0,
	  "192.0.2.1", 1, 0, 0, INAUTH_ACCEPT, NULL },
	{ "reject from a forwarder", DMARC_FAIL, DMARC_D_REJECT, 0,
	  "198.51.100.7", 1, 0, 0, INAUTH_ACCEPT, "trusted_forwarder" },
	{ "tempfail from a forwarder", DMARC_TEMPERROR, DMARC_D_NONE, 1,
	  "198.51.100.7", 1, 0, 0, INAUTH_ACCEPT, "trusted_forwarder" },
	{ "v6 forwarder", DMARC_FAIL, DMARC_D_QUARANTINE, 0, "2001:db8::5",
	  1, 1, 0, INAUTH_ACCEPT, "trusted_forwarder" },
	{ "monitor only", DMARC_FAIL, DMARC_D_REJECT, 0, "192.0.2.1", 0, 0, 0,
	  INAUTH_ACCEPT, "local_policy" },
};

static void
client(const char *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
}

static void
test_rows(void)
{
	struct cidr fw[2];
	struct inauth_policy p = { .forwarders = fw, .nforwarders = 2 };
	struct dmarc_result d;
	struct sockaddr_storage ss;
	const char *ov;

	cidr_parse("198.51.100.0/24", &fw[0]);
	cidr_parse("2001:db8::/64", &fw[1]);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		memset(&d, 0, sizeof d);
		d.result = r->res;
		d.disposition = r->disp;
		snprintf(d.from_domain, sizeof d.from_domain, "example.com");
		p.enforce = r->enforce;
		p.hold = r->hold;
		p.temperror_accept = r->temperror_accept;
		client(r->client, &ss);
		CHECK_STR(inauth_action_name(inauth_decide(&p, &d, r->tempfail,
		    (struct sockaddr *)&ss, &ov)), inauth_action_name(r->want),
		    "%s: action", r->name);
		CHECK_STR(ov, r->override, "%s: override", r->name);
	}
}

/* dmarc_allow_domains: the From domain or its Organizational Domain. */
static void
test_allow(void)
{
	const char *allow[] = { "example.com", "list.example.net" };
	struct inauth_policy p = { .enforce = 1, .allow = allow, .nallow = 2 };
	struct dmarc_result d = { .result = DMARC_FAIL,
	    .disposition = DMARC_D_REJECT };
	struct sockaddr_storage ss;
	const char *ov;

	client("192.0.2.1", &ss);
	snprintf(d.from_domain, sizeof d.from_domain, "mail.example.com");
	snprintf(d.org_domain, sizeof d.org_domain, "example.com");
	CHECK_INT(inauth_decide(&p, &d, 0, (struct sockaddr *)&ss, &ov),
	    INAUTH_ACCEPT, "org domain allowed");
	CHECK_STR(ov, "local_policy", "allow: override");
	snprintf(d.from_domain, sizeof d.from_domain, "list.example.net");
	snprintf(d.org_domain, sizeof d.org_domain, "example.net");
	CHECK_INT(inauth_decide(&p, &d, 0, (struct sockaddr *)&ss, &ov),
	    INAUTH_ACCEPT, "exact domain allowed");
	snprintf(d.from_domain, sizeof d.from_domain, "other.example.net");
	CHECK_INT(inauth_decide(&p, &d, 0, (struct sockaddr *)&ss, &ov),
	    INAUTH_REJECT, "a sibling of an allowed name is not allowed");
	CHECK(ov == NULL, "no override");
	snprintf(d.from_domain, sizeof d.from_domain, "notexample.com");
	snprintf(d.org_domain, sizeof d.org_domain, "notexample.com");
	CHECK_INT(inauth_decide(&p, &d, 0, (struct sockaddr *)&ss, &ov),
	    INAUTH_REJECT, "suffix match is no match");
}

int
main(void)
{
	test_rows();
	test_allow();
	return harness_end("inauth");
}
