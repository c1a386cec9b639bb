/* store.c - the SQLite state store (see store.h). */
#include "engine/store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store {
	sqlite3 *db;
};

/* The migrations, in order: entry i takes the schema from version i to
 * i + 1.  Append only; never edit a released entry. */
static const char *const store_migrations[] = {
	/* 1: identities (issue 3) */
	"CREATE TABLE identities ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('account', 'app')),"
	" pwhash TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" pw_changed INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" must_change INTEGER NOT NULL DEFAULT 0,"
	" senders TEXT NOT NULL DEFAULT '',"
	" from_addrs TEXT NOT NULL DEFAULT '',"
	" networks TEXT NOT NULL DEFAULT '',"
	" limits TEXT NOT NULL DEFAULT '',"
	" note TEXT NOT NULL DEFAULT ''"
	") WITHOUT ROWID;",
	/* 2: suspensions (issue 3 §4); lifted_at = 0 while in force */
	"CREATE TABLE suspensions ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" since INTEGER NOT NULL,"
	" rule TEXT NOT NULL,"
	" evidence TEXT NOT NULL DEFAULT '{}',"
	" lifted_at INTEGER NOT NULL DEFAULT 0,"
	" require_pw_change INTEGER NOT NULL DEFAULT 0,"
	" pw_changed_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX suspensions_name ON suspensions(name);",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

#define STORE_COLUMNS "name, kind, pwhash, created, pw_changed, revoked, " \
	"revoked_at, expires, must_change, senders, from_addrs, networks, " \
	"limits, note"

int
store_schema_version(void)
{
	return STORE_NMIGRATIONS;
}

static int
store_err(struct store *st, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "jaga.db: %s: %s", what,
	    st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
	return -1;
}

static int
store_exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_err(st, sql, err, errlen);
	return 0;
}

static int
store_version(struct store *st, int *version, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q,
	    NULL) != SQLITE_OK)
		return store_err(st, "reading the schema version", err, errlen);
	rc = sqlite3_step(q);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : store_err(st, "reading the schema "
	    "version", err, errlen);
}

/* Bring the schema up to date in one transaction (IMMEDIATE: two
 * processes opening a fresh file at once migrate it only once). */
static int
store_migrate(struct store *st, char *err, size_t errlen)
{
	char sql[64];
	int v;

	if (store_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (store_version(st, &v, err, errlen) < 0)
		goto fail;
	if (v > STORE_NMIGRATIONS) {
		snprintf(err, errlen, "jaga.db has schema version %d; this "
		    "jaga knows up to %d", v, STORE_NMIGRATIONS);
		goto fail;
	}
	for (; v < STORE_NMIGRATIONS; v++)
		if (store_exec(st, store_migrations[v], err, errlen) < 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	if (store_exec(st, sql, err, errlen) == 0 &&
	    store_exec(st, "COMMIT", err, errlen) == 0)
		return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof *st);

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (store_exec(st, "PRAGMA journal_mode = WAL", err, errlen) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", err, errlen) < 0 ||
	    store_migrate(st, err, errlen) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

/* ---- checks ---- */

const char *
store_name_check(const char *name)
{
	size_t n = strnlen(name, STORE_NAME_MAX + 1);

	if (n == 0)
		return "the name is empty";
	if (n > STORE_NAME_MAX)
		return "the name is longer than 255 octets";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= 0x20 || ch == 0x7f || ch == ':')
			return "the name holds white space, ':' or a control "
			    "character";
	}
	return NULL;
}

/* Text fields: bounded, no control characters but '\n' in lists. */
static const char *
store_text_check(const char *s, size_t max, int lines)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		return "is too long";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && !(lines && ch == '\n')) || ch == 0x7f)
			return "holds a control character";
	}
	return NULL;
}

static int
store_check(const struct identity *id, char *err, size_t errlen)
{
	static const char *const names[] = { "senders", "from_addrs",
	    "networks", "limits", "note", "pwhash" };
	const char *fields[] = { id->senders, id->from_addrs, id->networks,
	    id->limits, id->note, id->pwhash };
	const size_t max[] = { STORE_LIST_MAX - 1, STORE_LIST_MAX - 1,
	    STORE_LIST_MAX - 1, STORE_LIMITS_MAX - 1, STORE_NOTE_MAX - 1,
	    PASSWD_HASH_MAX - 1 };
	const char *why = store_name_check(id->name);

	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if ((why = store_text_check(fields[i], max[i], i < 3)) != NULL) {
			snprintf(err, errlen, "%s %s", names[i], why);
			return -1;
		}
	}
	if (id->pwhash[0] == '\0') {
		snprintf(err, errlen, "no password hash");
		return -1;
	}
	return 0;
}

/* ---- rows ---- */

static void
store_col_text(sqlite3_stmt *q, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
}

