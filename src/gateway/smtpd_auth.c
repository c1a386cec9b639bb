/* smtpd_auth.c - AUTH PLAIN (RFC 4616) and LOGIN over TLS only (RFC 4954).
 *
 * The password is checked in the job pool (Argon2id is slow on purpose),
 * held in locked memory and wiped after; it is never logged. */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/session_int.h"
#include "gateway/authdb.h"
#include "gateway/shared.h"
#include "engine/lockout_redis.h"
#include "util/jobq.h"
#include "util/log.h"

#define AUTH_NAME_MAX 255
#define AUTH_PASS_MAX 1024

struct auth_job {
	struct session *s;	/* NULL once the session is gone */
	struct authdb *authdb;
	char name[AUTH_NAME_MAX + 1];
	char *pass;		/* sodium_malloc'd, wiped by sodium_free */
	size_t passlen;
	enum authdb_result res;
	struct authdb_senders snd;	/* sender enforcement, on success */
	/* store = redis://: the lockout shared by every gateway */
	struct lockout_redis *lr;	/* NULL with store = sqlite */
	char ip[INET6_ADDRSTRLEN];
	enum { AUTH_CLEAR, AUTH_IP_LOCKED, AUTH_ACCOUNT_LOCKED } locked;
	struct lockout_event ev;	/* lockouts that began in Redis */
};

static void
auth_log(struct session *s, const char *user, const char *result, int code)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "auth");
	logline_str(&l, "mech", s->auth_mech);
	logline_str(&l, "user", user);
	logline_str(&l, "result", result);
	logline_int(&l, "code", code);
	logline_end(&l);
}

/* Before the password: is the IP or the account locked in Redis?  A
 * locked account's try still counts.  1 when the answer is known. */
static int
auth_shared_before(struct auth_job *j)
{
	int64_t ip_ms, acct_ms;
	char err[256];

	if (lockout_redis_locked(j->lr, j->ip, j->name, &ip_ms, &acct_ms, err,
	    sizeof err) < 0) {
		log_msg(LOG_LVL_ERR, "store", "AUTH lockout lookup failed: %s",
		    err);
		j->res = AUTHDB_TEMPFAIL;	/* 454 4.7.0 */
		return 1;
	}
	if (ip_ms == 0 && acct_ms == 0)
		return 0;
	j->res = AUTHDB_FAIL;
	j->locked = ip_ms > 0 ? AUTH_IP_LOCKED : AUTH_ACCOUNT_LOCKED;
	if (j->locked == AUTH_ACCOUNT_LOCKED && lockout_redis_fail(j->lr,
	    j->ip, j->name, &j->ev, err, sizeof err) < 0)
		log_msg(LOG_LVL_ERR, "store", "AUTH failure not counted: %s",
		    err);
	return 1;
}

/* After the password: count a failure (one script), or reset the IP's. */
static void
auth_shared_after(struct auth_job *j)
{
	char err[256];
	int r = 0;

	if (j->res == AUTHDB_FAIL)
		r = lockout_redis_fail(j->lr, j->ip, j->name, &j->ev, err,
		    sizeof err);
	else if (j->res == AUTHDB_OK)
		r = lockout_redis_success(j->lr, j->ip, err, sizeof err);
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "AUTH lockout update failed: %s",
		    err);
}

static void
auth_job_work(void *arg)
{
	struct auth_job *j = arg;

	if (j->lr != NULL && auth_shared_before(j))
		return;
	j->res = authdb_check(j->authdb, j->name, j->pass, j->passlen,
	    &j->snd);
	if (j->lr != NULL)
		auth_shared_after(j);
}

/* The reply for a refused AUTH: revoked and expired identities are told
 * why (only after the right password), a store failure is temporary. */
static void
auth_refuse(struct session *s, const char *user, enum authdb_result res,
    const struct lockout_event *shared)
{
	static const struct {
		const char *result, *enh, *text;
		int code;
	} r[] = {
		[AUTHDB_FAIL] = { "fail", "5.7.8",
		    "Error: authentication failed", 535 },
		[AUTHDB_REVOKED] = { "revoked", "5.7.8", "Error: authentication "
		    "failed: this credential has been revoked", 535 },
		[AUTHDB_EXPIRED] = { "expired", "5.7.8", "Error: authentication "
		    "failed: this credential has expired", 535 },
		[AUTHDB_TEMPFAIL] = { "tempfail", "4.7.0", "Error: temporary "
		    "authentication failure", 454 },
	};

	auth_log(s, user, r[res].result, r[res].code);
	if (res == AUTHDB_FAIL)		/* a guess; revoked/expired are not */
		smtpd_lockout_fail_shared(s, user, shared);
	smtpd_auth_refuse_later(s, r[res].code, r[res].enh, r[res].text);
}

