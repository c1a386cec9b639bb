/* guard.h - per-identity outbound limits and suspension in the daemon
 * (issue 3 §3, §4): one limit decision per authenticated message, counted
 * in state_dir/counters.db (engine/counters.h, SQLite), and the
 * suspensions table of the identity store (engine/store.h); or both in
 * Redis with store = redis:// (guard_use_redis, gateway/shared.h).
 *
 * Every call but guard_new, guard_use_redis, guard_prepare and guard_free
 * reads or writes SQLite or Redis: call it in a job-pool thread (util/jobq.h), never on the event
 * loop.  Those calls are thread-safe.  Nothing here logs but store
 * failures; the caller logs the decisions with its session id.
 */
#ifndef JAGA_GATEWAY_GUARD_H
#define JAGA_GATEWAY_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/burst.h"
#include "engine/limits.h"
#include "engine/store.h"

#define GUARD_COUNTERS_FILE "counters.db"	/* under state_dir */
#define GUARD_BURST_FILE "burst.db"		/* under state_dir */

struct alerter;
struct authdb;
struct guard;

/* A guard using adb's store handles (borrowed) and counters under
 * state_dir; limits_default is the spec of an identity without its own.
 * Returns NULL with the reason in err (a bad default, ENOMEM). */
struct guard *guard_new(struct authdb *adb, const char *state_dir,
    const char *limits_default, char *err, size_t errlen);
struct redisdb;
/* Count and suspend in db (borrowed; store = redis://, gateway/shared.h)
 * instead of counters.db and jaga.db; the burst store too.
 * Before guard_prepare. */
void guard_use_redis(struct guard *g, struct redisdb *db);

/* Limits beyond the identity and burst detection (issue 3 §3, §4): the
 * specs of the keys "snd:ADDR", "sdom:DOMAIN", "ip:ADDR" and
 * "net:PREFIX/LEN" ("" = off; suspend is refused: only an identity can be
 * suspended), and the burst rules (burst_on = 0: off). */
struct guard_keys {
	const char *sender, *sender_domain, *ip, *net;
	unsigned prefix4, prefix6;	/* limits_net_prefix4, _prefix6 */
	int burst_on;
	struct burst_params burst;
};

/* Set the keys and burst rules (before guard_prepare).  Returns 0, or -1
 * with "PARAMETER: problem" in err. */
int guard_configure(struct guard *g, const struct guard_keys *k, char *err,
    size_t errlen);
/* 1 when a message without an identity has limits to meet (the session
 * skips the job pool otherwise). */
int guard_keys_on(const struct guard *g);


/* Post an alert for every suspension made from now on (engine/alert.h,
 * borrowed; NULL = none).  Call before any guard_decide. */
void guard_set_alerts(struct guard *g, struct alerter *a);
/* Open the counter file (after dropping root).  Returns 0 or -1 + err. */
int guard_prepare(struct guard *g, char *err, size_t errlen);
/* Takes NULL.  No call may be running. */
void guard_free(struct guard *g);

enum guard_state { GUARD_CLEAR, GUARD_SUSPENDED, GUARD_TEMPFAIL };

/* Is name suspended?  On GUARD_SUSPENDED the rule is copied to rule. */
enum guard_state guard_suspended(struct guard *g, const char *name,
    char *rule, size_t rulelen);

/* One message, as the session saw it. */
struct guard_msg {
	const char *name;		/* the identity; "" = not authenticated */
	const char *client_ip, *helo, *sender, *subject;
	const char *const *domains;	/* recipient domains */
	size_t ndomains;
	uint32_t nrcpts;
	int64_t first, now;		/* session start, Unix seconds */
};

enum guard_verdict {
	GUARD_PASS,			/* counted; send it on */
	GUARD_DEFER,			/* 451 4.7.1 */
	GUARD_REJECT,			/* 550 5.7.1 */
	GUARD_SUSPEND,			/* 550 5.7.1; the identity is suspended */
	GUARD_ERROR,			/* the store failed: 451 4.3.0 */
};

struct guard_result {
	enum guard_verdict verdict;
	struct limits_verdict v;	/* the refusing limit, when refused */
	int suspended_now;		/* this call made the suspension */
	char rule[STORE_RULE_MAX];	/* the refusing rule as text */
	char key[LIMITS_KEY_MAX];	/* the refusing key ("id:NAME", ...) */
	struct burst_verdict burst;	/* the burst rule, when one fired */
};

/* Decide and count m against the identity's limits (its own spec, else
 * the default), key "id:NAME", and the configured keys beyond it, in one
 * atomic decision (a refusal counts under none); then, for an identity,
 * the burst rules.  A suspend action suspends the identity with evidence
 * built from m and its recent activity.  Fills *out. */
void guard_decide(struct guard *g, const struct guard_msg *m,
    struct guard_result *out);

#endif
