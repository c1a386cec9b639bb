/* server.c - listeners, worker threads and shared session limits. */
#include "gateway/server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/lockout.h"
#include "engine/store.h"
#include "gateway/alerting.h"
#include "gateway/rotwatch.h"
#include "gateway/authdb.h"
#include "gateway/guard.h"
#include "gateway/inauth.h"
#include "gateway/shared.h"
#include "gateway/nh_auth.h"
#include "gateway/nh_pool.h"
#include "gateway/session.h"
#include "gateway/signer.h"
#include "gateway/tls.h"
#include "gateway/users.h"
#include "util/jobq.h"
#include "util/log.h"

#define ADMIT_BUCKETS 4096
#define WORKERS_MAX 256

/* Sessions per client address: a small chained hash under one mutex. */
struct admit_entry {
	struct admit_entry *next;
	unsigned char key[16];
	unsigned count;
};

static pthread_mutex_t admit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct admit_entry *admit_table[ADMIT_BUCKETS];
static unsigned admit_total;

/* IPv4 and IPv4-mapped IPv6 addresses share one key form. */
static void
admit_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static struct admit_entry **
admit_find(const unsigned char key[16])
{
	unsigned h = 2166136261u;
	struct admit_entry **pp;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	pp = &admit_table[h % ADMIT_BUCKETS];
	while (*pp && memcmp((*pp)->key, key, 16) != 0)
		pp = &(*pp)->next;
	return pp;
}

enum server_admit
server_enter(const struct settings *st, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct admit_entry **pp, *e;
	enum server_admit r = ADMIT_OK;

	admit_key(sa, key);
	pthread_mutex_lock(&admit_lock);
	pp = admit_find(key);
	if (admit_total >= st->max_sessions)
		r = ADMIT_TOO_MANY;
	else if (*pp && (*pp)->count >= st->max_sessions_per_ip)
		r = ADMIT_TOO_MANY_IP;
	else if (*pp == NULL && (*pp = calloc(1, sizeof **pp)) == NULL)
		r = ADMIT_TOO_MANY;
	if (r == ADMIT_OK) {
		e = *pp;
		memcpy(e->key, key, 16);
		e->count++;
		admit_total++;
	}
	pthread_mutex_unlock(&admit_lock);
	return r;
}

void
server_leave(const struct sockaddr *sa)
{
	unsigned char key[16];
	struct admit_entry **pp, *e;

	admit_key(sa, key);
	pthread_mutex_lock(&admit_lock);
	pp = admit_find(key);
	if ((e = *pp) != NULL) {
		admit_total--;
		if (--e->count == 0) {
			*pp = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&admit_lock);
}

/* Refuse before the greeting (RFC 5321 §3.1: 421 and close). */
static void
server_refuse(evutil_socket_t fd, const struct sockaddr *sa, const char *why)
{
	char ip[INET6_ADDRSTRLEN], msg[160];
	struct logline l;
	int n;

	sockaddr_ntop(sa, ip, sizeof ip);
	logline_begin(&l, LOG_LVL_WARN, "-", "smtp", "refuse");
	logline_str(&l, "client", ip);
	logline_int(&l, "code", 421);
	logline_str(&l, "enh", "4.7.0");
	logline_str(&l, "reason", why);
	logline_end(&l);
	n = snprintf(msg, sizeof msg, "421 4.7.0 Error: %s, try again later\r\n",
	    why);
	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the client is gone already */
	}
	evutil_closesocket(fd);
}

struct listen_ctx {
	struct worker *w;
	const struct listener_spec *ls;
};

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listen_ctx *lc = arg;

	switch (server_enter(lc->w->st, sa)) {
	case ADMIT_OK:
		session_start(lc->w, lc->ls, fd, sa, (socklen_t)salen);
		break;
	case ADMIT_TOO_MANY:
		server_refuse(fd, sa, "too many sessions");
		break;
	case ADMIT_TOO_MANY_IP:
		server_refuse(fd, sa, "too many sessions from your address");
		break;
	}
}

