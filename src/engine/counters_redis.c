/* counters_redis.c - the Redis counter backend (issue 3 §7: several
 * gateways on one Redis hold one limit together).  One hiredis connection
 * per thread (a pthread key, as in counters_sqlite.c: a synchronous
 * redisContext must not be shared); every check-and-count is one EVALSHA of
 * cr_script, which Redis runs atomically, so no two deciders - threads or
 * processes - ever both read the same old count.  See counters.h. */
#include "engine/counters.h"

#include <assert.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CR_HOST_MAX	256
#define CR_KEY_MAX	(LIMITS_KEY_MAX + 64)	/* "jaga:l:" KEY ":domains:W:S" */
#define CR_NUM_MAX	24
#define CR_ITEM_ARGS	4	/* per item: kind, limit, add, ttl */
#define CR_ARGS_MAX	(5 + COUNTER_ITEMS_MAX * (1 + CR_ITEM_ARGS) + \
			 LIMITS_DOMAINS_MAX)
#define CR_TTL_GRACE_MS	1000	/* keep a window this long after its end */

/* KEYS[i]: item i's counter (a string) or domain set, under item i's own
 * key (one request may span several keys: all of them in one script).  ARGV[1] = items,
 * ARGV[2] = domains, then per item: kind ("c" count, "d" domains), limit,
 * add, ttl in ms; then the domains.  Reads every window first and writes
 * only when all hold: all-or-nothing.  Returns {0, 0} or {item, count}
 * (1-based) of the first window that would go over.  Two items naming one
 * key (same thing and window twice in a spec) are written once. */
static const char cr_script[] =
    "local n, nd = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local add = {}\n"
    "for i = 1, n do\n"
    "  local b = 2 + (i - 1) * 4\n"
    "  local cur, a = 0, tonumber(ARGV[b + 3])\n"
    "  if ARGV[b + 1] == 'd' then\n"
    "    cur, a = redis.call('SCARD', KEYS[i]), 0\n"
    "    for d = 1, nd do\n"
    "      if redis.call('SISMEMBER', KEYS[i], ARGV[2 + 4 * n + d]) == 0 "
    "then a = a + 1 end\n"
    "    end\n"
    "  else\n"
    "    cur = tonumber(redis.call('GET', KEYS[i]) or '0')\n"
    "  end\n"
    "  if cur + a > tonumber(ARGV[b + 2]) then return {i, cur} end\n"
    "  add[i] = a\n"
    "end\n"
    "local done = {}\n"
    "for i = 1, n do\n"
    "  local b = 2 + (i - 1) * 4\n"
    "  if add[i] > 0 and not done[KEYS[i]] then\n"
    "    done[KEYS[i]] = true\n"
    "    if ARGV[b + 1] == 'd' then\n"
    "      for d = 1, nd do redis.call('SADD', KEYS[i], ARGV[2 + 4 * n + d]) "
    "end\n"
    "    else\n"
    "      redis.call('INCRBY', KEYS[i], add[i])\n"
    "    end\n"
    "    redis.call('PEXPIRE', KEYS[i], ARGV[b + 4])\n"
    "  end\n"
    "end\n"
    "return {0, 0}\n";

struct cr_conn {
	struct cr_conn *next;
	struct counters_redis *owner;
	redisContext *ctx;		/* NULL: reconnect on the next call */
	char sha[41];			/* cr_script's SHA1, from SCRIPT LOAD */
	const char *argv[CR_ARGS_MAX];
	size_t argvlen[CR_ARGS_MAX];
	char keys[COUNTER_ITEMS_MAX][CR_KEY_MAX];
	char nums[2 + COUNTER_ITEMS_MAX * CR_ITEM_ARGS][CR_NUM_MAX];
};

struct counters_redis {
	struct counter_backend base;	/* first: the ops */
	pthread_mutex_t lock;		/* guards conns, nconns */
	pthread_key_t tls;		/* this thread's struct cr_conn */
	struct cr_conn *conns;
	size_t nconns;
	char host[CR_HOST_MAX];
	int port;
	long db;
};

