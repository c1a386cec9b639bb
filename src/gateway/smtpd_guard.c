/* smtpd_guard.c - the session's side of gateway/guard.h: a suspended
 * identity is refused at MAIL, and every authenticated message, and every
 * other one when limits beyond the identity are configured (limits_ip,
 * ...), gets one limit decision at the end of DATA, before it goes to the
 * next hop.  The store work runs in the job pool; the answer comes back to
 * the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/evidence.h"
#include "gateway/guard.h"
#include "gateway/session_int.h"
#include "util/jobq.h"
#include "util/log.h"

struct guard_job {
	struct session *s;		/* NULL once the session is gone */
	struct guard *g;
	smtpd_guard_fn *next;
	int at_data;			/* 0: the MAIL check */
	enum guard_state state;		/* MAIL */
	struct guard_result res;	/* DATA */
	struct guard_msg m;
	char name[256], client[INET6_ADDRSTRLEN], helo[256];
	char from[SMTP_PATH_MAX + 1], subject[EVIDENCE_SUBJECT_MAX + 1];
	char rule[STORE_RULE_MAX];
	const char **domains;		/* into dombuf */
	char *dombuf;
};

static void
guard_job_free(struct guard_job *j)
{
	free(j->domains);
	free(j->dombuf);
	free(j);
}

static void
guard_job_work(void *arg)
{
	struct guard_job *j = arg;

	/* At DATA too: a suspension made while this transaction was in
	 * flight (another session crossed the limit) stops it (issue 3 §4). */
	j->state = guard_suspended(j->g, j->name, j->rule, sizeof j->rule);
	if (j->at_data && j->state == GUARD_CLEAR)
		guard_decide(j->g, &j->m, &j->res);
}

/* "smtp burst user= rule= count= threshold= window= action=" */
static void
guard_log_burst(struct logline *l, struct session *s, const struct guard_job *j)
{
	const struct burst_verdict *b = &j->res.burst;

	logline_begin(l, LOG_LVL_WARN, s->id, "smtp", "burst");
	logline_str(l, "user", j->name);
	logline_str(l, "rule", b->text);
	logline_int(l, "count", b->count);
	logline_int(l, "threshold", b->threshold);
	logline_int(l, "window", b->window);
	logline_str(l, "action", j->res.verdict == GUARD_DEFER ? "defer" :
	    j->res.verdict == GUARD_REJECT ? "reject" : "suspend");
	logline_end(l);
}

/* "smtp limit key=id:NAME thing= window= limit= count= action=" */
static void
guard_log_limit(struct session *s, const struct guard_job *j)
{
	const struct limits_verdict *v = &j->res.v;
	struct logline l;

	if (j->res.burst.rule != BURST_NONE) {
		guard_log_burst(&l, s, j);
	} else {
		logline_begin(&l, LOG_LVL_WARN, s->id, "smtp", "limit");
		logline_str(&l, "key", j->res.key);
		logline_str(&l, "thing", limits_thing_name(v->rule.thing));
		logline_int(&l, "window", v->rule.window);
		logline_int(&l, "limit", v->rule.limit);
		logline_int(&l, "count", v->count);
		logline_str(&l, "action", limits_action_name(v->rule.action));
		logline_end(&l);
	}
	if (!j->res.suspended_now)
		return;
	logline_begin(&l, LOG_LVL_WARN, s->id, "smtp", "suspend");
	logline_str(&l, "user", j->name);
	logline_str(&l, "rule", j->res.rule);
	logline_end(&l);
}

/* The end-of-DATA answer: 0 to go on, or the refusal. */
static void
guard_data_done(struct session *s, struct guard_job *j)
{
	char why[SMTP_REPLYLINE_MAX];

	if (j->state == GUARD_TEMPFAIL) {
		j->next(s, 451, "4.3.0", "Error: account state cannot be "
		    "read; try again later");
		return;
	}
	if (j->state == GUARD_SUSPENDED) {
		/* 4xx, not 5xx: the client keeps the message, and it goes
		 * out once the administrator has lifted the suspension */
		snprintf(why, sizeof why, "Account %s was suspended during "
		    "this transaction (rule %s); contact your administrator",
		    j->name, j->rule);
		j->next(s, 451, "4.7.1", why);
		return;
	}
	switch (j->res.verdict) {
	case GUARD_PASS:
		j->next(s, 0, NULL, NULL);
		return;
	case GUARD_ERROR:
		j->next(s, 451, "4.3.0", "Error: limits cannot be checked; "
		    "try again later");
		return;
	default:
		break;
	}
	guard_log_limit(s, j);
	if (j->res.verdict == GUARD_DEFER) {
		snprintf(why, sizeof why, "Error: sending limit reached (%s); "
		    "try again later", j->res.rule);
		j->next(s, 451, "4.7.1", why);
	} else if (j->res.verdict == GUARD_REJECT) {
		snprintf(why, sizeof why, "Error: sending limit reached (%s)",
		    j->res.rule);
		j->next(s, 550, "5.7.1", why);
	} else {
		snprintf(why, sizeof why, "Account %s is suspended (rule %s); "
		    "contact your administrator", j->name, j->res.rule);
		j->next(s, 550, "5.7.1", why);
	}
}

