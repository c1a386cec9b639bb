/* rotwatch.c - the daemon's credential check (see rotwatch.h). */
#include "gateway/rotwatch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/store.h"
#include "engine/vault.h"
#include "gateway/alerting.h"
#include "gateway/params.h"
#include "util/jobq.h"
#include "util/log.h"

#define ROTWATCH_PATH_MAX 4096

struct rotwatch {
	char db[ROTWATCH_PATH_MAX];	/* state_dir/jaga.db */
	char vault[ROTWATCH_PATH_MAX];	/* vault_file (vault_path) */
	struct rotation_policy app;	/* credential_max_age */
	struct rotation_policy account;	/* expiry only */
	struct rotation_policy entry;	/* vault_max_age */
	struct alerter *alerts;
	struct event *tick;
	int64_t last_day;		/* UTC day of the last check; -1 */
	int running;			/* a check is in the job pool */
	int64_t now;			/* the time of that check */
};

struct rotwatch *
rotwatch_new(const struct settings *st, struct alerter *a, char *err,
    size_t errlen)
{
	const struct config *c = st->cfg;
	struct rotwatch *rw = calloc(1, sizeof *rw);

	if (rw == NULL) {
		snprintf(err, errlen, "rotation check: out of memory");
		return NULL;
	}
	if ((size_t)snprintf(rw->db, sizeof rw->db, "%s/%s", st->state_dir,
	    STORE_FILE) >= sizeof rw->db || vault_path(config_str(c,
	    "vault_file"), st->state_dir, rw->vault, sizeof rw->vault) < 0) {
		snprintf(err, errlen, "state_dir: path too long");
		free(rw);
		return NULL;
	}
	/* P_TIME values are milliseconds */
	rw->app.max_age = config_int(c, "credential_max_age") / 1000;
	rw->app.warn_before = config_int(c, "credential_expiry_warning") /
	    1000;
	rw->account.warn_before = rw->app.warn_before;
	rw->entry.max_age = config_int(c, "vault_max_age") / 1000;
	rw->entry.warn_before = rw->app.warn_before;
	rw->alerts = a;
	rw->last_day = -1;
	return rw;
}

/* "credential age|expiry name= kind= ..." at level warn, and its alert. */
static void
rotwatch_report(const struct rotwatch *rw, struct alerting_cred *c)
{
	struct logline l;
	char when[32];
	time_t t = (time_t)c->expires;
	struct tm tm;

	logline_begin(&l, LOG_LVL_WARN, "-", "credential",
	    c->kind == ALERT_CREDENTIAL_AGE ? "age" : "expiry");
	logline_str(&l, "name", c->name);
	logline_str(&l, "kind", c->what);
	if (c->kind == ALERT_CREDENTIAL_AGE) {
		logline_int(&l, "age_days", c->age_days);
		logline_int(&l, "max_days", c->max_days);
	} else {
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		logline_str(&l, "expires", when);
		logline_int(&l, "days_left", c->days_left);
	}
	logline_end(&l);
	alerting_credential(rw->alerts, c);
}

/* One check's walk over the stores. */
struct rotwatch_walk {
	const struct rotwatch *rw;
	int64_t now;
	int flagged;
};

/* One credential: changed (last set or rotated) and expires, under p.
 * Returns 1 when it was flagged, else 0. */
static int
rotwatch_one(const struct rotwatch_walk *w, const struct rotation_policy *p,
    const char *name, const char *what, int64_t changed, int64_t expires)
{
	const struct rotwatch *rw = w->rw;
	int f = rotation_flags(p, changed, expires, w->now);
	struct alerting_cred c = { .name = name, .what = what, .now = w->now,
	    .changed = changed, .expires = expires };

	if (f & ROTATION_OLD) {
		c.kind = ALERT_CREDENTIAL_AGE;
		c.age_days = rotation_days(changed, w->now);
		c.max_days = p->max_age / ROTATION_DAY;
		rotwatch_report(rw, &c);
	}
	if (f & (ROTATION_EXPIRING | ROTATION_EXPIRED)) {
		c.kind = ALERT_CREDENTIAL_EXPIRY;
		/* rounded up: "expires within days_left days" */
		c.days_left = -rotation_days(expires, w->now);
		rotwatch_report(rw, &c);
	}
	return f != 0;
}

