/* rotwatch.h - the daemon's credential check (issue 4 §3).
 *
 * At start and once a UTC day (a timer on a worker's event loop looks every
 * ROTATION_TICK_S; the check itself reads the stores in the job pool),
 * every credential that needs attention gets one warning line and one
 * alert (gateway/alerting.h):
 *   - an application (jaga user add --app) whose password is
 *     credential_max_age old or older: "credential age";
 *   - a vault entry rotated vault_max_age ago or earlier: the same;
 *   - an identity or vault entry that expires within
 *     credential_expiry_warning, or has expired: "credential expiry".
 * Revoked identities are left out.  A restart checks again at once.
 */
#ifndef JAGA_GATEWAY_ROTWATCH_H
#define JAGA_GATEWAY_ROTWATCH_H

#include <stdint.h>

#include "engine/rotation.h"

struct alerter;
struct event_base;
struct settings;

struct rotwatch;

/* A check of st's stores, posting to a (NULL = log only).  Returns NULL
 * with the reason in err (a state_dir path too long, no memory). */
struct rotwatch *rotwatch_new(const struct settings *st, struct alerter *a,
    char *err, size_t errlen);
/* Check at once on base's loop, then once a UTC day.  Returns 0 or -1. */
int rotwatch_start(struct rotwatch *rw, struct event_base *base);
/* Release rw after base's loop ended.  Takes NULL. */
void rotwatch_free(struct rotwatch *rw);

/* One check at now, in the calling thread: log and post every credential
 * that needs attention.  Returns how many were flagged, or -1 (logged once)
 * when the identity store cannot be read. */
int rotwatch_check(const struct rotwatch *rw, int64_t now);

#endif