struct server {
	const struct settings *st;
	struct worker *w;
	unsigned nw;
	struct listen_ctx *lctx;	/* nw * nlisteners */
	struct evconnlistener **lev;
	pthread_t *threads;
	struct alerter *alerts;
};

/* Fail clearly when the address is taken, even by a process that uses
 * SO_REUSEPORT too (our workers share each port that way). */
static int
server_probe(const struct listener_spec *ls)
{
	int fd = socket(ls->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, r;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	r = bind(fd, (const struct sockaddr *)&ls->addr, ls->addrlen);
	close(fd);
	return r;
}

static int
server_bind(struct server *sv, unsigned wi)
{
	const struct settings *st = sv->st;
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC;

	for (size_t i = 0; i < st->nlisteners; i++) {
		size_t k = wi * st->nlisteners + i;
		sv->lctx[k].w = &sv->w[wi];
		sv->lctx[k].ls = &st->listeners[i];
		if (wi == 0 && server_probe(&st->listeners[i]) < 0)
			goto fail;
		sv->w[wi].lev = &sv->lev[wi * st->nlisteners];
		sv->lev[k] = evconnlistener_new_bind(sv->w[wi].base,
		    server_accept_cb, &sv->lctx[k], flags, 1024,
		    (const struct sockaddr *)&st->listeners[i].addr,
		    (int)st->listeners[i].addrlen);
		if (sv->lev[k] == NULL)
			goto fail;
		continue;
fail:
		log_msg(LOG_LVL_ERR, "listen", "cannot listen on %s: %s",
		    st->listeners[i].text, strerror(errno));
		return -1;
	}
	return 0;
}

static int
server_workers(struct server *sv, SSL_CTX *ssl, struct authdb *adb,
    struct lockout *lk, struct guard *gd)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	sv->nw = sv->st->workers ? sv->st->workers :
	    (unsigned)(ncpu > 0 && ncpu < WORKERS_MAX ? ncpu : 1);
	sv->w = calloc(sv->nw, sizeof *sv->w);
	sv->lctx = calloc(sv->nw * sv->st->nlisteners, sizeof *sv->lctx);
	sv->lev = calloc(sv->nw * sv->st->nlisteners, sizeof *sv->lev);
	sv->threads = calloc(sv->nw, sizeof *sv->threads);
	if (!sv->w || !sv->lctx || !sv->lev || !sv->threads)
		return -1;
	for (unsigned i = 0; i < sv->nw; i++) {
		struct worker *w = &sv->w[i];
		w->index = (int)i;
		w->st = sv->st;
		w->ssl = ssl;
		w->authdb = adb;
		w->lockout = lk;
		w->guard = gd;
		w->alerts = sv->alerts;
		w->relay.local_domains = sv->st->local_domains;
		if ((w->base = event_base_new()) == NULL ||
		    (w->pool = nh_pool_new(w->base, sv->st->nh_cache,
		    sv->st->nh_cache_ms)) == NULL || server_bind(sv, i) < 0)
			return -1;
	}
	return 0;
}

static long long
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every 100 ms while stopping: done when no session is left, or when
 * shutdown_timeout has passed (clients then see the connection drop
 * before any 250, and retry: nothing is lost). */
static void
server_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, 100 * 1000 };

	if ((w->nlive == 0 && !nh_quitting()) ||
	    server_now_ms() >= w->drain_deadline_ms) {
		event_base_loopbreak(w->base);
		return;
	}
	evtimer_add(w->drain_ev, &tv);
}

/* Runs in the worker's own thread: stop accepting, close idle sessions,
 * let transactions in flight get their answer. */
