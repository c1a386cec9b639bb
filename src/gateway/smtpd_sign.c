/* smtpd_sign.c - DKIM signing of authenticated submissions (issue 5 §5).
 *
 * The domain of the one header From: (the identity DMARC aligns with,
 * RFC 7489 §3.1) picks the keys of dkim_key_table (gateway/signer.h);
 * each key adds one DKIM-Signature, relaxed/relaxed with t= now (RFC 6376
 * §5), on top of the message, above our Received:, which is not signed.
 * The identity must be allowed that domain (docs/decisions.md): a
 * restricted identity's From: was checked at the end of DATA; one that may
 * send as anyone is signed only for the domain of its own name.
 *
 * The message moves into the job while it is signed in the pool and back
 * when it is done; the session may go away meanwhile (forget).  A message
 * without a key for its domain goes on unsigned; one that should be signed
 * but cannot be is deferred (451 4.3.0), never sent on unsigned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/dkim.h"
#include "gateway/session_int.h"
#include "gateway/signer.h"
#include "mail/sender.h"
#include "util/jobq.h"
#include "util/log.h"

#define SIGN_FROMS_MAX	(SENDER_FROM_MAX * SENDER_ADDR_MAX)
#define SIGN_FIELDS_MAX	(16 * 1024)	/* the DKIM-Signature fields */

static const char sign_refused[] = "identity may send as anyone";

struct sign_job {
	struct session *s;		/* NULL once the session is gone */
	const struct signer *sg;
	smtpd_guard_fn *next;
	struct buf msg;			/* the session's, while we sign */
	size_t received_len;		/* our Received: on top of msg */
	int restricted;			/* From: checked against the lists */
	char name[256];			/* the identity */
	char id[13];
	/* the outcome: signed (fields), skipped (skip) or failed (fail) */
	struct buf fields;
	const char *skip, *fail;	/* static text, or why */
	char why[DKIM_REASON_MAX];
	char domain[DNS_NAME_MAX + 1];
	char selectors[DKIM_KEYTAB_PER_DOMAIN * (DKIM_SELECTOR_MAX + 1)];
	char algs[64];
};

/* The domain of one "local@domain" line of n octets into j->domain
 * (the first line) or compared with it; NULL, or why not. */
static const char *
sign_from_one(struct sign_job *j, const char *p, size_t n, int first)
{
	size_t at = n;

	while (at > 0 && p[at - 1] != '@')
		at--;
	if (at == 0 || at == n || n - at >= sizeof j->domain)
		return "From: address without a domain";
	if (first) {
		for (size_t i = 0; i < n - at; i++)	/* logged as keyed */
			j->domain[i] = (char)(p[at + i] >= 'A' && p[at + i] <=
			    'Z' ? p[at + i] - 'A' + 'a' : p[at + i]);
		j->domain[n - at] = '\0';
	} else if (strlen(j->domain) != n - at ||
	    strncasecmp(j->domain, p + at, n - at) != 0)
		return "From: addresses in several domains";
	return NULL;
}

/* The domain of every From: mailbox into j->domain; NULL, or why not
 * (j->fail set when out of memory). */
static const char *
sign_from_domain(struct sign_job *j, const char *msg, size_t len)
{
	char *froms = malloc(SIGN_FROMS_MAX);
	const char *why = NULL, *p;
	enum sender_from r;

	if (froms == NULL) {
		j->fail = "out of memory";
		return NULL;
	}
	r = sender_from_extract(msg, len, froms, SIGN_FROMS_MAX);
	if (r != SENDER_FROM_OK)
		why = sender_from_reason(r);
	for (p = froms; why == NULL && *p != '\0'; ) {
		size_t n = strcspn(p, "\n");
		why = sign_from_one(j, p, n, p == froms);
		p += n + (p[n] == '\n');
	}
	free(froms);
	return why;
}

/* May the identity use the domain?  A restricted one was held to its
 * From: list at the end of DATA.  One that may send as anyone gets no
 * signature except for the domain of its own name ("app@example.org"):
 * the client picks MAIL FROM as freely as From:, so a match between the
 * two proves nothing, and a leaked password must not sign for every
 * domain of the table (docs/decisions.md). */
static int
sign_allowed(const struct sign_job *j)
{
	const char *at = strrchr(j->name, '@');

	return j->restricted || (at != NULL && strcasecmp(at + 1,
	    j->domain) == 0);
}

/* One DKIM-Signature per key into j->fields; 0, or -1 with j->fail. */
static int
sign_fields(struct sign_job *j, const struct dkim_msg *m,
    const struct signer_key *k, size_t nk)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < nk; i++) {
		struct dkim_signopt o = { .domain = k[i].domain,
		    .selector = k[i].selector, .hcanon = DKIM_RELAXED,
		    .bcanon = DKIM_RELAXED, .t = now };
		char *f = dkim_sign(m, k[i].key, &o, j->why, sizeof j->why);
		int r = f != NULL ? buf_puts(&j->fields, f) : -1;

		if (r < 0) {
			j->fail = f != NULL ? "out of memory" : j->why;
			free(f);
			return -1;
		}
		free(f);
		snprintf(j->selectors + strlen(j->selectors), sizeof j->selectors -
		    strlen(j->selectors), "%s%s", i ? "," : "", k[i].selector);
		snprintf(j->algs + strlen(j->algs), sizeof j->algs -
		    strlen(j->algs), "%s%s", i ? "," : "", dkim_alg_name(
		    k[i].ed25519 ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256));
	}
	return 0;
}

