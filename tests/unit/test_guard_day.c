/* test_guard_day.c - no false alarm (issue 3 §4): the real guard
 * (gateway/guard.c: guard_decide with the default limits and burst rules,
 * SQLite counters, burst store and suspensions in a temporary state_dir)
 * sees two simulated days of ordinary traffic from 50 identities on a
 * fake clock and suspends none; then two compromised identities burst and
 * are suspended, with evidence.  The burst store holds the five days before
 * (recorded through engine/burst_sqlite.c itself), as it does in a gateway
 * that has run for days: the baseline is what lets a list-like sender
 * reach 45 domains in its usual hour.  Without any history, that first run
 * is new behaviour and is flagged (README: tuning the burst rules).
 *
 * A C test rather than a wire test: a day of traffic is about 2,100
 * messages, which through SMTP would take minutes; here
 * it takes about 2 seconds, and the clock can be simulated.  The session
 * side (smtpd_guard.c) is covered by tests/wire/test_burst.py.
 *
 * The identities (a fixed pseudo-random seed):
 *   40 people: 0-60 mails a working day between 8:00 and 18:00, about a
 *      third of them in one run of 10-20 replies within 40 minutes; 1-3
 *      recipients in 1-2 domains; roaming between office, home and phone
 *      (three networks) during the day;
 *    5 list-like senders: one run of 35-45 messages to as many domains at
 *      9:00 every day (the default domains=50/1h limit caps a clock hour),
 *      and a few ordinary mails;
 *    5 applications: 6 notifications an hour, day and night, each to a
 *      customer in one of 300 domains, from one IP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/store.h"
#include "gateway/authdb.h"
#include "gateway/guard.h"
#include "gateway/params.h"
#include "harness.h"
#include "util/config.h"

#define DAY0	1700438400LL	/* Monday 2023-11-20 00:00 UTC */
#define DAY	86400
#define DAYS	2		/* judged through the guard */
#define HISTORY	5		/* days in the burst store before */
#define NID	50
#define NMSG	4096		/* messages of one identity in one day, at most */

struct msg {
	int64_t t;
	int ip;			/* 0 office, 1 home, 2 phone, 3+ app */
	int nd;
	char dom[2][32];
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static void
add(struct msg *m, int *n, int64_t t, int ip, int nd, unsigned dom0)
{
	struct msg *x = &m[(*n)++];

	x->t = t;
	x->ip = ip;
	x->nd = nd;
	for (int i = 0; i < nd; i++)
		snprintf(x->dom[i], sizeof x->dom[i], "d%u.test", dom0 + (unsigned)i);
}

/* Office until 12, phone over lunch, home after 15 (a third of people). */
static int
person_ip(int64_t tod, int who)
{
	if (tod < 12 * 3600)
		return 0;
	if (tod < 13 * 3600)
		return 2;
	return who % 3 == 0 && tod >= 15 * 3600 ? 1 : 0;
}

static int
person_day(struct msg *m, int64_t day, int who)
{
	int n = 0, total = (int)rnd(61), run = total >= 20 ? 10 + (int)rnd(11) : 0;
	int64_t start = day + 8 * 3600 + rnd(8 * 3600);

	for (int i = 0; i < run; i++)	/* a run of replies */
		add(m, &n, start + rnd(2400), person_ip(start % DAY, who),
		    1 + (int)rnd(2), rnd(20));
	for (int i = run; i < total; i++) {
		int64_t t = day + 8 * 3600 + rnd(10 * 3600);
		add(m, &n, t, person_ip(t - day, who), 1 + (int)rnd(2), rnd(40));
	}
	return n;
}

static int
list_day(struct msg *m, int64_t day)
{
	int n = 0, run = 35 + (int)rnd(11);

	for (int i = 0; i < run; i++)
		add(m, &n, day + 9 * 3600 + 60 + i * 60, 0, 1, 100 + (unsigned)i);
	for (int i = 0; i < 5; i++)
		add(m, &n, day + 11 * 3600 + rnd(6 * 3600), 0, 1, rnd(20));
	return n;
}

static int
app_day(struct msg *m, int64_t day)
{
	int n = 0;

	for (int i = 0; i < 144; i++)
		add(m, &n, day + i * 600 + rnd(500), 3, 1, 500 + rnd(300));
	return n;
}

static const char *
ip_of(int who, int ip, char *buf, size_t len)
{
	static const char *const nets[] = { "198.51.100", "203.0.113",
	    "100.64.1", "192.0.2" };

	snprintf(buf, len, "%s.%d", nets[ip < 3 ? ip : 3], who + 1);
	return buf;
}

/* Send one message of identity who through guard_decide. */
static enum guard_verdict
send_one(struct guard *g, int who, const struct msg *x, const char *ip,
    struct guard_result *res)
{
	char name[32], sender[64], helo[] = "client.test";
	const char *doms[2] = { x->dom[0], x->dom[1] };
	struct guard_msg m = {
		.name = name, .client_ip = ip, .helo = helo, .sender = sender,
		.subject = "Re: the plan", .domains = doms,
		.ndomains = (size_t)x->nd, .nrcpts = (uint32_t)x->nd,
		.first = x->t, .now = x->t,
	};