/* ---- the URL: redis://host[:port][/db] ---- */

/* Copy [s, s+len) to r->host; -1 when empty or too long. */
static int
cr_set_host(struct counters_redis *r, const char *s, size_t len)
{
	if (len == 0 || len >= sizeof(r->host))
		return -1;
	memcpy(r->host, s, len);
	r->host[len] = '\0';
	return 0;
}

/* Parse a decimal in [min, max] from *p, moving *p past it. */
static int
cr_number(const char **p, long min, long max, long *out)
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
cr_parse_url(struct counters_redis *r, const char *url)
{
	const char *p = url + 8, *e;
	long port = 6379;

	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	if (*p == '[') {	/* an IPv6 literal, RFC 3986 §3.2.2 */
		if ((e = strchr(p, ']')) == NULL || cr_set_host(r, p + 1,
		    (size_t)(e - p - 1)) < 0)
			return -1;
		p = e + 1;
	} else {
		e = p + strcspn(p, ":/");
		if (cr_set_host(r, p, (size_t)(e - p)) < 0)
			return -1;
		p = e;
	}
	if (*p == ':' && (p++, cr_number(&p, 1, 65535, &port) < 0))
		return -1;
	r->port = (int)port;
	r->db = 0;
	if (*p == '/' && p[1] != '\0' && (p++, cr_number(&p, 0, 1000000,
	    &r->db) < 0))
		return -1;
	if (*p == '/')
		p++;
	return *p == '\0' ? 0 : -1;
}

/* ---- connections ---- */

static void
cr_conn_drop(struct cr_conn *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
}

/* Run one command on c (printf-style, hiredis format); 0 when the reply
 * has type want, else -1 with err.  The reply, if any, goes to *out. */
static int
cr_simple(struct cr_conn *c, int want, redisReply **out, char *err,
    size_t errlen, const char *fmt, const char *arg)
{
	redisReply *rep = redisCommand(c->ctx, fmt, arg);

	if (rep == NULL || rep->type != want) {
		snprintf(err, errlen, "%s", rep == NULL ? c->ctx->errstr :
		    rep->type == REDIS_REPLY_ERROR ? rep->str :
		    "unexpected reply");
		freeReplyObject(rep);
		return -1;
	}
	if (out != NULL)
		*out = rep;
	else
		freeReplyObject(rep);
	return 0;
}

/* Select the database and load the script on c's fresh context. */
static int
cr_conn_setup(struct cr_conn *c, long db, char *err, size_t errlen)
{
	char num[CR_NUM_MAX];
	redisReply *rep;

	snprintf(num, sizeof(num), "%ld", db);
	if (db != 0 && cr_simple(c, REDIS_REPLY_STATUS, NULL, err, errlen,
	    "SELECT %s", num) < 0)
		return -1;
	if (cr_simple(c, REDIS_REPLY_STRING, &rep, err, errlen,
	    "SCRIPT LOAD %s", cr_script) < 0)
		return -1;
	snprintf(c->sha, sizeof(c->sha), "%s", rep->str);
	freeReplyObject(rep);
	return 0;
}

/* Connect c (connect and command timeouts from counters.h); 0 or -1. */
static int
cr_conn_connect(struct counters_redis *r, struct cr_conn *c, char *err,
    size_t errlen)
{
	struct timeval ct = { COUNTERS_REDIS_CONNECT_MS / 1000,
	    COUNTERS_REDIS_CONNECT_MS % 1000 * 1000 };
	struct timeval cmd = { COUNTERS_REDIS_COMMAND_MS / 1000,
	    COUNTERS_REDIS_COMMAND_MS % 1000 * 1000 };

	c->ctx = redisConnectWithTimeout(r->host, r->port, ct);
	if (c->ctx == NULL || c->ctx->err != 0) {
		snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port,
		    c->ctx != NULL ? c->ctx->errstr : "out of memory");
		cr_conn_drop(c);
		return -1;
	}
	if (redisSetTimeout(c->ctx, cmd) != REDIS_OK ||
	    cr_conn_setup(c, r->db, err, errlen) < 0) {
		cr_conn_drop(c);
		return -1;
	}
	return 0;
}

