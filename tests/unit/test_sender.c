/* test_sender.c - From: extraction (RFC 5322 §3.6.2 through GMime) and the
 * allowed-sender matching of mail/sender.c. */
#include <string.h>

#include "mail/sender.h"
#include "harness.h"

static const struct {
	const char *msg;
	enum sender_from want;
	const char *addrs;	/* newline-separated, when OK */
} extract_cases[] = {
	{ "From: alice@local.test\r\n\r\nbody\r\n", SENDER_FROM_OK,
	    "alice@local.test" },
	{ "Received: from x\r\n\tby y; date\r\nFrom: \"Alice A.\" "
	    "<alice@local.test>\r\nTo: b@c.test\r\n\r\n", SENDER_FROM_OK,
	    "alice@local.test" },
	{ "From: alice@local.test (Alice in a comment)\r\n\r\n",
	    SENDER_FROM_OK, "alice@local.test" },
	{ "From: Alice (the boss) <alice(x)@local.test>\r\n\r\n",
	    SENDER_FROM_OK, "alice@local.test" },
	{ "From: =?utf-8?q?ceo=40local=2Etest?= <alice@local.test>\r\n\r\n",
	    SENDER_FROM_OK, "alice@local.test" },
	{ "From: =?utf-8?b?Y2VvQGxvY2FsLnRlc3Q=?=\r\n\r\n", SENDER_FROM_BAD,
	    NULL },
	{ "From: a@local.test, \"B\" <b@other.test>\r\n\r\n", SENDER_FROM_OK,
	    "a@local.test\nb@other.test" },
	{ "From: team: a@local.test, b@local.test;\r\n\r\n", SENDER_FROM_OK,
	    "a@local.test\nb@local.test" },
	{ "From: undisclosed:;\r\n\r\n", SENDER_FROM_BAD, NULL },
	{ "From: Jos\xc3\xa9 <jos\xc3\xa9@b\xc3\xbc" "cher.test>\r\n\r\n",
	    SENDER_FROM_OK, "jos\xc3\xa9@b\xc3\xbc" "cher.test" },
	{ "From: Alice\r\n\t<alice@local.test>\r\n\r\n", SENDER_FROM_OK,
	    "alice@local.test" },
	{ "From: alice@local.test\r\n\tjunk\r\n\r\n", SENDER_FROM_BAD, NULL },
	{ "Subject: x\r\n\r\nFrom: alice@local.test\r\n", SENDER_FROM_MISSING,
	    NULL },
	{ "From: a@local.test\r\nfrom: b@local.test\r\n\r\n",
	    SENDER_FROM_MULTIPLE, NULL },
	{ "From: nobody\r\n\r\n", SENDER_FROM_BAD, NULL },
	{ "From: \r\n\r\n", SENDER_FROM_BAD, NULL },
	{ "Resent-From: a@local.test\r\n\r\n", SENDER_FROM_MISSING, NULL },
	{ "From: a@local.test\n\n", SENDER_FROM_OK, "a@local.test" },
};

static const struct {
	const char *list, *addr;
	int want;
} match_cases[] = {
	{ "alice@local.test", "alice@local.test", 1 },
	{ "alice@local.test", "alice@LOCAL.Test", 1 },
	{ "alice@local.test", "Alice@local.test", 0 },	/* RFC 5321 §2.4 */
	{ "alice@local.test", "alice@local.test.evil", 0 },
	{ "alice@local.test", "malice@local.test", 0 },
	{ "@local.test", "anyone@local.test", 1 },
	{ "@local.test", "x@sub.local.test", 0 },
	{ "@local.test", "x@evillocal.test", 0 },
	{ "@Local.Test", "x@local.TEST", 1 },
	{ "a@x.test\n@local.test", "b@local.test", 1 },
	{ "a@x.test\nb@y.test", "b@y.test", 1 },
	{ "", "a@x.test", 0 },
	{ "@local.test", "", 0 },
	{ "@local.test", "nodomain", 0 },
	{ "\"a@b\"@local.test", "\"a@b\"@local.test", 1 },
};

static void
test_extract(void)
{
	for (size_t i = 0; i < sizeof extract_cases / sizeof extract_cases[0];
	    i++) {
		char out[1024];
		const char *m = extract_cases[i].msg;
		enum sender_from r = sender_from_extract(m, strlen(m), out,
		    sizeof out);
		CHECK_INT(r, extract_cases[i].want, "extract case %zu", i);
		if (r == SENDER_FROM_OK && extract_cases[i].addrs)
			CHECK_STR(out, extract_cases[i].addrs, "addrs case %zu", i);
	}
}

static void
test_match(void)
{
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0];
	    i++)
		CHECK_INT(sender_allowed(match_cases[i].list,
		    match_cases[i].addr), match_cases[i].want,
		    "match case %zu: %s in %s", i, match_cases[i].addr,
		    match_cases[i].list);
}

static void
test_check(void)
{
	const char *ok = "From: A <a@local.test>, b@local.test\r\n\r\n";
	const char *bad = "From: a@local.test, ceo@evil.test\r\n\r\n";
	const char *idn = "From: x@xn--bcher-kva.test\r\n\r\n";
	char why[SENDER_ADDR_MAX];

	CHECK_INT(sender_from_check(ok, strlen(ok), "@local.test", why,
	    sizeof why), SENDER_FROM_OK, "all allowed");
	CHECK_INT(sender_from_check(bad, strlen(bad), "@local.test", why,
	    sizeof why), SENDER_FROM_DENIED, "one refused");
	CHECK_STR(why, "ceo@evil.test", "the refused one is named");
	CHECK_INT(sender_from_check(idn, strlen(idn),
	    "@b\xc3\xbc" "cher.test\n@xn--bcher-kva.test", why, sizeof why),
	    SENDER_FROM_OK, "IDNA form");
	CHECK(strcmp(sender_from_reason(SENDER_FROM_MULTIPLE), "") != 0,
	    "reason text");
}

int
main(void)
{
	test_extract();
	test_match();
	test_check();
	return harness_end("sender");
}