static void
server_drain(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->draining = 1;
	for (size_t i = 0; i < w->st->nlisteners; i++) {
		if (w->lev[i])		/* closed: new clients are refused */
			evconnlistener_free(w->lev[i]);
		w->lev[i] = NULL;
	}
	for (struct session *s = w->live; s != NULL; s = session_next(s))
		session_drain(s);
	nh_pool_free(w->pool);		/* QUIT to the kept connections */
	w->pool = NULL;
	w->drain_deadline_ms = server_now_ms() + w->st->shutdown_timeout_ms;
	w->drain_ev = evtimer_new(w->base, server_drain_tick, w);
	if (w->drain_ev == NULL)
		event_base_loopbreak(w->base);
	else
		server_drain_tick(-1, 0, w);
}

static void *
server_thread(void *arg)
{
	struct worker *w = arg;
	int batched = log_thread_attach(w->base) == 0;

	event_base_dispatch(w->base);
	nh_quit_abort();
	if (batched)
		log_thread_detach();
	return NULL;
}

static void
server_free(struct server *sv)
{
	size_t nl = sv->st->nlisteners;

	for (size_t k = 0; sv->lev && k < sv->nw * nl; k++)
		if (sv->lev[k])
			evconnlistener_free(sv->lev[k]);
	for (unsigned i = 0; sv->w && i < sv->nw; i++) {
		if (sv->w[i].drain_ev)
			event_free(sv->w[i].drain_ev);
		nh_pool_free(sv->w[i].pool);
		if (sv->w[i].base)
			event_base_free(sv->w[i].base);
	}
	free(sv->w);
	free(sv->lctx);
	free(sv->lev);
	free(sv->threads);
}

static void
server_log_ready(const struct server *sv)
{
	struct logline l;
	struct buf b;

	buf_init(&b, 2048);
	for (size_t i = 0; i < sv->st->nlisteners; i++)
		buf_printf(&b, "%s%s", i ? " " : "", sv->st->listeners[i].text);
	logline_begin(&l, LOG_LVL_INFO, "-", "jaga", "ready");
	logline_str(&l, "listeners", b.data);
	logline_int(&l, "workers", sv->nw);
	logline_str(&l, "version", JAGA_VERSION);
	logline_end(&l);
	buf_done(&b);
}

/* Run the workers until SIGTERM/SIGINT arrives in this thread. */
static void
server_loop(struct server *sv, sigset_t *sigs)
{
	unsigned started = 0;
	int sig = 0;

	for (; started < sv->nw; started++)
		if (pthread_create(&sv->threads[started], NULL, server_thread,
		    &sv->w[started]) != 0)
			break;
	if (started == sv->nw) {
		server_log_ready(sv);
		sigwait(sigs, &sig);
		log_msg(LOG_LVL_INFO, "stop", "signal %d: stopping", sig);
	}
	for (unsigned i = 0; i < started; i++)
		event_base_once(sv->w[i].base, -1, EV_TIMEOUT, server_drain,
		    &sv->w[i], NULL);
	for (unsigned i = 0; i < started; i++)
		pthread_join(sv->threads[i], NULL);
}

/* Upstream credentials (nh_auth.h), checked as the user that will read
 * them: with run_as only after the switch (the vault and its key belong
 * to that user then, like state_dir), else at once.  A problem stops the
 * start instead of failing every upstream login later. */
static int
server_upstream_ready(const struct settings *st, int dropped)
{
	char err[512];

	if ((st->run_as[0] != '\0') != dropped ||
	    nh_auth_start(st, err, sizeof err) == 0)
		return 0;
	if (dropped)
		log_msg(LOG_LVL_ERR, "config", "%s (as run_as %s)", err,
		    st->run_as);
	else
		log_msg(LOG_LVL_ERR, "config", "%s", err);
	return -1;
}

/* Become run_as once the ports are bound and the keys read, the way
 * Postfix's smtpd runs as "postfix": an attacker who finds a bug in the
 * SMTP code does not get root.  state_dir is handed to that user. */
