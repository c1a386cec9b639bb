/* test_store.c - engine/store.c in a temporary directory: migrations,
 * a too-new schema, and add/get/update/revoke/remove of identities;
 * suspensions: once in force, list, lift, lift on a password change. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"
#include "harness.h"

static char t_dir[] = "/tmp/jaga-test-store-XXXXXX";
static char t_path[256];

static struct store *
t_open(void)
{
	char err[512] = "";
	struct store *st = store_open(t_path, err, sizeof err);

	CHECK(st != NULL, "store_open: %s", err);
	return st;
}

static int
t_user_version(void)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int v = -1;

	if (sqlite3_open(t_path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) ==
	    SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void
t_set_version(int v)
{
	char sql[64];
	sqlite3 *db;

	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
	if (sqlite3_open(t_path, &db) == SQLITE_OK)
		sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
}

static void
test_migrations(void)
{
	char err[512] = "", want[128];
	struct store *st;

	CHECK_INT(t_user_version(), 0, "a new file is version 0");
	unlink(t_path);
	st = t_open();
	store_close(st);
	CHECK_INT(t_user_version(), store_schema_version(), "migrated");
	st = t_open();		/* again: nothing to do */
	store_close(st);
	t_set_version(store_schema_version() + 7);
	CHECK(store_open(t_path, err, sizeof err) == NULL, "too new refused");
	snprintf(want, sizeof want, "jaga.db has schema version %d; this jaga "
	    "knows up to %d", store_schema_version() + 7, store_schema_version());
	CHECK_STR(err, want, "too-new message");
	t_set_version(store_schema_version());
}

static void
t_identity(struct identity *id, const char *name)
{
	memset(id, 0, sizeof *id);
	snprintf(id->name, sizeof id->name, "%s", name);
	snprintf(id->pwhash, sizeof id->pwhash, "$6$salt$hash");
	snprintf(id->senders, sizeof id->senders, "a@example.com\n@example.org");
	snprintf(id->networks, sizeof id->networks, "10.0.0.0/8");
	snprintf(id->limits, sizeof id->limits, "messages=30/1m,300/1h");
}

static int
t_count(const struct identity *id, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_crud(struct store *st)
{
	struct identity id, got;
	char err[512];
	int n = 0;

	t_identity(&id, "App1");
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), 0, "add");
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), STORE_EXISTS,
	    "add twice");
	t_identity(&id, "app1");	/* names are case-sensitive */
	id.kind = STORE_APP;
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), 0, "add app1");
	CHECK_INT(store_identity_get(st, "App1", &got, err, sizeof err), 0, "get");
	CHECK_STR(got.senders, "a@example.com\n@example.org", "senders");
	CHECK_STR(got.limits, "messages=30/1m,300/1h", "limits");
	CHECK(got.created > 0 && got.pw_changed == got.created, "times");
	CHECK_INT(got.kind, STORE_ACCOUNT, "kind");
	CHECK_INT(store_identity_get(st, "nobody", &got, err, sizeof err),
	    STORE_NOTFOUND, "get unknown");
	got.revoked = 1;
	got.revoked_at = 123;
	got.expires = 456;
	snprintf(got.pwhash, sizeof got.pwhash, "$y$new");
	CHECK_INT(store_identity_update(st, &got, err, sizeof err), 0, "update");
	CHECK_INT(store_identity_get(st, "App1", &got, err, sizeof err), 0, "get");
	CHECK(got.revoked && got.revoked_at == 123 && got.expires == 456,
	    "revoked and expiry kept");
	CHECK_STR(got.pwhash, "$y$new", "new hash");
	CHECK_INT(store_identity_list(st, t_count, &n, err, sizeof err), 0, "list");
	CHECK_INT(n, 2, "two identities");
	CHECK_INT(store_identity_remove(st, "App1", err, sizeof err), 0, "remove");
	CHECK_INT(store_identity_remove(st, "App1", err, sizeof err),
	    STORE_NOTFOUND, "remove again");
	snprintf(got.name, sizeof got.name, "App1");
	CHECK_INT(store_identity_update(st, &got, err, sizeof err),
	    STORE_NOTFOUND, "update removed");
}

