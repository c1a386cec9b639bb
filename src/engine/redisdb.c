/* redisdb.c - one Redis, one hiredis connection per thread (see
 * redisdb.h).  Moved out of counters_redis.c so counters, suspensions and
 * lockouts share the URL parser, the connections and the script cache. */
#include "engine/redisdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RDB_NUM_MAX 24

struct rdb_conn {
	struct rdb_conn *next;
	struct redisdb *owner;
	redisContext *ctx;		/* NULL: reconnect on the next call */
};

struct redisdb {
	pthread_mutex_t lock;		/* guards conns, nconns */
	pthread_key_t tls;		/* this thread's struct rdb_conn */
	struct rdb_conn *conns;
	size_t nconns;
	char host[REDISDB_HOST_MAX];
	int port;
	long db;
};

/* Scripts' SHA1s are the same in every Redis: one lock for all. */
static pthread_mutex_t rdb_sha_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the URL: redis://host[:port][/db] ---- */

/* Copy [s, s+len) to host; -1 when empty or too long. */
static int
rdb_set_host(char *host, const char *s, size_t len)
{
	if (len == 0 || len >= REDISDB_HOST_MAX)
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	return 0;
}

/* Parse a decimal in [min, max] from *p, moving *p past it. */
static int
rdb_number(const char **p, long min, long max, long *out)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9')
		return -1;
	v = strtol(*p, &end, 10);
	if (v < min || v > max)
		return -1;
	*p = end;
	*out = v;
	return 0;
}

static int
rdb_parse_url(const char *url, char *host, int *port, long *db)
{
	const char *p = url + 8, *e;
	long pt = 6379;

	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	if (*p == '[') {	/* an IPv6 literal, RFC 3986 §3.2.2 */
		if ((e = strchr(p, ']')) == NULL || rdb_set_host(host, p + 1,
		    (size_t)(e - p - 1)) < 0)
			return -1;
		p = e + 1;
	} else {
		e = p + strcspn(p, ":/");
		if (rdb_set_host(host, p, (size_t)(e - p)) < 0)
			return -1;
		p = e;
	}
	if (*p == ':' && (p++, rdb_number(&p, 1, 65535, &pt) < 0))
		return -1;
	*port = (int)pt;
	*db = 0;
	if (*p == '/' && p[1] != '\0' && (p++, rdb_number(&p, 0, 1000000,
	    db) < 0))
		return -1;
	if (*p == '/')
		p++;
	return *p == '\0' ? 0 : -1;
}

const char *
redisdb_url_check(const char *url)
{
	char host[REDISDB_HOST_MAX];
	int port;
	long db;

	if (rdb_parse_url(url, host, &port, &db) == 0)
		return NULL;
	return "bad Redis URL (want redis://host[:port][/db])";
}

/* ---- connections ---- */

static void
rdb_conn_drop(struct rdb_conn *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
}

/* The reason a reply is missing or an error, into err. */
static void
rdb_why(const struct rdb_conn *c, const redisReply *rep, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "redis: %s", rep == NULL ? (c->ctx != NULL ?
	    c->ctx->errstr : "not connected") : rep->type == REDIS_REPLY_ERROR ?
	    rep->str : "unexpected reply");
}

/* Connect c (timeouts from redisdb.h) and SELECT the database. */
static int
rdb_conn_connect(struct redisdb *r, struct rdb_conn *c, char *err,
    size_t errlen)
{
	struct timeval ct = { REDISDB_CONNECT_MS / 1000,
	    REDISDB_CONNECT_MS % 1000 * 1000 };
	struct timeval cmd = { REDISDB_COMMAND_MS / 1000,
	    REDISDB_COMMAND_MS % 1000 * 1000 };
	char num[RDB_NUM_MAX];
	redisReply *rep = NULL;

	c->ctx = redisConnectWithTimeout(r->host, r->port, ct);
	if (c->ctx == NULL || c->ctx->err != 0) {
		snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port,
		    c->ctx != NULL ? c->ctx->errstr : "out of memory");
		rdb_conn_drop(c);
		return -1;
	}
	snprintf(num, sizeof num, "%ld", r->db);
	if (redisSetTimeout(c->ctx, cmd) != REDIS_OK || (r->db != 0 &&
	    ((rep = redisCommand(c->ctx, "SELECT %s", num)) == NULL ||
	    rep->type != REDIS_REPLY_STATUS))) {
		rdb_why(c, rep, err, errlen);
		freeReplyObject(rep);
		rdb_conn_drop(c);
		return -1;
	}
	freeReplyObject(rep);
	return 0;
}

/* Thread exit: forget and close this thread's connection. */
static void
rdb_conn_dtor(void *p)
{
	struct rdb_conn *c = p, **l;
	struct redisdb *r = c->owner;

	pthread_mutex_lock(&r->lock);
	for (l = &r->conns; *l != NULL && *l != c; l = &(*l)->next)
		;
	if (*l != NULL)
		*l = c->next;
	r->nconns--;
	pthread_mutex_unlock(&r->lock);
	rdb_conn_drop(c);
	free(c);
}

