/* test_lockout.c - the AUTH brute-force lockout with a fake clock: IP
 * thresholds, back-off growth and its cap, window expiry, distributed
 * guessing, spraying, and the bound on memory. */
#include <stdio.h>

#include "engine/lockout.h"
#include "harness.h"

#define MIN (60 * 1000LL)

static const struct lockout_params defaults = {
	.ip_failures = 5, .spray_accounts = 5, .account_ips = 10,
	.account_failures = 20, .window_ms = 10 * MIN, .ip_lock_ms = MIN,
	.ip_lock_max_ms = 60 * MIN, .account_lock_ms = 30 * MIN,
	.max_entries = 1000,
};

static void
fail_n(struct lockout *lk, const char *ip, const char *name, int n,
    int64_t now, struct lockout_event *ev)
{
	for (int i = 0; i < n; i++)
		lockout_fail(lk, ip, name, now, ev);
}

static void
test_ip_threshold(void)
{
	struct lockout *lk = lockout_new(&defaults);
	struct lockout_event ev;

	fail_n(lk, "10.0.0.1", "alice", 4, 0, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "4 failures: no lock");
	CHECK_INT(lockout_ip_locked(lk, "10.0.0.1", 0), 0, "not locked at 4");
	lockout_fail(lk, "10.0.0.1", "alice", 1000, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_FAILURES, "5th failure locks");
	CHECK_INT(ev.ip_strikes, 1, "first lock");
	CHECK_INT(lockout_ip_locked(lk, "10.0.0.1", 1000), MIN, "locked 1m");
	CHECK_INT(lockout_ip_locked(lk, "10.0.0.2", 1000), 0, "other IP free");
	lockout_fail(lk, "10.0.0.1", "alice", 2000, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "no second event while locked");
	CHECK_INT(lockout_ip_locked(lk, "10.0.0.1", 1000 + MIN), 0,
	    "lock over after 1m");
	lockout_free(lk);
}

static void
test_backoff(void)
{
	static const int64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60 };
	struct lockout *lk = lockout_new(&defaults);
	struct lockout_event ev;
	int64_t now = 0;

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		fail_n(lk, "10.0.0.1", "bob", 5, now, &ev);
		CHECK_INT(ev.ip_strikes, i + 1, "strike %zu", i);
		CHECK_INT(ev.ip_until - now, want[i] * MIN, "lock %zu", i);
		now = ev.ip_until;
	}
	/* an hour without a lock: the back-off starts again at 1m */
	now += 60 * MIN;
	fail_n(lk, "10.0.0.1", "bob", 5, now, &ev);
	CHECK_INT(ev.ip_until - now, MIN, "back-off forgotten");
	lockout_free(lk);
}

static void
test_window_expiry(void)
{
	struct lockout *lk = lockout_new(&defaults);
	struct lockout_event ev;

	fail_n(lk, "10.0.0.1", "carol", 4, 0, &ev);
	lockout_fail(lk, "10.0.0.1", "carol", 10 * MIN, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "window over: counts again");
	fail_n(lk, "10.0.0.1", "carol", 3, 10 * MIN, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "4 in the new window");
	lockout_fail(lk, "10.0.0.1", "carol", 20 * MIN - 1, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_FAILURES, "5 in the new window");
	/* success resets the failure count */
	fail_n(lk, "10.0.0.9", "carol", 4, 0, &ev);
	lockout_success(lk, "10.0.0.9", 1);
	fail_n(lk, "10.0.0.9", "carol", 1, 2, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "success reset the count");
	lockout_free(lk);
}

static void
test_distributed(void)
{
	struct lockout *lk = lockout_new(&defaults);
	struct lockout_event ev;
	char ip[32];
	int events = 0;

	for (int i = 0; i < 12; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
		lockout_fail(lk, ip, "Dave", 1000 + i, &ev);
		CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "one failure per IP");
		if (ev.account_locked) {
			events++;
			CHECK_INT(i, 9, "locked at the 10th IP");
			CHECK_INT(ev.account_ips, 10, "ips");
			CHECK_INT(ev.account_until, 1009 + 30 * MIN, "until");
		}
	}
	CHECK_INT(events, 1, "one lock event");
	CHECK(lockout_account_locked(lk, "dave", 2000) > 0, "name case-folded");
	CHECK(lockout_account_locked(lk, "dave", 1009 + 30 * MIN) == 0,
	    "account lock over");
	/* 20 failures from 2 IPs: the IPs lock early, the account still
	 * counts every failure */
	for (int i = 0; i < 20; i++)
		lockout_fail(lk, i % 2 ? "198.51.100.1" : "198.51.100.2",
		    "erin", 5000, &ev);
	CHECK_INT(ev.account_locked, 1, "20 failures lock the account");
	CHECK_INT(ev.account_failures, 20, "failures");
	lockout_free(lk);
}

static void
test_spraying(void)
{
	struct lockout_params p = defaults;
	struct lockout *lk;
	struct lockout_event ev;
	static const char *names[] = { "a", "b", "c", "d", "e", "f" };

	p.ip_failures = 50;
	lk = lockout_new(&p);
	for (size_t i = 0; i < 4; i++)
		fail_n(lk, "10.1.1.1", names[i], 3, 0, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "4 names: no lock");
	lockout_fail(lk, "10.1.1.1", "A", 0, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_NONE, "same name in another case");
	lockout_fail(lk, "10.1.1.1", names[4], 0, &ev);
	CHECK_INT(ev.ip_locked, LOCKOUT_SPRAYING, "5th name locks");
	CHECK(lockout_ip_locked(lk, "10.1.1.1", 1) > 0, "sprayer locked");
	lockout_free(lk);
}

static void
test_bounded(void)
{
	struct lockout_params p = defaults;
	struct lockout *lk;
	struct lockout_event ev;
	char ip[32];
	unsigned long full;

	p.max_entries = 10;
	lk = lockout_new(&p);
	for (int i = 0; i < 100; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i);
		lockout_fail(lk, ip, "frank", 0, &ev);
	}
	CHECK(lockout_entries(lk) <= 10, "at most max_entries");
	CHECK(lockout_full(lk) > 0, "overflow counted");
	/* the unknown IPs share one entry: they are locked together */
	CHECK(lockout_ip_locked(lk, "203.0.113.99", 1) > 0, "overflow locked");
	CHECK(lockout_ip_locked(lk, "203.0.113.250", 1) > 0,
	    "unseen IP in overflow");
	/* once everything is over, the table empties and has room again */
	full = lockout_full(lk);
	lockout_fail(lk, "203.0.114.1", "x", 200 * MIN, &ev);
	CHECK_INT(lockout_full(lk), full, "swept: own entries again");
	CHECK(lockout_entries(lk) <= 10, "still bounded");
	CHECK_INT(lockout_ip_locked(lk, "203.0.113.250", 200 * MIN), 0,
	    "fresh after the sweep");
	lockout_free(lk);
	p.max_entries = 1;
	CHECK(lockout_new(&p) == NULL, "max_entries < 2 refused");
	lockout_free(NULL);
}

int
main(void)
{
	test_ip_threshold();
	test_backoff();
	test_window_expiry();
	test_distributed();
	test_spraying();
	test_bounded();
	return harness_end("lockout");
}
