/* smtpd_lockout.c - the SMTP side of the AUTH brute-force lockout (issue 3
 * §6; the counting is engine/lockout.c, shared by all workers): refuse AUTH
 * from a locked IP before any password is checked, refuse a locked account
 * even with the right password, log one line per lockout, and answer every
 * refused AUTH after auth_fail_delay on an event timer. */
#include <event2/event.h>
#include <stdio.h>
#include <time.h>

#include "engine/lockout.h"
#include "gateway/alerting.h"
#include "gateway/session_int.h"
#include "util/log.h"

/* AUTH commands answered 454 while locked before 421 and disconnect. */
#define LOCKOUT_TRIES_MAX	3

static int64_t
lockout_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A monotonic deadline as UTC wall time, e.g. 2026-11-23T06:10:00Z. */
static void
lockout_until(char *out, size_t len, int64_t until_ms)
{
	time_t t = time(NULL) + (time_t)((until_ms - lockout_now_ms()) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
lockout_log_auth(struct session *s, const char *user, const char *result,
    int code, const char *reason)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "auth");
	logline_str(&l, "mech", s->auth_mech);
	logline_str(&l, "user", user);
	logline_str(&l, "result", result);
	logline_int(&l, "code", code);
	if (reason != NULL)
		logline_str(&l, "reason", reason);
	logline_end(&l);
}

/* The alert-worthy lines: one per lockout that begins. */
static void
lockout_log_event(struct session *s, const char *user,
    const struct lockout_event *ev)
{
	struct logline l;
	char until[32];

	if (ev->ip_locked != LOCKOUT_NONE) {
		lockout_until(until, sizeof until, ev->ip_until);
		logline_begin(&l, LOG_LVL_WARN, s->id, "smtp", "lockout");
		logline_str(&l, "kind", "ip");
		logline_str(&l, "ip", s->client);
		logline_str(&l, "reason", ev->ip_locked == LOCKOUT_SPRAYING ?
		    "spraying" : "failures");
		logline_int(&l, "strikes", ev->ip_strikes);
		logline_str(&l, "until", until);
		logline_end(&l);
	}
	if (ev->account_locked) {
		lockout_until(until, sizeof until, ev->account_until);
		logline_begin(&l, LOG_LVL_WARN, s->id, "smtp", "lockout");
		logline_str(&l, "kind", "account");
		logline_str(&l, "user", user);
		logline_int(&l, "ips", ev->account_ips);
		logline_int(&l, "failures", ev->account_failures);
		logline_str(&l, "until", until);
		logline_end(&l);
	}
	alerting_lockout(s->w->alerts, s->client, user, ev, lockout_now_ms());
}

static void
lockout_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	s->state = S_CMD;
	smtpd_client_error(s, s->auth_delay_code, s->auth_delay_enh,
	    s->auth_delay_text);
	smtpd_resume(s);
}

void
smtpd_auth_refuse_later(struct session *s, int code, const char *enh,
    const char *text)
{
	unsigned ms = s->w->st->auth_fail_delay_ms;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (s->auth_delay_ev == NULL)
		s->auth_delay_ev = evtimer_new(s->w->base, lockout_delay_cb, s);
	if (s->auth_delay_ev == NULL || evtimer_add(s->auth_delay_ev, &tv) < 0) {
		s->state = S_CMD;	/* no timer: answer now */
		smtpd_client_error(s, code, enh, text);
		return;
	}
	s->auth_delay_code = code;
	s->auth_delay_enh = enh;
	s->auth_delay_text = text;
	s->state = S_WAIT;	/* nothing more is read until the answer */
}

void
smtpd_lockout_fail(struct session *s, const char *user)
{
	smtpd_lockout_fail_shared(s, user, NULL);
}

/* The local tracker counts every failure (it stays the first line); with
 * store = redis:// the lockouts worth a line are Redis's, which begin
 * once across all gateways. */
void
smtpd_lockout_fail_shared(struct session *s, const char *user,
    const struct lockout_event *shared)
{
	struct lockout_event ev;
	int64_t now = lockout_now_ms();

	lockout_fail(s->w->lockout, s->client, user, now, &ev);
	if (shared != NULL) {
		ev = *shared;	/* its times are from now */
		ev.ip_until += now;
		ev.account_until += now;
	}
	lockout_log_event(s, user, &ev);
}

void
smtpd_lockout_ok(struct session *s)
{
	lockout_success(s->w->lockout, s->client, lockout_now_ms());
}

int
smtpd_lockout_ip(struct session *s)
{
	if (lockout_ip_locked(s->w->lockout, s->client, lockout_now_ms()) == 0)
		return 0;
	smtpd_lockout_ip_refuse(s);
	return 1;
}

void
smtpd_lockout_ip_refuse(struct session *s)
{
	lockout_log_auth(s, "", "locked", 454, "ip locked");
	s->state = S_CMD;
	if (++s->auth_locked_tries >= LOCKOUT_TRIES_MAX)
		smtpd_close(s, 421, "4.7.0", "Too many authentication failures; "
		    "closing connection");
	else
		smtpd_reply(s, 454, "4.7.0", "Too many authentication failures; "
		    "try again later");
}

int
smtpd_lockout_account(struct session *s, const char *user)
{
	if (lockout_account_locked(s->w->lockout, user, lockout_now_ms()) == 0)
		return 0;
	smtpd_lockout_account_refuse(s, user, NULL);
	return 1;
}

void
smtpd_lockout_account_refuse(struct session *s, const char *user,
    const struct lockout_event *shared)
{
	lockout_log_auth(s, user, "fail", 535, "account locked");
	/* still counts against the IP */
	smtpd_lockout_fail_shared(s, user, shared);
	/* the text of a wrong password: no hint that the lock is on */
	smtpd_auth_refuse_later(s, 535, "5.7.8", "Error: authentication failed");
}

void
smtpd_lockout_forget(struct session *s)
{
	if (s->auth_delay_ev != NULL)
		event_free(s->auth_delay_ev);
	s->auth_delay_ev = NULL;
}
