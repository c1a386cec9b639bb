/* log.h - one key=value line per event (docs/logging.md is the format).
 *
 *   2026-11-23T10:00:00.123Z jaga[812]: 8Qx3Ab smtp rcpt to=<a@b> code=250
 *
 * The timestamp is written only for the stderr target (syslog adds its own).
 * Values that hold a space, quote, '=' or a non-printable byte are written in
 * double quotes with \" \\ and \xNN escapes, so one event is always one line.
 * Secrets and AUTH data must never be passed here.
 */
#ifndef JAGA_UTIL_LOG_H
#define JAGA_UTIL_LOG_H

#include <stddef.h>

#include "util/buf.h"

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };
enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

/* Choose where lines go; the default is stderr at level info. */
void log_setup(enum log_target target, enum log_level min_level);

struct event_base;
/* Worker threads: collect this thread's stderr lines and write them with
 * one write(2) after the callbacks of the current loop pass (call it in the
 * thread that runs base).  A crash loses at most one pass of lines (and
 * never more than 64 KiB).  log_thread_detach flushes. */
int log_thread_attach(struct event_base *base);
void log_thread_detach(void);

struct logline {
	struct buf b;
	enum log_level level;
};

/* Start a line.  sessid is "-" for events outside a session. */
void logline_begin(struct logline *l, enum log_level level, const char *sessid,
    const char *component, const char *event);
void logline_str(struct logline *l, const char *key, const char *val);
void logline_strn(struct logline *l, const char *key, const char *val, size_t len);
void logline_int(struct logline *l, const char *key, long long val);
/* Write the line (atomically, one write) and release it. */
void logline_end(struct logline *l);

/* Shorthand for daemon messages: component "jaga", a free-text msg= value. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append " key=value" with the quoting rules above (used by logline_*). */
void log_kv(struct buf *b, const char *key, const char *val, size_t len);

#endif
