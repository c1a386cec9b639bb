/* alert.c - the alerter: a bounded queue filled by alert_post and one
 * thread that moves it into the outbox and delivers what is due (see
 * alert.h; the outbox is alert_outbox.c, the channels alert_send.c). */
#include "engine/alert_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define ALERT_PATH_MAX	4096
#define ALERT_IDLE_MS	60000		/* look at the outbox at least this often */
#define ALERT_NSTR	9		/* strings of struct alert_config */

struct alert_item {
	struct alert_item *next;
	char kind[32];
	char name[ALERT_TEXT_MAX];
	int64_t at_ms;
	char *json, *subject, *body;
};

struct alerter {
	struct alert_config cfg;	/* its strings in strs */
	char *strs[ALERT_NSTR];
	char path[ALERT_PATH_MAX];
	unsigned chans;			/* 1 << enum alert_channel */
	struct alert_outbox *ob;
	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct alert_item *head, **tail;	/* under mu */
	size_t nq;				/* under mu */
	int locks;			/* mu and cv initialised */
	_Atomic int stop;
	int64_t pruned_ms;
};

static const char *const alert_channels[ALERT_NCH] = {
	[ALERT_CH_WEBHOOK] = "webhook", [ALERT_CH_MAIL] = "mail",
	[ALERT_CH_SYSLOG] = "syslog", [ALERT_CH_COMMAND] = "command",
};

const char *
alert_channel_name(enum alert_channel ch)
{
	return (unsigned)ch < ALERT_NCH ? alert_channels[ch] : "?";
}

int
alert_channel_of(const char *name)
{
	for (int i = 0; i < ALERT_NCH; i++)
		if (strcmp(name, alert_channels[i]) == 0)
			return i;
	return -1;
}

void
alert_row_done(struct alert_row *r)
{
	free(r->json);
	free(r->subject);
	free(r->body);
	r->json = r->subject = r->body = NULL;
}

static int64_t
alert_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
alert_item_free(struct alert_item *it)
{
	if (it == NULL)
		return;
	free(it->json);
	free(it->subject);
	free(it->body);
	free(it);
}

/* libcurl's global state, once, before any thread uses it. */
static void
alert_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Copy the strings of *in into a (NULL stays NULL, read as ""). */
static int
alert_copy_cfg(struct alerter *a, const struct alert_config *in)
{
	const char **f[ALERT_NSTR] = {
		&a->cfg.state_dir, &a->cfg.hostname, &a->cfg.webhook,
		&a->cfg.mail_to, &a->cfg.mail_from, &a->cfg.mail_smtp,
		&a->cfg.mail_maildir, &a->cfg.mail_ca_file, &a->cfg.command,
	};

	a->cfg = *in;
	for (int i = 0; i < ALERT_NSTR; i++) {
		a->strs[i] = strdup(*f[i] != NULL ? *f[i] : "");
		if (a->strs[i] == NULL)
			return -1;
		*f[i] = a->strs[i];
	}
	return 0;
}

static unsigned
alert_chans(const struct alert_config *c)
{
	unsigned m = 0;

	if (c->webhook[0])
		m |= 1u << ALERT_CH_WEBHOOK;
	if (c->mail_to[0] && (c->mail_smtp[0] || c->mail_maildir[0]))
		m |= 1u << ALERT_CH_MAIL;
	if (c->syslog)
		m |= 1u << ALERT_CH_SYSLOG;
	if (c->command[0])
		m |= 1u << ALERT_CH_COMMAND;
	return m;
}

struct alerter *
alert_new(const struct alert_config *cfg, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct alerter *a = calloc(1, sizeof *a);

	if (a == NULL || alert_copy_cfg(a, cfg) < 0) {
		snprintf(err, errlen, "out of memory");
		alert_free(a);
		return NULL;
	}
	if ((size_t)snprintf(a->path, sizeof a->path, "%s/%s",
	    a->cfg.state_dir, ALERT_FILE) >= sizeof a->path) {
		snprintf(err, errlen, "state_dir: path too long");
		alert_free(a);
		return NULL;
	}
	a->chans = alert_chans(&a->cfg);
	a->tail = &a->head;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->locks = 1;
	pthread_once(&once, alert_curl_init);
	return a;
}

/* ---- posting (any thread) ---- */

/* JSON, subject and body of al; without the evidence when it does not
 * fit (an alert without evidence beats none). */
