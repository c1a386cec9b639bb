/* test_rotation.c - engine/rotation.c: ages, expiry and the once-a-day
 * schedule of the daemon's credential check (issue 4 §3). */
#include <stdio.h>

#include "engine/rotation.h"
#include "harness.h"

#define T0 1795415400LL		/* 2026-11-23T06:30:00Z */
#define D ROTATION_DAY

static void
test_flags(void)
{
	static const struct {
		int64_t changed, expires, now;
		int want;
		const char *text, *what;
	} cases[] = {
		{ T0, 0, T0, 0, "", "new, never expires" },
		{ T0 - 89 * D - 1, 0, T0, 0, "", "89.99 days: not yet" },
		{ T0 - 90 * D, 0, T0, ROTATION_OLD, "old", "90 days: old" },
		{ T0 - 100 * D, 0, T0, ROTATION_OLD, "old", "100 days" },
		{ 0, 0, T0, 0, "", "no change time: no age" },
		{ T0, T0 + 15 * D, T0, 0, "", "expires in 15 days" },
		{ T0, T0 + 14 * D, T0, ROTATION_EXPIRING, "expiring", "14" },
		{ T0, T0 + 10 * D, T0, ROTATION_EXPIRING, "expiring", "10" },
		{ T0, T0 + 1, T0, ROTATION_EXPIRING, "expiring", "1 s" },
		{ T0, T0, T0, ROTATION_EXPIRED, "expired", "expires now" },
		{ T0, T0 - 5 * D, T0, ROTATION_EXPIRED, "expired", "past" },
		{ T0 - 200 * D, T0 + D, T0, ROTATION_OLD | ROTATION_EXPIRING,
		    "old,expiring", "both" },
		{ T0 - 200 * D, T0 - D, T0, ROTATION_OLD | ROTATION_EXPIRED,
		    "old,expired", "old and expired" },
	};
	struct rotation_policy p = { 90 * D, 14 * D };
	char t[ROTATION_TEXT_MAX];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int f = rotation_flags(&p, cases[i].changed, cases[i].expires,
		    cases[i].now);
		CHECK_INT(f, cases[i].want, "flags: %s", cases[i].what);
		CHECK_STR(rotation_text(f, t, sizeof t), cases[i].text,
		    "text: %s", cases[i].what);
	}
	p.max_age = 0;		/* credential_max_age = 0: no age warning */
	CHECK_INT(rotation_flags(&p, T0 - 1000 * D, 0, T0), 0, "max_age 0");
	p.warn_before = 0;	/* only once expired */
	CHECK_INT(rotation_flags(&p, T0, T0 + 60, T0), 0, "warn_before 0");
	CHECK_INT(rotation_flags(&p, T0, T0, T0), ROTATION_EXPIRED,
	    "warn_before 0, expired");
}

static void
test_days(void)
{
	CHECK_INT(rotation_days(T0 - 100 * D, T0), 100, "100 days old");
	CHECK_INT(rotation_days(T0 - 100 * D + 1, T0), 99, "rounded down");
	CHECK_INT(rotation_days(T0, T0 + 10 * D), 10, "10 days left");
	CHECK_INT(rotation_days(T0, T0 - 1), -1, "expired a second ago");
	CHECK_INT(rotation_days(T0, T0 - D), -1, "a day ago");
	CHECK_INT(rotation_days(T0, T0 - D - 1), -2, "a day and a second");
	CHECK_INT(rotation_day(0), 0, "epoch");
	CHECK_INT(rotation_day(T0), 20780, "2026-11-23");
	CHECK_INT(rotation_day(-1), -1, "before the epoch");
}

/* The daemon ticks every ROTATION_TICK_S and checks when rotation_due:
 * walk three days tick by tick from a start at 06:30 and count checks. */
static void
test_schedule(void)
{
	int64_t last = -1, t, start_day = rotation_day(T0);
	int checks = 0, per_day[4] = { 0 };

	for (t = T0; t < T0 + 3 * D; t += ROTATION_TICK_S) {
		if (!rotation_due(last, t))
			continue;
		last = rotation_day(t);
		checks++;
		per_day[last - start_day]++;
	}
	CHECK_INT(checks, 4, "start, then 3 new days (day 4 is partial)");
	CHECK_INT(per_day[0], 1, "the start day: once, at start");
	CHECK_INT(per_day[1], 1, "day 2: once");
	CHECK_INT(per_day[2], 1, "day 3: once");
	CHECK_INT(per_day[3], 1, "day 4: once");
	CHECK(rotation_due(-1, T0), "at start");
	CHECK(!rotation_due(rotation_day(T0), T0 + 17 * 3600 - 1),
	    "same day, 23:29:59");
	CHECK(rotation_due(rotation_day(T0), T0 + 17 * 3600 + 30 * 60),
	    "next day 00:00");
	CHECK(rotation_due(rotation_day(T0), T0 - D), "clock set back a day");
}

int
main(void)
{
	test_flags();
	test_days();
	test_schedule();
	return harness_end("rotation");
}
