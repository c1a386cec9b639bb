/* rotation.h - ages and expiry of credentials (issue 4 §3): when an
 * application's password or a vault entry is past its maximum age, or an
 * identity or vault entry is near (or past) its expiry.  No I/O: the daemon
 * (gateway/rotwatch.c) and "jaga user list" decide with these functions,
 * so both flag the same credentials.
 *
 * All times are Unix seconds; a day is ROTATION_DAY seconds and days are
 * counted whole, rounded down (an entry rotated 89.9 days ago is 89 days
 * old: the warning starts on the day it turns max_age).
 */
#ifndef JAGA_ENGINE_ROTATION_H
#define JAGA_ENGINE_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#define ROTATION_DAY	86400LL
/* The daemon's timer looks this often whether a new UTC day began. */
#define ROTATION_TICK_S	3600
/* octets of rotation_text's longest answer ("old,expired") and room */
#define ROTATION_TEXT_MAX 32

/* What a credential needs; flags combine. */
enum rotation_flag {
	ROTATION_OLD = 1,		/* changed max_age or more ago */
	ROTATION_EXPIRING = 2,		/* expires within warn_before */
	ROTATION_EXPIRED = 4,		/* expires is now or past */
};

struct rotation_policy {
	int64_t max_age;		/* seconds; 0 = no age warning */
	int64_t warn_before;		/* seconds; 0 = only once expired */
};

/* The flags of a credential last changed (set, rotated, given a new
 * password) at changed, expiring at expires (0 = never), seen at now. */
int rotation_flags(const struct rotation_policy *p, int64_t changed,
    int64_t expires, int64_t now);
/* Whole days from from to to, rounded toward minus infinity (an expiry
 * 12 hours ago is -1 days left). */
int64_t rotation_days(int64_t from, int64_t to);
/* The UTC day of t (days since 1970-01-01). */
int64_t rotation_day(int64_t t);
/* Is a check due at now, the last one having run on UTC day last_day
 * (-1 = never)?  One check per UTC day: at start, then when a day begins
 * (and after a clock set back, on the day the clock shows again). */
int rotation_due(int64_t last_day, int64_t now);
/* flags as "old", "expiring", "expired", "old,expiring" ... or "" into
 * out (ROTATION_TEXT_MAX octets suffice).  Returns out. */
const char *rotation_text(int flags, char *out, size_t outlen);

#endif
