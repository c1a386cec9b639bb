/* test_evidence.c - engine/evidence.c: the rule text, the JSON kept with a
 * suspension (escaping, distinct domains, bounds) and Subject: lookup. */
#include <stdio.h>
#include <string.h>

#include "engine/evidence.h"
#include "harness.h"

static void
test_subject(void)
{
	static const struct {
		const char *msg, *want;
		int found;
	} t[] = {
		{ "From: a@b\r\nSubject: hello\r\n\r\nbody", "hello", 1 },
		{ "subject:  folded\r\n  line\r\nX: y\r\n\r\n", "folded  line", 1 },
		{ "From: a@b\r\n\r\nSubject: in the body\r\n", "", 0 },
		{ "Subject: ctl\x01\xc3\xa9\r\n\r\n", "ctl???", 1 },
		{ "X-Subject: no\r\n\r\n", "", 0 },
		{ "", "", 0 },
	};
	char out[EVIDENCE_SUBJECT_MAX + 1], small[6];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int r = evidence_subject(t[i].msg, strlen(t[i].msg), out,
		    sizeof out);
		CHECK_INT(r, t[i].found, "subject %zu found", i);
		CHECK_STR(out, t[i].want, "subject %zu", i);
	}
	evidence_subject("Subject: a long one\r\n\r\n", 23, small, sizeof small);
	CHECK_STR(small, "a lon", "cut at the buffer");
}

static void
test_json(void)
{
	static const char *const doms[] = { "a.test", "B.test", "A.TEST" };
	struct limits_verdict v = { .refused = 1, .rule = { LIMITS_MESSAGES,
	    LIMITS_SUSPEND, 60, 20 }, .count = 20, .window_end = 1200 };
	struct evidence e = { .v = &v, .client_ip = "192.0.2.7",
	    .helo = "h\"x\\", .sender = NULL, .domains = doms, .ndomains = 3,
	    .subject = "s\x01", .first = 1100, .last = 1150 };
	char out[4096], tiny[16], rule[64];

	evidence_rule(&v.rule, rule, sizeof rule);
	CHECK_STR(rule, "messages=20/60s action=suspend", "rule");
	CHECK_INT(evidence_json(&e, out, sizeof out), 0, "json");
	CHECK_STR(out, "{\"rule\":\"messages=20/60s action=suspend\","
	    "\"window_start\":1140,\"window_end\":1200,\"limit\":20,"
	    "\"count\":20,\"counts\":{\"60s\":20},\"client_ips\":"
	    "[\"192.0.2.7\"],\"helo\":\"h\\\"x\\\\\",\"sender\":\"\","
	    "\"rcpt_domains\":[\"a.test\",\"B.test\"],\"first\":1100,"
	    "\"last\":1150,\"subjects\":[\"s?\"]}", "json text");
	CHECK_INT(evidence_json(&e, tiny, sizeof tiny), -1, "too small");
	CHECK_STR(tiny, "{}", "too small: empty object");
}

int
main(void)
{
	test_subject();
	test_json();
	return harness_end("evidence");
}
