/* counters.h - counter backends for the limits engine (limits.h).
 *
 * A backend does one thing: one atomic check-and-count of a request.  A
 * request may span several keys (limits_check_and_count_keys: the identity,
 * the sender, the client IP, ...): every item names its key, and the one
 * atomic step covers all of them, so a message refused by one key is
 * counted by none.  The
 * limits engine has already aligned every window and made the recipient
 * domains distinct and lowercase; the backend only reads the current counts,
 * decides, and writes, all in one atomic step (a mutex, one SQLite
 * BEGIN IMMEDIATE transaction, one Redis Lua script).  A Redis backend maps a
 * request to one EVALSHA: KEYS = the counter keys, ARGV = window starts,
 * limits, amounts and domains; the script returns the refused item or 0.
 */
#ifndef JAGA_ENGINE_COUNTERS_H
#define JAGA_ENGINE_COUNTERS_H

#include "engine/limits.h"

/* Items of one request: every key of it, each with a full spec. */
#define COUNTER_ITEMS_MAX	(LIMITS_KEYS_MAX * LIMITS_RULES_MAX)

struct counter_item {
	const char *key;		/* NUL-terminated, < LIMITS_KEY_MAX */
	enum limits_thing thing;
	uint32_t window_len;		/* seconds */
	int64_t window_start;		/* a multiple of window_len */
	uint32_t limit;
	uint32_t add;			/* messages, rcpts; domains: ignored, the
					 * backend counts the domains it has not seen */
};

struct counter_request {
	int64_t now;
	size_t nitems;			/* items of one key are adjacent */
	struct counter_item item[COUNTER_ITEMS_MAX];
	const char *const *domains;	/* distinct, lowercase; the same for
					 * every key's domain items */
	size_t ndomains;		/* <= LIMITS_DOMAINS_MAX */
};

struct counter_result {
	int refused;			/* 1: item[index] would go over; nothing counted */
	size_t index;
	uint32_t count;			/* item[index]'s count before the request */
};

struct counter_backend;

struct counter_backend_ops {
	const char *name;
	/* The atomic check-and-count.  Returns 0 (see *res) or LIMITS_E*. */
	int (*check_and_count)(struct counter_backend *b,
	    const struct counter_request *req, struct counter_result *res);
	void (*free)(struct counter_backend *b);
};

struct counter_backend {
	const struct counter_backend_ops *ops;
};

/* Free any backend; takes NULL.  No thread may use b any more. */
void counter_backend_free(struct counter_backend *b);

/* In memory: a mutex-protected hash table for tests and one process.
 * At most max_keys keys are tracked (>= 1); a key is forgotten when all its
 * windows are over.  When max_keys live keys are tracked, a request for a
 * new key returns LIMITS_EFULL (known keys still count): limits are never
 * silently lost by eviction.  Memory: about 120 bytes per key with four
 * windows, plus 8 bytes of buckets per key of max_keys.  NULL on ENOMEM. */
struct counter_backend *counters_mem_new(size_t max_keys);
/* Live keys now (for tests and the benchmark). */
size_t counters_mem_keys(struct counter_backend *b);

/* SQLite at path (created if missing; WAL, synchronous=NORMAL, busy_timeout
 * 5 s).  Safe for any number of threads: each thread gets its own
 * connection, opened on its first call and closed at thread exit or by
 * counter_backend_free (at most COUNTERS_SQLITE_THREADS at once; more get
 * LIMITS_EBACKEND).  Every check-and-count is one BEGIN IMMEDIATE transaction,
 * so limits are exact across threads and processes sharing the file; every
 * COUNTERS_SQLITE_PRUNE_EVERY calls per connection the same transaction
 * deletes rows whose window is over.  Do not carry b across fork(): open it
 * in the child.  Returns NULL (message in err) when the file cannot be
 * opened or its tables created. */
#define COUNTERS_SQLITE_THREADS		256
#define COUNTERS_SQLITE_PRUNE_EVERY	1000
struct counter_backend *counters_sqlite_new(const char *path, char *err,
    size_t errlen);

/* Redis at url, "redis://host[:port][/db]" (engine/redisdb.h: port 6379,
 * db 0 by default; an IPv6 host in brackets).  Several processes and
 * gateways sharing one Redis hold one limit together: every
 * check-and-count is one EVALSHA of a Lua script that reads every window
 * and writes all or nothing.  One Redis hash per tracked key,
 * "jaga:l:KEY"; its fields are THING:LEN:START packed as one 19-digit
 * decimal T LLLLLLLL SSSSSSSSSS (T: 1 messages, 2 rcpts, 3 domains; LEN
 * in seconds; START in Unix seconds, so a listpack keeps the field as an
 * 8-byte integer), holding the window's count; a domains window also
 * holds one field "FIELD:DOMAIN" per distinct domain.  The hash expires at
 * the end of its longest window (from the caller's now, plus a second);
 * fields of windows that are over are deleted when a new window begins.
 * A small hash is a listpack: about 190 bytes per tracked key with four
 * windows.  Connections as redisdb.h (one per thread).  A failed or
 * timed-out call returns LIMITS_EBACKEND (never an allow); not retried
 * within a call: the script may have counted.  Window starts must be in
 * [0, 10^10).  Returns NULL (message in err) on a bad URL or when the
 * first connection fails.  One Redis (or its primary), not Redis Cluster. */
struct counter_backend *counters_redis_new(const char *url, char *err,
    size_t errlen);
struct redisdb;
/* The same on a borrowed db (nothing is connected here); NULL on ENOMEM. */
struct counter_backend *counters_redis_with(struct redisdb *db);

#endif
