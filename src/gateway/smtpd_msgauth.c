/* smtpd_msgauth.c - SPF, DKIM and DMARC on inbound mail (issue 5 §5).
 *
 * A message from a client without AUTH on an inbound listener is checked
 * in the DNS job pool (util/jobq.h: a slow resolver never holds up AUTH
 * or limit checks): msgauth_check on the message after our Received:,
 * then the local policy (gateway/inauth.h).  A message that goes on is
 * rebuilt in the job: our one Authentication-Results on top (RFC 8601
 * §5), then X-Jaga-Quarantine when p=quarantine is marked, then the rest
 * without any incoming A-R claiming our authserv-id.  A held message is
 * stored (engine/quarantine.h) in the job too, since that fsyncs.
 *
 * The job owns s->msg while it runs (the session keeps an empty buffer),
 * so a session that goes away meanwhile (smtpd_msgauth_forget) costs
 * nothing but the job's own free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "engine/msgauth.h"
#include "engine/quarantine.h"
#include "gateway/inauth.h"
#include "gateway/session_int.h"
#include "mail/authres.h"
#include "util/jobq.h"
#include "util/log.h"

#define MSGAUTH_MARK_MAX	(DNS_NAME_MAX + 80)	/* X-Jaga-Quarantine */

struct msgauth_job {
	struct session *s;		/* NULL once the session is gone */
	const struct inauth *ia;
	smtpd_guard_fn *next;
	struct buf msg;			/* the session's, while we run */
	size_t received_len;
	struct sockaddr_storage sa;
	char id[13], client[INET6_ADDRSTRLEN], helo[256];
	char from[SMTP_PATH_MAX + 1];	/* "<addr>" */
	char **rcpts;			/* "<addr>" each, for a hold */
	size_t nrcpts;
	struct msgauth_res res;
	int tempfail;
	enum inauth_action action;
	const char *override;		/* static, or NULL */
	size_t removed;			/* incoming A-R dropped */
	char qid[QUARANTINE_ID_MAX + 1];
	char err[256];			/* rebuild or hold failed: why */
};

static void
msgauth_job_free(struct msgauth_job *j)
{
	for (size_t i = 0; j->rcpts != NULL && i < j->nrcpts; i++)
		free(j->rcpts[i]);
	free(j->rcpts);
	buf_done(&j->msg);
	free(j);
}

/* "X-Jaga-Quarantine: dmarc=fail policy=quarantine header.from=D" */
static void
msgauth_mark(const struct msgauth_job *j, char *out, size_t outlen)
{
	snprintf(out, outlen, "X-Jaga-Quarantine: dmarc=fail "
	    "policy=quarantine header.from=%s\r\n", j->res.dmarc.from_domain);
}

/* Our A-R (and mark) on top, then our Received: and the rest with the
 * A-R claiming our id removed.  Returns 0, or -1 (j->err set). */
static int
msgauth_rebuild(struct msgauth_job *j)
{
	char ar[MSGAUTH_AR_MAX], mark[MSGAUTH_MARK_MAX] = "";
	size_t arlen, rest;
	struct buf out;

	rest = authres_strip(j->msg.data + j->received_len,
	    j->msg.len - j->received_len, j->ia->servid, &j->removed);
	arlen = msgauth_ar_header(&j->res, j->ia->servid, ar, sizeof ar);
	if (arlen >= sizeof ar)
		arlen = strlen(ar);	/* truncated: still one field */
	if (j->action == INAUTH_MARK)
		msgauth_mark(j, mark, sizeof mark);
	buf_init(&out, j->received_len + rest + arlen + strlen(mark) + 1);
	if (buf_append(&out, ar, arlen) < 0 || buf_puts(&out, mark) < 0 ||
	    buf_append(&out, j->msg.data, j->received_len + rest) < 0) {
		buf_done(&out);
		snprintf(j->err, sizeof j->err, "out of memory");
		return -1;
	}
	buf_done(&j->msg);
	j->msg = out;
	return 0;
}

