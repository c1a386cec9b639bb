/* shared.h - the state several gateways share through one Redis (issue 3
 * §7, "store = redis://HOST[:PORT][/DB]"): limit counters and suspensions
 * (through gateway/guard.h) and AUTH lockouts (engine/lockout_redis.h,
 * used by the AUTH job in smtpd_auth.c).  Identities stay in each
 * gateway's own state_dir/jaga.db.  With "store = sqlite" there is no
 * shared state and the pointer is NULL. */
#ifndef JAGA_GATEWAY_SHARED_H
#define JAGA_GATEWAY_SHARED_H

#include <stddef.h>

#include "gateway/params.h"

struct guard;

struct shared {
	struct redisdb *db;		/* one connection per thread */
	struct lockout_redis *lockout;	/* auth_* parameters */
};

/* For st->store: *out = NULL (sqlite) or the Redis state, with guard g
 * told to count and suspend there.  Nothing is connected yet.  Returns 0,
 * or -1 with err (a bad URL, ENOMEM). */
int shared_new(const struct settings *st, struct guard *g,
    struct shared **out, char *err, size_t errlen);
/* Connect the calling thread and PING, to warn at start when Redis cannot
 * be reached (mail is then refused with 4xx until it can).  0 or -1. */
int shared_ping(struct shared *sh, char *err, size_t errlen);
/* Takes NULL.  No job may be running. */
void shared_free(struct shared *sh);

#endif