	snprintf(name, sizeof name, "user%02d", who);
	snprintf(sender, sizeof sender, "<user%02d@corp.test>", who);
	guard_decide(g, &m, res);
	return res->verdict;
}

static int
day_of(struct msg *m, int64_t day, int who)
{
	int n = who < 40 ? person_day(m, day, who) : who < 45 ?
	    list_day(m, day) : app_day(m, day);

	qsort(m, (size_t)n, sizeof *m, msg_cmp);
	return n;
}

/* Four days of ordinary traffic: no message refused. */
static void
test_ordinary_days(struct guard *g, struct msg *m)
{
	struct guard_result res;
	int refused = 0, sent = 0;
	char ip[32];

	for (int d = 0; d < DAYS; d++) {
		for (int who = 0; who < NID; who++) {
			int n = day_of(m, DAY0 + d * DAY, who);
			for (int i = 0; i < n; i++, sent++)
				if (send_one(g, who, &m[i], ip_of(who, m[i].ip, ip,
				    sizeof ip), &res) != GUARD_PASS) {
					refused++;
					fprintf(stderr, "user%02d refused: %s (key %s)\n",
					    who, res.rule, res.key);
				}
		}
	}
	CHECK(sent > DAYS * 1800, "a realistic volume: %d messages", sent);
	CHECK_INT(refused, 0, "no message of ordinary traffic refused");
}

static int
suspended(struct authdb *adb, const char *name, struct suspension *su)
{
	char err[256];
	struct store *st = authdb_take(adb, err, sizeof err);
	int r = st ? store_suspend_get(st, name, su, err, sizeof err) : -1;

	if (st != NULL)
		authdb_give(adb, st);
	return r == 0 && su->active;
}

static void
test_none_suspended(struct authdb *adb)
{
	struct suspension su;
	char name[32];
	int n = 0;

	for (int who = 0; who < NID; who++) {
		snprintf(name, sizeof name, "user%02d", who);
		n += suspended(adb, name, &su);
	}
	CHECK_INT(n, 0, "no identity suspended after %d days", DAYS);
}

/* Day 5: user07's password is used from 6 addresses within minutes, and
 * user08 sends 150 mails in 25 minutes (under every fixed limit). */
static void
test_compromised(struct guard *g, struct authdb *adb)
{
	struct guard_result res = { 0 };
	struct msg x = { .nd = 1 };
	struct suspension su;
	int64_t t = DAY0 + DAYS * DAY + 10 * 3600;
	char ip[32];
	int i;

	snprintf(x.dom[0], sizeof x.dom[0], "victim.test");
	for (i = 0; i < 6; i++) {
		x.t = t + i * 30;
		snprintf(ip, sizeof ip, "192.0.2.%d", 100 + i);
		if (send_one(g, 7, &x, ip, &res) != GUARD_PASS)
			break;
	}
	CHECK(i == 5 && res.verdict == GUARD_SUSPEND,
	    "the sixth IP suspends: %d %d", i, res.verdict);
	CHECK(suspended(adb, "user07", &su) && strcmp(su.rule,
	    "burst ips=6/10m") == 0, "user07 suspended: %s", su.rule);
	CHECK(strstr(su.evidence, "\"192.0.2.105\"") != NULL &&
	    strstr(su.evidence, "\"192.0.2.100\"") != NULL,
	    "evidence lists the IPs: %s", su.evidence);
	for (i = 0; i < 150; i++) {
		x.t = t + i * 10;
		snprintf(x.dom[0], sizeof x.dom[0], "d%d.test", i % 20);
		if (send_one(g, 8, &x, "198.51.100.9", &res) != GUARD_PASS)
			break;
	}
	CHECK(i == 100 && res.verdict == GUARD_SUSPEND,
	    "the 101st mail in an hour suspends: %d", i);
	CHECK(suspended(adb, "user08", &su) && strcmp(su.rule,
	    "burst messages=101/1h") == 0, "user08 suspended: %s", su.rule);
	CHECK(strstr(su.evidence, "\"top_domains\":{") != NULL &&
	    strstr(su.evidence, "\"subjects\":[\"Re: the plan\"]") != NULL,
	    "evidence: domains and subjects: %s", su.evidence);
}

/* The days before DAY0, straight into state_dir/burst.db. */
static int
history(const char *dir, const struct burst_params *p, struct msg *m)
{
	char path[256], err[256], ip[32], name[32];
	struct burst_store *bs;
	struct burst_stats st;

	snprintf(path, sizeof path, "%s/%s", dir, GUARD_BURST_FILE);
	if ((bs = burst_sqlite_new(path, err, sizeof err)) == NULL)
		return -1;
	for (int d = HISTORY; d > 0; d--)
		for (int who = 0; who < NID; who++) {
			int n = day_of(m, DAY0 - d * DAY, who);
			snprintf(name, sizeof name, "user%02d", who);
			for (int i = 0; i < n; i++) {
				const char *doms[2] = { m[i].dom[0], m[i].dom[1] };
				struct burst_msg b = { name, m[i].t, ip_of(who,
				    m[i].ip, ip, sizeof ip), "", doms,
				    (size_t)m[i].nd };
				if (bs->ops->record(bs, p, &b, &st) < 0)
					return -1;
			}
		}
	burst_store_free(bs);
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/test_guard_day.XXXXXX", path[256], err[512];
	struct config *c = config_new(jaga_params, jaga_nparams);
	struct msg *m = calloc(NMSG, sizeof *m);
	struct authdb *adb = NULL;
	struct guard *g = NULL;
	struct settings st;

	if (c == NULL || m == NULL || mkdtemp(dir) == NULL ||
	    settings_load(&st, c, NULL) != 0)
		return 1;
	CHECK(history(dir, &st.guard.burst, m) == 0, "five days of history");
	snprintf(path, sizeof path, "%s/jaga.db", dir);
	adb = authdb_new(path, NULL, err, sizeof err);
	if (adb != NULL)
		g = guard_new(adb, dir, st.limits_default, err, sizeof err);
	CHECK(g != NULL && guard_configure(g, &st.guard, err, sizeof err) == 0 &&
	    authdb_prepare(adb, err, sizeof err) == 0 &&
	    guard_prepare(g, err, sizeof err) == 0, "guard: %s", err);
	if (g != NULL) {
		test_ordinary_days(g, m);
		test_none_suspended(adb);
		test_compromised(g, adb);
	}
	guard_free(g);
	authdb_free(adb);
	settings_done(&st);
	config_free(c);
	free(m);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return harness_end("guard_day");
}
