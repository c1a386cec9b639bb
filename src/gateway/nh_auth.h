/* nh_auth.h - the upstream credential of a next hop, from the vault.
 *
 * A next hop with next_hop_auth = vault:NAME logs in (RFC 4954) with the
 * vault entry NAME (engine/vault.h).  The secret is decrypted only when a
 * connection authenticates, in the job pool (it reads the vault and key
 * files), so a `jaga vault rotate` reaches the running daemon at its next
 * upstream connection, without a restart.  It lives in sodium_malloc'd
 * memory, and the AUTH lines made from it go to the connection's output
 * by reference: wiped and freed as soon as they were handed to TLS.
 * Nothing here logs; no secret is ever passed to the log.
 */
#ifndef JAGA_GATEWAY_NH_AUTH_H
#define JAGA_GATEWAY_NH_AUTH_H

#include <stddef.h>

#include "engine/vault.h"

struct config;
struct settings;
struct evbuffer;
struct event_base;

/* Remember where the vault and its key are (vault_file, vault_key of c)
 * for the whole process.  Call once, before any connection; the strings
 * of c must outlive the daemon.  0, or -1 with the reason in err. */
int nh_auth_setup(const struct config *c, char *err, size_t errlen);
/* Release what nh_auth_setup made; safe to call twice. */
void nh_auth_done(void);

/* At start, like ssh with private keys: the vault and key files exist
 * with safe modes, entry name exists and decrypts (wiped at once).
 * 0, or -1 with a message naming the file or entry and the problem. */
int nh_auth_check(const char *name, char *err, size_t errlen);

/* The daemon's start: when a listener's next hop has a credential,
 * nh_auth_setup and nh_auth_check for each (the daemon refuses to start
 * on a failure, like ssh with a private key that is too open).  0, or -1
 * with err. */
int nh_auth_start(const struct settings *st, char *err, size_t errlen);

/* Decrypt name into *out (blocking: reads files).  0, 1 (no such entry)
 * or -1 with err.  The caller frees *out with vault_secret_free. */
int nh_auth_get(const char *name, struct vault_secret *out, char *err,
    size_t errlen);

/* The result of nh_auth_fetch, on the loop's thread: cred, or NULL and
 * err.  cred is wiped and freed after the call; to keep it, copy the
 * struct and set cred->secret to NULL. */
typedef void nh_auth_cb(void *arg, struct vault_secret *cred,
    const char *err);
struct nh_auth_job;
/* nh_auth_get in the job pool, then cb on base's thread.  NULL when the
 * pool does not run (no callback follows). */
struct nh_auth_job *nh_auth_fetch(struct event_base *base, const char *name,
    nh_auth_cb *cb, void *arg);
/* No callback follows; what was decrypted is wiped.  Takes NULL. */
void nh_auth_cancel(struct nh_auth_job *j);

/* Append "AUTH PLAIN <base64(\0user\0secret)>\r\n" (RFC 4616 §2, RFC 4954
 * §4 initial response) to out, built in locked memory and added by
 * reference (wiped and freed once written).  0, or -1 (out of memory, or
 * a user or secret holding a NUL). */
int nh_auth_put_plain(struct evbuffer *out, const struct vault_secret *cred);
/* Append "<base64(data)>\r\n" the same way (AUTH LOGIN's answers). */
int nh_auth_put_b64(struct evbuffer *out, const char *data, size_t len);

#endif