/* This thread's connection record, created on first use. */
static struct rdb_conn *
rdb_conn_slot(struct redisdb *r, char *err, size_t errlen)
{
	struct rdb_conn *c = pthread_getspecific(r->tls);

	if (c != NULL)
		return c;
	pthread_mutex_lock(&r->lock);
	if (r->nconns >= REDISDB_THREADS ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&r->lock);
		snprintf(err, errlen, "redis: too many threads or no memory");
		return NULL;
	}
	r->nconns++;
	c->owner = r;
	c->next = r->conns;
	r->conns = c;
	pthread_mutex_unlock(&r->lock);
	pthread_setspecific(r->tls, c);
	return c;
}

/* This thread's connection, (re)connected when it has none. */
static struct rdb_conn *
rdb_conn_get(struct redisdb *r, char *err, size_t errlen)
{
	struct rdb_conn *c = rdb_conn_slot(r, err, errlen);

	if (c == NULL || (c->ctx == NULL && rdb_conn_connect(r, c, err,
	    errlen) < 0))
		return NULL;
	return c;
}

struct redisdb *
redisdb_new(const char *url, char *err, size_t errlen)
{
	struct redisdb *r = calloc(1, sizeof(*r));

	if (r == NULL || pthread_key_create(&r->tls, rdb_conn_dtor) != 0) {
		snprintf(err, errlen, "%s: out of memory", url);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	if (rdb_parse_url(url, r->host, &r->port, &r->db) < 0) {
		snprintf(err, errlen, "%s: %s", url, redisdb_url_check(url));
		redisdb_free(r);
		return NULL;
	}
	return r;
}

void
redisdb_free(struct redisdb *r)
{
	struct rdb_conn *c, *next;

	if (r == NULL)
		return;
	pthread_key_delete(r->tls);	/* no destructor runs after this */
	for (c = r->conns; c != NULL; c = next) {
		next = c->next;
		rdb_conn_drop(c);
		free(c);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- commands ---- */

redisReply *
redisdb_argv(struct redisdb *r, int argc, const char **argv,
    const size_t *argvlen, char *err, size_t errlen)
{
	struct rdb_conn *c = rdb_conn_get(r, err, errlen);
	redisReply *rep;

	if (c == NULL)
		return NULL;
	if ((rep = redisCommandArgv(c->ctx, argc, argv, argvlen)) == NULL) {
		rdb_why(c, NULL, err, errlen);
		rdb_conn_drop(c);
	}
	return rep;
}

int
redisdb_ping(struct redisdb *r, char *err, size_t errlen)
{
	const char *argv[] = { "PING" };
	size_t argvlen[] = { 4 };
	redisReply *rep = redisdb_argv(r, 1, argv, argvlen, err, errlen);
	int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;

	if (rep != NULL && !ok)
		snprintf(err, errlen, "redis: %s", rep->type ==
		    REDIS_REPLY_ERROR ? rep->str : "unexpected reply to PING");
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/* sc's SHA1 into sha: known, or from SCRIPT LOAD.  0 or -1 (said). */
static int
rdb_sha(struct redisdb *r, struct redisdb_script *sc, char *sha,
    char *err, size_t errlen)
{
	const char *argv[] = { "SCRIPT", "LOAD", sc->src };
	size_t argvlen[] = { 6, 4, sc->len };
	redisReply *rep;

	pthread_mutex_lock(&rdb_sha_lock);
	memcpy(sha, sc->sha, sizeof sc->sha);
	pthread_mutex_unlock(&rdb_sha_lock);
	if (sha[0] != '\0')
		return 0;
	if ((rep = redisdb_argv(r, 3, argv, argvlen, err, errlen)) == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		snprintf(err, errlen, "redis: SCRIPT LOAD: %s", rep->type ==
		    REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return -1;
	}
	pthread_mutex_lock(&rdb_sha_lock);
	memcpy(sc->sha, rep->str, 40);
	sc->sha[40] = '\0';
	memcpy(sha, sc->sha, sizeof sc->sha);
	pthread_mutex_unlock(&rdb_sha_lock);
	freeReplyObject(rep);
	return 0;
}

redisReply *
redisdb_eval(struct redisdb *r, struct redisdb_script *sc, int argc,
    const char **argv, size_t *argvlen, char *err, size_t errlen)
{
	char sha[41];
	redisReply *rep;

	if (rdb_sha(r, sc, sha, err, errlen) < 0)
		return NULL;
	argv[0] = "EVALSHA";
	argvlen[0] = 7;
	argv[1] = sha;
	argvlen[1] = 40;
	rep = redisdb_argv(r, argc, argv, argvlen, err, errlen);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);	/* EVAL caches it again */
		argv[0] = "EVAL";
		argvlen[0] = 4;
		argv[1] = sc->src;
		argvlen[1] = sc->len;
		rep = redisdb_argv(r, argc, argv, argvlen, err, errlen);
	}
	return rep;
}
