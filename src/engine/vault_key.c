/* vault_key.c - the vault's master key (key file, systemd credential or
 * Argon2id passphrase), the keys derived from it, and decryption (see
 * vault.h).  Keys and secrets live only in sodium_malloc'd memory. */
#include "engine/vault_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_KDF_CTX "jagavlt1"	/* crypto_kdf context, 8 bytes */
#define VAULT_KEYFILE_MAX 128		/* raw 32 bytes or 64 hex + LF */

/* ---- key sources ---- */

struct vault_keysrc *
vault_keysrc_new(const char *spec, char *err, size_t errlen)
{
	struct vault_keysrc *ks = calloc(1, sizeof *ks);
	const char *arg = NULL;

	if (ks == NULL) {
		vault_err(err, errlen, "vault_key: out of memory");
		return NULL;
	}
	if (strncmp(spec, "file:", 5) == 0 && spec[5] == '/') {
		ks->kind = VK_FILE;
		arg = spec + 5;
	} else if (strncmp(spec, "credential:", 11) == 0 &&
	    vault_name_ok(spec + 11)) {
		ks->kind = VK_CREDENTIAL;
		arg = spec + 11;
	} else if (strcmp(spec, "passphrase") == 0) {
		ks->kind = VK_PASSPHRASE;
		arg = "";
	}
	if (arg == NULL || strlen(arg) >= sizeof ks->path - 8) {
		free(ks);
		vault_err(err, errlen, "vault_key: want file:/ABSOLUTE/PATH, "
		    "credential:NAME or passphrase");
		return NULL;
	}
	snprintf(ks->path, sizeof ks->path, "%s", arg);
	return ks;
}

void
vault_keysrc_free(struct vault_keysrc *ks)
{
	if (ks == NULL)
		return;
	sodium_free(ks->pass);
	free(ks);
}

const char *
vault_keysrc_check_spec(const char *spec)
{
	char err[128];
	struct vault_keysrc *ks = vault_keysrc_new(spec, err, sizeof err);

	vault_keysrc_free(ks);
	return ks == NULL ? "want file:/ABSOLUTE/PATH, credential:NAME or "
	    "passphrase" : NULL;
}

int
vault_keysrc_is_passphrase(const struct vault_keysrc *ks)
{
	return ks->kind == VK_PASSPHRASE;
}

int
vault_keysrc_set_passphrase(struct vault_keysrc *ks, const char *pass,
    size_t len)
{
	if (len > VAULT_PASS_MAX)
		return -1;
	if (ks->pass == NULL && (ks->pass = sodium_malloc(VAULT_PASS_MAX)) ==
	    NULL)
		return -1;
	memcpy(ks->pass, pass, len);
	ks->passlen = len;
	return 0;
}

int
vault_keysrc_path(const struct vault_keysrc *ks, char *out, size_t outlen,
    char *err, size_t errlen)
{
	const char *dir;

	if (ks->kind == VK_FILE) {
		snprintf(out, outlen, "%s", ks->path);
		return 0;
	}
	if (ks->kind == VK_PASSPHRASE)
		return vault_err(err, errlen, "vault_key: a passphrase has no "
		    "key file");
	/* systemd.exec(5) "Credentials": LoadCredential= puts the file in
	 * $CREDENTIALS_DIRECTORY, readable by the service only. */
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || dir[0] != '/')
		return vault_err(err, errlen, "vault_key: credential:%s: "
		    "$CREDENTIALS_DIRECTORY is not set (LoadCredential= in "
		    "the systemd unit sets it)", ks->path);
	if ((size_t)snprintf(out, outlen, "%s/%s", dir, ks->path) >= outlen)
		return vault_err(err, errlen, "vault_key: credential path too "
		    "long");
	return 0;
}

