/* test_state_redis.c - suspensions (engine/susp_redis.h) and AUTH lockouts
 * (engine/lockout_redis.h) in a real redis-server this test starts on a
 * free loopback port: one suspension when many threads cross together,
 * lift, lift on a password change, evidence kept; lockout per IP,
 * spraying, back-off, distributed guessing across two handles (two
 * gateways), success resetting the count, and Redis gone (an error). */
#include "engine/lockout_redis.h"
#include "engine/redisdb.h"
#include "engine/susp_redis.h"

#include "../../tests/unit/harness.h"
#include "../../tests/unit/redis_scratch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static struct redis_scratch redis = { .pid = -1 };

/* The server, and db on its database 3. */
static int
redis_start(struct redisdb **db)
{
	char err[256];

	if (redis_scratch_start(&redis, "test_state_redis", 3) < 0)
		return -1;
	if ((*db = redisdb_new(redis.url, err, sizeof err)) == NULL)
		fprintf(stderr, "test_state_redis: %s\n", err);
	return *db != NULL ? 0 : -1;
}

/* ---- suspensions ---- */

static struct suspension *
susp_of(const char *name, long long since)
{
	static struct suspension su;

	memset(&su, 0, sizeof su);
	snprintf(su.name, sizeof su.name, "%s", name);
	su.since = since;
	snprintf(su.rule, sizeof su.rule, "messages=3/60s action=suspend");
	snprintf(su.evidence, sizeof su.evidence, "{\"ip\":\"192.0.2.1\"}");
	return &su;
}

static int
count_one(const struct suspension *su, void *arg)
{
	char *names = arg;
	size_t n = strlen(names);

	snprintf(names + n, 512 - n, "%s ", su->name);
	return 0;
}

static const char *
listed(struct redisdb *db)
{
	static char names[512], err[256];

	names[0] = '\0';
	if (susp_redis_list(db, count_one, names, err, sizeof err) != 0)
		return err;
	return names;
}

static void
test_suspend(struct redisdb *db)
{
	struct suspension got;
	char err[256];

	CHECK_INT(susp_redis_get(db, "alice", &got, err, sizeof err),
	    STORE_NOTFOUND, "never suspended");
	CHECK_INT(susp_redis_add(db, susp_of("alice", 200), err, sizeof err),
	    0, "added");
	CHECK_INT(susp_redis_add(db, susp_of("alice", 201), err, sizeof err),
	    STORE_EXISTS, "one in force already");
	CHECK_INT(susp_redis_add(db, susp_of("bob", 100), err, sizeof err), 0,
	    "bob added");
	CHECK_STR(listed(db), "bob alice ", "oldest first");
	CHECK_INT(susp_redis_get(db, "alice", &got, err, sizeof err), 0, "get");
	CHECK(got.active && got.since == 200 && got.lifted_at == 0 &&
	    strcmp(got.rule, "messages=3/60s action=suspend") == 0 &&
	    strcmp(got.evidence, "{\"ip\":\"192.0.2.1\"}") == 0, "fields");
	CHECK_INT(susp_redis_lift(db, "alice", 1, err, sizeof err), 0,
	    "lift on a password change");
	CHECK_INT(susp_redis_get(db, "alice", &got, err, sizeof err), 0, "get");
	CHECK(got.active && got.lifted_at > 0 && got.require_pw_change,
	    "still in force until the password changes");
	CHECK_STR(listed(db), "bob alice ", "still listed");
	CHECK_INT(susp_redis_password_changed(db, "alice", err, sizeof err), 0,
	    "password changed");
	CHECK_INT(susp_redis_get(db, "alice", &got, err, sizeof err), 0, "get");
	CHECK(!got.active && got.evidence[0] == '{', "ended, evidence kept");
	CHECK_STR(listed(db), "bob ", "alice gone from the list");
	CHECK_INT(susp_redis_lift(db, "alice", 0, err, sizeof err),
	    STORE_NOTFOUND, "nothing to lift");
	CHECK_INT(susp_redis_password_changed(db, "bob", err, sizeof err), 0,
	    "a password change alone");
	CHECK_STR(listed(db), "bob ", "does not lift");
	CHECK_INT(susp_redis_lift(db, "bob", 0, err, sizeof err), 0, "lift bob");
	CHECK_STR(listed(db), "", "none in force");
	CHECK_INT(susp_redis_add(db, susp_of("bob", 300), err, sizeof err), 0,
	    "suspended again after a lift");
}

struct race {
	struct redisdb *db;
	struct suspension su;		/* made before the threads: susp_of's
					 * buffer is not theirs to share */
	atomic_int added, errors;
};

static void *
race_run(void *p)
{
	struct race *r = p;
	struct suspension su = r->su;
	char err[256];
	int rc = susp_redis_add(r->db, &su, err, sizeof err);

	atomic_fetch_add(rc == 0 ? &r->added : &r->errors, rc == 0 ||
	    rc != STORE_EXISTS);
	return NULL;
}

static void
test_suspend_race(struct redisdb *db)
{
	struct race r = { .db = db };
	pthread_t t[8];

	r.su = *susp_of("carol", 400);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, race_run, &r);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&r.added), 1, "8 threads: one suspension");
	CHECK_INT(atomic_load(&r.errors), 0, "no errors");
}

/* ---- lockouts ---- */

static const struct lockout_params lp = {
	.ip_failures = 3, .spray_accounts = 3, .account_ips = 3,
	.account_failures = 5, .window_ms = 60000, .ip_lock_ms = 1000,
	.ip_lock_max_ms = 3000, .account_lock_ms = 5000, .max_entries = 100,
};

