/* guard_burst.c - burst detection in the guard (issue 3 §4): every
 * message of an identity that met its limits is recorded in the burst
 * store, and the rules of engine/burst.h decide whether it is new
 * behaviour (see guard_int.h). */
#include "gateway/guard_int.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

static enum guard_verdict
guard_burst_verdict(enum limits_action a)
{
	return a == LIMITS_SUSPEND ? GUARD_SUSPEND : a == LIMITS_REJECT ?
	    GUARD_REJECT : GUARD_DEFER;
}

int
guard_burst_check(struct burst_store *bs, const struct burst_params *p,
    const struct guard_msg *m, struct guard_result *out,
    struct burst_stats *stats)
{
	struct burst_msg bm = {
		.name = m->name, .now = m->now, .client_ip = m->client_ip,
		.subject = m->subject, .domains = m->domains,
		.ndomains = m->ndomains,
	};

	if (bs->ops->record(bs, p, &bm, stats) < 0) {
		log_msg(LOG_LVL_ERR, "store", "burst: recording a message of "
		    "%s failed", m->name);
		return -1;
	}
	burst_check(p, stats, &out->burst);
	if (out->burst.rule == BURST_NONE)
		return 0;
	out->verdict = guard_burst_verdict(p->action);
	snprintf(out->rule, sizeof out->rule, "%s", out->burst.text);
	snprintf(out->key, sizeof out->key, "id:%s", m->name);
	return 1;
}

void
guard_burst_activity(struct burst_store *bs, const struct guard_msg *m,
    const struct guard_result *out, struct burst_activity *a)
{
	uint32_t span = out->burst.rule != BURST_NONE ? out->burst.window :
	    out->v.rule.window;

	/* the recent list holds an hour (or the IP window) at most */
	if (span > BURST_HOUR)
		span = BURST_HOUR;
	if (bs == NULL || bs->ops->activity(bs, m->name, m->now - span, m->now,
	    a) < 0)
		memset(a, 0, sizeof *a);
}
