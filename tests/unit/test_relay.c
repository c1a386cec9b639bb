/* test_relay.c - the open-relay decision, probed the way attackers do.
 *
 * Every row is a full RCPT path run through the real parser (mail/addr.c)
 * and then relay_check(), so the parser and the policy are tested as the
 * session uses them. */
#include "engine/relay.h"

#include "../../tests/unit/harness.h"

#define UTF8	ADDR_SMTPUTF8
#define PARSE_ERR	(-1)	/* the parser must already refuse it */

static const char *const relay_locals[] = {
	"local.test", "other.test", "[192.0.2.25]", "[ipv6:2001:db8::25]",
	"b\xc3\xbc" "cher.test", NULL
};
static const struct relay_policy relay_pol = { relay_locals };

struct relay_row {
	const char *path;
	unsigned mode;		/* extra addr_mode bits */
	int untrusted;		/* enum relay_verdict, or PARSE_ERR */
	int trusted;
};

static const struct relay_row relay_rows[] = {
	/* local domains, any case, exact */
	{ "<user@local.test>", 0, RELAY_OK, RELAY_OK },
	{ "<user@LOCAL.test>", 0, RELAY_OK, RELAY_OK },
	{ "<User.Name+tag@Other.Test>", 0, RELAY_OK, RELAY_OK },
	{ "user@local.test", 0, RELAY_OK, RELAY_OK },
	{ "<\"john doe\"@local.test>", 0, RELAY_OK, RELAY_OK },
	{ "<\"john.doe\"@local.test>", 0, RELAY_OK, RELAY_OK },
	/* Postmaster, RFC 5321 §4.1.1.3 */
	{ "<Postmaster>", 0, RELAY_OK, RELAY_OK },
	{ "<POSTMASTER>", 0, RELAY_OK, RELAY_OK },
	{ "<postmaster@local.test>", 0, RELAY_OK, RELAY_OK },
	{ "<postmaster@evil.test>", 0, RELAY_DENIED, RELAY_OK },
	/* source routes: dropped, the final domain decides */
	{ "<@evil.test:user@local.test>", 0, RELAY_OK, RELAY_OK },
	{ "<@evil.test,@evil2.test:user@local.test>", 0, RELAY_OK, RELAY_OK },
	{ "<@local.test:user@evil.test>", 0, RELAY_DENIED, RELAY_OK },
	{ "<@local.test,@other.test:user@evil.test>", 0, RELAY_DENIED,
	    RELAY_OK },
	/* foreign domains */
	{ "<user@evil.test>", 0, RELAY_DENIED, RELAY_OK },
	{ "user@evil.test", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@LOCAL.TEST.evil.test>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@evil.local.test>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@xlocal.test>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@local.tes>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@local.test0>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@local>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@test>", 0, RELAY_DENIED, RELAY_OK },
	/* percent hack, bang paths, ":" in the local part */
	{ "<user%evil.test@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<user%evil.test%other.test@local.test>", 0, RELAY_ROUTING,
	    RELAY_OK },
	{ "<evil.test!user@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<a!b!user@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<user%local.test@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	/* quoted local parts hiding routing syntax */
	{ "<\"user@evil.test\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"user%evil.test\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"user\\@evil.test\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"user\\%evil.test\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"evil.test!user\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"@evil.test:user\"@local.test>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<\"user@evil.test\"@evil.test>", 0, RELAY_ROUTING, RELAY_OK },
	/* trailing dot */
	{ "<user@local.test.>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<user@LOCAL.TEST.>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<user@evil.test.>", 0, RELAY_ROUTING, RELAY_OK },
	{ "<user@local.test..>", 0, PARSE_ERR, PARSE_ERR },
	/* address literals: local only when listed exactly */
	{ "<user@[127.0.0.1]>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@[192.0.2.26]>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@[192.0.2.25]>", 0, RELAY_OK, RELAY_OK },
	{ "<user@[IPv6:2001:DB8::25]>", 0, RELAY_OK, RELAY_OK },
	{ "<user@[IPv6:2001:db8:0::25]>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@[IPv6:::ffff:192.0.2.25]>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@[x-local:local.test]>", 0, RELAY_DENIED, RELAY_OK },
	{ "<user@[local.test]>", 0, PARSE_ERR, PARSE_ERR },
	/* more than one "@": a syntax error before any policy */
	{ "<user@evil.test@local.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "<user@local.test@evil.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "user@evil.test@local.test", 0, PARSE_ERR, PARSE_ERR },
	{ "<user@local.test:evil.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "<user@local.test,evil.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "<user@local.test%evil.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "<user@local.test!evil.test>", 0, PARSE_ERR, PARSE_ERR },
	{ "<>", 0, PARSE_ERR, PARSE_ERR },
	/* UTF-8 domains: byte-exact after ASCII lowercasing */
	{ "<u@b\xc3\xbc" "cher.test>", UTF8, RELAY_OK, RELAY_OK },
	{ "<u@B\xc3\xbc" "CHER.test>", UTF8, RELAY_OK, RELAY_OK },
	{ "<u@b\xc3\x9c" "cher.test>", UTF8, RELAY_DENIED, RELAY_OK },
	{ "<\xc3\xbc@local.test>", UTF8, RELAY_OK, RELAY_OK },
	{ "<\xc3\xbc%evil.test@local.test>", UTF8, RELAY_ROUTING, RELAY_OK },
	{ "<u@b\xc3\xbc" "cher.test>", 0, PARSE_ERR, PARSE_ERR },
	/* look-alikes that NFKC folds into routing characters */
	{ "<user\xef\xbc\xa0" "evil.test@local.test>", UTF8, RELAY_ROUTING,
	    RELAY_OK },
	{ "<user\xef\xbc\x85" "evil.test@local.test>", UTF8, RELAY_ROUTING,
	    RELAY_OK },
	{ "<evil.test\xef\xbc\x81" "user@local.test>", UTF8, RELAY_ROUTING,
	    RELAY_OK },
	{ "<\"user\xef\xb9\xab" "evil.test\"@local.test>", UTF8,
	    RELAY_ROUTING, RELAY_OK },
	{ "<a\xef\xbc\x9a" "b@local.test>", UTF8, RELAY_ROUTING, RELAY_OK },
	{ "<user@local\xef\xbc\x8e" "test>", UTF8, RELAY_DENIED, RELAY_OK },
};

static void
relay_test_row(const struct relay_row *r, int i)
{
	struct addr a;
	size_t used;
	enum addr_err e;

	e = addr_parse(r->path, strlen(r->path), ADDR_LENIENT | r->mode, &a,
	    &used);
	if (r->untrusted == PARSE_ERR) {
		CHECK(e != ADDR_OK, "row %d %s: must not parse", i, r->path);
		return;
	}
	CHECK_INT(e, ADDR_OK, "row %d %s: parse", i, r->path);
	CHECK_INT(used, strlen(r->path), "row %d %s: used", i, r->path);
	CHECK_INT(relay_check(&relay_pol, &a, 0), r->untrusted,
	    "row %d %s: untrusted", i, r->path);
	CHECK_INT(relay_check(&relay_pol, &a, 1), r->trusted,
	    "row %d %s: trusted", i, r->path);
}

/* The probes from the brief, against local_domains = {"local.test"}. */
static const char *const relay_probe_locals[] = { "local.test", NULL };

static void
relay_test_probes(void)
{
	static const struct {
		const char *path;
		int ok;
	} rows[] = {
		{ "<user@evil.test>", 0 },
		{ "<user%evil.test@local.test>", 0 },
		{ "<evil.test!user@local.test>", 0 },
		{ "<\"user@evil.test\"@local.test>", 0 },
		{ "<\"user%evil.test\"@local.test>", 0 },
		{ "<\"user\\@evil.test\"@local.test>", 0 },
		{ "<@local.test:user@evil.test>", 0 },
		{ "<user@[127.0.0.1]>", 0 },
		{ "<user@local.test.>", 0 },
		{ "<user@LOCAL.TEST.evil.test>", 0 },
		{ "<user@evil.test@local.test>", 0 },
		{ "<user@local.test@evil.test>", 0 },
		{ "<user@LOCAL.test>", 1 },
		{ "<@evil.test:user@local.test>", 1 },
		{ "<\"john doe\"@local.test>", 1 },
		{ "<Postmaster>", 1 },
	};
	struct relay_policy p = { relay_probe_locals };
	struct addr a;
	size_t i, used;
	int ok;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ok = addr_parse(rows[i].path, strlen(rows[i].path),
		    ADDR_LENIENT, &a, &used) == ADDR_OK &&
		    relay_check(&p, &a, 0) == RELAY_OK;
		CHECK_INT(ok, rows[i].ok, "probe %s", rows[i].path);
	}
}

struct local_row {
	const char *domain;
	int want;
};

static const struct local_row local_rows[] = {
	{ "local.test", 1 }, { "LOCAL.TEST", 1 }, { "Local.Test.", 1 },
	{ "other.test", 1 }, { "local.test..", 0 }, { "", 0 }, { ".", 0 },
	{ "evil.local.test", 0 }, { "local.test.evil", 0 }, { "test", 0 },
	{ "local", 0 }, { "local.tes", 0 }, { "local.testx", 0 },
	{ "b\xc3\xbc" "cher.test", 1 }, { "B\xc3\xbc" "CHER.TEST", 1 },
	{ "b\xc3\x9c" "cher.test", 0 }, { "[192.0.2.25]", 1 },
};

static void
relay_test_is_local(void)
{
	const char *const none[] = { NULL };
	struct relay_policy empty = { none }, unset = { NULL };
	struct addr a;
	size_t i, used;

	for (i = 0; i < sizeof local_rows / sizeof local_rows[0]; i++)
		CHECK_INT(relay_is_local_domain(&relay_pol,
		    local_rows[i].domain), local_rows[i].want,
		    "is_local \"%s\"", local_rows[i].domain);
	CHECK_INT(relay_is_local_domain(&empty, "local.test"), 0, "empty");
	CHECK_INT(relay_is_local_domain(&unset, "local.test"), 0, "unset");
	addr_parse("<u@local.test>", 14, 0, &a, &used);
	CHECK_INT(relay_check(&unset, &a, 0), RELAY_DENIED, "unset: denied");
	CHECK_INT(relay_check(&unset, &a, 1), RELAY_OK, "unset: trusted");
}

/* Structures the parser never produces must not slip through either. */
static void
relay_test_forged(void)
{
	struct addr a;

	memset(&a, 0, sizeof a);
	a.flags = ADDR_F_NODOMAIN;
	snprintf(a.local, sizeof a.local, "evil");
	snprintf(a.local_decoded, sizeof a.local_decoded, "evil");
	CHECK_INT(relay_check(&relay_pol, &a, 0), RELAY_DENIED,
	    "forged NODOMAIN");
	snprintf(a.local_decoded, sizeof a.local_decoded, "PostMaster");
	CHECK_INT(relay_check(&relay_pol, &a, 0), RELAY_OK, "NODOMAIN");
	memset(&a, 0, sizeof a);
	a.flags = ADDR_F_NULL;
	CHECK_INT(relay_check(&relay_pol, &a, 0), RELAY_DENIED, "null rcpt");
	memset(&a, 0, sizeof a);
	snprintf(a.local_decoded, sizeof a.local_decoded, "u");
	CHECK_INT(relay_check(&relay_pol, &a, 0), RELAY_DENIED,
	    "empty domain");
}

static void
relay_test_reasons(void)
{
	CHECK_STR(relay_reason(RELAY_OK), "", "reason ok");
	CHECK_STR(relay_reason(RELAY_DENIED), "Relay access denied",
	    "reason denied");
	CHECK_STR(relay_reason(RELAY_ROUTING),
	    "Routing syntax in recipient address not allowed",
	    "reason routing");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof relay_rows / sizeof relay_rows[0]; i++)
		relay_test_row(&relay_rows[i], (int)i);
	relay_test_probes();
	relay_test_is_local();
	relay_test_forged();
	relay_test_reasons();
	return harness_end("relay");
}
