/* test_vault.c - engine/vault*.c: round trip, and every way a vault file or
 * its key can be wrong refused with its own message, nothing decrypted
 * and nothing overwritten. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/vault.h"
#include "harness.h"

static char t_dir[] = "/tmp/jaga-test-vault-XXXXXX";
static char t_vault[256], t_key[256];
static char err[1024];

/* ---- files ---- */

static char *
t_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = calloc(1, 1 << 20);
	size_t n = f ? fread(s, 1, (1 << 20) - 1, f) : 0;

	if (f)
		fclose(f);
	if (len)
		*len = n;
	return s;
}

/* Overwrite in place: the file keeps its mode. */
static void
t_write(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, s, n) != (ssize_t)n)
		fprintf(stderr, "t_write %s failed\n", path);
	if (fd >= 0)
		close(fd);
}

/* Replace the first from with to (same length) in the vault file. */
static void
t_patch(const char *from, const char *to)
{
	size_t n;
	char *s = t_read(t_vault, &n), *p = strstr(s, from);

	if (p != NULL && strlen(from) == strlen(to))
		memcpy(p, to, strlen(to));
	else
		fprintf(stderr, "t_patch: %s not found\n", from);
	t_write(t_vault, s, n);
	free(s);
}

static struct vault_keysrc *
t_ks(const char *spec)
{
	struct vault_keysrc *ks = vault_keysrc_new(spec, err, sizeof err);

	if (ks == NULL)
		fprintf(stderr, "keysrc %s: %s\n", spec, err);
	return ks;
}

static void
t_fresh(void)
{
	char spec[300], gen[300];
	struct vault_keysrc *ks;
	struct vault *v;

	snprintf(gen, sizeof gen, "%s.gen", t_vault);
	unlink(t_vault);
	unlink(gen);
	chmod(t_key, 0600);
	unlink(t_key);
	CHECK(vault_keyfile_create(t_key, err, sizeof err) == 0, "key: %s",
	    err);
	snprintf(spec, sizeof spec, "file:%s", t_key);
	ks = t_ks(spec);
	CHECK(vault_create(t_vault, ks, err, sizeof err) == 0, "create: %s",
	    err);
	v = vault_open(t_vault, err, sizeof err);
	CHECK(v != NULL, "open: %s", err);
	CHECK(vault_set(v, ks, "alpha", "u-alpha", "s3cret-alpha", 12, 0,
	    1000, err, sizeof err) == 0, "set alpha: %s", err);
	CHECK(vault_set(v, ks, "beta", "u-beta", "s3cret-betaa", 12, 0,
	    1000, err, sizeof err) == 0, "set beta: %s", err);
	vault_close(v);
	vault_keysrc_free(ks);
}

static struct vault_keysrc *
t_keyks(void)
{
	char spec[300];

	snprintf(spec, sizeof spec, "file:%s", t_key);
	return t_ks(spec);
}

/* ---- round trip ---- */

static int
t_collect(const struct vault_meta *m, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s/%s/%u ", m->name, m->user,
	    (unsigned)m->version);
	return 0;
}

