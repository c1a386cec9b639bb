/* counters_sqlite.c - the SQLite counter backend.  One connection per
 * thread (a pthread key; SQLite connections must not be shared without its
 * own mutex, and separate connections let WAL readers run side by side);
 * every check-and-count is one BEGIN IMMEDIATE transaction, which takes the
 * database's write lock before the first read, so two deciders - threads or
 * processes - never both read the same old count.  See counters.h. */
#include "engine/counters.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_BUSY_MS	5000	/* wait for the write lock this long */

static const char cs_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS counters(key TEXT NOT NULL, thing TEXT NOT "
    "NULL, window_len INTEGER NOT NULL, window_start INTEGER NOT NULL, "
    "count INTEGER NOT NULL, PRIMARY KEY(key, thing, window_len)) "
    "WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS counters_end ON counters(window_start + "
    "window_len);"
    "CREATE TABLE IF NOT EXISTS counter_domains(key TEXT NOT NULL, "
    "window_len INTEGER NOT NULL, window_start INTEGER NOT NULL, domain TEXT "
    "NOT NULL, PRIMARY KEY(key, window_len, window_start, domain)) "
    "WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS counter_domains_end ON counter_domains("
    "window_start + window_len);";

enum cs_stmt {
	CS_BEGIN, CS_COMMIT, CS_ROLLBACK, CS_GET, CS_HASDOM, CS_ADD, CS_ADDDOM,
	CS_PRUNE, CS_PRUNEDOM, CS_NSTMT
};

static const char *const cs_sql[CS_NSTMT] = {
	"BEGIN IMMEDIATE",
	"COMMIT",
	"ROLLBACK",
	"SELECT count FROM counters WHERE key = ?1 AND thing = ?2 AND "
	"window_len = ?3 AND window_start = ?4",
	"SELECT 1 FROM counter_domains WHERE key = ?1 AND window_len = ?3 AND "
	"window_start = ?4 AND domain = ?2",
	/* one row per (key, thing, window): a new window replaces the old */
	"INSERT INTO counters(key, thing, window_len, window_start, count) "
	"VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(key, thing, window_len) DO "
	"UPDATE SET count = CASE WHEN window_start = excluded.window_start "
	"THEN count + excluded.count ELSE excluded.count END, "
	"window_start = excluded.window_start",
	"INSERT OR IGNORE INTO counter_domains(key, window_len, window_start, "
	"domain) VALUES(?1, ?3, ?4, ?2)",
	"DELETE FROM counters WHERE window_start + window_len <= ?1",
	"DELETE FROM counter_domains WHERE window_start + window_len <= ?1",
};

struct cs_conn {
	struct cs_conn *next;
	struct counters_sqlite *owner;
	sqlite3 *db;
	sqlite3_stmt *st[CS_NSTMT];
	unsigned calls;
};

struct counters_sqlite {
	struct counter_backend base;	/* first: the ops */
	pthread_mutex_t lock;		/* guards conns, nconns */
	pthread_key_t tls;		/* this thread's struct cs_conn */
	struct cs_conn *conns;
	size_t nconns;
	char *path;
};

static void
cs_conn_close(struct cs_conn *c)
{
	for (int i = 0; i < CS_NSTMT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

/* Open path with the pragmas, tables and statements; NULL with err. */
static struct cs_conn *
cs_conn_open(const char *path, char *err, size_t errlen)
{
	struct cs_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(c->db, CS_BUSY_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, cs_schema, NULL, NULL, NULL);
	for (int i = 0; rc == SQLITE_OK && i < CS_NSTMT; i++)
		rc = sqlite3_prepare_v3(c->db, cs_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, c->db != NULL ?
		    sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		cs_conn_close(c);
		return NULL;
	}
	return c;
}

/* Thread exit: close this thread's connection. */
static void
cs_conn_dtor(void *p)
{
	struct cs_conn *c = p, **l;
	struct counters_sqlite *s = c->owner;

	pthread_mutex_lock(&s->lock);
	for (l = &s->conns; *l != NULL && *l != c; l = &(*l)->next)
		;
	if (*l != NULL)
		*l = c->next;
	s->nconns--;
	pthread_mutex_unlock(&s->lock);
	cs_conn_close(c);
}

/* This thread's connection, opened on first use. */
static struct cs_conn *
cs_conn_get(struct counters_sqlite *s, char *err, size_t errlen)
{
	struct cs_conn *c = pthread_getspecific(s->tls);

	if (c != NULL)
		return c;
	pthread_mutex_lock(&s->lock);
	if (s->nconns >= COUNTERS_SQLITE_THREADS) {
		pthread_mutex_unlock(&s->lock);
		snprintf(err, errlen, "%s: too many threads", s->path);
		return NULL;
	}
	s->nconns++;	/* reserve before the slow open */
	pthread_mutex_unlock(&s->lock);
	c = cs_conn_open(s->path, err, errlen);
	pthread_mutex_lock(&s->lock);
	if (c == NULL) {
		s->nconns--;
	} else {
		c->owner = s;
		c->next = s->conns;
		s->conns = c;
	}
	pthread_mutex_unlock(&s->lock);
	if (c != NULL)
		pthread_setspecific(s->tls, c);
	return c;
}

/* Run st to its end and reset it; 0, or -1 on an SQLite error. */
static int
cs_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Bind the common parameters: key, thing or domain, window. */
static sqlite3_stmt *
cs_bind(struct cs_conn *c, enum cs_stmt which, const char *key,
    const char *word, const struct counter_item *it)
{
	sqlite3_stmt *st = c->st[which];

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, word, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, it->window_len);
	sqlite3_bind_int64(st, 4, it->window_start);
	return st;
}

/* The first column of the one row of st (0 when none); -1 on error. */
static int64_t
cs_value(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;

	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? v : -1;
}

/* Read every window; fill res and add[] (what each item adds).  0 or -1. */
static int
cs_decide(struct cs_conn *c, const struct counter_request *req,
    struct counter_result *res, int64_t *add)
{
	for (size_t i = 0; i < req->nitems; i++) {
		const struct counter_item *it = &req->item[i];
		int64_t cur = cs_value(cs_bind(c, CS_GET, it->key,
		    limits_thing_name(it->thing), it));
		if (cur < 0)
			return -1;
		add[i] = it->add;
		for (size_t d = 0; it->thing == LIMITS_DOMAINS &&
		    d < req->ndomains; d++) {
			int64_t has = cs_value(cs_bind(c, CS_HASDOM, it->key,
			    req->domains[d], it));
			if (has < 0)
				return -1;
			add[i] += !has;
		}
		if (cur + add[i] > it->limit) {
			res->refused = 1;
			res->index = i;
			res->count = (uint32_t)cur;
			return 0;
		}
	}
	return 0;
}

static int
cs_write(struct cs_conn *c, const struct counter_request *req,
    const int64_t *add)
{
	for (size_t i = 0; i < req->nitems; i++) {
		const struct counter_item *it = &req->item[i];
		sqlite3_stmt *st = cs_bind(c, CS_ADD, it->key,
		    limits_thing_name(it->thing), it);
		sqlite3_bind_int64(st, 5, add[i]);
		if (cs_run(st) < 0)
			return -1;
		for (size_t d = 0; it->thing == LIMITS_DOMAINS &&
		    d < req->ndomains; d++)
			if (cs_run(cs_bind(c, CS_ADDDOM, it->key,
			    req->domains[d], it)) < 0)
				return -1;
	}
	return 0;
}

static int
cs_prune(struct cs_conn *c, int64_t now)
{
	sqlite3_bind_int64(c->st[CS_PRUNE], 1, now);
	sqlite3_bind_int64(c->st[CS_PRUNEDOM], 1, now);
	return cs_run(c->st[CS_PRUNE]) < 0 || cs_run(c->st[CS_PRUNEDOM]) < 0 ?
	    -1 : 0;
}

static int
cs_check_and_count(struct counter_backend *b,
    const struct counter_request *req, struct counter_result *res)
{
	struct counters_sqlite *s = (struct counters_sqlite *)(void *)b;
	int64_t add[COUNTER_ITEMS_MAX];
	char err[256];
	struct cs_conn *c = cs_conn_get(s, err, sizeof(err));
	int rc;

	if (c == NULL || cs_run(c->st[CS_BEGIN]) < 0)
		return LIMITS_EBACKEND;
	rc = cs_decide(c, req, res, add);
	if (rc == 0 && !res->refused) {
		rc = cs_write(c, req, add);
		if (rc == 0 && ++c->calls % COUNTERS_SQLITE_PRUNE_EVERY == 0)
			rc = cs_prune(c, req->now);
	}
	if (rc == 0 && cs_run(c->st[res->refused ? CS_ROLLBACK : CS_COMMIT]) == 0)
		return 0;
	cs_run(c->st[CS_ROLLBACK]);
	memset(res, 0, sizeof(*res));
	return LIMITS_EBACKEND;
}

static void
cs_free(struct counter_backend *b)
{
	struct counters_sqlite *s = (struct counters_sqlite *)(void *)b;
	struct cs_conn *c, *next;

	pthread_key_delete(s->tls);	/* no destructor runs after this */
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		cs_conn_close(c);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

static const struct counter_backend_ops cs_ops = {
	"sqlite", cs_check_and_count, cs_free,
};

struct counter_backend *
counters_sqlite_new(const char *path, char *err, size_t errlen)
{
	struct counters_sqlite *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->path = strdup(path)) == NULL ||
	    pthread_key_create(&s->tls, cs_conn_dtor) != 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		if (s != NULL)
			free(s->path);
		free(s);
		return NULL;
	}
	s->base.ops = &cs_ops;
	pthread_mutex_init(&s->lock, NULL);
	/* open this thread's connection now: errors belong to the caller */
	if (cs_conn_get(s, err, errlen) == NULL) {
		cs_free(&s->base);
		return NULL;
	}
	return &s->base;
}
