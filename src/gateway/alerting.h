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

#endif
