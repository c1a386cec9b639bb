/* alert_outbox.c - the durable outbox of the alerter (see alert_int.h):
 * state_dir/alerts.db, a file of its own rather than a table of jaga.db:
 * it belongs to this gateway (with a shared store every gateway delivers
 * its own alerts), only the alert thread writes it (no lock shared with
 * AUTH and suspension reads), and its schema moves apart from jaga.db's
 * migrations.  Rows: state 0 pending, 1 delivered, 2 given up. */
#include "engine/alert_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_BUSY_MS 5000

struct alert_outbox {
	sqlite3 *db;
};

static const char outbox_schema[] =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE IF NOT EXISTS alerts ("
    " id INTEGER PRIMARY KEY,"
    " channel TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " created INTEGER NOT NULL,"	/* Unix ms */
    " json TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL,"	/* Unix ms */
    " state INTEGER NOT NULL DEFAULT 0,"
    " done_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS alerts_due ON alerts(state, next_at);";

static int
outbox_err(struct alert_outbox *ob, const char *what, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", ALERT_FILE, what,
	    ob->db != NULL ? sqlite3_errmsg(ob->db) : "out of memory");
	return -1;
}

struct alert_outbox *
alert_outbox_open(const char *path, char *err, size_t errlen)
{
	struct alert_outbox *ob = calloc(1, sizeof *ob);

	if (ob == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(ob->db, OUTBOX_BUSY_MS) != SQLITE_OK ||
	    sqlite3_exec(ob->db, outbox_schema, NULL, NULL, NULL) !=
	    SQLITE_OK) {
		outbox_err(ob, "open", err, errlen);
		alert_outbox_close(ob);
		return NULL;
	}
	return ob;
}

void
alert_outbox_close(struct alert_outbox *ob)
{
	if (ob == NULL)
		return;
	sqlite3_close(ob->db);
	free(ob);
}

/* Run one statement with int64 parameters ?1..?n. */
static int
outbox_run(struct alert_outbox *ob, const char *sql, const int64_t *v,
    int n, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(ob->db, sql, -1, &q, NULL) != SQLITE_OK)
		return outbox_err(ob, sql, err, errlen);
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(q, i + 1, v[i]);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : outbox_err(ob, sql, err, errlen);
}

static int
outbox_insert(struct alert_outbox *ob, sqlite3_stmt *q, int ch,
    int64_t now_ms)
{
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, alert_channel_name((enum alert_channel)ch),
	    -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, now_ms);
	return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

int
alert_outbox_add(struct alert_outbox *ob, unsigned chans, const char *kind,
    const char *name, int64_t now_ms, const char *json, const char *subject,
    const char *body, char *err, size_t errlen)
{
	static const char sql[] = "INSERT INTO alerts (channel, kind, name, "
	    "json, subject, created, body, next_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)";
	sqlite3_stmt *q = NULL;
	int r = 0;

	if (sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return outbox_err(ob, "BEGIN", err, errlen);
	if (sqlite3_prepare_v2(ob->db, sql, -1, &q, NULL) != SQLITE_OK) {
		outbox_err(ob, "INSERT", err, errlen);
		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, body, -1, SQLITE_STATIC);
	for (int ch = 0; r == 0 && ch < ALERT_NCH; ch++)
		if ((chans & (1u << ch)) && outbox_insert(ob, q, ch, now_ms) < 0)
			r = -1;
	if (r < 0)
		outbox_err(ob, "INSERT", err, errlen);
	sqlite3_finalize(q);
	if (sqlite3_exec(ob->db, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL,
	    NULL) != SQLITE_OK && r == 0)
		r = outbox_err(ob, "COMMIT", err, errlen);
	return r;
}

static char *
outbox_text(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return strdup(t != NULL ? (const char *)t : "");
}

/* Fill r from a row of alert_outbox_due's SELECT.  Returns 0 or -1. */
static int
outbox_row(sqlite3_stmt *q, struct alert_row *r)
{
	const unsigned char *t;

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(q, 0);
	t = sqlite3_column_text(q, 1);
	r->channel = (enum alert_channel)alert_channel_of(t ? (const char *)t :
	    "");
	t = sqlite3_column_text(q, 2);
	snprintf(r->kind, sizeof r->kind, "%s", t ? (const char *)t : "");
	t = sqlite3_column_text(q, 3);
	snprintf(r->name, sizeof r->name, "%s", t ? (const char *)t : "");
	r->created_ms = sqlite3_column_int64(q, 4);
	r->attempts = sqlite3_column_int(q, 5);
	r->json = outbox_text(q, 6);
	r->subject = outbox_text(q, 7);
	r->body = outbox_text(q, 8);
	if (r->json && r->subject && r->body)
		return 0;
	alert_row_done(r);
	return -1;
}

int
alert_outbox_due(struct alert_outbox *ob, int64_t now_ms,
    struct alert_row *rows, int max, char *err, size_t errlen)
{
	static const char sql[] = "SELECT id, channel, kind, name, created, "
	    "attempts, json, subject, body FROM alerts WHERE state = 0 AND "
	    "next_at <= ?1 ORDER BY next_at, id LIMIT ?2";
	sqlite3_stmt *q;
	int n = 0;

	if (sqlite3_prepare_v2(ob->db, sql, -1, &q, NULL) != SQLITE_OK)
		return outbox_err(ob, "SELECT", err, errlen);
	sqlite3_bind_int64(q, 1, now_ms);
	sqlite3_bind_int(q, 2, max);
	while (n < max && sqlite3_step(q) == SQLITE_ROW)
		if (outbox_row(q, &rows[n]) == 0)
			n++;
	sqlite3_finalize(q);
	return n;
}

int
alert_outbox_retry(struct alert_outbox *ob, int64_t id, int attempts,
    int64_t next_ms, char *err, size_t errlen)
{
	const int64_t v[] = { attempts, next_ms, id };

	return outbox_run(ob, "UPDATE alerts SET attempts = ?1, next_at = ?2 "
	    "WHERE id = ?3", v, 3, err, errlen);
}

int
alert_outbox_finish(struct alert_outbox *ob, int64_t id, int attempts,
    int state, int64_t now_ms, char *err, size_t errlen)
{
	const int64_t v[] = { attempts, state, now_ms, id };

	return outbox_run(ob, "UPDATE alerts SET attempts = ?1, state = ?2, "
	    "done_at = ?3 WHERE id = ?4", v, 4, err, errlen);
}

/* One number from sql, or 0. */
static int64_t
outbox_number(struct alert_outbox *ob, const char *sql)
{
	sqlite3_stmt *q;
	int64_t n = 0;

	if (sqlite3_prepare_v2(ob->db, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

int64_t
alert_outbox_pending(struct alert_outbox *ob)
{
	return outbox_number(ob, "SELECT COUNT(*) FROM alerts WHERE "
	    "state = 0");
}

int64_t
alert_outbox_next(struct alert_outbox *ob)
{
	return outbox_number(ob, "SELECT MIN(next_at) FROM alerts WHERE "
	    "state = 0");
}

int
alert_outbox_prune(struct alert_outbox *ob, int64_t before_ms)
{
	const int64_t v[] = { before_ms };
	char err[256];

	return outbox_run(ob, "DELETE FROM alerts WHERE state != 0 AND "
	    "done_at < ?1", v, 1, err, sizeof err);
}
