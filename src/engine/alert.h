/* alert.h - one alert per suspension or lockout (issue 3 §5), delivered
 * by one background thread through any of: webhook (HTTP POST of JSON),
 * mail through the gateway's own next hop, syslog, and a command.
 *
 * The event loop and the job pool only enqueue (alert_post: a mutex held
 * for a list append, a bounded queue, never any I/O).  The thread writes
 * each alert into the outbox, state_dir/alerts.db (SQLite, one row per
 * alert and channel), before the first attempt, so an alert made just
 * before a stop is delivered after the next start.  A failed attempt is
 * retried after alert_retry_delay, for up to retry_time (an alert that
 * finds ALERT_OUTBOX_MAX rows pending is dropped and logged); delivered and
 * given-up rows are pruned after ALERT_KEEP_MS.  Each attempt, failure and
 * give-up is logged once (component "alert", docs/logging.md).
 *
 * An alert is one JSON object:
 *   {"kind":"suspension","name":"alice@example.com",
 *    "time":"2026-11-23T06:30:00Z","host":"mx.example.org",
 *    "rule":"messages=100/60s action=suspend","evidence":{...},
 *    "lift":"jaga suspend lift alice@example.com"}
 * lockouts add "until"; "name" is the IP of an ip_lockout.
 */
#ifndef JAGA_ENGINE_ALERT_H
#define JAGA_ENGINE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/store.h"

#define ALERT_FILE	"alerts.db"	/* the outbox, under state_dir */
#define ALERT_QUEUE_MAX	1024		/* posted, not yet in the outbox */
#define ALERT_OUTBOX_MAX 10000		/* rows pending in the outbox */
/* octets of one alert's JSON or mail body: the evidence and room */
#define ALERT_JSON_MAX	(3 * STORE_EVIDENCE_MAX + 8192)
#define ALERT_TEXT_MAX	1024		/* octets of name, rule, lift */
#define ALERT_KEEP_MS	(7 * 86400 * 1000LL)	/* done rows kept */
#define ALERT_BATCH	16		/* due rows read per pass */

enum alert_kind { ALERT_SUSPENSION, ALERT_ACCOUNT_LOCKOUT, ALERT_IP_LOCKOUT,
	ALERT_CREDENTIAL_AGE, ALERT_CREDENTIAL_EXPIRY };	/* issue 4 §3 */

/* What happened; every string is copied by alert_post. */
struct alert {
	enum alert_kind kind;
	const char *name;		/* the identity, or the IP */
	int64_t time;			/* Unix seconds */
	const char *rule;		/* "messages=100/60s action=suspend" */
	const char *evidence;		/* a JSON object; NULL = {} */
	const char *lift;		/* the command or what ends it */
	int64_t until;			/* lockouts: Unix seconds; 0 = none */
};

enum alert_tls { ALERT_TLS_NONE, ALERT_TLS_MAY, ALERT_TLS_ENCRYPT,
	ALERT_TLS_VERIFY };

/* The channels and the schedule; "" (or 0) leaves a channel out.  The
 * strings are copied by alert_new. */
struct alert_config {
	const char *state_dir;
	const char *hostname;		/* ours, in the JSON and the mail */
	const char *webhook;		/* http:// or https:// URL */
	const char *mail_to, *mail_from;
	const char *mail_smtp;		/* smtp://HOST:PORT of the next hop */
	const char *mail_maildir;	/* or a Maildir to write into */
	enum alert_tls mail_tls;	/* STARTTLS to mail_smtp */
	const char *mail_ca_file;	/* "" = the system's */
	int syslog;			/* one syslog(3) line, LOG_MAIL|LOG_ALERT */
	const char *command;		/* absolute path; JSON on stdin */
	int64_t timeout_ms;		/* one attempt */
	int64_t retry_min_ms, retry_max_ms;	/* back-off 5s, 10s ... 10m */
	int64_t retry_time_ms;		/* give up after this long */
};

struct alerter;

/* An alerter for cfg (no thread, no file yet).  Returns NULL with the
 * reason in err (ENOMEM, a state_dir path too long). */
struct alerter *alert_new(const struct alert_config *cfg, char *err,
    size_t errlen);
/* Open the outbox and start the thread (after dropping root, so a new
 * alerts.db belongs to run_as).  Returns 0 or -1 with err. */
int alert_start(struct alerter *a, char *err, size_t errlen);
/* Stop the thread (an attempt under way is cut short and not counted),
 * keep what is pending in the outbox, release a.  Takes NULL. */
void alert_free(struct alerter *a);

/* Queue one alert; thread-safe, never blocks.  Takes a NULL alerter (no
 * alerts).  Returns 0, or -1 (logged once per call) when the queue holds
 * ALERT_QUEUE_MAX alerts or memory is short. */
int alert_post(struct alerter *a, const struct alert *al);

/* The JSON of al (see above) into out.  Returns 0, or -1 when it does not
 * fit outlen (out is then ""). */
int alert_json(const struct alert *al, const char *hostname, char *out,
    size_t outlen);
/* The mail's subject and plain-text body of al (evidence written as
 * "key: value" lines).  Return 0, or -1 when it does not fit. */
int alert_subject(const struct alert *al, char *out, size_t outlen);
int alert_body(const struct alert *al, const char *hostname, char *out,
    size_t outlen);
/* The wait after failed attempt number attempt (1, 2, ...): min doubled
 * each time, capped at max. */
int64_t alert_retry_delay(int attempt, int64_t min_ms, int64_t max_ms);
/* May an alert made at created_ms be tried again at next_ms? */
int alert_retry_ok(int64_t created_ms, int64_t next_ms, int64_t retry_time_ms);
/* "suspension", "account_lockout", "ip_lockout", "credential_age",
 * "credential_expiry". */
const char *alert_kind_name(enum alert_kind k);

#endif