/* In a pool thread: decide, and sign what is to be signed. */
static void
sign_job_work(void *arg)
{
	struct sign_job *j = arg;
	const char *msg = j->msg.data + j->received_len;
	size_t len = j->msg.len - j->received_len, nk;
	struct signer_key k[DKIM_KEYTAB_PER_DOMAIN];
	struct dkim_msg *m;

	j->skip = sign_from_domain(j, msg, len);
	if (j->skip != NULL || j->fail != NULL)
		return;
	if (!sign_allowed(j)) {
		j->skip = sign_refused;
		return;
	}
	if ((nk = signer_find(j->sg, j->domain, k)) == 0) {
		j->skip = "no key for the domain";
		return;
	}
	if ((m = dkim_msg_parse(msg, len)) == NULL) {
		j->fail = "message not parsed (out of memory or over "
		    "1000 header fields)";
		return;
	}
	sign_fields(j, m, k, nk);
	dkim_msg_free(m);
}

/* "smtp sign result=signed domain= selector= algorithm= user=", or
 * result=skipped|failed with reason=. */
static void
sign_log(const struct sign_job *j)
{
	enum log_level lvl = j->fail ? LOG_LVL_ERR : j->skip == sign_refused ?
	    LOG_LVL_WARN : LOG_LVL_INFO;
	struct logline l;

	logline_begin(&l, lvl, j->id, "smtp", "sign");
	logline_str(&l, "result", j->fail ? "failed" : j->skip ? "skipped" :
	    "signed");
	if (j->domain[0])
		logline_str(&l, "domain", j->domain);
	if (j->fail || j->skip) {
		logline_str(&l, "reason", j->fail ? j->fail : j->skip);
	} else {
		logline_str(&l, "selector", j->selectors);
		logline_str(&l, "algorithm", j->algs);
	}
	logline_str(&l, "user", j->name);
	logline_end(&l);
}

/* The signed message: the fields, then the message as it was. */
static int
sign_put_on(struct sign_job *j, struct buf *out)
{
	buf_init(out, j->msg.max + j->fields.len);
	if (buf_reserve(out, j->fields.len + j->msg.len) == 0 &&
	    buf_append(out, j->fields.data, j->fields.len) == 0 &&
	    buf_append(out, j->msg.data, j->msg.len) == 0)
		return 0;
	buf_done(out);
	j->fail = "out of memory";
	return -1;
}

static void
sign_job_free(struct sign_job *j)
{
	buf_done(&j->msg);
	buf_done(&j->fields);
	free(j);
}

static void
sign_job_done(void *arg)
{
	struct sign_job *j = arg;
	struct session *s = j->s;
	struct buf out;

	if (s == NULL) {
		sign_job_free(j);
		return;
	}
	s->sign_job = NULL;
	if (j->skip == NULL && j->fail == NULL && sign_put_on(j, &out) == 0) {
		buf_done(&s->msg);
		s->msg = out;
	} else {
		buf_done(&s->msg);
		s->msg = j->msg;	/* back to the session */
		buf_init(&j->msg, 0);
	}
	sign_log(j);
	if (j->fail)
		j->next(s, 451, "4.3.0", "Error: message cannot be DKIM-signed "
		    "now; try again later");
	else
		j->next(s, 0, NULL, NULL);
	sign_job_free(j);
}

/* Takes the message out of the session into a new job; NULL when out of
 * memory (the session keeps its message). */
static struct sign_job *
sign_job_new(struct session *s, smtpd_guard_fn *next)
{
	struct sign_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->s = s;
	j->sg = s->w->signer;
	j->next = next;
	j->received_len = s->received_len;
	j->restricted = s->snd != NULL && s->snd->restricted;
	snprintf(j->name, sizeof j->name, "%s", s->auth_user);
	snprintf(j->id, sizeof j->id, "%s", s->id);
	buf_init(&j->fields, SIGN_FIELDS_MAX);
	j->msg = s->msg;
	buf_init(&s->msg, j->msg.max);
	return j;
}

void
smtpd_sign(struct session *s, smtpd_guard_fn *next)
{
	struct sign_job *j;

	/* Submission roles only: they demand AUTH before MAIL (RFC 6409
	 * §4.3), and inbound mail is never ours to sign. */
	if (s->w->signer == NULL || !smtpd_is_submission(s) ||
	    !s->auth_user[0] || s->msg.data == NULL) {
		next(s, 0, NULL, NULL);
		return;
	}
	if ((j = sign_job_new(s, next)) == NULL) {
		next(s, 451, "4.3.0", "Error: out of memory");
		return;
	}
	s->sign_job = j;
	s->state = S_WAIT;
	if (jobq_submit(s->w->base, sign_job_work, sign_job_done, j) < 0) {
		j->fail = "job pool refused the job";
		sign_job_done(j);
	}
}

void
smtpd_sign_forget(struct session *s)
{
	if (s->sign_job)
		s->sign_job->s = NULL;
}