int
vault_keysrc_check(const struct vault_keysrc *ks, char *err, size_t errlen)
{
	unsigned char *key;
	char path[VAULT_PATH_MAX];
	int r;

	if (ks->kind == VK_PASSPHRASE)
		return 0;
	if (vault_keysrc_path(ks, path, sizeof path, err, errlen) < 0 ||
	    (key = sodium_malloc(VAULT_KEY_LEN)) == NULL)
		return -1;
	r = vault_key_read(path, key, err, errlen);
	sodium_free(key);
	return r;
}

/* ---- reading and deriving keys ---- */

/* 32 raw bytes, or 64 hex digits and an optional LF (systemd-creds and
 * editors like text). */
static int
vault_key_parse(const char *buf, size_t n, unsigned char *key)
{
	size_t got;

	if (n == VAULT_KEY_LEN) {
		memcpy(key, buf, VAULT_KEY_LEN);
		return 0;
	}
	if (n == 2 * VAULT_KEY_LEN + 1 && buf[n - 1] == '\n')
		n--;
	return n == 2 * VAULT_KEY_LEN && sodium_hex2bin(key, VAULT_KEY_LEN,
	    buf, n, NULL, &got, NULL) == 0 && got == VAULT_KEY_LEN ? 0 : -1;
}

int
vault_key_read(const char *path, unsigned char *key, char *err,
    size_t errlen)
{
	char *buf = sodium_malloc(VAULT_KEYFILE_MAX);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;
	struct stat st;
	ssize_t n = -1;

	if (fd < 0)
		vault_err(err, errlen, "%s: %s", path, strerror(errno));
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		vault_err(err, errlen, "%s: not a regular file", path);
	else if ((st.st_mode & 0377) != 0)
		vault_err(err, errlen, "%s: mode %04o, want 0400 or stricter",
		    path, (unsigned)(st.st_mode & 07777));
	else if (!vault_owner_ok(path, st.st_uid))
		vault_err(err, errlen, "%s: owned by uid %u, want uid %u or "
		    "root", path, (unsigned)st.st_uid, (unsigned)geteuid());
	else if (buf == NULL || (n = read(fd, buf, VAULT_KEYFILE_MAX)) < 0)
		vault_err(err, errlen, "%s: %s", path, strerror(errno));
	else if (vault_key_parse(buf, (size_t)n, key) < 0)
		vault_err(err, errlen, "%s: not a vault key (want 32 bytes, "
		    "or 64 hex digits)", path);
	else
		r = 0;
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	return r;
}

/* RFC-free but standard: one master key, independent subkeys through
 * libsodium's crypto_kdf (BLAKE2b); the check value is a hash of a third
 * subkey, so it tells a wrong key without revealing anything. */
void
vault_keys_derive(const unsigned char *master, struct vault_keys *k)
{
	unsigned char sub[32];

	crypto_kdf_derive_from_key(k->aead, sizeof k->aead, 1, VAULT_KDF_CTX,
	    master);
	crypto_kdf_derive_from_key(k->mac, sizeof k->mac, 2, VAULT_KDF_CTX,
	    master);
	crypto_kdf_derive_from_key(sub, sizeof sub, 3, VAULT_KDF_CTX, master);
	crypto_generichash(k->check, sizeof k->check, sub, sizeof sub, NULL, 0);
	sodium_memzero(sub, sizeof sub);
}

