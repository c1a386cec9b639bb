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

static void
activity_fill(struct burst_activity *a)
{
	memset(a, 0, sizeof *a);
	a->nips = 2;
	snprintf(a->ip[0], sizeof a->ip[0], "192.0.2.1");
	snprintf(a->ip[1], sizeof a->ip[1], "192.0.2.7");
	a->ndomains = 2;
	snprintf(a->domain[0], sizeof a->domain[0], "b.test");
	a->domain_n[0] = 9;
	snprintf(a->domain[1], sizeof a->domain[1], "c.test");
	a->domain_n[1] = 2;
	a->nsubjects = 2;
	snprintf(a->subject[0], sizeof a->subject[0], "first");
	snprintf(a->subject[1], sizeof a->subject[1], "second");
	a->first = 1000;
	a->last = 1150;
	a->msgs = 11;
}

/* A burst rule with the recent activity. */
static void
test_json_burst(void)
{
	static const char *const doms[] = { "a.test", "b.test" };
	struct burst_params p;
	struct burst_stats st = { .msgs_hour = 11, .domains_hour = 3,
	    .ips = 6, .nets = 1, .base_msgs = 10, .base_hours = 4 };
	struct burst_verdict bv;
	struct burst_activity a;
	struct evidence e = { .burst = &bv, .bp = &p, .stats = &st, .act = &a,
	    .client_ip = "192.0.2.7", .helo = "h", .sender = "<u@x.test>",
	    .domains = doms, .ndomains = 2, .subject = "second",
	    .first = 1100, .last = 1150 };
	char out[4096];

	burst_params_default(&p);
	burst_check(&p, &st, &bv);
	activity_fill(&a);
	CHECK_INT(evidence_json(&e, out, sizeof out), 0, "burst json");
	CHECK_STR(out, "{\"rule\":\"burst ips=6/10m\",\"window_start\":550,"
	    "\"window_end\":1150,\"limit\":5,\"count\":6,\"counts\":{"
	    "\"messages/1h\":11,\"domains/1h\":3,\"ips/10m\":6,"
	    "\"nets/10m\":1,\"baseline/1h\":3},\"client_ips\":[\"192.0.2.7\","
	    "\"192.0.2.1\"],\"helo\":\"h\",\"sender\":\"<u@x.test>\","
	    "\"rcpt_domains\":[\"a.test\",\"b.test\",\"c.test\"],"
	    "\"top_domains\":{\"b.test\":9,\"c.test\":2},\"messages\":11,"
	    "\"first\":1000,\"last\":1150,\"subjects\":[\"first\","
	    "\"second\"]}", "burst json text");
}

/* Long lists of long strings still fit STORE_EVIDENCE_MAX: fewer kept. */
static void
test_json_bounded(void)
{
	struct limits_verdict v = { .refused = 1, .rule = { LIMITS_DOMAINS,
	    LIMITS_SUSPEND, 3600, 50 }, .count = 50, .window_end = 3600 };
	struct burst_activity a;
	struct evidence e = { .v = &v, .act = &a, .client_ip = "192.0.2.7" };
	char out[4096];

	memset(&a, 0, sizeof a);
	a.nips = BURST_IPS_MAX;
	a.ndomains = BURST_DOMAINS_MAX;
	a.nsubjects = BURST_SUBJECTS_MAX;
	for (size_t i = 0; i < BURST_DOMAINS_MAX; i++) {
		snprintf(a.ip[i], sizeof a.ip[i], "2001:db8::%zu", i);
		memset(a.domain[i], '"', 200);	/* escaped: doubles */
		a.domain[i][0] = (char)('a' + i);
		a.domain_n[i] = 1;
	}
	for (size_t i = 0; i < BURST_SUBJECTS_MAX; i++) {
		memset(a.subject[i], '\\', BURST_SUBJECT_MAX);
		a.subject[i][0] = (char)('a' + i);
	}
	CHECK_INT(evidence_json(&e, out, sizeof out), 0, "bounded json");
	CHECK(strlen(out) < sizeof out && strstr(out, "\"client_ips\":[") &&
	    out[strlen(out) - 1] == '}', "bounded json fits: %zu", strlen(out));
}

int
main(void)
{
	test_subject();
	test_json();
	test_json_burst();
	test_json_bounded();
	return harness_end("evidence");
}
