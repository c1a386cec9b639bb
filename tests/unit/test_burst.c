/* test_burst.c - engine/burst.c (the rules, table-driven), and the same
 * store cases (counts, baseline, forgetting, activity) on a fake clock for
 * engine/burst_sqlite.c and engine/burst_redis.c, the latter against a
 * real redis-server this test starts on a free loopback port. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/burst.h"
#include "engine/redisdb.h"
#include "harness.h"
#include "redis_scratch.h"

#define T0 1700000000LL		/* a fake clock: 2023-11-14 22:13:20 UTC */
#define DAY 86400

static void
test_rules(void)
{
	static const struct {
		const char *what;
		struct burst_stats st;
		const char *want;	/* the rule text, "" = none */
	} t[] = {
		{ "quiet", { 5, 3, 1, 1, 0, 0, 0 }, "" },
		{ "at the floor", { 100, 3, 1, 1, 0, 0, 0 }, "" },
		{ "over the floor, no history", { 101, 3, 1, 1, 0, 0, 0 },
		  "burst messages=101/1h" },
		/* baseline 20/h over 10 active hours: threshold 200 */
		{ "busy account, 150/h", { 150, 3, 1, 1, 200, 20, 10 }, "" },
		{ "busy account, 201/h", { 201, 3, 1, 1, 200, 20, 10 },
		  "burst messages=201/1h" },
		/* 2 mails in 24 active hours: baseline 1, floor wins */
		{ "low baseline, floor", { 99, 3, 1, 1, 2, 2, 24 }, "" },
		{ "5 IPs", { 10, 3, 5, 1, 0, 0, 0 }, "" },
		{ "6 IPs", { 10, 3, 6, 1, 0, 0, 0 }, "burst ips=6/10m" },
		{ "5 nets", { 10, 3, 5, 5, 0, 0, 0 }, "burst nets=5/10m" },
		{ "30 domains", { 40, 30, 1, 1, 0, 0, 0 }, "" },
		{ "31 domains", { 40, 31, 1, 1, 0, 0, 0 }, "burst domains=31/1h" },
		/* a list sender: 8 domains per active hour, threshold 80 */
		{ "list sender, 70 domains", { 70, 70, 1, 1, 800, 80, 10 }, "" },
		{ "list sender, 81 domains", { 81, 81, 1, 1, 800, 80, 10 },
		  "burst domains=81/1h" },
		{ "volume first", { 500, 400, 9, 9, 0, 0, 0 },
		  "burst messages=500/1h" },
	};
	struct burst_params p;
	struct burst_verdict v;

	burst_params_default(&p);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		burst_check(&p, &t[i].st, &v);
		CHECK_STR(v.rule == BURST_NONE ? "" : v.text, t[i].want, "%s",
		    t[i].what);
	}
	p.ips = 0;
	p.nets = 0;
	burst_check(&p, &t[8].st, &v);
	CHECK_INT(v.rule, BURST_NONE, "ips and nets off");
	CHECK_INT(burst_baseline(0, 0), 0, "no baseline");
	CHECK_INT(burst_baseline(7, 2), 4, "baseline rounds up");
}

static void
test_window_text(void)
{
	static const struct { uint32_t s; const char *want; } t[] = {
		{ 600, "10m" }, { 3600, "1h" }, { 90, "90s" }, { 86400, "1d" },
		{ 5400, "90m" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		burst_window_text(t[i].s, out, sizeof out);
		CHECK_STR(out, t[i].want, "window %u", t[i].s);
	}
}

static int
rec(struct burst_store *bs, const struct burst_params *p, const char *name,
    int64_t now, const char *ip, const char *subj, const char *const *d,
    size_t nd, struct burst_stats *st)
{
	struct burst_msg m = { name, now, ip, subj, d, nd };

	return bs->ops->record(bs, p, &m, st);
}

/* Counts over the windows, and what is forgotten. */
static void
test_store_counts(struct burst_store *bs, const struct burst_params *p)
{
	const char *ab[] = { "a.test", "B.TEST" }, *b[] = { "b.test" };
	struct burst_stats st;
	char ip[32];

	for (int i = 0; i < 6; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i % 3);
		CHECK_INT(rec(bs, p, "c", T0 + i * 60, ip, "s", ab, 2, &st), 0,
		    "record %d", i);
	}
	CHECK(st.msgs_hour == 6 && st.ips == 3 && st.nets == 1 &&
	    st.domains_hour == 2, "6 msgs, 3 IPs, 1 net, 2 domains: %u %u %u %u",
	    st.msgs_hour, st.ips, st.nets, st.domains_hour);
	rec(bs, p, "c", T0 + 800, "198.51.100.1", "s", b, 1, &st);
	CHECK(st.msgs_hour == 7 && st.ips == 3 && st.nets == 2,
	    "at 800 s: IPs since 200 s only: %u %u", st.ips,
	    st.nets);
	rec(bs, p, "c", T0 + 3600 + 400, "198.51.100.1", "", b, 1, &st);
	CHECK(st.msgs_hour == 2 && st.domains_hour == 1,
	    "an hour on: the first six are gone: %u %u", st.msgs_hour,
	    st.domains_hour);
	rec(bs, p, "other", T0, "192.0.2.1", "", ab, 2, &st);
	CHECK_INT(st.msgs_hour, 1, "identities are apart");
}

