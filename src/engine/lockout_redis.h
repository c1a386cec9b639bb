/* lockout_redis.h - the AUTH brute-force lockout of lockout.h shared by
 * every gateway on one Redis (issue 3 §7): failures and locks per client
 * IP and per account name, with the same parameters and rules (IP
 * failures, spraying, back-off, distributed guessing), so guesses split
 * across gateways add up.  The in-memory tracker stays the first line in
 * each process; this one is asked in the AUTH job, before the password.
 *
 * Keys (every one with a TTL, so Redis forgets by itself):
 *   jaga:a:ip:IP:f        failures in the window (a count)
 *   jaga:a:ip:IP:n        distinct names failed with (a set, <= spray)
 *   jaga:a:ip:IP:lock     the IP lock (its strike number), TTL = the lock
 *   jaga:a:ip:IP:strikes  back-off: the strikes, forgotten ip_lock_max_ms
 *                         after the last lock ended
 *   jaga:a:acct:NAME:f, :i, :lock   the same per account (names in
 *                         lowercase; :i holds distinct IPs, <= account_ips)
 * Windows start at the first failure (the TTL of :f and :n/:i).  Times
 * are Redis's own (TTLs), so the gateways' clocks need not agree.  Every
 * call blocks (redisdb.h): job pool only.  Errors: -1 with err. */
#ifndef JAGA_ENGINE_LOCKOUT_REDIS_H
#define JAGA_ENGINE_LOCKOUT_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/lockout.h"

struct redisdb;
struct lockout_redis;

/* A tracker on db (borrowed) with p copied.  NULL on ENOMEM. */
struct lockout_redis *lockout_redis_new(struct redisdb *db,
    const struct lockout_params *p);
/* Takes NULL. */
void lockout_redis_free(struct lockout_redis *lr);
/* Milliseconds ip and the account name stay locked from now (0: not
 * locked), one round trip.  0 or -1. */
int lockout_redis_locked(struct lockout_redis *lr, const char *ip,
    const char *name, int64_t *ip_ms, int64_t *account_ms, char *err,
    size_t errlen);
/* Count one failed AUTH of name from ip (one Lua script, atomic); *ev
 * tells which locks begin with it, once across all gateways; its
 * ip_until and account_until are milliseconds from now.  0 or -1. */
int lockout_redis_fail(struct lockout_redis *lr, const char *ip,
    const char *name, struct lockout_event *ev, char *err, size_t errlen);
/* A successful AUTH from ip: its failure count starts again.  0 or -1. */
int lockout_redis_success(struct lockout_redis *lr, const char *ip,
    char *err, size_t errlen);

#endif