static int
server_drop_root(const struct settings *st)
{
	struct passwd *pw;

	if (st->run_as[0] == '\0') {
		if (geteuid() == 0)
			log_msg(LOG_LVL_WARN, "start", "running as root; set "
			    "run_as to a user of its own (e.g. jaga)");
		return 0;
	}
	if ((pw = getpwnam(st->run_as)) == NULL) {
		log_msg(LOG_LVL_ERR, "config", "run_as: no user \"%s\"",
		    st->run_as);
		return -1;
	}
	if (geteuid() != 0)
		return geteuid() == pw->pw_uid ? 0 : (log_msg(LOG_LVL_ERR,
		    "config", "run_as = %s needs jaga to start as root",
		    st->run_as), -1);
	if (chown(st->state_dir, pw->pw_uid, pw->pw_gid) < 0 ||
	    initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 ||
	    setuid(0) == 0) {
		log_msg(LOG_LVL_ERR, "start", "cannot become %s: %s",
		    st->run_as, strerror(errno));
		return -1;
	}
	log_msg(LOG_LVL_INFO, "start", "running as %s", st->run_as);
	return 0;
}

/* The identity store under state_dir, with user_table behind it. */
static struct authdb *
server_authdb(const struct settings *st, struct users **users, char *err,
    size_t errlen)
{
	char path[4096];

	if ((*users = users_load(st->user_table, err, errlen)) == NULL)
		return NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", st->state_dir,
	    STORE_FILE) >= sizeof path) {
		snprintf(err, errlen, "state_dir: path too long");
		return NULL;
	}
	return authdb_new(path, *users, err, errlen);
}

/* After dropping root, so a new jaga.db and counters.db belong to run_as.
 * An unreachable Redis is only a warning: mail gets 4xx until it is back. */
static int
server_store_ready(struct authdb *adb, struct guard *gd, struct shared *sh)
{
	char err[512];

	if (shared_ping(sh, err, sizeof err) < 0)
		log_msg(LOG_LVL_WARN, "store", "%s (mail is deferred until it "
		    "answers)", err);
	if (authdb_prepare(adb, err, sizeof err) == 0 &&
	    guard_prepare(gd, err, sizeof err) == 0)
		return 0;
	log_msg(LOG_LVL_ERR, "store", "%s", err);
	return -1;
}

/* Every worker gets the Redis state (NULL with store = sqlite). */
static void
server_share(struct server *sv, struct shared *sh)
{
	for (unsigned i = 0; i < sv->nw; i++)
		sv->w[i].shared = sh;
}

/* Inbound SPF, DKIM and DMARC (issue 5 §5): one resolver and one Public
 * Suffix List for every worker, and the DNS job pool, only when some
 * listener is inbound and inbound_auth is on.  *ia stays NULL otherwise. */
static int
server_inauth(const struct settings *st, struct inauth **ia)
{
	char err[512];

	*ia = NULL;
	if (!inauth_wanted(st))
		return 0;
	if ((*ia = inauth_new(st, err, sizeof err)) == NULL) {
		log_msg(LOG_LVL_ERR, "config", "inbound_auth: %s", err);
		return -1;
	}
	if (jobq_start_pool(JOBQ_DNS,
	    (unsigned)config_int(st->cfg, "dns_threads")) < 0) {
		log_msg(LOG_LVL_ERR, "start", "cannot start the DNS job pool");
		return -1;
	}
	return 0;
}

static void
server_share_inauth(struct server *sv, struct inauth *ia)
{
	for (unsigned i = 0; i < sv->nw; i++)
		sv->w[i].inauth = ia;
}

/* DKIM signing (issue 5 §5): every worker shares the one signer, read
 * before dropping root (the key files are private to their owner, as
 * tls_key_file). */
static void
server_signer_share(struct server *sv, const struct signer *sg)
{
	struct logline l;

	for (unsigned i = 0; i < sv->nw; i++)
		sv->w[i].signer = sg;
	if (sg == NULL)
		return;
	logline_begin(&l, LOG_LVL_INFO, "-", "jaga", "dkim_keys");
	logline_int(&l, "keys", (long long)signer_count(sg));
	logline_end(&l);
}

