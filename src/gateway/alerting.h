/* alerting.h - the daemon's side of engine/alert.h (issue 3 §5): the
 * alert_* parameters, the alerter built from them, and the alerts of a
 * suspension and of a lockout. */
#ifndef JAGA_GATEWAY_ALERTING_H
#define JAGA_GATEWAY_ALERTING_H

#include <stdint.h>

#include "engine/alert.h"
#include "engine/lockout.h"
#include "engine/store.h"

struct settings;

/* Checks of single values for the parameter table (NULL or a message;
 * a message never repeats a URL: tokens live in them). */
const char *alerting_check_webhook(const char *v);
const char *alerting_check_address(const char *v);
const char *alerting_check_command(const char *v);

/* The alerter st asks for into *out (NULL when no channel is set): mail
 * goes to the next hop of the first inbound listener (else the first
 * listener).  Returns 0, or -1 with err. */
int alerting_new(const struct settings *st, struct alerter **out, char *err,
    size_t errlen);

/* su was just stored (SQLite or Redis): post it with its evidence and the
 * command that lifts it.  Takes a NULL alerter. */
void alerting_suspended(struct alerter *a, const struct suspension *su);
/* The lockouts that ev says began (AUTH from ip, as user); now_ms is the
 * lockout clock (CLOCK_MONOTONIC).  Takes a NULL alerter. */
void alerting_lockout(struct alerter *a, const char *ip, const char *user,
    const struct lockout_event *ev, int64_t now_ms);

/* A credential that needs rotating or expires (issue 4 §3), as the daemon's
 * daily check found it (gateway/rotwatch.c). */
struct alerting_cred {
	enum alert_kind kind;		/* ALERT_CREDENTIAL_AGE or _EXPIRY */
	const char *name;
	const char *what;		/* "app", "account" or "vault" */
	int64_t now;			/* Unix seconds */
	int64_t changed, expires;	/* Unix seconds; expires 0 = never */
	int64_t age_days, max_days;	/* ALERT_CREDENTIAL_AGE */
	int64_t days_left;		/* ALERT_CREDENTIAL_EXPIRY; < 0: past */
};
/* Post c with what to do: "jaga user passwd NAME" for an identity,
 * "jaga vault rotate NAME" for a vault entry.  Takes a NULL alerter. */
void alerting_credential(struct alerter *a, const struct alerting_cred *c);

#endif