/* The baseline: mean per active hour of the days before this hour. */
static void
test_store_baseline(struct burst_store *bs, const struct burst_params *p)
{
	const char *d[] = { "x.test" };
	struct burst_stats st;
	int64_t t = T0 - T0 % 3600 - 3 * DAY;

	for (int day = 0; day < 3; day++)	/* 10 msgs at 9:00, 20 at 14:00 */
		for (int k = 0; k < 30; k++)
			rec(bs, p, "base", t + day * DAY + (k < 10 ? 0 : 5 * 3600) +
			    k, "192.0.2.1", "", d, 1, &st);
	rec(bs, p, "base", T0 - T0 % 3600 + 10, "192.0.2.1", "", d, 1, &st);
	CHECK(st.base_msgs == 90 && st.base_hours == 6,
	    "baseline: 90 msgs in 6 active hours: %llu %u",
	    (unsigned long long)st.base_msgs, st.base_hours);
	CHECK_INT(st.base_domains, 6, "one domain per active hour");
	rec(bs, p, "base", T0 + 9 * DAY, "192.0.2.1", "", d, 1, &st);
	CHECK_INT(st.base_hours, 0, "older than baseline_days: forgotten");
}

static void
test_store_activity(struct burst_store *bs, const struct burst_params *p)
{
	const char *d1[] = { "one.test", "two.test" }, *d2[] = { "two.test" };
	struct burst_activity a;
	struct burst_stats st;
	char ip[32], subj[32];

	for (int i = 0; i < 14; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", i);
		snprintf(subj, sizeof subj, "subject %d", i);
		rec(bs, p, "act", T0 + i, ip, subj, i % 2 ? d1 : d2, i % 2 ? 2 :
		    1, &st);
	}
	CHECK_INT(bs->ops->activity(bs, "act", T0 - 1, T0 + 20, &a), 0,
	    "activity");
	CHECK_INT(a.nips, BURST_IPS_MAX, "IPs bounded");
	CHECK_STR(a.ip[0], "192.0.2.0", "IPs in order of first use");
	CHECK(a.ndomains == 2 && strcmp(a.domain[0], "two.test") == 0 &&
	    a.domain_n[0] == 14 && a.domain_n[1] == 7, "top domains");
	CHECK_INT(a.nsubjects, BURST_SUBJECTS_MAX, "subjects bounded");
	CHECK_STR(a.subject[0], "subject 9", "the newest five, oldest first");
	CHECK_STR(a.subject[4], "subject 13", "the last subject");
	CHECK(a.first == T0 && a.last == T0 + 13 && a.msgs == 14, "span");
	CHECK_INT(bs->ops->activity(bs, "nobody", T0 - 1, T0 + 20, &a), 0,
	    "no activity");
	CHECK(a.msgs == 0 && a.nips == 0, "nothing for nobody");
}

/* At most BURST_EVENTS_MAX recent messages are kept per identity. */
static void
test_store_cap(struct burst_store *bs, const struct burst_params *p,
    const char *name)
{
	struct burst_params q = *p;
	struct burst_stats st = { 0 };
	int i;

	q.ip_window = 10;	/* keep the per-record IP count short */
	for (i = 0; i < BURST_EVENTS_MAX + 20; i++)
		if (rec(bs, &q, "cap", T0 + i / 2, "192.0.2.1", "", NULL, 0,
		    &st) < 0)
			break;
	CHECK_INT(i, BURST_EVENTS_MAX + 20, "%s: every record", name);
	CHECK_INT(st.msgs_hour, BURST_EVENTS_MAX, "%s: capped", name);
}