static struct alert_item *
alert_item_new(const struct alert *in, const char *hostname)
{
	struct alert_item *it = calloc(1, sizeof *it);
	char *text = malloc(ALERT_JSON_MAX);
	struct alert bare = *in, *al = &bare;

	if (it == NULL || text == NULL)
		goto fail;
	snprintf(it->kind, sizeof it->kind, "%s", alert_kind_name(al->kind));
	snprintf(it->name, sizeof it->name, "%s", al->name ? al->name : "");
	it->at_ms = alert_now_ms();
	if (alert_json(al, hostname, text, ALERT_JSON_MAX) < 0 ||
	    alert_body(al, hostname, text, ALERT_JSON_MAX) < 0)
		bare.evidence = NULL;
	if (alert_json(al, hostname, text, ALERT_JSON_MAX) < 0 ||
	    (it->json = strdup(text)) == NULL ||
	    alert_subject(al, text, ALERT_JSON_MAX) < 0 ||
	    (it->subject = strdup(text)) == NULL ||
	    alert_body(al, hostname, text, ALERT_JSON_MAX) < 0 ||
	    (it->body = strdup(text)) == NULL)
		goto fail;
	free(text);
	return it;
fail:
	free(text);
	alert_item_free(it);
	return NULL;
}

static void
alert_log_dropped(const char *kind, const char *name, const char *reason)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_ERR, "-", "alert", "dropped");
	logline_str(&l, "kind", kind);
	logline_str(&l, "name", name != NULL ? name : "");
	logline_str(&l, "reason", reason);
	logline_end(&l);
}

