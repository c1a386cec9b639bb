/* test_alert.c - engine/alert*.c: the alert's JSON, the mail's subject and
 * body, the retry schedule, and the outbox (add, due, retry, finish,
 * prune) in a temporary alerts.db. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/alert_int.h"
#include "harness.h"

#define T0 1795415400LL		/* 2026-11-23T06:30:00Z */

static const char evidence[] = "{\"rule\":\"messages=20/60s action=suspend\","
    "\"limit\":20,\"count\":20,\"counts\":{\"60s\":20},"
    "\"client_ips\":[\"192.0.2.7\"],\"sender\":\"<a@b.test>\","
    "\"subjects\":[\"hi, \\\"you\\\"\"]}";

static void
test_json(void)
{
	struct alert al = { ALERT_SUSPENSION, "alice@example.com", T0,
	    "messages=20/60s action=suspend", evidence,
	    "jaga suspend lift alice@example.com", 0 };
	char out[ALERT_JSON_MAX], tiny[32];

	CHECK_INT(alert_json(&al, "mx.example.org", out, sizeof out), 0,
	    "suspension");
	CHECK_STR(out, "{\"kind\":\"suspension\",\"name\":\"alice@example.com\","
	    "\"time\":\"2026-11-23T06:30:00Z\",\"host\":\"mx.example.org\","
	    "\"rule\":\"messages=20/60s action=suspend\",\"evidence\":{\"rule\":"
	    "\"messages=20/60s action=suspend\",\"limit\":20,\"count\":20,"
	    "\"counts\":{\"60s\":20},\"client_ips\":[\"192.0.2.7\"],"
	    "\"sender\":\"<a@b.test>\",\"subjects\":[\"hi, \\\"you\\\"\"]},"
	    "\"lift\":\"jaga suspend lift alice@example.com\"}", "suspension");
	CHECK_INT(alert_json(&al, "mx.example.org", tiny, sizeof tiny), -1,
	    "too small");
	CHECK_STR(tiny, "", "too small: empty");

	al = (struct alert){ ALERT_IP_LOCKOUT, "192.0.2.9", T0,
	    "reason=spraying strikes=1", NULL, "ends by itself", T0 + 60 };
	CHECK_INT(alert_json(&al, "h", out, sizeof out), 0, "ip lockout");
	CHECK_STR(out, "{\"kind\":\"ip_lockout\",\"name\":\"192.0.2.9\","
	    "\"time\":\"2026-11-23T06:30:00Z\",\"host\":\"h\","
	    "\"rule\":\"reason=spraying strikes=1\",\"evidence\":{},"
	    "\"until\":\"2026-11-23T06:31:00Z\",\"lift\":\"ends by itself\"}",
	    "ip lockout: no evidence is {}");

	/* a name is peer input: quotes, controls, UTF-8 kept, stray bytes */
	al = (struct alert){ ALERT_ACCOUNT_LOCKOUT, "a\"b\\c\r\n\xc3\xa9\xff",
	    T0, "ips=10 failures=10", "not json", "x", 0 };
	CHECK_INT(alert_json(&al, "h", out, sizeof out), 0, "escaping");
	CHECK(strstr(out, "\"name\":\"a\\\"b\\\\c\\u000d\\u000a\xc3\xa9?\"") !=
	    NULL, "escaping: %s", out);
	CHECK(strstr(out, "\"evidence\":{}") != NULL, "not an object: {}");
}

static void
test_subject(void)
{
	static const struct {
		enum alert_kind kind;
		const char *name, *rule, *want;
	} t[] = {
		{ ALERT_SUSPENSION, "alice@example.com",
		  "messages=30/60s action=suspend",
		  "jaga: alice@example.com suspended (messages=30/60s)" },
		{ ALERT_ACCOUNT_LOCKOUT, "bob", "ips=10 failures=10",
		  "jaga: account bob locked out (ips=10 failures=10)" },
		{ ALERT_IP_LOCKOUT, "192.0.2.9", "reason=failures strikes=2",
		  "jaga: IP 192.0.2.9 locked out (reason=failures strikes=2)" },
		{ ALERT_CREDENTIAL_AGE, "shop-app", "age_days=100 max_days=90",
		  "jaga: credential shop-app is due for rotation "
		  "(age_days=100 max_days=90)" },
		{ ALERT_CREDENTIAL_EXPIRY, "ses",
		  "expires=2026-12-03T06:30:00Z days_left=10",
		  "jaga: credential ses expires "
		  "(expires=2026-12-03T06:30:00Z days_left=10)" },
		/* nothing can start a header line of its own */
		{ ALERT_SUSPENSION, "x\r\nBcc: evil@x\xc3\xa9", "r",
		  "jaga: x??Bcc: evil@x?? suspended (r)" },
	};
	char out[512];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct alert al = { t[i].kind, t[i].name, T0, t[i].rule, NULL,
		    "", 0 };
		CHECK_INT(alert_subject(&al, out, sizeof out), 0, "subject %zu",
		    i);
		CHECK_STR(out, t[i].want, "subject %zu", i);
	}
}