static int
rotwatch_identity(const struct identity *id, void *arg)
{
	struct rotwatch_walk *w = arg;
	int app = id->kind == STORE_APP;

	if (!id->revoked)	/* a revoked one cannot be used anyway */
		w->flagged += rotwatch_one(w, app ? &w->rw->app :
		    &w->rw->account, id->name, app ? "app" : "account",
		    id->pw_changed, id->expires);
	return 0;
}

static int
rotwatch_entry(const struct vault_meta *m, void *arg)
{
	struct rotwatch_walk *w = arg;

	w->flagged += rotwatch_one(w, &w->rw->entry, m->name, "vault",
	    m->rotated ? m->rotated : m->created, m->expires);
	return 0;
}

/* The vault's entries (metadata only: no key is needed, none is read).
 * No vault file is no vault; any other problem is logged. */
static void
rotwatch_vault(struct rotwatch_walk *w)
{
	struct stat sb;
	struct vault *v;
	char err[512];

	if (stat(w->rw->vault, &sb) < 0 && errno == ENOENT)
		return;
	if ((v = vault_open(w->rw->vault, err, sizeof err)) == NULL ||
	    vault_list(v, rotwatch_entry, w, err, sizeof err) < 0)
		log_msg(LOG_LVL_ERR, "store", "credential check: %s", err);
	vault_close(v);
}

int
rotwatch_check(const struct rotwatch *rw, int64_t now)
{
	struct rotwatch_walk w = { rw, now, 0 };
	struct store *st;
	char err[512];
	int r;

	if ((st = store_open(rw->db, err, sizeof err)) == NULL) {
		log_msg(LOG_LVL_ERR, "store", "credential check: %s", err);
		return -1;
	}
	r = store_identity_list(st, rotwatch_identity, &w, err, sizeof err);
	store_close(st);
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "credential check: %s", err);
	rotwatch_vault(&w);
	return r < 0 ? -1 : w.flagged;
}

/* In a pool thread: the store is a file, never read on the loop. */
static void
rotwatch_work(void *arg)
{
	struct rotwatch *rw = arg;

	rotwatch_check(rw, rw->now);
}

static void
rotwatch_done(void *arg)
{
	struct rotwatch *rw = arg;

	rw->running = 0;
}

/* Every ROTATION_TICK_S on the loop: a new UTC day starts a check. */
static void
rotwatch_tick(evutil_socket_t fd, short what, void *arg)
{
	struct rotwatch *rw = arg;
	int64_t now = (int64_t)time(NULL);

	(void)fd;
	(void)what;
	if (rw->running || !rotation_due(rw->last_day, now))
		return;
	rw->now = now;
	rw->running = 1;
	if (jobq_submit(event_get_base(rw->tick), rotwatch_work,
	    rotwatch_done, rw) < 0) {
		rw->running = 0;	/* tried again at the next tick */
		log_msg(LOG_LVL_ERR, "start", "credential check: cannot "
		    "queue it");
		return;
	}
	rw->last_day = rotation_day(now);
}

int
rotwatch_start(struct rotwatch *rw, struct event_base *base)
{
	struct timeval tv = { ROTATION_TICK_S, 0 };

	rw->tick = event_new(base, -1, EV_PERSIST, rotwatch_tick, rw);
	if (rw->tick == NULL || event_add(rw->tick, &tv) < 0)
		return -1;
	event_active(rw->tick, EV_TIMEOUT, 1);	/* the check at start */
	return 0;
}

void
rotwatch_free(struct rotwatch *rw)
{
	if (rw == NULL)
		return;
	if (rw->tick != NULL)
		event_free(rw->tick);
	free(rw);
}