static void
test_bad_input(struct store *st)
{
	static const char *const names[] = { "", "a b", "a:b", "a\nb", "a\x7f" };
	struct identity id;
	char err[512], longname[STORE_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		t_identity(&id, names[i]);
		CHECK_INT(store_identity_add(st, &id, err, sizeof err), -1,
		    "bad name %zu", i);
	}
	t_identity(&id, "x");
	memset(id.name, 'n', STORE_NAME_MAX);	/* 255: the longest */
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), 0, "255 octets");
	CHECK(store_name_check("") != NULL, "empty name");
	memset(longname, 'n', STORE_NAME_MAX + 1);
	longname[STORE_NAME_MAX + 1] = '\0';
	CHECK_STR(store_name_check(longname),
	    "the name is longer than 255 octets", "256 octets");
	t_identity(&id, "y");
	snprintf(id.note, sizeof id.note, "bell\a");
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), -1, "control");
	CHECK_STR(err, "note holds a control character", "control message");
	t_identity(&id, "z");
	id.pwhash[0] = '\0';
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), -1, "no hash");
}

static int
t_count_susp(const struct suspension *su, void *arg)
{
	(void)su;
	(*(int *)arg)++;
	return 0;
}

static int
t_listed(struct store *st)
{
	char err[512];
	int n = 0;

	CHECK_INT(store_suspend_list(st, t_count_susp, &n, err, sizeof err), 0,
	    "suspend_list");
	return n;
}

static void
test_suspensions(struct store *st)
{
	struct suspension su = { .name = "sus1", .rule = "messages=2/60s "
	    "action=suspend", .evidence = "{\"count\":2}" }, got;
	char err[512];

	CHECK_INT(store_suspend_get(st, "sus1", &got, err, sizeof err),
	    STORE_NOTFOUND, "never suspended");
	CHECK_INT(store_suspend_add(st, &su, err, sizeof err), 0, "suspend");
	CHECK_INT(store_suspend_add(st, &su, err, sizeof err), STORE_EXISTS,
	    "one suspension in force at a time");
	CHECK_INT(t_listed(st), 1, "listed once");
	CHECK_INT(store_suspend_get(st, "sus1", &got, err, sizeof err), 0, "get");
	CHECK(got.active && got.since > 0, "in force since now");
	CHECK_STR(got.evidence, "{\"count\":2}", "evidence kept");
	CHECK_INT(store_suspend_lift(st, "sus1", 0, err, sizeof err), 0, "lift");
	CHECK_INT(store_suspend_lift(st, "sus1", 0, err, sizeof err),
	    STORE_NOTFOUND, "nothing left to lift");
	CHECK_INT(t_listed(st), 0, "lifted: not listed");
	CHECK_INT(store_suspend_add(st, &su, err, sizeof err), 0, "again");
	CHECK_INT(store_suspend_lift(st, "sus1", 1, err, sizeof err), 0,
	    "lift on a password change");
	store_suspend_get(st, "sus1", &got, err, sizeof err);
	CHECK(got.active && got.require_pw_change, "still in force");
	CHECK_INT(store_suspend_password_changed(st, "sus1", err, sizeof err),
	    0, "password changed");
	store_suspend_get(st, "sus1", &got, err, sizeof err);
	CHECK(!got.active, "now lifted");
	CHECK_INT(t_listed(st), 0, "none in force");
}

int
main(void)
{
	struct store *st;
	char cmd[300];

	if (mkdtemp(t_dir) == NULL)
		return 1;
	snprintf(t_path, sizeof t_path, "%s/jaga.db", t_dir);
	test_migrations();
	if ((st = t_open()) != NULL) {
		test_crud(st);
		test_bad_input(st);
		test_suspensions(st);
		store_close(st);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t_dir);
	return harness_end("store");
}