static void
test_round_trip(void)
{
	struct vault_keysrc *ks;
	struct vault_secret s;
	struct vault *v;
	char names[512] = "";

	t_fresh();
	ks = t_keyks();
	v = vault_open(t_vault, err, sizeof err);
	CHECK(v != NULL, "open: %s", err);
	if (v == NULL)
		return;
	CHECK_INT(vault_get(v, ks, "alpha", &s, err, sizeof err), 0,
	    "get alpha: %s", err);
	CHECK_STR(s.secret, "s3cret-alpha", "secret of alpha");
	CHECK_STR(s.user, "u-alpha", "user of alpha");
	CHECK_INT(s.len, 12, "length");
	vault_secret_free(&s);
	CHECK(s.secret == NULL, "freed");
	CHECK_INT(vault_get(v, ks, "gamma", &s, err, sizeof err), 1, "absent");
	CHECK_INT(vault_rotate(v, ks, "alpha", "new-alpha", 9, 2000, err,
	    sizeof err), 0, "rotate: %s", err);
	CHECK_INT(vault_rotate(v, ks, "gamma", "x", 1, 2000, err, sizeof err),
	    1, "rotate absent");
	CHECK_INT(vault_get(v, ks, "alpha", &s, err, sizeof err), 0, "again");
	CHECK_STR(s.secret, "new-alpha", "rotated secret");
	vault_secret_free(&s);
	vault_list(v, t_collect, names, err, sizeof err);
	CHECK_STR(names, "alpha/u-alpha/2 beta/u-beta/1 ", "list");
	CHECK_INT(vault_remove(v, ks, "beta", err, sizeof err), 0, "remove");
	CHECK_INT(vault_remove(v, ks, "beta", err, sizeof err), 1, "removed");
	CHECK(vault_set(v, ks, "bad name", "u", "x", 1, 0, 1, err, sizeof err)
	    < 0 && strstr(err, "entry name") != NULL, "bad name: %s", err);
	CHECK(vault_set(v, ks, "n", "u", "a\0b", 3, 0, 1, err, sizeof err)
	    < 0 && strstr(err, "NUL") != NULL, "NUL in secret: %s", err);
	vault_close(v);
	/* a fresh open sees what was written */
	v = vault_open(t_vault, err, sizeof err);
	names[0] = '\0';
	vault_list(v, t_collect, names, err, sizeof err);
	CHECK_STR(names, "alpha/u-alpha/2 ", "list after reopen");
	CHECK_INT(vault_verify(v, ks, err, sizeof err), 0, "verify: %s", err);
	vault_close(v);
	vault_keysrc_free(ks);
}

/* ---- refusals ---- */

/* vault_get of name must fail with want in the message (at open or at
 * get), hand out nothing, and a writer must leave the file as it is. */
static void
t_refused(const char *what, const struct vault_keysrc *ks,
    const char *name, const char *want)
{
	struct vault_secret s = { .secret = (char *)"x" };
	size_t n1, n2;
	char *before = t_read(t_vault, &n1), *after;
	struct vault *v = vault_open(t_vault, err, sizeof err);
	int r = -1;

	if (v != NULL) {
		r = vault_get(v, ks, name, &s, err, sizeof err);
		CHECK(s.secret == NULL, "%s: nothing handed out", what);
	}
	CHECK(r == -1 && strstr(err, want) != NULL, "%s: got %d \"%s\", want "
	    "\"%s\"", what, r, err, want);
	if (v != NULL)
		CHECK(vault_set(v, ks, "zeta", "u", "x", 1, 0, 5000, err,
		    sizeof err) < 0, "%s: set refused", what);
	after = t_read(t_vault, &n2);
	CHECK(n1 == n2 && memcmp(before, after, n1) == 0,
	    "%s: file untouched", what);
	vault_close(v);
	free(before);
	free(after);
}

/* The hex ciphertext of entry name: the last field of its line. */
static char *
t_ct(char *text, const char *name)
{
	char needle[80];
	char *line, *nl;

	snprintf(needle, sizeof needle, "\nentry %s ", name);
	if ((line = strstr(text, needle)) == NULL)
		return NULL;
	nl = strchr(line + 1, '\n');
	*nl = '\0';
	line = strrchr(line, ' ') + 1;
	*nl = '\n';
	return line;
}

static void
test_tampered(void)
{
	struct vault_keysrc *ks = t_keyks();
	size_t n;
	char *s, *ca, *cb, tmp[2200];

	t_fresh();
	s = t_read(t_vault, &n);
	ca = t_ct(s, "alpha");
	ca[10] = ca[10] == '0' ? '1' : '0';
	t_write(t_vault, s, n);
	free(s);
	t_refused("ciphertext", ks, "alpha", "entry alpha: authentication "
	    "failed");
	t_fresh();
	t_patch(" u-alpha ", " u-alphx ");
	t_refused("user", ks, "alpha", "entry alpha: authentication failed");
	t_fresh();
	t_patch(" u-alpha 1 ", " u-alpha 7 ");
	t_refused("version", ks, "alpha", "entry alpha: authentication failed");
	t_fresh();
	t_patch("entry alpha ", "entry alphb ");
	t_refused("name", ks, "alphb", "entry alphb: authentication failed");
	/* swapped: alpha's nonce and sealed secret in beta's line (same
	 * length), beta's in alpha's */
	t_fresh();
	s = t_read(t_vault, &n);
	ca = t_ct(s, "alpha") - 49;
	cb = t_ct(s, "beta") - 49;
	memcpy(tmp, ca, 49 + 2 * 28);
	memcpy(ca, cb, 49 + 2 * 28);
	memcpy(cb, tmp, 49 + 2 * 28);
	t_write(t_vault, s, n);
	free(s);
	t_refused("swapped", ks, "alpha", "entry alpha: authentication failed");
	t_refused("swapped", ks, "beta", "entry beta: authentication failed");
	/* created and expires are outside the associated data: the MAC */
	t_fresh();
	t_patch(" 1000 1000 0 ", " 1000 1000 9 ");
	t_refused("expires", ks, "alpha", "file MAC mismatch");
	t_fresh();
	t_patch("generation 3", "generation 9");
	t_refused("generation", ks, "alpha", "file MAC mismatch");
	vault_keysrc_free(ks);
}