/* Thread exit: forget and close this thread's connection. */
static void
cr_conn_dtor(void *p)
{
	struct cr_conn *c = p, **l;
	struct counters_redis *r = c->owner;

	pthread_mutex_lock(&r->lock);
	for (l = &r->conns; *l != NULL && *l != c; l = &(*l)->next)
		;
	if (*l != NULL)
		*l = c->next;
	r->nconns--;
	pthread_mutex_unlock(&r->lock);
	cr_conn_drop(c);
	free(c);
}

/* This thread's connection record, created on first use. */
static struct cr_conn *
cr_conn_slot(struct counters_redis *r, char *err, size_t errlen)
{
	struct cr_conn *c = pthread_getspecific(r->tls);

	if (c != NULL)
		return c;
	pthread_mutex_lock(&r->lock);
	if (r->nconns >= COUNTERS_REDIS_THREADS ||
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
static struct cr_conn *
cr_conn_get(struct counters_redis *r, char *err, size_t errlen)
{
	struct cr_conn *c = cr_conn_slot(r, err, errlen);

	if (c == NULL || (c->ctx == NULL && cr_conn_connect(r, c, err,
	    errlen) < 0))
		return NULL;
	return c;
}

/* ---- the check-and-count ---- */

/* Point argv[i] at a number in c->nums[*k]. */
static void
cr_arg_num(struct cr_conn *c, size_t i, size_t *k, int64_t v)
{
	int n = snprintf(c->nums[*k], CR_NUM_MAX, "%lld", (long long)v);

	c->argv[i] = c->nums[*k];
	c->argvlen[i] = (size_t)n;
	(*k)++;
}

/* Fill c->argv[2..] for req (argv[0..1] are the command and script);
 * returns argc, or -1 when a key does not fit. */
static int
cr_build(struct cr_conn *c, const struct counter_request *req)
{
	size_t n = req->nitems, i, k = 0, a = 3 + n;

	assert(n <= COUNTER_ITEMS_MAX && req->ndomains <= LIMITS_DOMAINS_MAX);
	cr_arg_num(c, 2, &k, (int64_t)n);
	for (i = 0; i < n; i++) {
		const struct counter_item *it = &req->item[i];
		int len = snprintf(c->keys[i], CR_KEY_MAX, "jaga:l:%s:%s:%u:%lld",
		    it->key, limits_thing_name(it->thing), it->window_len,
		    (long long)it->window_start);
		if (len < 0 || len >= CR_KEY_MAX)
			return -1;
		c->argv[3 + i] = c->keys[i];
		c->argvlen[3 + i] = (size_t)len;
	}
	cr_arg_num(c, a++, &k, (int64_t)n);
	cr_arg_num(c, a++, &k, (int64_t)req->ndomains);
	for (i = 0; i < n; i++) {
		const struct counter_item *it = &req->item[i];
		/* relative expiry: windows follow the caller's clock, not Redis's */
		int64_t ttl = (it->window_start + it->window_len - req->now) *
		    1000 + CR_TTL_GRACE_MS;
		c->argv[a] = it->thing == LIMITS_DOMAINS ? "d" : "c";
		c->argvlen[a++] = 1;
		cr_arg_num(c, a++, &k, it->limit);
		cr_arg_num(c, a++, &k, it->add);
		cr_arg_num(c, a++, &k, ttl > 0 ? ttl : CR_TTL_GRACE_MS);
	}
	for (i = 0; i < req->ndomains; i++) {
		c->argv[a] = req->domains[i];
		c->argvlen[a++] = strlen(req->domains[i]);
	}
	return (int)a;
}

/* Run the script: EVALSHA, or EVAL when Redis lost it (NOSCRIPT after a
 * restart or SCRIPT FLUSH; EVAL caches it again).  NULL: the connection
 * failed. */
static redisReply *
cr_eval(struct cr_conn *c, int argc)
{
	redisReply *rep;

	c->argv[0] = "EVALSHA";
	c->argvlen[0] = 7;
	c->argv[1] = c->sha;
	c->argvlen[1] = strlen(c->sha);
	rep = redisCommandArgv(c->ctx, argc, c->argv, c->argvlen);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(rep);
		c->argv[0] = "EVAL";
		c->argvlen[0] = 4;
		c->argv[1] = cr_script;
		c->argvlen[1] = sizeof(cr_script) - 1;
		rep = redisCommandArgv(c->ctx, argc, c->argv, c->argvlen);
	}
	return rep;
}

/* Read the script's {item, count} into res; 0 or -1. */
static int
cr_result(const redisReply *rep, size_t nitems, struct counter_result *res)
{
	long long i, count;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	i = rep->element[0]->integer;
	count = rep->element[1]->integer;
	if (i < 0 || (size_t)i > nitems || count < 0 || count > UINT32_MAX)
		return -1;
	res->refused = i > 0;
	res->index = i > 0 ? (size_t)(i - 1) : 0;
	res->count = i > 0 ? (uint32_t)count : 0;
	return 0;
}

static int
cr_check_and_count(struct counter_backend *b,
    const struct counter_request *req, struct counter_result *res)
{
	struct counters_redis *r = (struct counters_redis *)(void *)b;
	char err[256];
	struct cr_conn *c = cr_conn_get(r, err, sizeof(err));
	redisReply *rep;
	int argc, rc;

	memset(res, 0, sizeof(*res));
	if (c == NULL)
		return LIMITS_EBACKEND;
	if ((argc = cr_build(c, req)) < 0)
		return LIMITS_EINVAL;
	/* No retry here: a timed-out EVALSHA may have counted already, and
	 * counting twice would refuse mail the limit allows.  The next call
	 * reconnects. */
	if ((rep = cr_eval(c, argc)) == NULL) {
		cr_conn_drop(c);
		return LIMITS_EBACKEND;
	}
	rc = cr_result(rep, req->nitems, res) < 0 ? LIMITS_EBACKEND : 0;
	freeReplyObject(rep);
	if (rc < 0)
		memset(res, 0, sizeof(*res));
	return rc;
}

static void
cr_free(struct counter_backend *b)
{
	struct counters_redis *r = (struct counters_redis *)(void *)b;
	struct cr_conn *c, *next;

	pthread_key_delete(r->tls);	/* no destructor runs after this */
	for (c = r->conns; c != NULL; c = next) {
		next = c->next;
		cr_conn_drop(c);
		free(c);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct counter_backend_ops cr_ops = {
	"redis", cr_check_and_count, cr_free,
};

struct counter_backend *
counters_redis_new(const char *url, char *err, size_t errlen)
{
	struct counters_redis *r = calloc(1, sizeof(*r));

	if (r == NULL || pthread_key_create(&r->tls, cr_conn_dtor) != 0) {
		snprintf(err, errlen, "%s: out of memory", url);
		free(r);
		return NULL;
	}
	r->base.ops = &cr_ops;
	pthread_mutex_init(&r->lock, NULL);
	if (cr_parse_url(r, url) < 0) {
		snprintf(err, errlen, "%s: bad Redis URL (want "
		    "redis://host[:port][/db])", url);
		cr_free(&r->base);
		return NULL;
	}
	/* connect this thread now: errors belong to the caller */
	if (cr_conn_get(r, err, errlen) == NULL) {
		cr_free(&r->base);
		return NULL;
	}
	return &r->base;
}
