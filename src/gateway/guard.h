/* guard.h - per-identity outbound limits and suspension in the daemon
 * (issue 3 §3, §4): one limit decision per authenticated message, counted
 * in state_dir/counters.db (engine/counters.h, SQLite), and the
 * suspensions table of the identity store (engine/store.h).
 *
 * Every call but guard_new, guard_prepare and guard_free reads or writes
 * SQLite: call it in a job-pool thread (util/jobq.h), never on the event
 * loop.  Those calls are thread-safe.  Nothing here logs but store
 * failures; the caller logs the decisions with its session id.
 */
#ifndef JAGA_GATEWAY_GUARD_H
#define JAGA_GATEWAY_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/limits.h"
#include "engine/store.h"

#define GUARD_COUNTERS_FILE "counters.db"	/* under state_dir */

struct alerter;
struct authdb;
struct guard;

/* A guard using adb's store handles (borrowed) and counters under
 * state_dir; limits_default is the spec of an identity without its own.
 * Returns NULL with the reason in err (a bad default, ENOMEM). */
struct guard *guard_new(struct authdb *adb, const char *state_dir,
    const char *limits_default, char *err, size_t errlen);
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

/* One message of an authenticated identity, as the session saw it. */
struct guard_msg {
	const char *name;		/* the identity */
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
};

/* Decide and count m against the identity's limits (its own spec, else
 * the default), key "id:NAME"; a suspend action suspends the identity
 * with evidence built from m.  Fills *out. */
void guard_decide(struct guard *g, const struct guard_msg *m,
    struct guard_result *out);

#endif