/* The credential check (issue 4 §3) on the first worker's loop. */
static struct rotwatch *
server_rotwatch(const struct server *sv)
{
	struct rotwatch *rw;
	char err[512];

	if ((rw = rotwatch_new(sv->st, sv->alerts, err, sizeof err)) == NULL ||
	    rotwatch_start(rw, sv->w[0].base) < 0) {
		log_msg(LOG_LVL_ERR, "start", "credential check: %s", rw ==
		    NULL ? err : "cannot start its timer");
		rotwatch_free(rw);
		return NULL;
	}
	return rw;
}

/* The alert thread and its outbox, after dropping root (as the stores). */
static int
server_alerts_start(struct alerter *a)
{
	char err[512];

	if (a == NULL || alert_start(a, err, sizeof err) == 0)
		return 0;
	log_msg(LOG_LVL_ERR, "alert", "%s", err);
	return -1;
}

int
server_run(const struct settings *st)
{
	struct server sv = { .st = st };
	struct users *users = NULL;
	struct authdb *adb = NULL;
	struct lockout *lk = NULL;
	struct guard *gd = NULL;
	struct shared *sh = NULL;
	struct rotwatch *rw = NULL;
	struct inauth *ia = NULL;
	struct signer *sg = NULL;
	SSL_CTX *ssl = NULL;
	char err[512];
	sigset_t sigs;
	int r = -1;

	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((adb = server_authdb(st, &users, err, sizeof err)) == NULL ||
	    (gd = guard_new(adb, st->state_dir, st->limits_default, err,
	    sizeof err)) == NULL ||
	    guard_configure(gd, &st->guard, err, sizeof err) < 0 ||
	    shared_new(st, gd, &sh, err, sizeof err) < 0 ||
	    (ssl = tls_server_ctx(st, err, sizeof err)) == NULL ||
	    alerting_new(st, &sv.alerts, err, sizeof err) < 0) {
		log_msg(LOG_LVL_ERR, "config", "%s", err);
	} else if (server_upstream_ready(st, 0) < 0) {
		;	/* logged */
	} else if (signer_from_settings(st, &sg, err, sizeof err) < 0) {
		log_msg(LOG_LVL_ERR, "config", "%s", err);
	} else if ((lk = lockout_new(&st->lockout)) == NULL) {
		log_msg(LOG_LVL_ERR, "start", "cannot set up AUTH lockout");
	} else if (jobq_start(2) < 0) {
		log_msg(LOG_LVL_ERR, "start", "cannot start the job pool");
	} else if (server_inauth(st, &ia) < 0) {
		jobq_stop();		/* logged */
	} else {
		guard_set_alerts(gd, sv.alerts);
		if (server_workers(&sv, ssl, adb, lk, gd) == 0 &&
		    server_drop_root(st) == 0 &&
		    server_upstream_ready(st, 1) == 0 &&
		    server_store_ready(adb, gd, sh) == 0 &&
		    server_alerts_start(sv.alerts) == 0 &&
		    (rw = server_rotwatch(&sv)) != NULL) {
			server_share(&sv, sh);
			server_share_inauth(&sv, ia);
			server_signer_share(&sv, sg);
			server_loop(&sv, &sigs);
			r = 0;
		}
		jobq_stop();
	}
	rotwatch_free(rw);		/* before its loop's base goes */
	server_free(&sv);
	alert_free(sv.alerts);		/* pending alerts stay in the outbox */
	SSL_CTX_free(ssl);
	guard_free(gd);
	inauth_free(ia);		/* after the pools stopped */
	signer_free(sg);
	shared_free(sh);
	authdb_free(adb);
	lockout_free(lk);
	users_free(users);
	nh_auth_done();
	return r;
}
