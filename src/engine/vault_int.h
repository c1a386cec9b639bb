/* vault_int.h - what vault.c (reading) and vault_write.c (writing) share;
 * not for other modules.  The file format is in docs/decisions.md. */
#ifndef JAGA_ENGINE_VAULT_INT_H
#define JAGA_ENGINE_VAULT_INT_H

#include <sodium.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/vault.h"
#include "util/buf.h"

#define VAULT_MAGIC "jaga-vault 1"
#define VAULT_FILE_MAX (4u << 20)	/* 1024 entries of about 2.6 KB */
#define VAULT_PATH_MAX 4096
#define VAULT_KEY_LEN 32
#define VAULT_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VAULT_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VAULT_SALT_LEN crypto_pwhash_SALTBYTES
#define VAULT_CT_MAX (VAULT_SECRET_MAX + VAULT_TAG_LEN)
#define VAULT_PASS_MAX 1024
/* Argon2id for a passphrase: libsodium's "moderate" time, 64 MiB; the
 * parser accepts only bounded costs so a forged header cannot make jaga
 * spend minutes or gigabytes. */
#define VAULT_KDF_OPS 3
#define VAULT_KDF_MEM (64u << 20)
#define VAULT_KDF_OPS_MAX 20
#define VAULT_KDF_MEM_MIN (8u << 20)
#define VAULT_KDF_MEM_MAX (1u << 30)

enum vault_kdf { VAULT_KDF_NONE, VAULT_KDF_ARGON2ID };
enum vault_keykind { VK_FILE, VK_CREDENTIAL, VK_PASSPHRASE };

struct vault_entry {
	struct vault_meta m;
	unsigned char nonce[VAULT_NONCE_LEN];
	unsigned char ct[VAULT_CT_MAX];
	size_t ctlen;
};

struct vault {
	char path[VAULT_PATH_MAX];
	enum vault_kdf kdf;
	unsigned char salt[VAULT_SALT_LEN];
	unsigned long long ops;
	size_t mem;
	unsigned char check[32];	/* key check value */
	uint64_t generation;
	struct vault_entry *e;		/* in name order */
	size_t n;
	unsigned char mac[32];
	char *text;			/* the file as read (malloc) */
	size_t maclen;			/* bytes of text the MAC covers */
};

struct vault_keysrc {
	enum vault_keykind kind;
	char path[VAULT_PATH_MAX];	/* the file (for a credential: its
					 * name until resolved) */
	char *pass;			/* sodium_malloc, VAULT_PASS_MAX */
	size_t passlen;
};

/* Keys derived from the master key (sodium_malloc, wiped by sodium_free). */
struct vault_keys {
	unsigned char aead[32], mac[32], check[32];
	int from_new;			/* read from KEY.new (rekey unfinished) */
};

/* Parse text (len bytes; copied) as a vault file; name prefixes messages. */
struct vault *vault_parse(const char *text, size_t len, const char *name,
    char *err, size_t errlen);
/* The master key of v from ks, derived; NULL with err ("wrong master
 * key", a key file too open...).  Free with sodium_free. */
struct vault_keys *vault_keys_load(const struct vault *v,
    const struct vault_keysrc *ks, char *err, size_t errlen);
/* New keys for a vault being written (create, rekey): the kdf line of nv
 * set for ks (a passphrase gets a fresh salt), k derived. */
int vault_keys_fresh(struct vault *nv, const struct vault_keysrc *ks,
    struct vault_keys *k, char *err, size_t errlen);
/* Derive the subkeys and the check value from a 32-byte master key. */
void vault_keys_derive(const unsigned char *master, struct vault_keys *k);
/* A master key from the file at path (mode and owner checked). */
int vault_key_read(const char *path, unsigned char *key, char *err,
    size_t errlen);
/* The path of the key file of ks ($CREDENTIALS_DIRECTORY resolved). */
int vault_keysrc_path(const struct vault_keysrc *ks, char *out, size_t outlen,
    char *err, size_t errlen);
/* Decrypt entry e with k into out (VAULT_SECRET_MAX + 1 bytes, locked).
 * Returns the length, or -1 with err. */
long vault_entry_open(const struct vault *v, const struct vault_entry *e,
    const struct vault_keys *k, char *out, char *err, size_t errlen);
/* Check the file's MAC and its generation against PATH.gen. */
int vault_auth(const struct vault *v, const struct vault_keys *k, char *err,
    size_t errlen);
/* The entry called name, or NULL. */
struct vault_entry *vault_find(const struct vault *v, const char *name);
/* The associated data of an entry: "jaga-vault 1 NAME USER VERSION". */
int vault_entry_ad(const struct vault_meta *m, char *out, size_t outlen);
/* A file owned by uid may be used (ours, root's; as root also the owner
 * of the file's directory). */
int vault_owner_ok(const char *path, uid_t uid);
int vault_name_ok(const char *s);
int vault_user_ok(const char *s);
int vault_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
