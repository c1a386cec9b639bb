/* log.c - one key=value line per event. */
#include "util/log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096	/* a longer line is cut, and says so */
#define LOG_LINE_GUESS 256	/* most lines fit */

static enum log_target log_target = LOG_TO_STDERR;
static enum log_level log_min = LOG_LVL_INFO;
static int log_pid;	/* looked up once: jaga does not fork */

#define LOG_BATCH_MAX (64 * 1024)
static __thread struct buf *log_batch;	/* worker threads only */
static __thread struct event *log_flush_ev;
static __thread int log_flush_armed;

static void
log_write(const char *p, size_t len)
{
	if (write(STDERR_FILENO, p, len) < 0) {
		/* nowhere left to report it */
	}
}

static void
log_flush(evutil_socket_t fd, short what, void *arg)
{
	log_flush_armed = 0;
	if (log_batch != NULL && log_batch->len > 0) {
		log_write(log_batch->data, log_batch->len);
		buf_reset(log_batch);
	}
}

int
log_thread_attach(struct event_base *base)
{
	log_batch = malloc(sizeof *log_batch);
	log_flush_ev = event_new(base, -1, 0, log_flush, NULL);
	if (log_batch == NULL || log_flush_ev == NULL) {
		log_thread_detach();
		return -1;
	}
	buf_init(log_batch, LOG_BATCH_MAX);
	return 0;
}

void
log_thread_detach(void)
{
	log_flush(-1, 0, NULL);
	if (log_flush_ev)
		event_free(log_flush_ev);
	if (log_batch)
		buf_done(log_batch);
	free(log_batch);
	log_batch = NULL;
	log_flush_ev = NULL;
}

/* Batch the line when this thread has a batch, else write it now. */
static void
log_out(const char *line, size_t len)
{
	if (log_batch == NULL) {
		log_write(line, len);
		return;
	}
	if (buf_append(log_batch, line, len) < 0) {
		log_flush(-1, 0, NULL);
		if (buf_append(log_batch, line, len) < 0)
			log_write(line, len);
	}
	if (!log_flush_armed) {
		log_flush_armed = 1;
		event_active(log_flush_ev, EV_TIMEOUT, 0);
	}
}

void
log_setup(enum log_target target, enum log_level min_level)
{
	log_target = target;
	log_min = min_level;
	if (target == LOG_TO_SYSLOG)
		openlog("jaga", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static int
needs_quotes(const char *v, size_t len)
{
	if (len == 0)
		return 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f)
			return 1;
	}
	return 0;
}

/* " key=" without printf: log lines are written several times per message. */
static void
log_key(struct buf *b, const char *key)
{
	size_t n = strlen(key);

	if (buf_reserve(b, n + 2) < 0)
		return;
	b->data[b->len++] = ' ';
	memcpy(b->data + b->len, key, n);
	b->len += n;
	b->data[b->len++] = '=';
	b->data[b->len] = '\0';
}

void
log_kv(struct buf *b, const char *key, const char *val, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	log_key(b, key);
	if (!needs_quotes(val, len)) {
		buf_append(b, val, len);
		return;
	}
	buf_puts(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];
		char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
		if (c == '"' || c == '\\') {
			char e2[2] = { '\\', (char)c };
			buf_append(b, e2, 2);
		} else if (c < ' ' || c == 0x7f) {
			buf_append(b, esc, 4);
		} else {
			/* UTF-8 is kept as is: it is printable text */
			buf_append(b, &val[i], 1);
		}
	}
	buf_puts(b, "\"");
}

/* Decimal digits of v into the end of out[0..len); returns where they
 * start.  len >= 21 holds any long long with its sign. */
static char *
log_digits(char *out, size_t len, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	char *p = out + len;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

void
logline_begin(struct logline *l, enum log_level level, const char *sessid,
    const char *component, const char *event)
{
	buf_init(&l->b, LOG_LINE_MAX);
	l->level = level;
	buf_reserve(&l->b, LOG_LINE_GUESS);	/* one allocation per line */
	buf_puts(&l->b, sessid ? sessid : "-");
	buf_append(&l->b, " ", 1);
	buf_puts(&l->b, component);
	buf_append(&l->b, " ", 1);
	buf_puts(&l->b, event);
}

void
logline_strn(struct logline *l, const char *key, const char *val, size_t len)
{
	log_kv(&l->b, key, val ? val : "", val ? len : 0);
}

void
logline_str(struct logline *l, const char *key, const char *val)
{
	logline_strn(l, key, val, val ? strlen(val) : 0);
}

void
logline_int(struct logline *l, const char *key, long long val)
{
	char d[24], *p = log_digits(d, sizeof d, val);

	log_key(&l->b, key);
	buf_append(&l->b, p, (size_t)(d + sizeof d - p));
}

static const int syslog_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

/* "2026-11-23T06:10:00." for the current second, made once a second per
 * thread: strftime and printf cost more than the rest of a line. */
static size_t
log_stamp(char *out, const struct timeval *tv)
{
	static __thread time_t sec = -1;
	static __thread char stamp[32];
	static __thread size_t stamplen;
	struct tm tm;

	if (tv->tv_sec != sec) {
		gmtime_r(&tv->tv_sec, &tm);
		stamplen = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S.",
		    &tm);
		sec = tv->tv_sec;
	}
	memcpy(out, stamp, stamplen);
	return stamplen;
}

/* One write(2) per line (or per batch of whole lines) keeps lines from
 * several threads whole.  The line: "<stamp>mmmZ jaga[PID]: <line>\n". */
static void
emit_stderr(const char *line, size_t len)
{
	char out[LOG_LINE_MAX + 128], d[24], *p;
	struct timeval tv;
	size_t n, ms;

	if (log_pid == 0)
		log_pid = (int)getpid();
	gettimeofday(&tv, NULL);
	n = log_stamp(out, &tv);
	ms = (size_t)(tv.tv_usec / 1000);
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	memcpy(out + n, "Z jaga[", 7);
	n += 7;
	p = log_digits(d, sizeof d, log_pid);
	memcpy(out + n, p, (size_t)(d + sizeof d - p));
	n += (size_t)(d + sizeof d - p);
	memcpy(out + n, "]: ", 3);
	n += 3;
	if (len > sizeof out - n - 1)
		len = sizeof out - n - 1;
	memcpy(out + n, line, len);
	n += len;
	out[n++] = '\n';
	log_out(out, n);
}

void
logline_end(struct logline *l)
{
	if (l->level >= log_min && l->b.data != NULL) {
		if (log_target == LOG_TO_SYSLOG)
			syslog(syslog_prio[l->level], "%s", l->b.data);
		else
			emit_stderr(l->b.data, l->b.len);
	}
	buf_done(&l->b);
}

void
log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	struct logline l;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	logline_begin(&l, level, "-", "jaga", event);
	logline_str(&l, "msg", text);
	logline_end(&l);
}
