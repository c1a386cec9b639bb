/* guard.c - limits and suspension for the daemon (see guard.h). */
#include "gateway/guard.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/counters.h"
#include "engine/evidence.h"
#include "gateway/alerting.h"
#include "gateway/authdb.h"
#include "util/log.h"

#define GUARD_PATH_MAX 4096

struct guard {
	struct authdb *adb;
	struct counter_backend *counters;
	struct limits_spec def;
	char path[GUARD_PATH_MAX];
	struct alerter *alerts;		/* borrowed; NULL = none */
};

struct guard *
guard_new(struct authdb *adb, const char *state_dir,
    const char *limits_default, char *err, size_t errlen)
{
	struct guard *g = calloc(1, sizeof *g);
	char why[160];

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->adb = adb;
	if ((size_t)snprintf(g->path, sizeof g->path, "%s/%s", state_dir,
	    GUARD_COUNTERS_FILE) >= sizeof g->path) {
		snprintf(err, errlen, "state_dir: path too long");
		free(g);
		return NULL;
	}
	if (limits_parse(&g->def, limits_default, why, sizeof why) < 0) {
		snprintf(err, errlen, "limits_default: %s", why);
		free(g);
		return NULL;
	}
	return g;
}

void
guard_set_alerts(struct guard *g, struct alerter *a)
{
	g->alerts = a;
}

int
guard_prepare(struct guard *g, char *err, size_t errlen)
{
	if (g->counters == NULL &&
	    (g->counters = counters_sqlite_new(g->path, err, errlen)) == NULL)
		return -1;
	return 0;
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	counter_backend_free(g->counters);
	free(g);
}

enum guard_state
guard_suspended(struct guard *g, const char *name, char *rule,
    size_t rulelen)
{
	struct suspension *su = malloc(sizeof *su);
	struct store *st;
	char err[512];
	int r = -1;

	if (su != NULL && (st = authdb_take(g->adb, err, sizeof err)) != NULL) {
		r = store_suspend_get(st, name, su, err, sizeof err);
		authdb_give(g->adb, st);
	} else if (su == NULL) {
		snprintf(err, sizeof err, "out of memory");
	}
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "suspension lookup failed: %s", err);
	else if (r == 0 && su->active)
		snprintf(rule, rulelen, "%s", su->rule);
	r = r < 0 ? GUARD_TEMPFAIL : r == 0 && su->active ? GUARD_SUSPENDED :
	    GUARD_CLEAR;
	free(su);
	return (enum guard_state)r;
}

/* The identity's own limits, else the default.  Returns 0 or -1. */
static int
guard_spec(struct guard *g, struct store *st, const char *name,
    struct limits_spec *spec)
{
	struct identity *id = malloc(sizeof *id);
	char err[512];
	int r;

	if (id == NULL)
		return -1;
	r = store_identity_get(st, name, id, err, sizeof err);
	*spec = g->def;
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "limits lookup failed: %s", err);
	else if (r == 0 && id->limits[0] &&
	    limits_parse(spec, id->limits, err, sizeof err) < 0) {
		log_msg(LOG_LVL_WARN, "limits", "user=%s: bad limits, using "
		    "limits_default: %s", name, err);
		*spec = g->def;
	}
	sodium_memzero(id, sizeof *id);
	free(id);
	return r < 0 ? -1 : 0;
}

/* Record the suspension with its evidence; sets out->suspended_now. */
static void
guard_suspend(struct store *st, const struct guard_msg *m,
    struct guard_result *out)
{
	struct suspension *su = calloc(1, sizeof *su);
	struct evidence e = {
		.v = &out->v, .client_ip = m->client_ip, .helo = m->helo,
		.sender = m->sender, .domains = m->domains,
		.ndomains = m->ndomains, .subject = m->subject,
		.first = m->first, .last = m->now,
	};
	char err[512];
	int r;

	if (su == NULL)
		return;		/* still refused 550; suspended next time */
	snprintf(su->name, sizeof su->name, "%s", m->name);
	su->since = m->now;
	snprintf(su->rule, sizeof su->rule, "%s", out->rule);
	evidence_json(&e, su->evidence, sizeof su->evidence);
	r = store_suspend_add(st, su, err, sizeof err);
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "suspending %s failed: %s",
		    m->name, err);
	out->suspended_now = r == 0;
	free(su);
}

static enum guard_verdict
guard_verdict_of(enum limits_action a)
{
	return a == LIMITS_SUSPEND ? GUARD_SUSPEND : a == LIMITS_REJECT ?
	    GUARD_REJECT : GUARD_DEFER;
}

void
guard_decide(struct guard *g, const struct guard_msg *m,
    struct guard_result *out)
{
	char key[LIMITS_KEY_MAX], err[512];
	struct limits_spec spec;
	struct store *st;

	memset(out, 0, sizeof *out);
	out->verdict = GUARD_ERROR;
	snprintf(key, sizeof key, "id:%s", m->name);
	if (g->counters == NULL ||
	    (st = authdb_take(g->adb, err, sizeof err)) == NULL)
		return;
	if (guard_spec(g, st, m->name, &spec) == 0 &&
	    limits_check_and_count(g->counters, key, &spec, m->now, 1,
	    m->nrcpts, m->domains, m->ndomains, &out->v) == 0) {
		out->verdict = GUARD_PASS;
		if (out->v.refused) {
			out->verdict = guard_verdict_of(out->v.rule.action);
			evidence_rule(&out->v.rule, out->rule, sizeof out->rule);
		}
		if (out->verdict == GUARD_SUSPEND)
			guard_suspend(st, m, out);
		if (out->suspended_now)	/* one alert per suspension */
			alerting_suspended(g->alerts, st, m->name);
	}
	authdb_give(g->adb, st);
}