/* The password is right: unless the account was locked meanwhile. */
static void
auth_ok(struct session *s, struct auth_job *j)
{
	if (smtpd_lockout_account(s, j->name))
		return;
	if (!authdb_network_ok(j->snd.networks,
	    (const struct sockaddr *)&s->sa)) {
		/* told only after the right password, as revoked is */
		auth_log(s, j->name, "network", 535);
		smtpd_auth_refuse_later(s, 535, "5.7.8", "Error: authentication "
		    "failed: this credential may not be used from your network");
		return;
	}
	free(s->snd);
	if ((s->snd = malloc(sizeof *s->snd)) == NULL) {
		s->state = S_CMD;
		smtpd_client_error(s, 454, "4.7.0", "Error: temporary "
		    "authentication failure");
		return;
	}
	*s->snd = j->snd;	/* sender enforcement */
	snprintf(s->auth_user, sizeof s->auth_user, "%s", j->name);
	smtpd_lockout_ok(s);
	auth_log(s, j->name, "ok", 235);
	s->state = S_CMD;
	smtpd_reply(s, 235, "2.7.0", "Authentication successful");
}

static void
auth_job_done(void *arg)
{
	struct auth_job *j = arg;
	struct session *s = j->s;

	sodium_free(j->pass);
	if (s != NULL) {
		s->auth_job = NULL;
		if (j->locked == AUTH_IP_LOCKED)
			smtpd_lockout_ip_refuse(s);
		else if (j->locked == AUTH_ACCOUNT_LOCKED)
			smtpd_lockout_account_refuse(s, j->name, &j->ev);
		else if (j->res == AUTHDB_OK)
			auth_ok(s, j);
		else
			auth_refuse(s, j->name, j->res, j->lr ? &j->ev : NULL);
		if (s->state != S_WAIT)	/* else the refusal's timer resumes */
			smtpd_resume(s);
	}
	free(j);
}

/* Hand name and password to the pool; the session waits. */
static void
auth_check(struct session *s, const char *name, size_t nlen, const char *pass,
    size_t plen)
{
	struct auth_job *j;
	char nm[AUTH_NAME_MAX + 1];

	snprintf(nm, sizeof nm, "%.*s", (int)(nlen < AUTH_NAME_MAX ? nlen :
	    AUTH_NAME_MAX), name);
	if (smtpd_lockout_ip(s) || smtpd_lockout_account(s, nm))
		return;		/* before the password is checked */
	if (nlen > AUTH_NAME_MAX || plen > AUTH_PASS_MAX) {
		/* no such identity can exist: a failure like any other */
		smtpd_lockout_fail(s, nm);
		smtpd_auth_refuse_later(s, 535, "5.7.8",
		    "Error: authentication failed");
		return;
	}
	j = calloc(1, sizeof *j);
	if (j == NULL || (j->pass = sodium_malloc(plen + 1)) == NULL) {
		free(j);
		s->state = S_CMD;
		smtpd_client_error(s, 454, "4.7.0", "Error: temporary "
		    "authentication failure");
		return;
	}
	memcpy(j->name, name, nlen);
	memcpy(j->pass, pass, plen);
	j->passlen = plen;
	j->s = s;
	j->authdb = s->w->authdb;
	if (s->w->shared != NULL) {
		j->lr = s->w->shared->lockout;
		snprintf(j->ip, sizeof j->ip, "%s", s->client);
	}
	s->auth_job = j;
	s->state = S_WAIT;
	if (jobq_submit(s->w->base, auth_job_work, auth_job_done, j) < 0) {
		j->res = AUTHDB_TEMPFAIL;
		auth_job_done(j);
	}
}

/* The session ends while a check runs: the job must not touch it. */
void
smtpd_auth_forget(struct session *s)
{
	if (s->auth_job)
		s->auth_job->s = NULL;
	smtpd_lockout_forget(s);
}

