/* users.h - the local user table for AUTH (a file of "name:hash" lines).
 *
 * Hashes are libsodium Argon2id strings ("$argon2id$..."), made by
 * "jaga user hash".  Passwords are never stored or logged in clear; the
 * comparison is done by libsodium (constant time).  Issue 3 replaces this
 * table with the real identity store. */
#ifndef JAGA_GATEWAY_USERS_H
#define JAGA_GATEWAY_USERS_H

#include <stddef.h>

struct users;

/* Load path ("" = an empty table).  Returns NULL with a message naming the
 * file and line in err. */
struct users *users_load(const char *path, char *err, size_t errlen);
void users_free(struct users *u);
/* Number of users. */
size_t users_count(const struct users *u);
/* Check a password (slow on purpose: call it off the event loop).  An
 * unknown name costs the same time as a wrong password.  Returns 1 or 0. */
int users_verify(const struct users *u, const char *name, const char *pass,
    size_t passlen);
/* Hash a password into out (crypto_pwhash_STRBYTES).  Returns 0 or -1. */
int users_hash(const char *pass, size_t passlen, char *out, size_t outlen);

#endif