static void
test_broken_files(void)
{
	struct vault_keysrc *ks = t_keyks();
	size_t n;
	char *s;

	t_fresh();
	s = t_read(t_vault, &n);
	t_write(t_vault, s, n - 10);
	t_refused("truncated end", ks, "alpha", "truncated");
	t_write(t_vault, s, 40);
	t_refused("truncated head", ks, "alpha", "bad or missing check line");
	t_write(t_vault, s, n / 2);
	t_refused("truncated middle", ks, "alpha", "");
	CHECK(strstr(err, "truncated") || strstr(err, "bad entry line"),
	    "truncated middle: %s", err);
	t_write(t_vault, "", 0);
	t_refused("empty", ks, "alpha", "not a jaga vault file");
	t_write(t_vault, "[sasl_passwd]\nuser:pw\n", 22);
	t_refused("foreign", ks, "alpha", "not a jaga vault file");
	t_write(t_vault, "jaga-vault 2\n", 13);
	t_refused("future", ks, "alpha", "unsupported vault format version");
	memcpy(s + n, "x\n", 2);
	t_write(t_vault, s, n + 2);
	t_refused("trailing", ks, "alpha", "data after the mac line");
	free(s);
	vault_keysrc_free(ks);
}

static void
test_wrong_key_and_rollback(void)
{
	char k2[300], spec[320];
	struct vault_keysrc *ks = t_keyks(), *ks2;
	struct vault *v;
	size_t n;
	char *old;

	t_fresh();
	snprintf(k2, sizeof k2, "%s/other.key", t_dir);
	unlink(k2);
	vault_keyfile_create(k2, err, sizeof err);
	snprintf(spec, sizeof spec, "file:%s", k2);
	ks2 = t_ks(spec);
	t_refused("wrong key", ks2, "alpha", "wrong master key");
	/* rollback: an old copy of the whole file, consistent in itself */
	old = t_read(t_vault, &n);
	v = vault_open(t_vault, err, sizeof err);
	CHECK(vault_rotate(v, ks, "alpha", "leaked-no-more", 14, 3000, err,
	    sizeof err) == 0, "rotate: %s", err);
	vault_close(v);
	t_write(t_vault, old, n);
	t_refused("rolled back", ks, "alpha", "rolled back: generation 3, "
	    "but generation 4 was written");
	free(old);
	vault_keysrc_free(ks2);
	vault_keysrc_free(ks);
}

static void
test_permissions(void)
{
	struct vault_keysrc *ks = t_keyks();

	t_fresh();
	chmod(t_vault, 0644);
	t_refused("vault 0644", ks, "alpha", "mode 0644, want 0600 or stricter");
	chmod(t_vault, 0640);
	t_refused("vault 0640", ks, "alpha", "mode 0640, want 0600 or stricter");
	chmod(t_vault, 0600);
	chmod(t_key, 0600);
	t_refused("key 0600", ks, "alpha", "mode 0600, want 0400 or stricter");
	CHECK(vault_keysrc_check(ks, err, sizeof err) < 0 &&
	    strstr(err, "want 0400") != NULL, "keysrc_check: %s", err);
	chmod(t_key, 0444);
	t_refused("key 0444", ks, "alpha", "mode 0444, want 0400 or stricter");
	chmod(t_key, 0400);
	CHECK_INT(vault_keysrc_check(ks, err, sizeof err), 0, "0400: %s", err);
	vault_keysrc_free(ks);
}

/* ---- other key sources ---- */

