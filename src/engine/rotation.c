/* rotation.c - ages and expiry of credentials (see rotation.h). */
#include "engine/rotation.h"

#include <stdio.h>

int64_t
rotation_days(int64_t from, int64_t to)
{
	int64_t d = to - from;

	/* C division truncates toward zero; days left must not round up */
	return d >= 0 ? d / ROTATION_DAY : -((-d + ROTATION_DAY - 1) /
	    ROTATION_DAY);
}

int64_t
rotation_day(int64_t t)
{
	return rotation_days(0, t);
}

int
rotation_flags(const struct rotation_policy *p, int64_t changed,
    int64_t expires, int64_t now)
{
	int f = 0;

	if (p->max_age > 0 && changed > 0 && now - changed >= p->max_age)
		f |= ROTATION_OLD;
	if (expires != 0 && now >= expires)
		f |= ROTATION_EXPIRED;
	else if (expires != 0 && expires - now <= p->warn_before)
		f |= ROTATION_EXPIRING;
	return f;
}

int
rotation_due(int64_t last_day, int64_t now)
{
	return last_day < 0 || rotation_day(now) != last_day;
}

const char *
rotation_text(int flags, char *out, size_t outlen)
{
	const char *expiry = flags & ROTATION_EXPIRED ? "expired" :
	    flags & ROTATION_EXPIRING ? "expiring" : "";

	snprintf(out, outlen, "%s%s%s", flags & ROTATION_OLD ? "old" : "",
	    (flags & ROTATION_OLD) && expiry[0] ? "," : "", expiry);
	return out;
}
