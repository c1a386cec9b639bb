/* passwd.h - password hashes for AUTH identities.
 *
 * New hashes are Argon2id (libsodium, OWASP parameters: t = 2, m = 19 MiB,
 * p = 1).  Imported hashes may also be crypt(3) strings checked through
 * libxcrypt: "$y$" yescrypt, "$6$" SHA512-crypt, "$5$" SHA256-crypt and
 * "$2b$"/"$2y$"/"$2a$" bcrypt.  Dovecot scheme prefixes ({SHA512-CRYPT},
 * {SHA256-CRYPT}, {BLF-CRYPT}, {CRYPT}, {ARGON2ID}) are mapped at import
 * by passwd_normalize; the store keeps only the bare hash.  Nothing here
 * logs; callers wipe passwords (sodium_memzero) after use. */
#ifndef JAGA_ENGINE_PASSWD_H
#define JAGA_ENGINE_PASSWD_H

#include <stddef.h>

#define PASSWD_HASH_MAX 256	/* bytes of a stored hash, with the NUL */
#define PASSWD_GEN_LEN 24	/* characters of a generated password */
#define PASSWD_MAX 1024		/* longest password accepted, in octets */

/* Hash pass (passlen octets) with Argon2id into out (>= PASSWD_HASH_MAX).
 * Slow on purpose (about 50 ms).  Returns 0, or -1 (out of memory). */
int passwd_hash(const char *pass, size_t passlen, char *out, size_t outlen);
/* Check pass against hash (any format passwd_normalize accepts, bare).
 * Constant-time comparison.  Returns 1 on a match, 0 otherwise (also for
 * an unknown format, or a crypt hash and a password holding a NUL). */
int passwd_verify(const char *hash, const char *pass, size_t passlen);
/* An imported hash, with or without a Dovecot {SCHEME} prefix, written bare
 * into out (>= PASSWD_HASH_MAX).  Returns 0, or -1 with what is wrong in
 * *why (a static string) for an unknown or malformed format. */
int passwd_normalize(const char *in, char *out, size_t outlen,
    const char **why);
/* A random password of PASSWD_GEN_LEN characters from [A-Za-z0-9] (about
 * 143 bits) into out (>= PASSWD_GEN_LEN + 1), NUL-terminated. */
void passwd_generate(char *out, size_t outlen);

#endif
