/* alert_int.h - inside the alerter (engine/alert*.c): the outbox in
 * SQLite and the channels.  Everything here runs in the alert thread. */
#ifndef JAGA_ENGINE_ALERT_INT_H
#define JAGA_ENGINE_ALERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/alert.h"

enum alert_channel {
	ALERT_CH_WEBHOOK, ALERT_CH_MAIL, ALERT_CH_SYSLOG, ALERT_CH_COMMAND,
	ALERT_NCH
};

/* "webhook", "mail", "syslog", "command"; and back (-1: unknown). */
const char *alert_channel_name(enum alert_channel ch);
int alert_channel_of(const char *name);

/* One pending delivery: an alert through one channel. */
struct alert_row {
	int64_t id;
	enum alert_channel channel;
	char kind[32];
	char name[ALERT_TEXT_MAX];
	int64_t created_ms;
	int attempts;			/* failed so far */
	char *json, *subject, *body;	/* owned */
};
void alert_row_done(struct alert_row *r);

/* ---- alert_outbox.c: state_dir/alerts.db ---- */
struct alert_outbox;

/* Open (create) the outbox at path.  Returns NULL with err. */
struct alert_outbox *alert_outbox_open(const char *path, char *err,
    size_t errlen);
void alert_outbox_close(struct alert_outbox *ob);	/* takes NULL */
/* Add one row per channel in chans (a bit mask), due now, in one
 * transaction.  Returns 0 or -1 with err. */
int alert_outbox_add(struct alert_outbox *ob, unsigned chans,
    const char *kind, const char *name, int64_t now_ms, const char *json,
    const char *subject, const char *body, char *err, size_t errlen);
/* Up to max rows due at now_ms, oldest first.  Returns the count or -1. */
int alert_outbox_due(struct alert_outbox *ob, int64_t now_ms,
    struct alert_row *rows, int max, char *err, size_t errlen);
/* After a failed attempt: try again at next_ms. */
int alert_outbox_retry(struct alert_outbox *ob, int64_t id, int attempts,
    int64_t next_ms, char *err, size_t errlen);
/* Delivered (state 1) or given up (2) at now_ms. */
int alert_outbox_finish(struct alert_outbox *ob, int64_t id, int attempts,
    int state, int64_t now_ms, char *err, size_t errlen);
/* Rows pending (neither delivered nor given up). */
int64_t alert_outbox_pending(struct alert_outbox *ob);
/* The earliest next attempt (ms), or 0 when nothing is pending. */
int64_t alert_outbox_next(struct alert_outbox *ob);
/* Delete finished rows older than before_ms. */
int alert_outbox_prune(struct alert_outbox *ob, int64_t before_ms);

/* ---- alert_send.c: the channels ---- */
struct alert_result {
	int ok;				/* delivered */
	int cut;			/* stopped by alert_free: not counted */
	long status;			/* HTTP or SMTP code, exit status */
	char reason[160];		/* why not, for the log */
};

/* One attempt of r through its channel; *stop set cuts it short. */
void alert_send(const struct alert_config *cfg, const struct alert_row *r,
    const _Atomic int *stop, struct alert_result *res);

#endif
