/* burst.c - the burst rules (see burst.h); pure logic, no I/O. */
#include "engine/burst.h"

#include <stdio.h>

void
burst_store_free(struct burst_store *s)
{
	if (s != NULL)
		s->ops->free(s);
}

void
burst_params_default(struct burst_params *p)
{
	*p = (struct burst_params){
		.floor = 100, .factor = 10, .baseline_days = 7,
		.ips = 5, .nets = 4, .ip_window = 600, .domains_floor = 30,
		.prefix4 = 24, .prefix6 = 64, .action = LIMITS_SUSPEND,
	};
}

uint32_t
burst_baseline(uint64_t total, uint32_t hours)
{
	uint64_t b;

	if (hours == 0)
		return 0;
	b = (total + hours - 1) / hours;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

void
burst_window_text(uint32_t secs, char *out, size_t outlen)
{
	if (secs % 86400 == 0)
		snprintf(out, outlen, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		snprintf(out, outlen, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(out, outlen, "%um", secs / 60);
	else
		snprintf(out, outlen, "%us", secs);
}

/* max(floor, factor x baseline), saturating. */
static uint32_t
burst_threshold(uint32_t floor, uint32_t factor, uint32_t baseline)
{
	uint64_t t = (uint64_t)factor * baseline;

	if (t < floor)
		t = floor;
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* Fire rule when count > threshold (threshold 0 with enabled = 0: off). */
static int
burst_fire(struct burst_verdict *v, enum burst_rule rule, const char *thing,
    uint32_t count, uint32_t threshold, uint32_t window)
{
	char w[16];

	if (count <= threshold)
		return 0;
	burst_window_text(window, w, sizeof w);
	v->rule = rule;
	v->count = count;
	v->threshold = threshold;
	v->window = window;
	snprintf(v->text, sizeof v->text, "burst %s=%u/%s", thing, count, w);
	return 1;
}

void
burst_check(const struct burst_params *p, const struct burst_stats *st,
    struct burst_verdict *v)
{
	uint32_t bm = burst_baseline(st->base_msgs, st->base_hours);
	uint32_t bd = burst_baseline(st->base_domains, st->base_hours);

	*v = (struct burst_verdict){ .rule = BURST_NONE };
	if (burst_fire(v, BURST_VOLUME, "messages", st->msgs_hour,
	    burst_threshold(p->floor, p->factor, bm), BURST_HOUR))
		return;
	if (p->ips > 0 && burst_fire(v, BURST_IPS, "ips", st->ips, p->ips,
	    p->ip_window))
		return;
	if (p->nets > 0 && burst_fire(v, BURST_NETS, "nets", st->nets, p->nets,
	    p->ip_window))
		return;
	burst_fire(v, BURST_DOMAINS, "domains", st->domains_hour,
	    burst_threshold(p->domains_floor, p->factor, bd), BURST_HOUR);
}