int
alert_post(struct alerter *a, const struct alert *al)
{
	struct alert_item *it;
	int full;

	if (a == NULL || a->chans == 0)
		return 0;
	if ((it = alert_item_new(al, a->cfg.hostname)) == NULL) {
		alert_log_dropped(alert_kind_name(al->kind), al->name,
		    "out of memory");
		return -1;
	}
	pthread_mutex_lock(&a->mu);
	if (!(full = a->nq >= ALERT_QUEUE_MAX)) {
		*a->tail = it;
		a->tail = &it->next;
		a->nq++;
		pthread_cond_signal(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	if (!full)
		return 0;
	alert_log_dropped(alert_kind_name(al->kind), al->name, "queue full");
	alert_item_free(it);
	return -1;
}

/* ---- the thread ---- */

/* "alert sent|failed|given_up channel= kind= name= attempt= ..." */
static void
alert_log(const char *event, const struct alert_row *r, int attempt,
    const struct alert_result *res, int64_t retry_ms)
{
	struct logline l;

	logline_begin(&l, res->ok ? LOG_LVL_INFO : LOG_LVL_WARN, "-", "alert",
	    event);
	logline_str(&l, "channel", alert_channel_name(r->channel));
	logline_str(&l, "kind", r->kind);
	logline_str(&l, "name", r->name);
	logline_int(&l, "attempt", attempt);
	if (!res->ok) {
		logline_int(&l, "status", res->status);
		logline_str(&l, "reason", res->reason);
	}
	if (retry_ms > 0)
		logline_int(&l, "retry_in", (retry_ms + 999) / 1000);
	logline_int(&l, "id", r->id);
	logline_end(&l);
}

/* The outcome of attempt n of r into the outbox, and its log line. */
static void
alert_record(struct alerter *a, const struct alert_row *r, int n,
    const struct alert_result *res, int may_retry)
{
	int64_t now = alert_now_ms(), wait, delay;
	char err[512];
	int rc;

	if (res->ok) {
		rc = alert_outbox_finish(a->ob, r->id, n, 1, now, err,
		    sizeof err);
		alert_log("sent", r, n, res, 0);
	} else {
		delay = alert_retry_delay(n, a->cfg.retry_min_ms,
		    a->cfg.retry_max_ms);
		wait = may_retry && alert_retry_ok(r->created_ms, now + delay,
		    a->cfg.retry_time_ms) ? delay : 0;
		alert_log("failed", r, n, res, wait);
		if (wait > 0) {
			rc = alert_outbox_retry(a->ob, r->id, n, now + wait, err,
			    sizeof err);
		} else {
			rc = alert_outbox_finish(a->ob, r->id, n, 2, now, err,
			    sizeof err);
			alert_log("given_up", r, n, res, 0);
		}
	}
	if (rc < 0)
		log_msg(LOG_LVL_ERR, "alert", "%s", err);
}

static void
alert_attempt(struct alerter *a, struct alert_row *r)
{
	int on = (int)r->channel >= 0 && (a->chans & (1u << r->channel));
	struct alert_result res;

	memset(&res, 0, sizeof res);
	if (!on)
		snprintf(res.reason, sizeof res.reason, "channel not "
		    "configured any more");
	else
		alert_send(&a->cfg, r, &a->stop, &res);
	if (res.cut)
		return;		/* stopping: tried again after the start */
	/* syslog(3) cannot fail in a way a retry would mend */
	alert_record(a, r, r->attempts + 1, &res, on &&
	    r->channel != ALERT_CH_SYSLOG);
}

/* The queue into the outbox (one transaction per alert). */
static void
alert_store(struct alerter *a)
{
	struct alert_item *it, *next;
	char err[512];

	pthread_mutex_lock(&a->mu);
	it = a->head;
	a->head = NULL;
	a->tail = &a->head;
	a->nq = 0;
	pthread_mutex_unlock(&a->mu);
	for (; it != NULL; it = next) {
		next = it->next;
		if (alert_outbox_pending(a->ob) >= ALERT_OUTBOX_MAX)
			alert_log_dropped(it->kind, it->name, "outbox full");
		else if (alert_outbox_add(a->ob, a->chans, it->kind, it->name,
		    it->at_ms, it->json, it->subject, it->body, err,
		    sizeof err) < 0)
			log_msg(LOG_LVL_ERR, "alert", "kind=%s name=%s not kept: "
			    "%s", it->kind, it->name, err);
		alert_item_free(it);
	}
}

static void
alert_deliver(struct alerter *a)
{
	struct alert_row rows[ALERT_BATCH];
	char err[512];
	int n = alert_outbox_due(a->ob, alert_now_ms(), rows, ALERT_BATCH,
	    err, sizeof err);

	if (n < 0)
		log_msg(LOG_LVL_ERR, "alert", "%s", err);
	for (int i = 0; i < n; i++) {
		if (!atomic_load(&a->stop))
			alert_attempt(a, &rows[i]);
		alert_row_done(&rows[i]);
	}
	if (alert_now_ms() - a->pruned_ms > 3600 * 1000) {
		a->pruned_ms = alert_now_ms();
		alert_outbox_prune(a->ob, a->pruned_ms - ALERT_KEEP_MS);
	}
}

/* Sleep until the next due row, a post, a stop, or ALERT_IDLE_MS. */
static void
alert_wait(struct alerter *a)
{
	int64_t now = alert_now_ms(), next = alert_outbox_next(a->ob);
	int64_t until = now + ALERT_IDLE_MS;
	struct timespec ts;

	if (next > 0 && next < until)
		until = next;
	ts.tv_sec = (time_t)(until / 1000);
	ts.tv_nsec = (long)(until % 1000) * 1000000;
	pthread_mutex_lock(&a->mu);
	if (a->head == NULL && !atomic_load(&a->stop) && until > now)
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
	pthread_mutex_unlock(&a->mu);
}

static void *
alert_main(void *arg)
{
	struct alerter *a = arg;
	sigset_t pipe;

	/* A command that exits without reading its stdin (or a webhook peer
	 * that closes) must cost an EPIPE, never the process: SIGPIPE stays
	 * blocked, and pending, in this thread only. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	for (;;) {
		alert_store(a);
		if (atomic_load(&a->stop))
			break;
		alert_deliver(a);
		alert_wait(a);
	}
	return NULL;
}

int
alert_start(struct alerter *a, char *err, size_t errlen)
{
	if ((a->ob = alert_outbox_open(a->path, err, errlen)) == NULL)
		return -1;
	if (pthread_create(&a->thread, NULL, alert_main, a) != 0) {
		snprintf(err, errlen, "cannot start the alert thread");
		return -1;
	}
	a->running = 1;
	return 0;
}

void
alert_free(struct alerter *a)
{
	struct alert_item *it, *next;

	if (a == NULL)
		return;
	if (a->running) {
		pthread_mutex_lock(&a->mu);
		atomic_store(&a->stop, 1);
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	for (it = a->head; it != NULL; it = next) {
		next = it->next;
		alert_item_free(it);
	}
	alert_outbox_close(a->ob);
	if (a->locks) {
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
	}
	for (int i = 0; i < ALERT_NSTR; i++)
		free(a->strs[i]);
	free(a);
}