static int
msgauth_hold(struct msgauth_job *j)
{
	char reason[MSGAUTH_MARK_MAX];
	struct quarantine_env e = {
		.session = j->id, .client_ip = j->client, .helo = j->helo,
		.mail_from = j->from, .rcpts = (const char *const *)j->rcpts,
		.nrcpts = j->nrcpts, .reason = reason, .now = time(NULL),
	};

	snprintf(reason, sizeof reason, "dmarc=fail policy=quarantine "
	    "header.from=%s", j->res.dmarc.from_domain);
	return quarantine_store(j->ia->quarantine_dir, &e, j->msg.data,
	    j->msg.len, j->qid, sizeof j->qid, j->err, sizeof j->err);
}

/* In a DNS pool thread. */
static void
msgauth_job_work(void *arg)
{
	struct msgauth_job *j = arg;
	size_t len = strlen(j->from);
	char mfrom[SMTP_PATH_MAX + 1];
	struct msgauth_in in = {
		.ip = j->client, .helo = j->helo, .mail_from = mfrom,
		.msg = j->msg.data + j->received_len,
		.len = j->msg.len - j->received_len, .now = time(NULL),
		.sample = randombytes_uniform(100),
	};

	/* MAIL FROM without its angle brackets; "" for <> */
	snprintf(mfrom, sizeof mfrom, "%.*s", len >= 2 ? (int)len - 2 : 0,
	    j->from + 1);
	msgauth_check(j->ia->dns, j->ia->psl, &in, &j->res);
	j->tempfail = msgauth_dmarc_tempfail(&j->res);
	j->action = inauth_decide(&j->ia->pol, &j->res.dmarc, j->tempfail,
	    (const struct sockaddr *)&j->sa, &j->override);
	if (j->action == INAUTH_REJECT || j->action == INAUTH_TEMPFAIL)
		return;
	if (msgauth_rebuild(j) == 0 && j->action == INAUTH_HOLD)
		msgauth_hold(j);
}

/* "pass:example.com,fail:example.net"; "none" without a signature. */
static void
msgauth_dkim_list(const struct msgauth_res *r, char *out, size_t outlen)
{
	size_t o = 0;

	snprintf(out, outlen, "none");
	for (size_t i = 0; i < r->ndkim && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s:%s",
		    i ? "," : "", dkim_result_name(r->dkim[i].result),
		    r->dkim[i].d[0] ? r->dkim[i].d : "-");
}

/* "smtp msgauth spf= spf_helo= dkim= dmarc= header_from= policy=
 * disposition= action= override= removed= [quarantine=ID]" */
static void
msgauth_log(struct session *s, const struct msgauth_job *j)
{
	const struct msgauth_res *r = &j->res;
	char dkim[512];
	struct logline l;

	msgauth_dkim_list(r, dkim, sizeof dkim);
	logline_begin(&l, j->action == INAUTH_ACCEPT && !j->override ?
	    LOG_LVL_INFO : LOG_LVL_WARN, s->id, "smtp", "msgauth");
	logline_str(&l, "spf", spf_res_name(r->spf_mfrom.result));
	logline_str(&l, "spf_helo", r->helo_checked ?
	    spf_res_name(r->spf_helo.result) : "none");
	logline_str(&l, "dkim", dkim);
	logline_str(&l, "dmarc", dmarc_res_name(r->dmarc.result));
	logline_str(&l, "header_from", r->dmarc.from_domain[0] ?
	    r->dmarc.from_domain : "-");
	logline_str(&l, "policy", dmarc_policy_name(r->dmarc.policy));
	logline_str(&l, "disposition", dmarc_disp_name(r->dmarc.disposition));
	logline_str(&l, "action", inauth_action_name(j->action));
	logline_str(&l, "override", j->override ? j->override : "-");
	logline_int(&l, "removed", (long long)j->removed);
	if (j->qid[0])
		logline_str(&l, "quarantine", j->qid);
	if (j->err[0])
		logline_str(&l, "error", j->err);
	logline_end(&l);
}

