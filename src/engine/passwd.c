/* passwd.c - password hashes: Argon2id (libsodium) and imported crypt(3)
 * formats (libxcrypt). */
#include "engine/passwd.h"

#include <assert.h>
#include <crypt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1 (as users.c). */
#define PASSWD_OPSLIMIT 2
#define PASSWD_MEMLIMIT (19u * 1024 * 1024)

static const char passwd_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The crypt(3) prefixes libxcrypt checks for us; others are refused so an
 * import does not let weak schemes (DES, MD5) in. */
static const char *const passwd_crypt_prefixes[] = {
	"$y$", "$6$", "$5$", "$2b$", "$2y$", "$2a$", NULL,
};

/* Dovecot scheme -> what the hash after it must start with. */
static const struct {
	const char *scheme;
	const char *want;	/* NULL = any crypt prefix above */
} passwd_schemes[] = {
	{ "{SHA512-CRYPT}", "$6$" }, { "{SHA256-CRYPT}", "$5$" },
	{ "{BLF-CRYPT}", "$2" }, { "{ARGON2ID}", "$argon2id$" },
	{ "{CRYPT}", NULL },
};

int
passwd_hash(const char *pass, size_t passlen, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str_alg(out, pass, passlen, PASSWD_OPSLIMIT,
	    PASSWD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

static int
passwd_is_crypt(const char *hash)
{
	for (size_t i = 0; passwd_crypt_prefixes[i] != NULL; i++)
		if (strncmp(hash, passwd_crypt_prefixes[i],
		    strlen(passwd_crypt_prefixes[i])) == 0)
			return 1;
	return 0;
}

/* crypt_rn wants a NUL-terminated phrase: copied into locked memory. */
static int
passwd_verify_crypt(const char *hash, const char *pass, size_t passlen)
{
	struct crypt_data *cd = sodium_malloc(sizeof *cd);
	char *phrase = sodium_malloc(passlen + 1);
	size_t hlen = strlen(hash);
	const char *got;
	int ok = 0;

	if (cd != NULL && phrase != NULL && memchr(pass, 0, passlen) == NULL) {
		memset(cd, 0, sizeof *cd);
		memcpy(phrase, pass, passlen);
		phrase[passlen] = '\0';
		got = crypt_rn(phrase, hash, cd, (int)sizeof *cd);
		/* a failed crypt_rn may return "*0"-style strings: length
		 * and prefix checks keep them from matching */
		ok = got != NULL && got[0] == '$' && strlen(got) == hlen &&
		    sodium_memcmp(got, hash, hlen) == 0;
	}
	sodium_free(cd);	/* sodium_free wipes, and takes NULL */
	sodium_free(phrase);
	return ok;
}

int
passwd_verify(const char *hash, const char *pass, size_t passlen)
{
	if (strncmp(hash, "$argon2id$", 10) == 0)
		return crypto_pwhash_str_verify(hash, pass, passlen) == 0;
	if (passwd_is_crypt(hash))
		return passwd_verify_crypt(hash, pass, passlen);
	return 0;
}

/* Is hash well formed for its scheme?  Returns NULL or what is wrong. */
static const char *
passwd_check_bare(const char *hash)
{
	struct crypt_data cd;
	const char *got;
	int rc;

	if (strlen(hash) >= PASSWD_HASH_MAX)
		return "hash longer than 255 octets";
	for (const char *p = hash; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == ':')
			return "hash holds a space, ':' or a control character";
	if (strncmp(hash, "$argon2id$", 10) == 0)
		return NULL;
	if (!passwd_is_crypt(hash))
		return "unknown hash format (want $argon2id$, $y$, $6$, $5$, "
		    "$2b$ or $2y$, optionally after a Dovecot {SCHEME})";
	/* Debian's libxcrypt calls $5$ "legacy": still fine to check.  A
	 * whole hash hashes to a string of its own length; a bare setting
	 * ("$6$salt") does not. */
	memset(&cd, 0, sizeof cd);
	rc = crypt_checksalt(hash);
	got = rc == CRYPT_SALT_OK || rc == CRYPT_SALT_METHOD_LEGACY ?
	    crypt_rn("x", hash, &cd, (int)sizeof cd) : NULL;
	if (got == NULL || got[0] != '$' || strlen(got) != strlen(hash))
		return "malformed crypt hash";
	return NULL;
}

int
passwd_normalize(const char *in, char *out, size_t outlen, const char **why)
{
	const char *bare = in;

	assert(outlen >= PASSWD_HASH_MAX);
	for (size_t i = 0; in[0] == '{' &&
	    i < sizeof passwd_schemes / sizeof passwd_schemes[0]; i++) {
		size_t n = strlen(passwd_schemes[i].scheme);
		if (strncmp(in, passwd_schemes[i].scheme, n) != 0)
			continue;
		bare = in + n;
		if (passwd_schemes[i].want != NULL && strncmp(bare,
		    passwd_schemes[i].want, strlen(passwd_schemes[i].want)))
			bare = "";	/* scheme and hash disagree */
		break;
	}
	if (in[0] == '{' && bare == in)
		*why = "unknown Dovecot scheme (want {SHA512-CRYPT}, "
		    "{SHA256-CRYPT}, {BLF-CRYPT}, {CRYPT} or {ARGON2ID})";
	else if (bare[0] == '\0')
		*why = "hash does not match its {SCHEME}";
	else
		*why = passwd_check_bare(bare);
	if (*why != NULL)
		return -1;
	memcpy(out, bare, strlen(bare) + 1);
	return 0;
}

void
passwd_generate(char *out, size_t outlen)
{
	assert(outlen > PASSWD_GEN_LEN);
	for (size_t i = 0; i < PASSWD_GEN_LEN; i++)
		out[i] = passwd_alphabet[randombytes_uniform(
		    sizeof passwd_alphabet - 1)];
	out[PASSWD_GEN_LEN] = '\0';
}