static void
guard_mail_done(struct session *s, struct guard_job *j)
{
	char why[SMTP_REPLYLINE_MAX];

	if (j->state == GUARD_CLEAR) {
		j->next(s, 0, NULL, NULL);
	} else if (j->state == GUARD_TEMPFAIL) {
		j->next(s, 451, "4.3.0", "Error: account state cannot be "
		    "read; try again later");
	} else {
		snprintf(why, sizeof why, "Account %s is suspended (rule %s); "
		    "contact your administrator", j->name, j->rule);
		j->next(s, 550, "5.7.1", why);
	}
}

static void
guard_job_done(void *arg)
{
	struct guard_job *j = arg;
	struct session *s = j->s;

	if (s != NULL) {
		s->guard_job = NULL;
		if (j->at_data)
			guard_data_done(s, j);
		else
			guard_mail_done(s, j);
	}
	guard_job_free(j);
}

static struct guard_job *
guard_job_new(struct session *s, smtpd_guard_fn *next, int at_data)
{
	struct guard_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->s = s;
	j->g = s->w->guard;
	j->next = next;
	j->at_data = at_data;
	snprintf(j->name, sizeof j->name, "%s", s->auth_user);
	return j;
}

static void
guard_submit(struct session *s, struct guard_job *j)
{
	s->guard_job = j;
	s->state = S_WAIT;
	if (jobq_submit(s->w->base, guard_job_work, guard_job_done, j) < 0) {
		j->state = GUARD_TEMPFAIL;
		j->res.verdict = GUARD_ERROR;
		guard_job_done(j);
	}
}

void
smtpd_guard_mail(struct session *s, smtpd_guard_fn *next)
{
	struct guard_job *j;

	if (!s->auth_user[0] || s->w->guard == NULL) {
		next(s, 0, NULL, NULL);
		return;
	}
	if ((j = guard_job_new(s, next, 0)) == NULL) {
		next(s, 451, "4.3.0", "Error: out of memory");
		return;
	}
	guard_submit(s, j);
}

/* The recipient domains, copied out of the session's paths "<l@d>". */
static int
guard_domains(struct guard_job *j, const struct session *s)
{
	size_t n = s->nrcpts, size = 0;
	char *p;

	for (size_t i = 0; i < n; i++)
		size += strlen(s->rcpts[i].path) + 1;
	j->domains = calloc(n ? n : 1, sizeof *j->domains);
	j->dombuf = p = malloc(size ? size : 1);
	if (j->domains == NULL || j->dombuf == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *at = strrchr(s->rcpts[i].path, '@');
		size_t len = at ? strcspn(at + 1, ">") : 0;
		memcpy(p, at ? at + 1 : "", len);
		p[len] = '\0';
		j->domains[i] = p;
		p += len + 1;
	}
	return 0;
}

static void
guard_msg_fill(struct guard_job *j, const struct session *s)
{
	snprintf(j->client, sizeof j->client, "%s", s->client);
	snprintf(j->helo, sizeof j->helo, "%s", s->helo);
	snprintf(j->from, sizeof j->from, "%s", s->from);
	evidence_subject(s->msg.data ? s->msg.data : "", s->msg.len,
	    j->subject, sizeof j->subject);
	j->m = (struct guard_msg){
		.name = j->name, .client_ip = j->client, .helo = j->helo,
		.sender = j->from, .subject = j->subject,
		.domains = j->domains, .ndomains = s->nrcpts,
		.nrcpts = s->nrcpts, .first = s->start.tv_sec,
		.now = (int64_t)time(NULL),
	};
}

void
smtpd_guard_data(struct session *s, smtpd_guard_fn *next)
{
	struct guard_job *j;

	/* no job-pool round trip when no limit applies */
	if (s->w->guard == NULL ||
	    (!s->auth_user[0] && !guard_keys_on(s->w->guard))) {
		next(s, 0, NULL, NULL);
		return;
	}
	if ((j = guard_job_new(s, next, 1)) == NULL ||
	    guard_domains(j, s) < 0) {
		if (j != NULL)
			guard_job_free(j);
		next(s, 451, "4.3.0", "Error: out of memory");
		return;
	}
	guard_msg_fill(j, s);
	guard_submit(s, j);
}

void
smtpd_guard_forget(struct session *s)
{
	if (s->guard_job)
		s->guard_job->s = NULL;
}
