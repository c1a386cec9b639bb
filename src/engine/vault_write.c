/* vault_write.c - the vault's writers (see vault.h): every change checks
 * the key and the whole file first, then writes a new generation of the
 * file atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory (rename(2) is atomic within one file system, and
 * the directory's fsync makes the rename itself durable). */
#include "engine/vault_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_HEX_MAX (2 * VAULT_CT_MAX + 1)

/* ---- atomic files ---- */

static int
vault_dir_sync(const char *path, char *err, size_t errlen)
{
	char dir[VAULT_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path + 1), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return vault_err(err, errlen, "%s: %s", dir, strerror(errno));
	r = fsync(fd);
	close(fd);
	return r < 0 ? vault_err(err, errlen, "%s: fsync: %s", dir,
	    strerror(errno)) : 0;
}

/* Run as root in a directory owned by another user (the daemon's run_as
 * user, as "jaga user" does for jaga.db): give that user the file, so
 * the daemon can read a vault an administrator wrote. */
static void
vault_give(int fd, const char *path)
{
	char dir[VAULT_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sd;

	if (geteuid() != 0)
		return;
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path + 1) :
	    1, slash ? path : ".");
	if (stat(dir, &sd) == 0 && sd.st_uid != 0 &&
	    fchown(fd, sd.st_uid, sd.st_gid) < 0)
		return;
}

static int
vault_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write data to path atomically with mode; noclobber: refused when path
 * exists (link(2) instead of rename(2)); give: vault_give. */