static void
test_store(struct burst_store *bs, const struct burst_params *p,
    const char *name)
{
	CHECK(bs != NULL, "%s store opened", name);
	if (bs == NULL)
		return;
	test_store_counts(bs, p);
	test_store_baseline(bs, p);
	test_store_activity(bs, p);
	test_store_cap(bs, p, name);
	burst_store_free(bs);
}

/* ---- a redis-server of our own ---- */

static struct redis_scratch redis = { .pid = -1 };

/* Redis gone: an error, then a reconnect once it is back. */
static void
test_redis_gone(const struct burst_params *p)
{
	struct burst_stats st;
	char err[256];
	struct burst_store *bs = burst_redis_new(redis.url, err, sizeof err);
	struct burst_store *later;

	CHECK(bs != NULL, "redis: a store");
	if (bs == NULL)
		return;
	CHECK_INT(rec(bs, p, "gone", T0, "192.0.2.1", "", NULL, 0, &st), 0,
	    "redis up: record");
	redis_scratch_stop(&redis);
	CHECK_INT(rec(bs, p, "gone", T0 + 1, "192.0.2.1", "", NULL, 0, &st),
	    -1, "redis gone: record fails");
	later = burst_redis_new(redis.url, err, sizeof err);
	CHECK(later != NULL, "redis gone: a store all the same (connects "
	    "later)");
	if (later != NULL)
		CHECK_INT(rec(later, p, "later", T0, "192.0.2.1", "", NULL, 0,
		    &st), -1, "redis gone: its first record fails");
	if (redis_scratch_start(&redis, "test_burst", 0) == 0) {
		CHECK_INT(rec(bs, p, "gone", T0 + 2, "192.0.2.1", "", NULL, 0,
		    &st), 0, "redis back: the next call reconnects");
		CHECK_INT(st.msgs_hour, 1, "redis back: an empty Redis");
		if (later != NULL)
			CHECK_INT(rec(later, p, "later", T0, "192.0.2.1", "",
			    NULL, 0, &st), 0, "redis back: the late store "
			    "connects");
	} else {
		CHECK(0, "redis-server did not start again");
	}
	burst_store_free(bs);
	burst_store_free(later);
}

/* burst_redis_with: a borrowed db, still usable after the store. */
static void
test_redis_with(const struct burst_params *p)
{
	char err[256];
	struct redisdb *db = redisdb_new(redis.url, err, sizeof err);

	CHECK_INT(redis_scratch_cmd(&redis, "FLUSHDB"), 0, "FLUSHDB");
	CHECK(db != NULL, "redisdb_new: %s", db ? "" : err);
	if (db == NULL)
		return;
	test_store(burst_redis_with(db), p, "redis shared");
	CHECK_INT(redisdb_ping(db, err, sizeof err), 0,
	    "the borrowed db outlives its store");
	redisdb_free(db);
}

static void
test_redis(const struct burst_params *p)
{
	char err[256];

	CHECK(burst_redis_new("redis://", err, sizeof err) == NULL &&
	    strstr(err, "bad Redis URL") != NULL, "redis: a bad URL");
	if (redis_scratch_start(&redis, "test_burst", 0) < 0) {
		CHECK(0, "redis-server did not start (scripts/deps.sh test)");
		redis_scratch_stop(&redis);
		return;
	}
	test_store(burst_redis_new(redis.url, err, sizeof err), p, "redis");
	test_redis_with(p);
	test_redis_gone(p);
	redis_scratch_stop(&redis);
}

int
main(void)
{
	char dir[] = "/tmp/test_burst.XXXXXX", path[256], err[256];
	struct burst_params p;
	struct burst_store *bs;

	test_rules();
	test_window_text();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/burst.db", dir);
	burst_params_default(&p);
	bs = burst_sqlite_new(path, err, sizeof err);
	test_store(bs, &p, "sqlite");
	signal(SIGPIPE, SIG_IGN);	/* a write to a stopped Redis */
	test_redis(&p);
	CHECK(burst_sqlite_new("/nonexistent/x/burst.db", err, sizeof err) ==
	    NULL, "a bad path fails");
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return harness_end("burst");
}