static void
test_passphrase(void)
{
	struct vault_keysrc *ks = t_ks("passphrase"), *bad = t_ks("passphrase");
	struct vault_keysrc *file = t_keyks();
	struct vault_secret s;
	struct vault *v;

	t_fresh();
	unlink(t_vault);
	vault_keysrc_set_passphrase(ks, "correct horse", 13);
	vault_keysrc_set_passphrase(bad, "correct horsf", 13);
	CHECK(vault_create(t_vault, ks, err, sizeof err) == 0, "create: %s",
	    err);
	v = vault_open(t_vault, err, sizeof err);
	CHECK(vault_set(v, ks, "ses", "AKIAEXAMPLE", "pp-secret", 9, 0, 1,
	    err, sizeof err) == 0, "set: %s", err);
	CHECK_INT(vault_get(v, ks, "ses", &s, err, sizeof err), 0, "get");
	CHECK_STR(s.secret, "pp-secret", "secret");
	vault_secret_free(&s);
	vault_close(v);
	t_refused("wrong passphrase", bad, "ses", "wrong master key (the "
	    "passphrase");
	t_refused("file key on a passphrase vault", file, "ses",
	    "locked with a passphrase");
	vault_keysrc_free(ks);
	vault_keysrc_free(bad);
	vault_keysrc_free(file);
}

static void
test_credential(void)
{
	char creds[300], key[320], hex[65];
	unsigned char raw[32];
	struct vault_keysrc *ks = t_ks("credential:jaga-vault");
	struct vault_secret s;
	struct vault *v;

	snprintf(creds, sizeof creds, "%s/creds", t_dir);
	mkdir(creds, 0700);
	snprintf(key, sizeof key, "%s/jaga-vault", creds);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	hex[64] = '\n';		/* the hex form with a newline */
	FILE *f = fopen(key, "w");
	fwrite(hex, 1, 65, f);
	fclose(f);
	chmod(key, 0400);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(t_vault);
	CHECK(vault_create(t_vault, ks, err, sizeof err) < 0 &&
	    strstr(err, "CREDENTIALS_DIRECTORY is not set"), "no dir: %s", err);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	CHECK(vault_create(t_vault, ks, err, sizeof err) == 0, "create: %s",
	    err);
	v = vault_open(t_vault, err, sizeof err);
	CHECK(vault_set(v, ks, "ses", "AKIA", "cred-secret", 11, 0, 1, err,
	    sizeof err) == 0, "set: %s", err);
	CHECK_INT(vault_get(v, ks, "ses", &s, err, sizeof err), 0, "get: %s",
	    err);
	CHECK_STR(s.secret, "cred-secret", "secret");
	vault_secret_free(&s);
	vault_close(v);
	chmod(key, 0600);
	t_refused("credential 0600", ks, "ses", "want 0400 or stricter");
	unsetenv("CREDENTIALS_DIRECTORY");
	vault_keysrc_free(ks);
}

/* ---- rekey ---- */

static void
t_get_ok(const struct vault_keysrc *ks, const char *name, const char *want,
    const char *what)
{
	struct vault_secret s = { 0 };
	struct vault *v = vault_open(t_vault, err, sizeof err);

	CHECK(v != NULL && vault_get(v, ks, name, &s, err, sizeof err) == 0,
	    "%s: %s", what, err);
	CHECK_STR(s.secret, want, "%s: secret", what);
	vault_secret_free(&s);
	vault_close(v);
}

