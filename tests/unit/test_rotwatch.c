/* test_rotwatch.c - gateway/rotwatch.c: the daemon's credential check over
 * a real identity store and a real vault in a temporary state_dir, at a
 * time the test chooses (no clock is faked): which credentials are
 * flagged, and the "credential age|expiry" lines it logs. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"
#include "engine/vault.h"
#include "gateway/params.h"
#include "gateway/rotwatch.h"
#include "harness.h"

#define T0 1795415400LL		/* 2026-11-23T06:30:00Z */
#define D ROTATION_DAY

static char dir[] = "/tmp/jaga-rotwatch-XXXXXX";

static void
add_identity(struct store *st, const char *name, enum store_kind kind,
    long long changed, long long expires, int revoked)
{
	struct identity id = { .kind = kind, .created = changed,
	    .pw_changed = changed, .expires = expires, .revoked = revoked,
	    .revoked_at = revoked ? changed : 0 };
	char err[256];

	snprintf(id.name, sizeof id.name, "%s", name);
	snprintf(id.pwhash, sizeof id.pwhash, "$argon2id$v=19$m=8,t=1,p=1$x$y");
	CHECK_INT(store_identity_add(st, &id, err, sizeof err), 0, "add %s: %s",
	    name, err);
}

static void
make_vault(void)
{
	char key[512], path[512], spec[600], err[256];
	struct vault_keysrc *ks;
	struct vault *v = NULL;

	snprintf(key, sizeof key, "%s/vault.key", dir);
	snprintf(path, sizeof path, "%s/vault", dir);
	snprintf(spec, sizeof spec, "file:%s", key);
	CHECK_INT(vault_keyfile_create(key, err, sizeof err), 0, "key: %s", err);
	ks = vault_keysrc_new(spec, err, sizeof err);
	CHECK(ks != NULL, "keysrc: %s", err);
	CHECK_INT(vault_create(path, ks, err, sizeof err), 0, "vault: %s", err);
	if (ks != NULL && (v = vault_open(path, err, sizeof err)) != NULL) {
		CHECK_INT(vault_set(v, ks, "ses-old", "AKIA1", "s1", 2, 0,
		    T0 - 100 * D, err, sizeof err), 0, "set old: %s", err);
		vault_close(v);
		v = vault_open(path, err, sizeof err);
		CHECK_INT(vault_set(v, ks, "ses-new", "AKIA2", "s2", 2,
		    T0 + 5 * D, T0 - D, err, sizeof err), 0, "set new: %s", err);
	}
	vault_close(v);
	vault_keysrc_free(ks);
}

/* rotwatch_check at now with -o settings kv; its log lines into out. */
static int
check(const char *const *kv, int64_t now, char *out, size_t outlen)
{
	struct config *c = config_new(jaga_params, jaga_nparams);
	struct settings s = { .cfg = c, .state_dir = dir };
	struct rotwatch *rw;
	char err[256], logf[600];
	struct buf errs;
	int fd, saved, n = -2;
	ssize_t got;

	buf_init(&errs, 1024);
	for (; kv[0] != NULL; kv += 2)
		config_set(c, kv[0], kv[1], "-o", &errs);
	snprintf(logf, sizeof logf, "%s/log", dir);
	fd = open(logf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	if ((rw = rotwatch_new(&s, NULL, err, sizeof err)) != NULL)
		n = rotwatch_check(rw, now);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, out, outlen - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	rotwatch_free(rw);
	config_free(c);
	buf_done(&errs);
	return n;
}

static void
test_check(void)
{
	static const char *const none[] = { NULL };
	static const char *const max30[] = { "credential_max_age", "30d",
	    "vault_max_age", "0", NULL };
	char log[8192], err[256], path[600];
	struct store *st;

	snprintf(path, sizeof path, "%s/%s", dir, STORE_FILE);
	st = store_open(path, err, sizeof err);
	CHECK(st != NULL, "store: %s", err);
	if (st == NULL)
		return;
	add_identity(st, "old-app", STORE_APP, T0 - 100 * D, 0, 0);
	add_identity(st, "young-app", STORE_APP, T0 - 40 * D, 0, 0);
	add_identity(st, "old-person", STORE_ACCOUNT, T0 - 400 * D, 0, 0);
	add_identity(st, "soon", STORE_ACCOUNT, T0, T0 + 10 * D, 0);
	add_identity(st, "gone-app", STORE_APP, T0 - 3 * D, T0 - 2 * D, 0);
	add_identity(st, "revoked-app", STORE_APP, T0 - 300 * D, 0, 1);
	store_close(st);

	CHECK_INT(check(none, T0, log, sizeof log), 3, "no vault yet: 3");
	CHECK(strstr(log, " - credential age name=old-app kind=app "
	    "age_days=100 max_days=90\n") != NULL, "old-app: %s", log);
	CHECK(strstr(log, " - credential expiry name=soon kind=account "
	    "expires=2026-12-03T06:30:00Z days_left=10\n") != NULL, "soon: %s",
	    log);
	CHECK(strstr(log, " - credential expiry name=gone-app kind=app "
	    "expires=2026-11-21T06:30:00Z days_left=-2\n") != NULL,
	    "gone-app: %s", log);
	CHECK(strstr(log, "young-app") == NULL && strstr(log, "old-person") ==
	    NULL && strstr(log, "revoked-app") == NULL, "quiet: %s", log);

	make_vault();
	CHECK_INT(check(none, T0, log, sizeof log), 5, "with the vault: 5");
	CHECK(strstr(log, " - credential age name=ses-old kind=vault "
	    "age_days=100 max_days=90\n") != NULL, "ses-old: %s", log);
	CHECK(strstr(log, " - credential expiry name=ses-new kind=vault "
	    "expires=2026-11-28T06:30:00Z days_left=5\n") != NULL,
	    "ses-new: %s", log);
	CHECK(strstr(log, "AKIA") == NULL, "no upstream user: %s", log);

	CHECK_INT(check(max30, T0, log, sizeof log), 5, "max 30d, vault off");
	CHECK(strstr(log, "name=young-app kind=app age_days=40 max_days=30") !=
	    NULL && strstr(log, "name=ses-old") == NULL, "max30: %s", log);
	/* 50 days on: soon and ses-new expired, ses-old older */
	CHECK_INT(check(none, T0 + 50 * D, log, sizeof log), 6, "T0+50d");
	CHECK(strstr(log, "name=ses-old kind=vault age_days=150") != NULL &&
	    strstr(log, "name=soon kind=account expires=2026-12-03T06:30:00Z "
	    "days_left=-40") != NULL, "T0+50d: %s", log);
}

int
main(void)
{
	char cmd[600];

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	test_check();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return harness_end("rotwatch");
}
