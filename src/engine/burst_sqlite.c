/* burst_sqlite.c - the SQLite burst store (see burst.h).  Three tables:
 * burst_hours (messages and distinct recipient domains per identity and
 * clock hour, kept baseline_days), burst_events (one row per recent
 * message: time, client IP, network, subject; kept as long as the longest
 * rule window and at most BURST_EVENTS_MAX per identity) and burst_domains
 * (recent recipient domains with their first and last use and a message
 * count; kept an hour after their last use).  One connection behind a
 * mutex: the job pool has few threads and a record is a few indexed
 * statements; BEGIN IMMEDIATE keeps processes sharing the file apart. */
#include "engine/burst.h"

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS_BUSY_MS	5000
#define BS_SWEEP_EVERY	1000	/* records between sweeps of quiet identities */

static const char bs_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS burst_hours(name TEXT NOT NULL, hour "
    "INTEGER NOT NULL, msgs INTEGER NOT NULL, domains INTEGER NOT NULL, "
    "PRIMARY KEY(name, hour)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS burst_events(name TEXT NOT NULL, t INTEGER "
    "NOT NULL, ip TEXT NOT NULL, net TEXT NOT NULL, subject TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS burst_events_nt ON burst_events(name, t);"
    "CREATE TABLE IF NOT EXISTS burst_domains(name TEXT NOT NULL, domain "
    "TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, n INTEGER "
    "NOT NULL, PRIMARY KEY(name, domain)) WITHOUT ROWID;";

enum bs_stmt {
	BS_BEGIN, BS_COMMIT, BS_ROLLBACK, BS_EVENT, BS_DOMAIN, BS_HOUR,
	BS_PRUNE_EV, BS_PRUNE_DOM, BS_PRUNE_HOUR, BS_CAP, BS_STATS_EV,
	BS_STATS_DOM, BS_STATS_BASE, BS_IPS, BS_TOPDOM, BS_SUBJ, BS_SPAN,
	BS_SWEEP_EV, BS_SWEEP_DOM, BS_SWEEP_HOUR, BS_NSTMT
};

/* ?1 name, ?2 now; others as named per statement. */
static const char *const bs_sql[BS_NSTMT] = {
	"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK",
	"INSERT INTO burst_events(name, t, ip, net, subject) "
	"VALUES(?1, ?2, ?3, ?4, ?5)",
	/* a domain unused for an hour starts its count again */
	"INSERT INTO burst_domains(name, domain, first, last, n) "
	"VALUES(?1, ?3, ?2, ?2, 1) ON CONFLICT(name, domain) DO UPDATE SET "
	"n = CASE WHEN last > ?2 - 3600 THEN n + 1 ELSE 1 END, "
	"first = CASE WHEN last > ?2 - 3600 THEN first ELSE ?2 END, last = ?2",
	/* ?3 the clock hour; domains: distinct ones used in it */
	"INSERT INTO burst_hours(name, hour, msgs, domains) VALUES(?1, ?3, 1, "
	"(SELECT count(*) FROM burst_domains WHERE name = ?1 AND last >= ?3)) "
	"ON CONFLICT(name, hour) DO UPDATE SET msgs = msgs + 1, "
	"domains = excluded.domains",
	"DELETE FROM burst_events WHERE name = ?1 AND t <= ?2 - ?3",
	"DELETE FROM burst_domains WHERE name = ?1 AND last <= ?2 - 3600",
	"DELETE FROM burst_hours WHERE name = ?1 AND hour < ?3",
	/* ?3 = BURST_EVENTS_MAX: drop the oldest beyond it */
	"DELETE FROM burst_events WHERE name = ?1 AND rowid NOT IN (SELECT "
	"rowid FROM burst_events WHERE name = ?1 ORDER BY t DESC LIMIT ?3)",
	/* ?3 the IP window */
	"SELECT count(*), (SELECT count(DISTINCT ip) FROM burst_events WHERE "
	"name = ?1 AND t > ?2 - ?3), (SELECT count(DISTINCT net) FROM "
	"burst_events WHERE name = ?1 AND t > ?2 - ?3) FROM burst_events "
	"WHERE name = ?1 AND t > ?2 - 3600",
	"SELECT count(*) FROM burst_domains WHERE name = ?1 AND last > ?2 - 3600",
	/* ?3 the first baseline hour, ?4 the current hour */
	"SELECT coalesce(sum(msgs), 0), coalesce(sum(domains), 0), count(*) "
	"FROM burst_hours WHERE name = ?1 AND hour >= ?3 AND hour < ?4 AND "
	"msgs > 0",
	/* evidence: ?3 since, ?4 a limit */
	"SELECT ip FROM burst_events WHERE name = ?1 AND t > ?3 AND t <= ?2 "
	"GROUP BY ip ORDER BY min(t), min(rowid) LIMIT ?4",
	"SELECT domain, n FROM burst_domains WHERE name = ?1 AND last > ?3 "
	"AND last <= ?2 ORDER BY n DESC, domain LIMIT ?4",
	"SELECT subject FROM burst_events WHERE name = ?1 AND t > ?3 AND "
	"t <= ?2 AND subject != '' GROUP BY subject ORDER BY max(t) DESC, "
	"max(rowid) DESC LIMIT ?4",
	"SELECT coalesce(min(t), 0), coalesce(max(t), 0), count(*) FROM "
	"burst_events WHERE name = ?1 AND t > ?3 AND t <= ?2",
	/* every identity, now and then: ?2 now, ?3 the longest window, ?4 the
	 * first baseline hour */
	"DELETE FROM burst_events WHERE t <= ?2 - ?3",
	"DELETE FROM burst_domains WHERE last <= ?2 - 3600",
	"DELETE FROM burst_hours WHERE hour < ?4",
};

struct burst_sqlite {
	struct burst_store base;	/* first: the ops */
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *st[BS_NSTMT];
	unsigned calls;
};

/* Bind name and now (?1, ?2) and up to two integers (?3, ?4). */
static sqlite3_stmt *
bs_bind(struct burst_sqlite *s, enum bs_stmt w, const char *name,
    int64_t now, int64_t a, int64_t b)
{
	sqlite3_stmt *st = s->st[w];
	int n = sqlite3_bind_parameter_count(st);

	sqlite3_reset(st);
	if (n >= 1)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (n >= 2)
		sqlite3_bind_int64(st, 2, now);
	if (n >= 3)
		sqlite3_bind_int64(st, 3, a);
	if (n >= 4)
		sqlite3_bind_int64(st, 4, b);
	return st;
}

/* Run st to its end and reset it; 0 or -1. */
static int
bs_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The integer columns of st's one row into v[0..n); 0 or -1. */
static int
bs_row(sqlite3_stmt *st, int64_t *v, int n)
{
	int rc = sqlite3_step(st);

	for (int i = 0; rc == SQLITE_ROW && i < n; i++)
		v[i] = sqlite3_column_int64(st, i);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int64_t
bs_hour(int64_t t)
{
	return t - t % BURST_HOUR;
}

static int64_t
bs_keep(const struct burst_params *p)
{
	return p->ip_window > BURST_HOUR ? p->ip_window : BURST_HOUR;
}

/* Lowercase d into out (RFC 5321 §2.4: domains are case-insensitive). */
static void
bs_lower(const char *d, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; d[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[i] = '\0';
}

/* The event row and the domain rows of m.  0 or -1. */
static int
bs_insert(struct burst_sqlite *s, const struct burst_params *p,
    const struct burst_msg *m)
{
	char net[LIMITS_NETKEY_MAX], dom[LIMITS_DOMAIN_MAX + 1];
	sqlite3_stmt *st = bs_bind(s, BS_EVENT, m->name, m->now, 0, 0);

	if (limits_net_key_len(m->client_ip, p->prefix4, p->prefix6, net,
	    sizeof net) < 0)
		snprintf(net, sizeof net, "%s", m->client_ip);
	sqlite3_bind_text(st, 3, m->client_ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, strncmp(net, "net:", 4) == 0 ? net + 4 : net,
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->subject ? m->subject : "", -1,
	    SQLITE_STATIC);
	if (bs_run(st) < 0)
		return -1;
	for (size_t i = 0; i < m->ndomains; i++) {
		bs_lower(m->domains[i], dom, sizeof dom);
		st = bs_bind(s, BS_DOMAIN, m->name, m->now, 0, 0);
		sqlite3_bind_text(st, 3, dom, -1, SQLITE_TRANSIENT);
		if (bs_run(st) < 0)
			return -1;
	}
	return bs_run(bs_bind(s, BS_HOUR, m->name, m->now, bs_hour(m->now), 0));
}

/* Forget what no rule needs; now and then for every identity. */
static int
bs_prune(struct burst_sqlite *s, const struct burst_params *p,
    const struct burst_msg *m)
{
	int64_t first = bs_hour(m->now) - (int64_t)p->baseline_days * 86400;
	const char *n = m->name;

	if (bs_run(bs_bind(s, BS_PRUNE_EV, n, m->now, bs_keep(p), 0)) < 0 ||
	    bs_run(bs_bind(s, BS_PRUNE_DOM, n, m->now, 0, 0)) < 0 ||
	    bs_run(bs_bind(s, BS_PRUNE_HOUR, n, m->now, first, 0)) < 0)
		return -1;
	if (++s->calls % BS_SWEEP_EVERY != 0)
		return 0;
	return bs_run(bs_bind(s, BS_SWEEP_EV, n, m->now, bs_keep(p), 0)) < 0 ||
	    bs_run(bs_bind(s, BS_SWEEP_DOM, n, m->now, 0, 0)) < 0 ||
	    bs_run(bs_bind(s, BS_SWEEP_HOUR, n, m->now, 0, first)) < 0 ? -1 : 0;
}

static int
bs_stats(struct burst_sqlite *s, const struct burst_params *p,
    const struct burst_msg *m, struct burst_stats *st)
{
	int64_t hour = bs_hour(m->now), v[3], d[1], b[3];

	if (bs_row(bs_bind(s, BS_STATS_EV, m->name, m->now, p->ip_window, 0),
	    v, 3) < 0 ||
	    bs_row(bs_bind(s, BS_STATS_DOM, m->name, m->now, 0, 0), d, 1) < 0 ||
	    bs_row(bs_bind(s, BS_STATS_BASE, m->name, m->now, hour -
	    (int64_t)p->baseline_days * 86400, hour), b, 3) < 0)
		return -1;
	*st = (struct burst_stats){
		.msgs_hour = (uint32_t)v[0], .ips = (uint32_t)v[1],
		.nets = (uint32_t)v[2], .domains_hour = (uint32_t)d[0],
		.base_msgs = (uint64_t)b[0], .base_domains = (uint64_t)b[1],
		.base_hours = (uint32_t)b[2],
	};
	return 0;
}

static int
bs_record(struct burst_store *bst, const struct burst_params *p,
    const struct burst_msg *m, struct burst_stats *st)
{
	struct burst_sqlite *s = (struct burst_sqlite *)(void *)bst;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (bs_run(s->st[BS_BEGIN]) == 0) {
		rc = bs_insert(s, p, m) < 0 || bs_prune(s, p, m) < 0 ||
		    bs_stats(s, p, m, st) < 0 ? -1 : 0;
		/* the cap: only an identity past it pays for the query */
		if (rc == 0 && (st->msgs_hour > BURST_EVENTS_MAX ||
		    p->ip_window > BURST_HOUR) && bs_run(bs_bind(s, BS_CAP,
		    m->name, m->now, BURST_EVENTS_MAX, 0)) < 0)
			rc = -1;
		if (rc == 0 && st->msgs_hour > BURST_EVENTS_MAX)
			st->msgs_hour = BURST_EVENTS_MAX;
		if (rc == 0 && bs_run(s->st[BS_COMMIT]) < 0)
			rc = -1;
		if (rc < 0)
			bs_run(s->st[BS_ROLLBACK]);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Copy text column 0 of each row of st into out[i] (width w), at most
 * max rows; counts in n[i] from column 1 when n != NULL.  Rows or -1. */
static int
bs_texts(sqlite3_stmt *st, char *out, size_t w, uint32_t *n, size_t max)
{
	size_t i = 0;
	int rc = SQLITE_DONE;

	while (i < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(out + i * w, w, "%s", t ? (const char *)t : "");
		if (n != NULL)
			n[i] = (uint32_t)sqlite3_column_int64(st, 1);
		i++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)i : -1;
}

/* The subjects came newest first: put them in time order. */
static void
bs_subjects_reverse(struct burst_activity *a)
{
	char tmp[BURST_SUBJECT_MAX + 1];

	for (size_t i = 0; i < a->nsubjects / 2; i++) {
		size_t j = a->nsubjects - 1 - i;
		memcpy(tmp, a->subject[i], sizeof tmp);
		memcpy(a->subject[i], a->subject[j], sizeof tmp);
		memcpy(a->subject[j], tmp, sizeof tmp);
	}
}

static int
bs_activity(struct burst_store *bst, const char *name, int64_t since,
    int64_t now, struct burst_activity *a)
{
	struct burst_sqlite *s = (struct burst_sqlite *)(void *)bst;
	int64_t span[3];
	int ni, nd, ns, rc;

	memset(a, 0, sizeof *a);
	pthread_mutex_lock(&s->lock);
	ni = bs_texts(bs_bind(s, BS_IPS, name, now, since, BURST_IPS_MAX),
	    a->ip[0], sizeof a->ip[0], NULL, BURST_IPS_MAX);
	nd = bs_texts(bs_bind(s, BS_TOPDOM, name, now, since,
	    BURST_DOMAINS_MAX), a->domain[0], sizeof a->domain[0], a->domain_n,
	    BURST_DOMAINS_MAX);
	ns = bs_texts(bs_bind(s, BS_SUBJ, name, now, since,
	    BURST_SUBJECTS_MAX), a->subject[0], sizeof a->subject[0], NULL,
	    BURST_SUBJECTS_MAX);
	rc = bs_row(bs_bind(s, BS_SPAN, name, now, since, 0), span, 3);
	pthread_mutex_unlock(&s->lock);
	if (ni < 0 || nd < 0 || ns < 0 || rc < 0)
		return -1;
	a->nips = (size_t)ni;
	a->ndomains = (size_t)nd;
	a->nsubjects = (size_t)ns;
	bs_subjects_reverse(a);
	a->first = span[0];
	a->last = span[1];
	a->msgs = (uint32_t)span[2];
	return 0;
}

static void
bs_free(struct burst_store *bst)
{
	struct burst_sqlite *s = (struct burst_sqlite *)(void *)bst;

	for (int i = 0; i < BS_NSTMT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct burst_store_ops bs_ops = {
	"sqlite", bs_record, bs_activity, bs_free,
};

struct burst_store *
burst_sqlite_new(const char *path, char *err, size_t errlen)
{
	struct burst_sqlite *s = calloc(1, sizeof *s);
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	s->base.ops = &bs_ops;
	pthread_mutex_init(&s->lock, NULL);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(s->db, BS_BUSY_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, bs_schema, NULL, NULL, NULL);
	for (int i = 0; rc == SQLITE_OK && i < BS_NSTMT; i++)
		rc = sqlite3_prepare_v3(s->db, bs_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		bs_free(&s->base);
		return NULL;
	}
	return &s->base;
}
