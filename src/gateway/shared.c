/* shared.c - the Redis state of store = redis:// (see shared.h). */
#include "gateway/shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/lockout_redis.h"
#include "engine/redisdb.h"
#include "gateway/guard.h"

int
shared_new(const struct settings *st, struct guard *g, struct shared **out,
    char *err, size_t errlen)
{
	struct shared *sh;

	*out = NULL;
	if (strcmp(st->store, "sqlite") == 0)
		return 0;
	if ((sh = calloc(1, sizeof *sh)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((sh->db = redisdb_new(st->store, err, errlen)) == NULL ||
	    (sh->lockout = lockout_redis_new(sh->db, &st->lockout)) == NULL) {
		if (sh->db != NULL)
			snprintf(err, errlen, "out of memory");
		shared_free(sh);
		return -1;
	}
	guard_use_redis(g, sh->db);
	*out = sh;
	return 0;
}

int
shared_ping(struct shared *sh, char *err, size_t errlen)
{
	return sh == NULL ? 0 : redisdb_ping(sh->db, err, errlen);
}

void
shared_free(struct shared *sh)
{
	if (sh == NULL)
		return;
	lockout_redis_free(sh->lockout);
	redisdb_free(sh->db);
	free(sh);
}
