/* quarantine.h - messages held by the gateway instead of sent on (issue 5
 * §5: DMARC p=quarantine with dmarc_quarantine = hold; issue 6 adds the
 * index and "jaga quarantine").
 *
 * One held message is two files in the quarantine directory (usually
 * state_dir/quarantine, made mode 0700 when missing):
 *   ID.eml  the message as it would have gone on, octet for octet;
 *   ID.env  the envelope and the reason, one "key=value" line each
 *           (id, time, session, client, helo, from, rcpt per recipient,
 *           size, reason); values have no control bytes.
 * Each is written to a temporary name, fsynced and renamed, the .eml first,
 * then the directory is fsynced: an ID.env present means its ID.eml is
 * complete and durable, and a crash leaves at most a ".tmp-" file.
 */
#ifndef JAGA_ENGINE_QUARANTINE_H
#define JAGA_ENGINE_QUARANTINE_H

#include <stddef.h>
#include <time.h>

#define QUARANTINE_ID_MAX	31	/* "YYYYMMDDTHHMMSS-" + 12 characters */
#define QUARANTINE_VALUE_MAX	1024	/* octets of one sidecar value kept */

struct quarantine_env {
	const char *session;		/* the session id, for the logs */
	const char *client_ip;
	const char *helo;
	const char *mail_from;		/* "<addr>" or "<>" as received */
	const char *const *rcpts;	/* "<addr>" each */
	size_t nrcpts;
	const char *reason;		/* e.g. "dmarc=fail policy=quarantine
					 * header.from=example.com" */
	time_t now;
};

/* Hold len octets of msg in dir with the envelope e.  The new ID (letters,
 * digits, 'T' and '-'; sortable by time) goes to id (idlen >= 
 * QUARANTINE_ID_MAX + 1).  Blocking (fsync): call it from a job-pool
 * thread.  Returns 0, or -1 with the reason in err (nothing is left
 * behind but, after a crash, a ".tmp-" file). */
int quarantine_store(const char *dir, const struct quarantine_env *e,
    const char *msg, size_t len, char *id, size_t idlen, char *err,
    size_t errlen);

/* 1 when id has the form quarantine_store gives (so "jaga quarantine"
 * can take it from a user without it naming another file), else 0. */
int quarantine_id_ok(const char *id);

#endif