static void
test_body(void)
{
	struct alert al = { ALERT_SUSPENSION, "alice@example.com", T0,
	    "messages=20/60s action=suspend", evidence,
	    "jaga suspend lift alice@example.com", 0 };
	char out[ALERT_JSON_MAX];

	CHECK_INT(alert_body(&al, "mx.example.org", out, sizeof out), 0,
	    "body");
	CHECK_STR(out, "jaga on mx.example.org suspended the identity "
	    "alice@example.com at 2026-11-23T06:30:00Z.\n\n"
	    "Rule: messages=20/60s action=suspend\n\n"
	    "Evidence:\n"
	    "  rule: messages=20/60s action=suspend\n"
	    "  limit: 20\n"
	    "  count: 20\n"
	    "  counts: {\"60s\":20}\n"
	    "  client_ips: [\"192.0.2.7\"]\n"
	    "  sender: <a@b.test>\n"
	    "  subjects: [\"hi, \\\"you\\\"\"]\n"
	    "\nTo lift it: jaga suspend lift alice@example.com\n", "body");
	al.kind = ALERT_ACCOUNT_LOCKOUT;
	al.until = T0 + 1800;
	al.evidence = "{\"ips\":10,\"last_ip\":\"192.0.2.7\"";	/* cut */
	CHECK_INT(alert_body(&al, "h", out, sizeof out), 0, "lockout body");
	CHECK(strstr(out, "  ips: 10\n  last_ip: 192.0.2.7\n") != NULL,
	    "cut evidence read to its end: %s", out);
	CHECK(strstr(out, "It ends by itself at 2026-11-23T07:00:00Z.\n") !=
	    NULL, "until: %s", out);
	CHECK_INT(alert_body(&al, "h", out, 40), -1, "body too small");

	al = (struct alert){ ALERT_CREDENTIAL_AGE, "shop-app", T0,
	    "age_days=100 max_days=90", "{\"kind\":\"app\"}",
	    "jaga user passwd shop-app", 0 };
	CHECK_INT(alert_body(&al, "h", out, sizeof out), 0, "age body");
	CHECK_STR(out, "jaga on h found past its maximum age the credential "
	    "shop-app at 2026-11-23T06:30:00Z.\n\nRule: age_days=100 "
	    "max_days=90\n\nEvidence:\n  kind: app\n\nWhat to do: jaga user "
	    "passwd shop-app\n", "age body");
	CHECK_INT(alert_json(&al, "h", out, sizeof out), 0, "age json");
	CHECK(strstr(out, "{\"kind\":\"credential_age\",\"name\":\"shop-app\"")
	    == out, "age json: %s", out);
	al.kind = ALERT_CREDENTIAL_EXPIRY;
	CHECK_INT(alert_json(&al, "h", out, sizeof out), 0, "expiry json");
	CHECK(strstr(out, "\"kind\":\"credential_expiry\"") != NULL,
	    "expiry json: %s", out);
}

