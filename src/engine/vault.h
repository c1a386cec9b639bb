/* vault.h - upstream relay credentials encrypted at rest (issue 4 §1).
 *
 * A vault is one file (state_dir/vault by default) holding named entries:
 * an upstream user name and its secret, each secret sealed with
 * XChaCha20-Poly1305 (libsodium) under a 32-byte master key, a fresh nonce
 * per write, and the entry's name, user and version as associated data.
 * The metadata (name, user, created, rotated, expires) is readable without
 * the key.  The whole file carries a generation counter and a MAC under a
 * key derived from the master key; the highest generation seen is kept
 * beside the vault (PATH.gen) so a rolled-back file is refused.  The format
 * and the rollback design: docs/decisions.md "The vault file".
 *
 * The master key comes from a key file (mode 0400, apart from the vault),
 * systemd's $CREDENTIALS_DIRECTORY, or a passphrase stretched with
 * Argon2id.  Every failure is a runtime error with a message naming the
 * file and the problem ("vault.key: mode 0644, want 0400 or stricter",
 * "vault: wrong master key", "vault: entry ses: authentication failed
 * (tampered or swapped)"); nothing is decrypted and nothing written then.
 */
#ifndef JAGA_ENGINE_VAULT_H
#define JAGA_ENGINE_VAULT_H

#include <stddef.h>
#include <stdint.h>

#define VAULT_NAME_MAX   64     /* [A-Za-z0-9._-] */
#define VAULT_USER_MAX   255    /* visible ASCII, no space (0x21-0x7e) */
#define VAULT_SECRET_MAX 1024
#define VAULT_ENTRIES_MAX 1024
#define VAULT_EXPIRY_WARN (14 * 86400)  /* "near expiry": within 14 days */

struct vault;                   /* an opened vault file (metadata) */

struct vault_meta {
	char name[VAULT_NAME_MAX + 1];
	char user[VAULT_USER_MAX + 1];
	int64_t created, rotated, expires;  /* Unix seconds; expires 0 = never */
	uint32_t version;                   /* bumped by every set/rotate */
};

/* A decrypted secret in locked memory (sodium_malloc), wiped and freed by
 * vault_secret_free.  Never log it, never copy it out of locked memory. */
struct vault_secret {
	char user[VAULT_USER_MAX + 1];
	char *secret;                       /* NUL-terminated, sodium_malloc */
	size_t len;
};

/* How the master key is found; the "vault_key" parameter as text:
 * "file:/etc/jaga/vault.key", "credential:NAME" ($CREDENTIALS_DIRECTORY/NAME),
 * or "passphrase" (CLI: asked on the terminal or read from stdin). */
struct vault_keysrc;

/* Parse spec (the vault_key parameter).  Reads nothing yet.  NULL with the
 * reason in err on a bad spec.  Free with vault_keysrc_free (takes NULL). */
struct vault_keysrc *vault_keysrc_new(const char *spec, char *err,
    size_t errlen);
void vault_keysrc_free(struct vault_keysrc *ks);
/* The parameter check of vault_key: NULL, or what is wrong (static). */
const char *vault_keysrc_check_spec(const char *spec);
/* 1 when ks is "passphrase" (the caller must give it one), else 0. */
int vault_keysrc_is_passphrase(const struct vault_keysrc *ks);
/* Give a passphrase source its passphrase (copied to locked memory; the
 * caller wipes its own copy).  Returns 0, or -1 when too long (1024). */
int vault_keysrc_set_passphrase(struct vault_keysrc *ks, const char *pass,
    size_t len);
/* Check the key's file (file or credential source) exists with mode 0400
 * or stricter, owned by this user or root.  0, or -1 with err.  For the
 * daemon's start; vault_get and the writers check it too. */
int vault_keysrc_check(const struct vault_keysrc *ks, char *err,
    size_t errlen);

/* The vault's path from the vault_file parameter: empty = state_dir/vault,
 * a relative path under state_dir.  0, or -1 when it does not fit. */
int vault_path(const char *vault_file, const char *state_dir, char *out,
    size_t outlen);

/* Open the vault file (checks its mode and format; no key needed).
 * NULL with the reason in err. */
struct vault *vault_open(const char *path, char *err, size_t errlen);
void vault_close(struct vault *v);
/* Walk the entries' metadata in name order. */
int vault_list(struct vault *v, int (*fn)(const struct vault_meta *, void *),
    void *arg, char *err, size_t errlen);
/* Decrypt entry name with the master key from keysrc into *out.
 * Returns 0, 1 (no such entry) or -1 with err. */
int vault_get(struct vault *v, const struct vault_keysrc *keysrc,
    const char *name, struct vault_secret *out, char *err, size_t errlen);
void vault_secret_free(struct vault_secret *s);

/* Warnings for one entry at time now: past max_age seconds since it was
 * last rotated (max_age 0 = no age warning), expiring within
 * VAULT_EXPIRY_WARN, or expired.  A bit set of VAULT_WARN_*. */
#define VAULT_WARN_AGE      1u
#define VAULT_WARN_EXPIRING 2u
#define VAULT_WARN_EXPIRED  4u
unsigned vault_meta_warn(const struct vault_meta *m, int64_t now,
    int64_t max_age);

/* --- writers (the CLI); each one checks the key and the whole file first,
 * then writes atomically (temp file, fsync, rename, fsync of the directory)
 * with the generation + 1.  Returns 0, or -1 with err, file untouched. */

/* Make a new key file at path: 32 random bytes, mode 0400, refused when
 * the file exists. */
int vault_keyfile_create(const char *path, char *err, size_t errlen);
/* Make an empty vault at path under the key of ks (refused when it exists;
 * a passphrase source gets a fresh Argon2id salt). */
int vault_create(const char *path, const struct vault_keysrc *ks,
    char *err, size_t errlen);
/* Check the key, the file's MAC, its generation (rollback) and decrypt
 * every entry (then wiped).  0, or -1 naming the first problem. */
int vault_verify(struct vault *v, const struct vault_keysrc *ks, char *err,
    size_t errlen);
/* Add or replace entry name (user, secret of len bytes, expires 0 = never)
 * at time now.  A replaced entry keeps created and gets version + 1. */
int vault_set(struct vault *v, const struct vault_keysrc *ks,
    const char *name, const char *user, const char *secret, size_t len,
    int64_t expires, int64_t now, char *err, size_t errlen);
/* A new secret for an existing entry: version + 1, rotated = now.
 * Returns 0, 1 (no such entry) or -1 with err. */
int vault_rotate(struct vault *v, const struct vault_keysrc *ks,
    const char *name, const char *secret, size_t len, int64_t now,
    char *err, size_t errlen);
/* Remove entry name.  Returns 0, 1 (no such entry) or -1 with err. */
int vault_remove(struct vault *v, const struct vault_keysrc *ks,
    const char *name, char *err, size_t errlen);
/* Re-encrypt every entry under a new master key: with newks NULL, fresh
 * random bytes into the key file of ks (file source only: written to
 * KEY.new first, the vault renamed, then KEY.new over KEY; a crash
 * between leaves a pair that opens, as the key loader falls back to
 * KEY.new when the vault names that key); else the key of newks (e.g. a
 * passphrase with a fresh salt). */
int vault_rekey(struct vault *v, const struct vault_keysrc *ks,
    const struct vault_keysrc *newks, char *err, size_t errlen);

#endif