/* The answer for a message that does not go on as it is. */
static void
msgauth_answer(struct session *s, struct msgauth_job *j)
{
	char why[SMTP_REPLYLINE_MAX];
	const struct dmarc_result *d = &j->res.dmarc;

	if (j->action == INAUTH_TEMPFAIL) {
		/* RFC 7489 §6.6.3, RFC 7208 §8.6 */
		snprintf(why, sizeof why, "DMARC policy of %s cannot be checked "
		    "now (DNS temporary error); try again later",
		    d->from_domain[0] ? d->from_domain : "the sender");
		j->next(s, 451, "4.4.3", why);
	} else if (j->action == INAUTH_REJECT) {
		snprintf(why, sizeof why, "Message rejected: %s publishes "
		    "DMARC policy %s and this message fails it (no aligned "
		    "SPF or DKIM pass)", d->from_domain,
		    dmarc_policy_name(d->policy));
		j->next(s, 550, "5.7.1", why);
	} else if (j->err[0]) {
		j->next(s, 451, "4.3.0", j->action == INAUTH_HOLD ?
		    "Error: message cannot be held; try again later" :
		    "Error: out of memory");
	} else if (j->action == INAUTH_HOLD) {
		snprintf(why, sizeof why, "Ok: DMARC policy of %s is "
		    "quarantine: held in quarantine as %s", d->from_domain,
		    j->qid);
		j->next(s, 250, "2.0.0", why);
	} else {
		j->next(s, 0, NULL, NULL);
	}
}

/* On the loop: give the (rebuilt) message back and answer. */
static void
msgauth_job_done(void *arg)
{
	struct msgauth_job *j = arg;
	struct session *s = j->s;

	if (s != NULL) {
		s->msgauth_job = NULL;
		buf_done(&s->msg);
		s->msg = j->msg;
		buf_init(&j->msg, 0);
		msgauth_log(s, j);
		msgauth_answer(s, j);
	}
	msgauth_job_free(j);
}

/* The envelope a hold keeps. */
static int
msgauth_copy_rcpts(struct msgauth_job *j, const struct session *s)
{
	if ((j->rcpts = calloc(s->nrcpts ? s->nrcpts : 1,
	    sizeof *j->rcpts)) == NULL)
		return -1;
	for (; j->nrcpts < s->nrcpts; j->nrcpts++)
		if ((j->rcpts[j->nrcpts] = strdup(s->rcpts[j->nrcpts].path)) ==
		    NULL)
			return -1;
	return 0;
}

static struct msgauth_job *
msgauth_job_new(struct session *s, smtpd_guard_fn *next)
{
	struct msgauth_job *j = calloc(1, sizeof *j);

	if (j == NULL || msgauth_copy_rcpts(j, s) < 0) {
		if (j != NULL)
			msgauth_job_free(j);
		return NULL;
	}
	j->s = s;
	j->ia = s->w->inauth;
	j->next = next;
	j->sa = s->sa;
	j->received_len = s->received_len;
	snprintf(j->id, sizeof j->id, "%s", s->id);
	snprintf(j->client, sizeof j->client, "%s", s->client);
	snprintf(j->helo, sizeof j->helo, "%s", s->helo);
	snprintf(j->from, sizeof j->from, "%s", s->from);
	/* the job owns the message until it is done */
	j->msg = s->msg;
	buf_init(&s->msg, 0);
	return j;
}

void
smtpd_msgauth(struct session *s, smtpd_guard_fn *next)
{
	struct msgauth_job *j;

	/* an authenticated client on an inbound port is one of our users:
	 * its mail is signed at submission, not judged as a stranger's */
	if (s->ls->role != ROLE_INBOUND || s->auth_user[0] ||
	    s->w->inauth == NULL) {
		next(s, 0, NULL, NULL);
		return;
	}
	if ((j = msgauth_job_new(s, next)) == NULL) {
		next(s, 451, "4.3.0", "Error: out of memory");
		return;
	}
	s->msgauth_job = j;
	s->state = S_WAIT;
	if (jobq_submit_dns(s->w->base, msgauth_job_work, msgauth_job_done,
	    j) < 0) {
		s->msgauth_job = NULL;
		s->msg = j->msg;
		buf_init(&j->msg, 0);
		msgauth_job_free(j);
		next(s, 451, "4.3.0", "Error: message authentication cannot "
		    "run; try again later");
	}
}

void
smtpd_msgauth_forget(struct session *s)
{
	if (s->msgauth_job)
		s->msgauth_job->s = NULL;
}