static void
store_row(sqlite3_stmt *q, struct identity *id)
{
	const unsigned char *kind = sqlite3_column_text(q, 1);

	memset(id, 0, sizeof *id);
	store_col_text(q, 0, id->name, sizeof id->name);
	id->kind = kind != NULL && strcmp((const char *)kind, "app") == 0 ?
	    STORE_APP : STORE_ACCOUNT;
	store_col_text(q, 2, id->pwhash, sizeof id->pwhash);
	id->created = sqlite3_column_int64(q, 3);
	id->pw_changed = sqlite3_column_int64(q, 4);
	id->revoked = sqlite3_column_int(q, 5);
	id->revoked_at = sqlite3_column_int64(q, 6);
	id->expires = sqlite3_column_int64(q, 7);
	id->must_change = sqlite3_column_int(q, 8);
	store_col_text(q, 9, id->senders, sizeof id->senders);
	store_col_text(q, 10, id->from_addrs, sizeof id->from_addrs);
	store_col_text(q, 11, id->networks, sizeof id->networks);
	store_col_text(q, 12, id->limits, sizeof id->limits);
	store_col_text(q, 13, id->note, sizeof id->note);
}

/* Bind the columns in STORE_COLUMNS order to ?1..?14. */
static int
store_bind(sqlite3_stmt *q, const struct identity *id, long long now)
{
	int rc = 0;

	rc |= sqlite3_bind_text(q, 1, id->name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 2, id->kind == STORE_APP ? "app" :
	    "account", -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 3, id->pwhash, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 4, id->created ? id->created : now);
	rc |= sqlite3_bind_int64(q, 5, id->pw_changed ? id->pw_changed : now);
	rc |= sqlite3_bind_int(q, 6, id->revoked != 0);
	rc |= sqlite3_bind_int64(q, 7, id->revoked_at);
	rc |= sqlite3_bind_int64(q, 8, id->expires);
	rc |= sqlite3_bind_int(q, 9, id->must_change != 0);
	rc |= sqlite3_bind_text(q, 10, id->senders, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 11, id->from_addrs, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 12, id->networks, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 13, id->limits, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 14, id->note, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Run a statement that changes rows; returns the number changed or -1. */
static int
store_write(struct store *st, const char *sql, const struct identity *id,
    const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return store_err(st, "prepare", err, errlen);
	if (id != NULL)
		rc = store_bind(q, id, (long long)time(NULL));
	else
		rc = sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (rc == 0)
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	if (rc != 0)
		return store_err(st, "write", err, errlen);
	return sqlite3_changes(st->db);
}

/* ---- the identity functions ---- */

int
store_identity_add(struct store *st, const struct identity *id, char *err,
    size_t errlen)
{
	int n;

	if (store_check(id, err, errlen) < 0)
		return -1;
	n = store_write(st, "INSERT OR IGNORE INTO identities (" STORE_COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13, ?14)", id, NULL, err, errlen);
	return n < 0 ? -1 : n == 0 ? STORE_EXISTS : 0;
}

int
store_identity_update(struct store *st, const struct identity *id,
    char *err, size_t errlen)
{
	int n;

	if (store_check(id, err, errlen) < 0)
		return -1;
	n = store_write(st, "UPDATE identities SET kind = ?2, pwhash = ?3, "
	    "pw_changed = ?5, revoked = ?6, revoked_at = ?7, expires = ?8, "
	    "must_change = ?9, senders = ?10, from_addrs = ?11, "
	    "networks = ?12, limits = ?13, note = ?14 WHERE name = ?1", id, NULL, err, errlen);
	return n < 0 ? -1 : n == 0 ? STORE_NOTFOUND : 0;
}

int
store_identity_remove(struct store *st, const char *name, char *err,
    size_t errlen)
{
	int n = store_write(st, "DELETE FROM identities WHERE name = ?1",
	    NULL, name, err, errlen);

	return n < 0 ? -1 : n == 0 ? STORE_NOTFOUND : 0;
}

/* Run a query with one text parameter (?1 = name) and map its first row
 * into out with fn.  Returns 0, STORE_NOTFOUND, or a store error. */
static void store_susp_row(sqlite3_stmt *q, struct suspension *out);

typedef void store_row_fn(sqlite3_stmt *q, void *out);

static int
store_get_one(struct store *st, const char *sql, const char *name,
    store_row_fn *fn, void *out, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return store_err(st, "prepare", err, errlen);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		fn(q, out);
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? STORE_NOTFOUND :
	    store_err(st, "read", err, errlen);
}

static void
store_row_identity(sqlite3_stmt *q, void *out)
{
	store_row(q, out);
}

static void
store_row_suspension(sqlite3_stmt *q, void *out)
{
	store_susp_row(q, out);
}

int
store_identity_get(struct store *st, const char *name, struct identity *out,
    char *err, size_t errlen)
{
	return store_get_one(st, "SELECT " STORE_COLUMNS " FROM identities "
	    "WHERE name = ?1", name, store_row_identity, out, err, errlen);
}

int
store_identity_list(struct store *st, store_identity_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct identity *id = malloc(sizeof *id);
	sqlite3_stmt *q = NULL;
	int rc = SQLITE_DONE, r = 0;

	if (id == NULL || sqlite3_prepare_v2(st->db, "SELECT " STORE_COLUMNS
	    " FROM identities ORDER BY name", -1, &q, NULL) != SQLITE_OK) {
		free(id);
		return store_err(st, "prepare", err, errlen);
	}
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_row(q, id);
		r = fn(id, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_err(st, "read", err, errlen);
	sqlite3_finalize(q);
	sodium_memzero(id, sizeof *id);
	free(id);
	return r;
}

/* ---- suspensions ---- */

/* In force: not lifted, or lifted on condition of a password change that
 * has not happened since (store_suspend_password_changed).  A flag, not a
 * comparison of times: seconds are too coarse to order a lift and a
 * password change made in the same second. */
#define STORE_SUSP_ACTIVE "(s.lifted_at = 0 OR (s.require_pw_change != 0 " \
	"AND s.pw_changed_at = 0))"
#define STORE_SUSP_COLUMNS "s.name, s.since, s.rule, s.evidence, " \
	"s.lifted_at, s.require_pw_change, " STORE_SUSP_ACTIVE

static void
store_susp_row(sqlite3_stmt *q, struct suspension *out)
{
	memset(out, 0, sizeof *out);
	store_col_text(q, 0, out->name, sizeof out->name);
	out->since = sqlite3_column_int64(q, 1);
	store_col_text(q, 2, out->rule, sizeof out->rule);
	store_col_text(q, 3, out->evidence, sizeof out->evidence);
	out->lifted_at = sqlite3_column_int64(q, 4);
	out->require_pw_change = sqlite3_column_int(q, 5);
	out->active = sqlite3_column_int(q, 6);
}

int
store_suspend_add(struct store *st, const struct suspension *su, char *err,
    size_t errlen)
{
	sqlite3_stmt *q;
	int rc = 0;

	/* one statement: atomic, so two workers hitting the limit at once
	 * make one suspension (and one log line) */
	if (sqlite3_prepare_v2(st->db, "INSERT INTO suspensions (name, since, "
	    "rule, evidence) SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 "
	    "FROM suspensions s WHERE s.name = ?1 AND " STORE_SUSP_ACTIVE ")",
	    -1, &q, NULL) != SQLITE_OK)
		return store_err(st, "prepare", err, errlen);
	rc |= sqlite3_bind_text(q, 1, su->name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 2, su->since ? su->since :
	    (long long)time(NULL));
	rc |= sqlite3_bind_text(q, 3, su->rule, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 4, su->evidence, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	if (rc != 0)
		return store_err(st, "write", err, errlen);
	return sqlite3_changes(st->db) == 0 ? STORE_EXISTS : 0;
}

int
store_suspend_get(struct store *st, const char *name, struct suspension *out,
    char *err, size_t errlen)
{
	return store_get_one(st, "SELECT " STORE_SUSP_COLUMNS " FROM "
	    "suspensions s WHERE s.name = ?1 ORDER BY " STORE_SUSP_ACTIVE
	    " DESC, s.id DESC LIMIT 1", name, store_row_suspension, out, err,
	    errlen);
}

int
store_suspend_list(struct store *st, store_suspension_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct suspension *su = malloc(sizeof *su);
	sqlite3_stmt *q = NULL;
	int rc = SQLITE_DONE, r = 0;

	if (su == NULL || sqlite3_prepare_v2(st->db, "SELECT "
	    STORE_SUSP_COLUMNS " FROM suspensions s WHERE " STORE_SUSP_ACTIVE
	    " ORDER BY s.since, s.name", -1, &q, NULL) != SQLITE_OK) {
		free(su);
		return store_err(st, "prepare", err, errlen);
	}
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_susp_row(q, su);
		r = fn(su, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_err(st, "read", err, errlen);
	sqlite3_finalize(q);
	free(su);
	return r;
}

int
store_suspend_lift(struct store *st, const char *name, int require_pw,
    char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "UPDATE suspensions SET "
	    "lifted_at = ?2, require_pw_change = ?3 WHERE id IN (SELECT s.id "
	    "FROM suspensions s WHERE s.name = ?1 AND " STORE_SUSP_ACTIVE ")", -1, &q, NULL) != SQLITE_OK)
		return store_err(st, "prepare", err, errlen);
	rc |= sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 2, (long long)time(NULL));
	rc |= sqlite3_bind_int(q, 3, require_pw != 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	if (rc != 0)
		return store_err(st, "write", err, errlen);
	return sqlite3_changes(st->db) == 0 ? STORE_NOTFOUND : 0;
}

int
store_suspend_password_changed(struct store *st, const char *name,
    char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "UPDATE suspensions SET pw_changed_at "
	    "= ?2 WHERE name = ?1 AND lifted_at != 0 AND require_pw_change != 0 "
	    "AND pw_changed_at = 0", -1, &q, NULL) != SQLITE_OK)
		return store_err(st, "prepare", err, errlen);
	rc |= sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 2, (long long)time(NULL));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	return rc == 0 ? 0 : store_err(st, "write", err, errlen);
}