static int
vault_write_file(const char *path, const void *data, size_t len,
    mode_t mode, int flags, char *err, size_t errlen)
{
	char tmp[VAULT_PATH_MAX + 16];
	int fd, r = -1;

	snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return vault_err(err, errlen, "%s: %s", tmp, strerror(errno));
	if (flags & 2)
		vault_give(fd, path);
	if (fchmod(fd, mode) < 0 || vault_write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0)
		vault_err(err, errlen, "%s: %s", tmp, strerror(errno));
	else if ((flags & 1) && link(tmp, path) < 0)
		vault_err(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists already" : strerror(errno));
	else if (!(flags & 1) && rename(tmp, path) < 0)
		vault_err(err, errlen, "%s: %s", path, strerror(errno));
	else
		r = 0;
	close(fd);
	if (r < 0 || (flags & 1))
		unlink(tmp);
	return r < 0 ? -1 : vault_dir_sync(path, err, errlen);
}
#define VAULT_NOCLOBBER 1
#define VAULT_GIVE 2

/* ---- the format ---- */

static int
vault_format_entry(struct buf *b, const struct vault_entry *e)
{
	char nonce[2 * VAULT_NONCE_LEN + 1], ct[VAULT_HEX_MAX];

	sodium_bin2hex(nonce, sizeof nonce, e->nonce, sizeof e->nonce);
	sodium_bin2hex(ct, sizeof ct, e->ct, e->ctlen);
	return buf_printf(b, "entry %s %s %u %lld %lld %lld %s %s\n",
	    e->m.name, e->m.user, (unsigned)e->m.version,
	    (long long)e->m.created, (long long)e->m.rotated,
	    (long long)e->m.expires, nonce, ct);
}

/* The whole file into b, the MAC line last over everything before it. */
static int
vault_format(const struct vault *v, const struct vault_keys *k,
    struct buf *b)
{
	char hex[2 * 32 + 1], salt[2 * VAULT_SALT_LEN + 1];
	unsigned char mac[32];
	int r;

	sodium_bin2hex(salt, sizeof salt, v->salt, sizeof v->salt);
	sodium_bin2hex(hex, sizeof hex, v->check, sizeof v->check);
	r = buf_printf(b, "%s\n", VAULT_MAGIC);
	if (v->kdf == VAULT_KDF_NONE)
		r |= buf_puts(b, "kdf none\n");
	else
		r |= buf_printf(b, "kdf argon2id %s %llu %zu\n", salt, v->ops,
		    v->mem);
	r |= buf_printf(b, "check %s\ngeneration %llu\n", hex,
	    (unsigned long long)v->generation);
	for (size_t i = 0; i < v->n; i++)
		r |= vault_format_entry(b, &v->e[i]);
	if (r != 0)
		return -1;
	crypto_generichash(mac, sizeof mac, (const unsigned char *)b->data,
	    b->len, k->mac, sizeof k->mac);
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	return buf_printf(b, "mac %s\n", hex);
}

/* Write nv as the next generation (the check value from k), record the
 * generation in PATH.gen, and return the file as now on disk. */
static struct vault *
vault_commit(struct vault *nv, const struct vault_keys *k, int flags,
    char *err, size_t errlen)
{
	char gpath[VAULT_PATH_MAX + 8], gen[32];
	struct vault *p = NULL;
	struct buf b;
	int n;

	memcpy(nv->check, k->check, sizeof nv->check);
	nv->generation++;
	buf_init(&b, VAULT_FILE_MAX);
	snprintf(gpath, sizeof gpath, "%s.gen", nv->path);
	n = snprintf(gen, sizeof gen, "%llu\n",
	    (unsigned long long)nv->generation);
	if (vault_format(nv, k, &b) < 0)
		vault_err(err, errlen, "%s: larger than %u bytes", nv->path,
		    VAULT_FILE_MAX);
	else if (vault_write_file(nv->path, b.data, b.len, 0600,
	    flags | VAULT_GIVE, err, errlen) == 0 &&
	    vault_write_file(gpath, gen, (size_t)n, 0600, VAULT_GIVE, err,
	    errlen) == 0)
		p = vault_parse(b.data, b.len, nv->path, err, errlen);
	buf_done(&b);
	return p;
}

/* v takes the contents of p (freed). */
static void
vault_adopt(struct vault *v, struct vault *p)
{
	struct vault tmp = *v;

	*v = *p;
	*p = tmp;
	vault_close(p);
}

/* A copy of v's metadata and entries, room for one more entry. */
static struct vault *
vault_clone(const struct vault *v)
{
	struct vault *c = malloc(sizeof *c);

	if (c == NULL)
		return NULL;
	*c = *v;
	c->text = NULL;
	if ((c->e = calloc(v->n + 1, sizeof *c->e)) == NULL) {
		free(c);
		return NULL;
	}
	if (v->n > 0)
		memcpy(c->e, v->e, v->n * sizeof *c->e);
	return c;
}

/* ---- the checks every writer makes first ---- */

/* Every entry decrypts, the MAC holds, no rollback. */
static int
vault_check_all(const struct vault *v, const struct vault_keys *k,
    char *err, size_t errlen)
{
	char *tmp = sodium_malloc(VAULT_SECRET_MAX + 1);
	int r = 0;

	if (tmp == NULL)
		return vault_err(err, errlen, "out of memory");
	for (size_t i = 0; i < v->n && r == 0; i++)
		if (vault_entry_open(v, &v->e[i], k, tmp, err, errlen) < 0)
			r = -1;
	sodium_free(tmp);
	return r < 0 ? -1 : vault_auth(v, k, err, errlen);
}

/* The keys of v, the file checked; a rekey that stopped before renaming
 * KEY.new over KEY is finished here. */
static struct vault_keys *
vault_begin(const struct vault *v, const struct vault_keysrc *ks,
    char *err, size_t errlen)
{
	struct vault_keys *k = vault_keys_load(v, ks, err, errlen);
	char path[VAULT_PATH_MAX], newpath[VAULT_PATH_MAX + 8];

	if (k == NULL)
		return NULL;
	if (vault_check_all(v, k, err, errlen) < 0)
		goto fail;
	if (k->from_new) {
		vault_keysrc_path(ks, path, sizeof path, err, errlen);
		snprintf(newpath, sizeof newpath, "%s.new", path);
		if (rename(newpath, path) < 0 ||
		    vault_dir_sync(path, err, errlen) < 0) {
			vault_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	return k;
fail:
	sodium_free(k);
	return NULL;
}

int
vault_verify(struct vault *v, const struct vault_keysrc *ks, char *err,
    size_t errlen)
{
	struct vault_keys *k = vault_keys_load(v, ks, err, errlen);
	int r;

	if (k == NULL)
		return -1;
	r = vault_check_all(v, k, err, errlen);
	sodium_free(k);
	return r;
}

/* ---- the writers ---- */

static int
vault_seal(struct vault_entry *e, const struct vault_keys *k,
    const char *secret, size_t len)
{
	char ad[512];
	unsigned long long clen;
	int adlen = vault_entry_ad(&e->m, ad, sizeof ad);

	if (adlen < 0 || len > VAULT_SECRET_MAX)
		return -1;
	randombytes_buf(e->nonce, sizeof e->nonce);	/* fresh per write */
	crypto_aead_xchacha20poly1305_ietf_encrypt(e->ct, &clen,
	    (const unsigned char *)secret, len, (const unsigned char *)ad,
	    (unsigned long long)adlen, NULL, e->nonce, k->aead);
	e->ctlen = (size_t)clen;
	return 0;
}

int
vault_keyfile_create(const char *path, char *err, size_t errlen)
{
	unsigned char *key = sodium_malloc(VAULT_KEY_LEN);
	int r;

	if (key == NULL)
		return vault_err(err, errlen, "out of memory");
	randombytes_buf(key, VAULT_KEY_LEN);
	r = vault_write_file(path, key, VAULT_KEY_LEN, 0400, VAULT_NOCLOBBER,
	    err, errlen);
	sodium_free(key);
	return r;
}

int
vault_create(const char *path, const struct vault_keysrc *ks, char *err,
    size_t errlen)
{
	struct vault *nv = calloc(1, sizeof *nv), *p = NULL;
	struct vault_keys *k = sodium_malloc(sizeof *k);

	if (nv == NULL || k == NULL)
		vault_err(err, errlen, "out of memory");
	else if (strlen(path) >= sizeof nv->path - 16)
		vault_err(err, errlen, "%s: path too long", path);
	else if (snprintf(nv->path, sizeof nv->path, "%s", path) >= 0 &&
	    vault_keys_fresh(nv, ks, k, err, errlen) == 0)
		p = vault_commit(nv, k, VAULT_NOCLOBBER, err, errlen);
	sodium_free(k);
	vault_close(nv);
	vault_close(p);
	return p == NULL ? -1 : 0;
}

/* Put e (sealed) into c in name order, replacing one of the same name. */
static void
vault_insert(struct vault *c, const struct vault_entry *e)
{
	size_t i = 0;

	while (i < c->n && strcmp(c->e[i].m.name, e->m.name) < 0)
		i++;
	if (i < c->n && strcmp(c->e[i].m.name, e->m.name) == 0) {
		c->e[i] = *e;
		return;
	}
	memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof c->e[0]);
	c->e[i] = *e;
	c->n++;
}

/* Seal secret as e in a copy of v and write it. */
static int
vault_put(struct vault *v, const struct vault_keysrc *ks,
    struct vault_entry *e, const char *secret, size_t len, char *err,
    size_t errlen)
{
	struct vault_keys *k = vault_begin(v, ks, err, errlen);
	struct vault *c = NULL, *p = NULL;

	if (k == NULL)
		return -1;
	if (vault_seal(e, k, secret, len) < 0)
		vault_err(err, errlen, "secret longer than %d bytes",
		    VAULT_SECRET_MAX);
	else if ((c = vault_clone(v)) == NULL)
		vault_err(err, errlen, "out of memory");
	else
		vault_insert(c, e);
	if (c != NULL && (p = vault_commit(c, k, 0, err, errlen)) != NULL)
		vault_adopt(v, p);
	sodium_free(k);
	if (c != NULL)
		free(c->e);
	free(c);
	return p == NULL ? -1 : 0;
}

static int
vault_secret_ok(const char *secret, size_t len, char *err, size_t errlen)
{
	if (len == 0 || len > VAULT_SECRET_MAX)
		return vault_err(err, errlen, "the secret must hold 1 to %d "
		    "bytes", VAULT_SECRET_MAX);
	if (memchr(secret, '\0', len) != NULL)
		return vault_err(err, errlen, "the secret holds a NUL byte "
		    "(AUTH PLAIN, RFC 4616 §2, cannot carry it)");
	return 0;
}

int
vault_set(struct vault *v, const struct vault_keysrc *ks, const char *name,
    const char *user, const char *secret, size_t len, int64_t expires,
    int64_t now, char *err, size_t errlen)
{
	const struct vault_entry *old = vault_find(v, name);
	struct vault_entry e;

	if (!vault_name_ok(name))
		return vault_err(err, errlen, "entry name \"%.64s\": want 1 to "
		    "%d of A-Z a-z 0-9 . _ -", name, VAULT_NAME_MAX);
	if (!vault_user_ok(user))
		return vault_err(err, errlen, "user name: want 1 to %d visible "
		    "ASCII characters, no space", VAULT_USER_MAX);
	if (vault_secret_ok(secret, len, err, errlen) < 0)
		return -1;
	if (old == NULL && v->n >= VAULT_ENTRIES_MAX)
		return vault_err(err, errlen, "%s: %d entries already",
		    v->path, VAULT_ENTRIES_MAX);
	memset(&e, 0, sizeof e);
	snprintf(e.m.name, sizeof e.m.name, "%s", name);
	snprintf(e.m.user, sizeof e.m.user, "%s", user);
	e.m.created = old ? old->m.created : now;
	e.m.rotated = now;
	e.m.expires = expires;
	e.m.version = old ? old->m.version + 1 : 1;
	if (old != NULL && old->m.version == UINT32_MAX)
		return vault_err(err, errlen, "entry %s: version overflow",
		    name);
	return vault_put(v, ks, &e, secret, len, err, errlen);
}

int
vault_rotate(struct vault *v, const struct vault_keysrc *ks,
    const char *name, const char *secret, size_t len, int64_t now,
    char *err, size_t errlen)
{
	const struct vault_entry *old = vault_find(v, name);
	char user[VAULT_USER_MAX + 1];

	if (old == NULL)
		return 1;
	snprintf(user, sizeof user, "%s", old->m.user);
	return vault_set(v, ks, name, user, secret, len, old->m.expires, now,
	    err, errlen);
}

int
vault_remove(struct vault *v, const struct vault_keysrc *ks,
    const char *name, char *err, size_t errlen)
{
	struct vault_entry *e = vault_find(v, name);
	struct vault_keys *k;
	struct vault *c, *p = NULL;
	size_t i;

	if (e == NULL)
		return 1;
	i = (size_t)(e - v->e);
	if ((k = vault_begin(v, ks, err, errlen)) == NULL)
		return -1;
	if ((c = vault_clone(v)) == NULL) {
		vault_err(err, errlen, "out of memory");
	} else {
		memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof c->e[0]);
		c->n--;
		if ((p = vault_commit(c, k, 0, err, errlen)) != NULL)
			vault_adopt(v, p);
		free(c->e);
		free(c);
	}
	sodium_free(k);
	return p == NULL ? -1 : 0;
}

/* ---- rekey ---- */

/* Every entry of c decrypted with k and sealed again with nk. */
static int
vault_reseal(struct vault *c, const struct vault_keys *k,
    const struct vault_keys *nk, char *err, size_t errlen)
{
	char *tmp = sodium_malloc(VAULT_SECRET_MAX + 1);
	long n = 0;

	if (tmp == NULL)
		return vault_err(err, errlen, "out of memory");
	for (size_t i = 0; i < c->n && n >= 0; i++)
		if ((n = vault_entry_open(c, &c->e[i], k, tmp, err,
		    errlen)) >= 0)
			vault_seal(&c->e[i], nk, tmp, (size_t)n);
	sodium_free(tmp);
	return n < 0 ? -1 : 0;
}

/* The new keys of c: from newks, or fresh random bytes in KEY.new (the
 * key file of ks) when newks is NULL. */
static int
vault_rekey_keys(struct vault *c, const struct vault_keysrc *ks,
    const struct vault_keysrc *newks, struct vault_keys *nk, char *newpath,
    size_t newlen, char *err, size_t errlen)
{
	struct vault_keysrc *tks;
	int r = -1;

	if (newks != NULL)
		return vault_keys_fresh(c, newks, nk, err, errlen);
	if ((tks = calloc(1, sizeof *tks)) == NULL)
		return vault_err(err, errlen, "out of memory");
	tks->kind = VK_FILE;
	snprintf(newpath, newlen, "%s.new", ks->path);
	snprintf(tks->path, sizeof tks->path, "%s", newpath);
	/* a KEY.new left by a rekey that failed before writing the vault:
	 * vault_begin found it is not the vault's key */
	if (unlink(newpath) < 0 && errno != ENOENT)
		vault_err(err, errlen, "%s: %s", newpath, strerror(errno));
	else if (vault_keyfile_create(newpath, err, errlen) == 0)
		r = vault_keys_fresh(c, tks, nk, err, errlen);
	free(tks);
	return r;
}

int
vault_rekey(struct vault *v, const struct vault_keysrc *ks,
    const struct vault_keysrc *newks, char *err, size_t errlen)
{
	char newpath[VAULT_PATH_MAX + 8];
	struct vault_keys *k, *nk = sodium_malloc(sizeof *nk);
	struct vault *c = vault_clone(v), *p = NULL;

	if (newks == NULL && ks->kind != VK_FILE)
		vault_err(err, errlen, "rekey: a new random key needs "
		    "vault_key = file:PATH");
	else if (nk == NULL || c == NULL)
		vault_err(err, errlen, "out of memory");
	else if ((k = vault_begin(v, ks, err, errlen)) != NULL) {
		if (vault_rekey_keys(c, ks, newks, nk, newpath, sizeof newpath,
		    err, errlen) == 0 && vault_reseal(c, k, nk, err,
		    errlen) == 0)
			p = vault_commit(c, nk, 0, err, errlen);
		sodium_free(k);
	}
	/* the vault is renamed first: until KEY.new is renamed over KEY,
	 * vault_keys_load finds the new key in KEY.new */
	if (p != NULL && newks == NULL && (rename(newpath, ks->path) < 0 ||
	    vault_dir_sync(ks->path, err, errlen) < 0))
		vault_err(err, errlen, "%s: %s (the new key is in %s, which "
		    "jaga reads)", ks->path, strerror(errno), newpath);
	if (p != NULL)
		vault_adopt(v, p);
	sodium_free(nk);
	if (c != NULL)
		free(c->e);
	free(c);
	return p == NULL ? -1 : 0;
}