static void
test_rekey(void)
{
	struct vault_keysrc *ks = t_keyks(), *pp = t_ks("passphrase");
	char newkey[300], oldkey[300];
	size_t n1, n2;
	char *k1, *k2, *after;
	struct vault *v;

	t_fresh();
	k1 = t_read(t_key, &n1);
	snprintf(oldkey, sizeof oldkey, "%s/old.key", t_dir);
	snprintf(newkey, sizeof newkey, "%s.new", t_key);
	unlink(oldkey);
	link(t_key, oldkey);
	v = vault_open(t_vault, err, sizeof err);
	CHECK_INT(vault_rekey(v, ks, NULL, err, sizeof err), 0, "rekey: %s",
	    err);
	vault_close(v);
	k2 = t_read(t_key, &n2);
	CHECK(n1 == 32 && n2 == 32 && memcmp(k1, k2, 32) != 0, "new key");
	CHECK(access(newkey, F_OK) < 0, "KEY.new renamed");
	t_get_ok(ks, "alpha", "s3cret-alpha", "after rekey");
	t_get_ok(ks, "beta", "s3cret-betaa", "beta after rekey");
	/* a crash between the two renames: the new vault, the old KEY and
	 * the new key in KEY.new; it opens, and the next write finishes */
	rename(t_key, newkey);
	link(oldkey, t_key);
	t_get_ok(ks, "alpha", "s3cret-alpha", "from KEY.new");
	v = vault_open(t_vault, err, sizeof err);
	CHECK_INT(vault_set(v, ks, "gamma", "u", "g", 1, 0, 9, err,
	    sizeof err), 0, "set finishes the rekey: %s", err);
	vault_close(v);
	after = t_read(t_key, &n1);
	CHECK(access(newkey, F_OK) < 0 && memcmp(after, k2, 32) == 0,
	    "KEY.new over KEY");
	/* the old key is refused now */
	chmod(oldkey, 0400);
	{
		char spec[320];
		struct vault_keysrc *old;
		snprintf(spec, sizeof spec, "file:%s", oldkey);
		old = t_ks(spec);
		t_refused("old key after rekey", old, "alpha",
		    "wrong master key");
		vault_keysrc_free(old);
	}
	/* to a passphrase */
	vault_keysrc_set_passphrase(pp, "a long pass phrase", 18);
	v = vault_open(t_vault, err, sizeof err);
	CHECK_INT(vault_rekey(v, ks, pp, err, sizeof err), 0, "to passphrase: "
	    "%s", err);
	vault_close(v);
	t_get_ok(pp, "beta", "s3cret-betaa", "passphrase after rekey");
	t_refused("key file after rekey to a passphrase", ks, "beta",
	    "locked with a passphrase");
	free(k1);
	free(k2);
	free(after);
	vault_keysrc_free(ks);
	vault_keysrc_free(pp);
}

/* ---- small things ---- */

static void
test_warn(void)
{
	static const struct {
		int64_t created, rotated, expires, now, max_age;
		unsigned want;
	} rows[] = {
		{ 0, 0, 0, 10, 0, 0 },
		{ 100, 100, 0, 100 + 90 * 86400, 90 * 86400, 0 },
		{ 100, 100, 0, 101 + 90 * 86400, 90 * 86400, VAULT_WARN_AGE },
		{ 100, 100, 0, 101 + 90 * 86400, 0, 0 },
		{ 100, 5000, 0, 5000 + 89 * 86400, 90 * 86400, 0 },
		{ 0, 0, 15 * 86400, 0, 0, 0 },
		{ 0, 0, 14 * 86400, 0, 0, VAULT_WARN_EXPIRING },
		{ 0, 0, 14 * 86400, 14 * 86400, 0, VAULT_WARN_EXPIRED },
		{ 0, 0, 100, 200, 50, VAULT_WARN_AGE | VAULT_WARN_EXPIRED },
	};
	struct vault_meta m;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&m, 0, sizeof m);
		m.created = rows[i].created;
		m.rotated = rows[i].rotated;
		m.expires = rows[i].expires;
		CHECK_INT(vault_meta_warn(&m, rows[i].now, rows[i].max_age),
		    rows[i].want, "warn row %zu", i);
	}
}

static void
test_spec(void)
{
	static const struct {
		const char *spec;
		int ok;
	} rows[] = {
		{ "file:/etc/jaga/vault.key", 1 }, { "credential:vault", 1 },
		{ "passphrase", 1 }, { "file:relative", 0 }, { "file:", 0 },
		{ "credential:a/b", 0 }, { "credential:", 0 }, { "", 0 },
		{ "env:KEY", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		CHECK((vault_keysrc_check_spec(rows[i].spec) == NULL) ==
		    rows[i].ok, "spec %s", rows[i].spec);
}

int
main(void)
{
	if (sodium_init() < 0 || mkdtemp(t_dir) == NULL)
		return 1;
	snprintf(t_vault, sizeof t_vault, "%s/vault", t_dir);
	snprintf(t_key, sizeof t_key, "%s/vault.key", t_dir);
	test_round_trip();
	test_tampered();
	test_broken_files();
	test_wrong_key_and_rollback();
	test_permissions();
	test_passphrase();
	test_credential();
	test_rekey();
	test_warn();
	test_spec();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", t_dir, t_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", t_dir);
	return harness_end("vault");
}