static struct lockout_event
fail(struct lockout_redis *lr, const char *ip, const char *name)
{
	struct lockout_event ev;
	char err[256];

	CHECK_INT(lockout_redis_fail(lr, ip, name, &ev, err, sizeof err), 0,
	    "fail %s %s: %s", ip, name, err);
	return ev;
}

static int64_t
ip_locked(struct lockout_redis *lr, const char *ip, const char *name,
    int64_t *acct)
{
	int64_t ipms = -1;
	char err[256];

	CHECK_INT(lockout_redis_locked(lr, ip, name, &ipms, acct, err,
	    sizeof err), 0, "locked: %s", err);
	return ipms;
}

static void
test_lockout_ip(struct lockout_redis *lr)
{
	struct lockout_event ev;
	int64_t acct;

	fail(lr, "192.0.2.1", "u1");
	ev = fail(lr, "192.0.2.1", "u1");
	CHECK(ev.ip_locked == LOCKOUT_NONE, "2 failures: no lock");
	CHECK_INT(ip_locked(lr, "192.0.2.1", "u1", &acct), 0, "not locked");
	ev = fail(lr, "192.0.2.1", "u1");
	CHECK(ev.ip_locked == LOCKOUT_FAILURES && ev.ip_strikes == 1 &&
	    ev.ip_until == 1000, "third: locked 1 s");
	CHECK(ip_locked(lr, "192.0.2.1", "", &acct) > 0 && acct == 0,
	    "the IP is locked, no account");
	for (int i = 0; i < 3; i++)
		ev = fail(lr, "192.0.2.1", "u1");
	CHECK(ev.ip_locked == LOCKOUT_NONE, "no second lock while locked");
	usleep(1100 * 1000);
	/* the failures made while locked still count (as in lockout.c) */
	ev = fail(lr, "192.0.2.1", "u1");
	CHECK(ev.ip_locked == LOCKOUT_FAILURES && ev.ip_strikes == 2 &&
	    ev.ip_until == 2000, "back-off: 2 s the second time");
}

static void
test_lockout_spray_and_success(struct lockout_redis *lr)
{
	struct lockout_event ev;
	char err[256];
	int64_t acct;

	fail(lr, "192.0.2.2", "s1");
	CHECK_INT(lockout_redis_success(lr, "192.0.2.2", err, sizeof err), 0,
	    "success");
	fail(lr, "192.0.2.2", "s2");
	fail(lr, "192.0.2.2", "s2");
	CHECK_INT(ip_locked(lr, "192.0.2.2", "", &acct), 0,
	    "success reset the count");
	ev = fail(lr, "192.0.2.2", "s3");
	CHECK(ev.ip_locked == LOCKOUT_SPRAYING, "three names: spraying");
}

/* Distributed guessing: three IPs, half through each gateway. */
static void
test_lockout_account(struct lockout_redis *a, struct lockout_redis *b)
{
	struct lockout_event ev;
	int64_t acct = 0;

	fail(a, "198.51.100.1", "Dave");
	fail(b, "198.51.100.2", "dave");
	CHECK(ip_locked(a, "198.51.100.3", "dave", &acct) == 0 && acct == 0,
	    "two IPs: not locked");
	ev = fail(a, "198.51.100.3", "DAVE");
	CHECK(ev.account_locked && ev.account_ips == 3 &&
	    ev.account_until == 5000, "three IPs across gateways: locked");
	ip_locked(b, "198.51.100.9", "dave", &acct);
	CHECK(acct > 0 && acct <= 5000, "the other gateway sees it: %lld",
	    (long long)acct);
	ev = fail(b, "198.51.100.4", "dave");
	CHECK(!ev.account_locked, "locked once");
}

static void
test_gone(struct redisdb *db, struct lockout_redis *lr)
{
	struct suspension got;
	struct lockout_event ev;
	int64_t a, b;
	char err[256];

	redis_scratch_stop(&redis);
	CHECK_INT(susp_redis_get(db, "alice", &got, err, sizeof err), -1,
	    "down: suspension lookup fails");
	CHECK_INT(lockout_redis_fail(lr, "192.0.2.7", "x", &ev, err,
	    sizeof err), -1, "down: fail fails");
	CHECK_INT(lockout_redis_locked(lr, "192.0.2.7", "x", &a, &b, err,
	    sizeof err), -1, "down: locked fails");
	CHECK(redisdb_url_check("redis://[::1]:6379/2") == NULL &&
	    redisdb_url_check("redis:/x") != NULL, "url check");
}

int
main(void)
{
	struct redisdb *db = NULL, *db2 = NULL;
	struct lockout_redis *lr, *lr2;
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	if (redis_start(&db) < 0 ||
	    (db2 = redisdb_new(redis.url, err, sizeof err)) == NULL) {
		fprintf(stderr, "test_state_redis: redis-server did not start "
		    "(make check runs scripts/deps.sh test)\n");
		redis_scratch_stop(&redis);
		return 1;
	}
	lr = lockout_redis_new(db, &lp);
	lr2 = lockout_redis_new(db2, &lp);
	test_suspend(db);
	test_suspend_race(db);
	test_lockout_ip(lr);
	test_lockout_spray_and_success(lr);
	test_lockout_account(lr, lr2);
	test_gone(db, lr);
	lockout_redis_free(lr);
	lockout_redis_free(lr2);
	redisdb_free(db);
	redisdb_free(db2);
	redis_scratch_stop(&redis);
	return harness_end("state_redis");
}