/* The master key for v into master (locked, 32 bytes). */
static int
vault_master(const struct vault *v, const struct vault_keysrc *ks,
    const char *path, unsigned char *master, char *err, size_t errlen)
{
	if (ks->kind != VK_PASSPHRASE)
		return vault_key_read(path, master, err, errlen);
	if (ks->pass == NULL)
		return vault_err(err, errlen, "vault_key: no passphrase given");
	if (crypto_pwhash(master, VAULT_KEY_LEN, ks->pass, ks->passlen,
	    v->salt, v->ops, v->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return vault_err(err, errlen, "%s: Argon2id failed (out of "
		    "memory?)", v->path);
	return 0;
}

int
vault_keys_fresh(struct vault *nv, const struct vault_keysrc *ks,
    struct vault_keys *k, char *err, size_t errlen)
{
	unsigned char *master = sodium_malloc(VAULT_KEY_LEN);
	char path[VAULT_PATH_MAX];
	int r = -1;

	if (master == NULL)
		return vault_err(err, errlen, "out of memory");
	nv->kdf = ks->kind == VK_PASSPHRASE ? VAULT_KDF_ARGON2ID :
	    VAULT_KDF_NONE;
	memset(nv->salt, 0, sizeof nv->salt);
	nv->ops = nv->kdf ? VAULT_KDF_OPS : 0;
	nv->mem = nv->kdf ? VAULT_KDF_MEM : 0;
	if (nv->kdf)
		randombytes_buf(nv->salt, sizeof nv->salt);
	if (nv->kdf && ks->passlen == 0)
		vault_err(err, errlen, "vault_key: empty passphrase");
	else if (nv->kdf)
		r = vault_master(nv, ks, NULL, master, err, errlen);
	else if (vault_keysrc_path(ks, path, sizeof path, err, errlen) == 0)
		r = vault_key_read(path, master, err, errlen);
	if (r == 0) {
		vault_keys_derive(master, k);
		k->from_new = 0;
	}
	sodium_free(master);
	return r;
}

/* Derive from the master key at path (or the passphrase); 1 when it is
 * not the vault's key. */
static int
vault_keys_try(const struct vault *v, const struct vault_keysrc *ks,
    const char *path, struct vault_keys *k, char *err, size_t errlen)
{
	unsigned char *master = sodium_malloc(VAULT_KEY_LEN);
	int r = -1;

	if (master == NULL)
		return vault_err(err, errlen, "out of memory");
	if (vault_master(v, ks, path, master, err, errlen) == 0) {
		vault_keys_derive(master, k);
		r = sodium_memcmp(k->check, v->check, sizeof k->check) == 0 ?
		    0 : 1;
	}
	sodium_free(master);
	return r;
}

/* The kdf line must match the kind of key source. */
static int
vault_kdf_match(const struct vault *v, const struct vault_keysrc *ks,
    char *err, size_t errlen)
{
	if (v->kdf == VAULT_KDF_ARGON2ID && ks->kind != VK_PASSPHRASE)
		return vault_err(err, errlen, "%s: this vault is locked with a "
		    "passphrase (vault_key = passphrase)", v->path);
	if (v->kdf == VAULT_KDF_NONE && ks->kind == VK_PASSPHRASE)
		return vault_err(err, errlen, "%s: this vault is locked with a "
		    "key file, not a passphrase", v->path);
	return 0;
}

struct vault_keys *
vault_keys_load(const struct vault *v, const struct vault_keysrc *ks,
    char *err, size_t errlen)
{
	struct vault_keys *k = sodium_malloc(sizeof *k);
	char path[VAULT_PATH_MAX], newpath[VAULT_PATH_MAX + 8];
	int r = -1;

	if (k == NULL || vault_kdf_match(v, ks, err, errlen) < 0 ||
	    (ks->kind != VK_PASSPHRASE && vault_keysrc_path(ks, path,
	    sizeof path, err, errlen) < 0))
		goto out;
	k->from_new = 0;
	r = vault_keys_try(v, ks, path, k, err, errlen);
	/* A rekey that stopped between renaming the vault and the key left
	 * the vault's key in KEY.new (vault_rekey). */
	if (r == 1 && ks->kind == VK_FILE) {
		snprintf(newpath, sizeof newpath, "%s.new", path);
		if (access(newpath, F_OK) == 0 && vault_keys_try(v, ks, newpath,
		    k, err, errlen) == 0) {
			r = 0;
			k->from_new = 1;
		} else {
			r = 1;
		}
	}
	if (r == 1)
		vault_err(err, errlen, "%s: wrong master key (%s is not the "
		    "key this vault was written with)", v->path,
		    ks->kind == VK_PASSPHRASE ? "the passphrase" : path);
out:
	if (r != 0) {
		sodium_free(k);
		return NULL;
	}
	return k;
}

/* ---- decryption ---- */

int
vault_entry_ad(const struct vault_meta *m, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s %s %s %u", VAULT_MAGIC, m->name,
	    m->user, (unsigned)m->version);

	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

long
vault_entry_open(const struct vault *v, const struct vault_entry *e,
    const struct vault_keys *k, char *out, char *err, size_t errlen)
{
	char ad[512];
	unsigned long long n;
	int adlen = vault_entry_ad(&e->m, ad, sizeof ad);

	/* XChaCha20-Poly1305 checks the tag before it writes any plaintext;
	 * the associated data binds name, user and version, so a swapped,
	 * renamed or rolled-back entry fails here. */
	if (adlen < 0 || crypto_aead_xchacha20poly1305_ietf_decrypt(
	    (unsigned char *)out, &n, NULL, e->ct, e->ctlen,
	    (const unsigned char *)ad, (unsigned long long)adlen, e->nonce,
	    k->aead) != 0)
		return vault_err(err, errlen, "%s: entry %s: authentication "
		    "failed (tampered, or swapped with another entry)",
		    v->path, e->m.name);
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL) {
		sodium_memzero(out, n);
		return vault_err(err, errlen, "%s: entry %s: secret holds a NUL",
		    v->path, e->m.name);
	}
	return (long)n;
}

/* The highest generation written, from PATH.gen (0 when absent). */
static int
vault_gen_seen(const struct vault *v, uint64_t *seen, char *err,
    size_t errlen)
{
	char path[VAULT_PATH_MAX + 8], buf[32];
	FILE *f;
	size_t n;
	char *end;

	snprintf(path, sizeof path, "%s.gen", v->path);
	*seen = 0;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : vault_err(err, errlen, "%s: %s",
		    path, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	*seen = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0'))
		return vault_err(err, errlen, "%s: not a generation number",
		    path);
	return 0;
}

int
vault_auth(const struct vault *v, const struct vault_keys *k, char *err,
    size_t errlen)
{
	unsigned char mac[32];
	uint64_t seen;

	crypto_generichash(mac, sizeof mac, (const unsigned char *)v->text,
	    v->maclen, k->mac, sizeof k->mac);
	if (sodium_memcmp(mac, v->mac, sizeof mac) != 0)
		return vault_err(err, errlen, "%s: file MAC mismatch: entries "
		    "or metadata were changed outside jaga (tampered)",
		    v->path);
	if (vault_gen_seen(v, &seen, err, errlen) < 0)
		return -1;
	if (v->generation < seen)
		return vault_err(err, errlen, "%s: rolled back: generation %llu,"
		    " but generation %llu was written (%s.gen); restore the "
		    "newest vault", v->path, (unsigned long long)v->generation,
		    (unsigned long long)seen, v->path);
	return 0;
}

int
vault_get(struct vault *v, const struct vault_keysrc *keysrc,
    const char *name, struct vault_secret *out, char *err, size_t errlen)
{
	struct vault_entry *e = vault_find(v, name);
	struct vault_keys *k;
	long n = -1;

	memset(out, 0, sizeof *out);
	if (e == NULL)
		return 1;
	if ((k = vault_keys_load(v, keysrc, err, errlen)) == NULL)
		return -1;
	if ((out->secret = sodium_malloc(VAULT_SECRET_MAX + 1)) == NULL)
		vault_err(err, errlen, "out of memory");
	else if ((n = vault_entry_open(v, e, k, out->secret, err, errlen)) >= 0
	    && vault_auth(v, k, err, errlen) < 0)
		n = -1;
	sodium_free(k);
	if (n < 0) {
		vault_secret_free(out);
		return -1;
	}
	snprintf(out->user, sizeof out->user, "%s", e->m.user);
	out->len = (size_t)n;
	return 0;
}

void
vault_secret_free(struct vault_secret *s)
{
	if (s == NULL)
		return;
	sodium_free(s->secret);		/* wipes; takes NULL */
	s->secret = NULL;
	sodium_memzero(s, sizeof *s);
}
