/* susp_redis.h - suspensions in Redis (issue 3 §7, "store = redis://"):
 * the same contract as store_suspend_* in store.h, shared by every
 * gateway on one Redis, so an identity suspended by one is refused by all.
 *
 * Layout: "jaga:s:NAME", a hash holding NAME's newest suspension (fields
 * name, since, rule, evidence, lifted_at, require_pw, pw_changed; kept with
 * its evidence after a lift, until the next suspension replaces it), and
 * "jaga:s:active", a sorted set of the names in force scored by since.
 * Each write is one Lua script, so it is atomic: two gateways crossing a
 * limit together make one suspension.  Calls block (redisdb.h): job pool
 * or CLI only.  Returns as store.h; -1 (with err) when Redis fails. */
#ifndef JAGA_ENGINE_SUSP_REDIS_H
#define JAGA_ENGINE_SUSP_REDIS_H

#include <stddef.h>

#include "engine/store.h"

struct redisdb;

/* As store_suspend_add: 0 (added), STORE_EXISTS (one in force) or -1. */
int susp_redis_add(struct redisdb *db, const struct suspension *su,
    char *err, size_t errlen);
/* As store_suspend_get: 0, STORE_NOTFOUND or -1. */
int susp_redis_get(struct redisdb *db, const char *name,
    struct suspension *out, char *err, size_t errlen);
/* As store_suspend_list: those in force, oldest first (then by name). */
int susp_redis_list(struct redisdb *db, store_suspension_fn *fn, void *arg,
    char *err, size_t errlen);
/* As store_suspend_lift: 0, STORE_NOTFOUND (none in force) or -1. */
int susp_redis_lift(struct redisdb *db, const char *name, int require_pw,
    char *err, size_t errlen);
/* As store_suspend_password_changed: 0 or -1. */
int susp_redis_password_changed(struct redisdb *db, const char *name,
    char *err, size_t errlen);

#endif