static void
test_retry(void)
{
	static const struct {
		int attempt;
		long long want;
	} t[] = {
		{ 1, 5000 }, { 2, 10000 }, { 3, 20000 }, { 7, 320000 },
		{ 8, 600000 }, { 9, 600000 }, { 1000, 600000 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		CHECK_INT(alert_retry_delay(t[i].attempt, 5000, 600000),
		    t[i].want, "delay after attempt %d", t[i].attempt);
	CHECK_INT(alert_retry_delay(1, 0, 10), 1, "a zero minimum waits 1 ms");
	CHECK_INT(alert_retry_ok(1000, 1000 + 86400000, 86400000), 1,
	    "retry at exactly retry_time");
	CHECK_INT(alert_retry_ok(1000, 1001 + 86400000, 86400000), 0,
	    "past retry_time: given up");
	CHECK_INT(alert_retry_ok(1000, 1001, 0), 0, "retry_time 0: no retry");
}

static void
test_outbox(void)
{
	char dir[] = "/tmp/jaga-test-alert-XXXXXX", path[256], err[512];
	struct alert_row rows[ALERT_BATCH];
	struct alert_outbox *ob;
	unsigned chans = 1u << ALERT_CH_WEBHOOK | 1u << ALERT_CH_COMMAND;
	int n;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/%s", dir, ALERT_FILE);
	ob = alert_outbox_open(path, err, sizeof err);
	CHECK(ob != NULL, "open: %s", err);
	if (ob == NULL)
		return;
	CHECK_INT(alert_outbox_next(ob), 0, "empty: nothing pending");
	CHECK_INT(alert_outbox_add(ob, chans, "suspension", "alice", 5000,
	    "{}", "subj", "body", err, sizeof err), 0, "add");
	CHECK_INT(alert_outbox_pending(ob), 2, "two rows pending");
	CHECK_INT(alert_outbox_due(ob, 4999, rows, ALERT_BATCH, err,
	    sizeof err), 0, "not due before it was made");
	n = alert_outbox_due(ob, 5000, rows, ALERT_BATCH, err, sizeof err);
	CHECK_INT(n, 2, "one row per channel");
	if (n == 2) {
		CHECK_INT(rows[0].channel, ALERT_CH_WEBHOOK, "webhook row");
		CHECK_INT(rows[1].channel, ALERT_CH_COMMAND, "command row");
		CHECK_STR(rows[0].name, "alice", "name");
		CHECK_STR(rows[1].body, "body", "body");
		CHECK_INT(rows[0].created_ms, 5000, "created");
		CHECK_INT(alert_outbox_retry(ob, rows[0].id, 1, 10000, err,
		    sizeof err), 0, "retry");
		CHECK_INT(alert_outbox_finish(ob, rows[1].id, 1, 1, 6000, err,
		    sizeof err), 0, "delivered");
	}
	for (int i = 0; i < n; i++)
		alert_row_done(&rows[i]);
	CHECK_INT(alert_outbox_next(ob), 10000, "next: the retry");
	CHECK_INT(alert_outbox_pending(ob), 1, "the delivered one is done");
	CHECK_INT(alert_outbox_due(ob, 9999, rows, ALERT_BATCH, err,
	    sizeof err), 0, "retry not due yet");
	/* reopened (a restart): the pending row is still there */
	alert_outbox_close(ob);
	ob = alert_outbox_open(path, err, sizeof err);
	n = ob ? alert_outbox_due(ob, 10000, rows, ALERT_BATCH, err,
	    sizeof err) : -1;
	CHECK_INT(n, 1, "after a reopen");
	if (n == 1) {
		CHECK_INT(rows[0].attempts, 1, "attempts kept");
		alert_row_done(&rows[0]);
	}
	CHECK_INT(alert_outbox_prune(ob, 7000), 0, "prune");
	alert_outbox_close(ob);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s-wal", dir, ALERT_FILE);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s-shm", dir, ALERT_FILE);
	unlink(path);
	rmdir(dir);
}

/* The whole alerter: an alert posted just before a stop is kept (its
 * command failed or it was still queued), and delivered by the next
 * alerter on the same state_dir. */
static void
test_alerter(void)
{
	char dir[] = "/tmp/jaga-test-alerter-XXXXXX", path[256], err[512];
	struct alert_config cfg = { .hostname = "h", .command = "/bin/false",
	    .timeout_ms = 5000, .retry_min_ms = 100, .retry_max_ms = 100,
	    .retry_time_ms = 60000 };
	struct alert al = { ALERT_SUSPENSION, "alice", T0, "r", NULL, "l", 0 };
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct alert_outbox *ob;
	struct alerter *a;
	int64_t left = -1;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	cfg.state_dir = dir;
	a = alert_new(&cfg, err, sizeof err);
	CHECK(a != NULL && alert_start(a, err, sizeof err) == 0, "start: %s",
	    err);
	CHECK_INT(alert_post(a, &al), 0, "post");
	alert_free(a);
	snprintf(path, sizeof path, "%s/%s", dir, ALERT_FILE);
	ob = alert_outbox_open(path, err, sizeof err);
	CHECK(ob != NULL && alert_outbox_pending(ob) == 1, "kept at the stop");
	cfg.command = "/bin/true";
	a = alert_new(&cfg, err, sizeof err);
	CHECK(a != NULL && alert_start(a, err, sizeof err) == 0, "restart");
	for (int i = 0; i < 100 && ob != NULL && left != 0; i++) {
		usleep(50000);
		left = alert_outbox_pending(ob);
	}
	CHECK_INT(left, 0, "delivered after the restart");
	alert_free(a);
	alert_outbox_close(ob);
	CHECK_INT(alert_post(NULL, &al), 0, "no alerter: nothing to do");
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(path, sizeof path, "%s/%s%s", dir, ALERT_FILE, sfx[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	test_json();
	test_subject();
	test_body();
	test_retry();
	test_outbox();
	test_alerter();
	return harness_end("alert");
}