/* Decode base64 (RFC 4648 §4) into out; returns the length or -1. */
static long
auth_b64(const char *in, size_t len, unsigned char *out, size_t max)
{
	size_t n = 0;
	const char *end = NULL;

	if (len == 1 && in[0] == '=')	/* RFC 4954 §4: empty response */
		return 0;
	if (sodium_base642bin(out, max, in, len, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != in + len)
		return -1;
	return (long)n;
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
static void
auth_plain(struct session *s, const unsigned char *p, size_t n)
{
	const unsigned char *a = memchr(p, 0, n), *b;

	b = a ? memchr(a + 1, 0, n - (size_t)(a + 1 - p)) : NULL;
	if (b == NULL || (a != p && ((size_t)(a - p) != (size_t)(b - a - 1) ||
	    memcmp(p, a + 1, (size_t)(a - p)) != 0))) {
		/* malformed, or acting for another identity: not allowed */
		smtpd_lockout_fail(s, "");
		smtpd_auth_refuse_later(s, 535, "5.7.8",
		    "Error: authentication failed");
		return;
	}
	auth_check(s, (const char *)a + 1, (size_t)(b - a - 1),
	    (const char *)b + 1, n - (size_t)(b + 1 - p));
}

/* One client response in the AUTH exchange (RFC 4954 §4). */
static void
auth_response(struct session *s, const char *line, size_t len)
{
	unsigned char bin[SMTP_AUTH_LINE_MAX];
	long n;

	if (len == 1 && line[0] == '*') {	/* the client cancels */
		s->state = S_CMD;
		auth_log(s, "", "cancel", 501);
		smtpd_client_error(s, 501, "5.7.0", "Error: authentication cancelled");
		return;
	}
	n = auth_b64(line, len, bin, sizeof bin);
	if (n < 0) {
		s->state = S_CMD;
		smtpd_client_error(s, 501, "5.5.2", "Error: invalid base64 data");
	} else if (strcmp(s->auth_mech, "PLAIN") == 0) {
		auth_plain(s, bin, (size_t)n);
	} else if (s->auth_step == 1) {
		snprintf(s->auth_name, sizeof s->auth_name, "%.*s", (int)n, bin);
		if (memchr(bin, 0, (size_t)n) || n > AUTH_NAME_MAX) {
			smtpd_lockout_fail(s, "");
			smtpd_auth_refuse_later(s, 535, "5.7.8",
			    "Error: authentication failed");
		} else {
			s->auth_step = 2;
			smtpd_reply_raw(s, "334 UGFzc3dvcmQ6\r\n");	/* "Password:" */
		}
	} else {
		auth_check(s, s->auth_name, strlen(s->auth_name), (char *)bin,
		    (size_t)n);
	}
	sodium_memzero(bin, sizeof bin);
}

void
smtpd_auth_line(struct session *s, const char *line, size_t len)
{
	auth_response(s, line, len);
}

static int
auth_allowed(struct session *s)
{
	if (!smtpd_is_submission(s))
		smtpd_client_error(s, 503, "5.5.1",
		    "Error: authentication not enabled on this port");
	else if (!s->esmtp)
		smtpd_client_error(s, 503, "5.5.1", "Error: send EHLO first");
	else if (!s->tls)	/* RFC 4954 §6 */
		smtpd_client_error(s, 538, "5.7.11",
		    "Error: encryption required for requested authentication "
		    "mechanism");
	else if (s->auth_user[0])
		smtpd_client_error(s, 503, "5.5.1", "Error: already authenticated");
	else if (s->in_tx)
		smtpd_client_error(s, 503, "5.5.1",
		    "Error: MAIL transaction in progress");
	else
		return 1;
	return 0;
}

void
smtpd_auth_start(struct session *s, const struct smtp_cmd *cmd)
{
	const char *sp = memchr(cmd->arg.p, ' ', cmd->arg.len);
	size_t mlen = sp ? (size_t)(sp - cmd->arg.p) : cmd->arg.len;
	const char *ir = sp ? sp + 1 : NULL;
	size_t irlen = sp ? cmd->arg.len - mlen - 1 : 0;

	if (!auth_allowed(s))
		return;
	snprintf(s->auth_mech, sizeof s->auth_mech, "%.*s", (int)mlen,
	    cmd->arg.p);
	for (char *p = s->auth_mech; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (mlen >= sizeof s->auth_mech || (strcmp(s->auth_mech, "PLAIN") != 0 &&
	    strcmp(s->auth_mech, "LOGIN") != 0)) {
		smtpd_client_error(s, 504, "5.5.4",
		    "Error: unsupported authentication mechanism");
		return;
	}
	if (smtpd_lockout_ip(s))	/* RFC 4954 §4: 454 4.7.0 */
		return;
	s->state = S_AUTH;
	s->auth_step = 1;
	s->auth_name[0] = '\0';
	if (ir != NULL)
		auth_response(s, ir, irlen);
	else if (strcmp(s->auth_mech, "PLAIN") == 0)
		smtpd_reply_raw(s, "334 \r\n");
	else
		smtpd_reply_raw(s, "334 VXNlcm5hbWU6\r\n");	/* "Username:" */
}
