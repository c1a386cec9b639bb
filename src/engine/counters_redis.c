/* counters_redis.c - the Redis counter backend (issue 3 §7: several
 * gateways on one Redis hold one limit together).  Every check-and-count
 * is one EVALSHA of cr_script on this thread's connection (redisdb.h),
 * which Redis runs atomically, so no two deciders - threads or processes -
 * ever both read the same old count.  See counters.h for the key layout. */
#include "engine/counters.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/redisdb.h"

#define CR_KEY_MAX	(LIMITS_KEY_MAX + 8)	/* "jaga:l:" KEY */
#define CR_FIELD_LEN	19	/* T LLLLLLLL SSSSSSSSSS, see counters.h */
#define CR_START_END	10000000000LL	/* START has ten digits */
#define CR_NUM_MAX	24
#define CR_ITEM_ARGS	4	/* per item: field, kind, limit, add */
#define CR_HEAD_ARGS	8	/* EVALSHA sha 1 key n nd now ttl */
#define CR_ARGS_MAX	(CR_HEAD_ARGS + LIMITS_RULES_MAX * CR_ITEM_ARGS + \
			 LIMITS_DOMAINS_MAX)
#define CR_TTL_GRACE_MS	1000	/* keep a window this long after its end */

/* KEYS[1]: the tracked key's hash.  ARGV[1] = items, ARGV[2] = domains,
 * ARGV[3] = now (s), ARGV[4] = the hash's TTL in ms (the end of the
 * longest window), then per item: field, kind ("c" count, "d" domains),
 * limit, add; then the domains.  A domain window's members are fields
 * FIELD:DOMAIN beside its count.  Reads every window first and writes
 * only when all hold: all-or-nothing.  Returns {0, 0} or {item, count}
 * (1-based) of the first window that would go over.  Two items naming one
 * field are written once.  When a window is new, fields of windows that
 * are over are deleted (START + LEN <= now), so a busy key's hash stays
 * small; the TTL is only ever extended. */
static const char cr_src[] =
    "local k, n, nd = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local add, fresh = {}, false\n"
    "for i = 1, n do\n"
    "  local b = 4 + (i - 1) * 4\n"
    "  local f, a = ARGV[b + 1], tonumber(ARGV[b + 4])\n"
    "  local v = redis.call('HGET', k, f)\n"
    "  if not v then fresh = true end\n"
    "  local cur = tonumber(v or '0')\n"
    "  if ARGV[b + 2] == 'd' then\n"
    "    a = 0\n"
    "    for d = 1, nd do\n"
    "      if redis.call('HEXISTS', k, f .. ':' .. ARGV[4 + 4 * n + d]) "
    "== 0 then a = a + 1 end\n"
    "    end\n"
    "  end\n"
    "  if cur + a > tonumber(ARGV[b + 3]) then return {i, cur} end\n"
    "  add[i] = a\n"
    "end\n"
    "if fresh then\n"
    "  for _, f in ipairs(redis.call('HKEYS', k)) do\n"
    "    if tonumber(string.sub(f, 10, 19)) + tonumber(string.sub(f, 2, 9))"
    " <= now then redis.call('HDEL', k, f) end\n"
    "  end\n"
    "end\n"
    "local done, wrote = {}, false\n"
    "for i = 1, n do\n"
    "  local b = 4 + (i - 1) * 4\n"
    "  local f = ARGV[b + 1]\n"
    "  if add[i] > 0 and not done[f] then\n"
    "    done[f], wrote = true, true\n"
    "    if ARGV[b + 2] == 'd' then\n"
    "      for d = 1, nd do\n"
    "        redis.call('HSET', k, f .. ':' .. ARGV[4 + 4 * n + d], 1)\n"
    "      end\n"
    "    end\n"
    "    redis.call('HINCRBY', k, f, add[i])\n"
    "  end\n"
    "end\n"
    "if wrote and redis.call('PTTL', k) < ttl then\n"
    "  redis.call('PEXPIRE', k, ttl)\n"
    "end\n"
    "return {0, 0}\n";

static struct redisdb_script cr_script = REDISDB_SCRIPT(cr_src);

struct counters_redis {
	struct counter_backend base;	/* first: the ops */
	struct redisdb *db;
	int own_db;			/* counters_redis_new made it */
};

/* One call's arguments (about 24 KB with every domain: on the heap). */
struct cr_args {
	const char *argv[CR_ARGS_MAX];
	size_t argvlen[CR_ARGS_MAX];
	char key[CR_KEY_MAX];
	char fields[LIMITS_RULES_MAX][CR_FIELD_LEN + 1];
	char nums[4 + LIMITS_RULES_MAX * 2][CR_NUM_MAX];
	size_t k;			/* nums used */
};

/* Point argv[i] at a number in a->nums. */
static void
cr_arg_num(struct cr_args *a, size_t i, int64_t v)
{
	int n = snprintf(a->nums[a->k], CR_NUM_MAX, "%lld", (long long)v);

	a->argv[i] = a->nums[a->k++];
	a->argvlen[i] = (size_t)n;
}

/* Item it's field: THING, LEN and START as one 19-digit decimal, which a
 * listpack stores as an 8-byte integer.  -1 when START does not fit. */
static int
cr_field(char *out, const struct counter_item *it)
{
	int thing = it->thing == LIMITS_MESSAGES ? 1 : it->thing ==
	    LIMITS_RCPTS ? 2 : 3;

	if (it->window_start < 0 || it->window_start >= CR_START_END)
		return -1;
	snprintf(out, CR_FIELD_LEN + 1, "%d%08u%010lld", thing,
	    it->window_len, (long long)it->window_start);
	return 0;
}

/* The hash's TTL: the end of the longest window from the caller's now
 * (windows follow the caller's clock, not Redis's), plus a grace. */
static int64_t
cr_ttl(const struct counter_request *req)
{
	int64_t ttl = 0, t;

	for (size_t i = 0; i < req->nitems; i++) {
		t = req->item[i].window_start + req->item[i].window_len -
		    req->now;
		ttl = t > ttl ? t : ttl;
	}
	return ttl * 1000 + CR_TTL_GRACE_MS;
}

/* Fill a->argv[2..] for req; returns argc, or -1 when something does not
 * fit. */
static int
cr_build(struct cr_args *a, const struct counter_request *req)
{
	size_t n = req->nitems, i, x = CR_HEAD_ARGS;
	int len = snprintf(a->key, sizeof a->key, "jaga:l:%s", req->key);

	assert(n <= LIMITS_RULES_MAX && req->ndomains <= LIMITS_DOMAINS_MAX);
	if (len < 0 || (size_t)len >= sizeof a->key)
		return -1;
	cr_arg_num(a, 2, 1);
	a->argv[3] = a->key;
	a->argvlen[3] = (size_t)len;
	cr_arg_num(a, 4, (int64_t)n);
	cr_arg_num(a, 5, (int64_t)req->ndomains);
	cr_arg_num(a, 6, req->now);
	cr_arg_num(a, 7, cr_ttl(req));
	for (i = 0; i < n; i++) {
		const struct counter_item *it = &req->item[i];
		if (cr_field(a->fields[i], it) < 0)
			return -1;
		a->argv[x] = a->fields[i];
		a->argvlen[x++] = CR_FIELD_LEN;
		a->argv[x] = it->thing == LIMITS_DOMAINS ? "d" : "c";
		a->argvlen[x++] = 1;
		cr_arg_num(a, x++, it->limit);
		cr_arg_num(a, x++, it->add);
	}
	for (i = 0; i < req->ndomains; i++) {
		a->argv[x] = req->domains[i];
		a->argvlen[x++] = strlen(req->domains[i]);
	}
	return (int)x;
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
	struct cr_args *a = calloc(1, sizeof *a);
	redisReply *rep = NULL;
	char err[256];
	int argc, rc = LIMITS_EBACKEND;

	memset(res, 0, sizeof(*res));
	if (a == NULL)
		return LIMITS_EBACKEND;
	if ((argc = cr_build(a, req)) < 0)
		rc = LIMITS_EINVAL;
	/* No retry: a timed-out EVALSHA may have counted already, and
	 * counting twice would refuse mail the limit allows. */
	else if ((rep = redisdb_eval(r->db, &cr_script, argc, a->argv,
	    a->argvlen, err, sizeof err)) != NULL)
		rc = cr_result(rep, req->nitems, res) < 0 ? LIMITS_EBACKEND : 0;
	freeReplyObject(rep);
	free(a);
	if (rc < 0)
		memset(res, 0, sizeof(*res));
	return rc;
}

static void
cr_free(struct counter_backend *b)
{
	struct counters_redis *r = (struct counters_redis *)(void *)b;

	if (r->own_db)
		redisdb_free(r->db);
	free(r);
}

static const struct counter_backend_ops cr_ops = {
	"redis", cr_check_and_count, cr_free,
};

struct counter_backend *
counters_redis_with(struct redisdb *db)
{
	struct counters_redis *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->base.ops = &cr_ops;
	r->db = db;
	return &r->base;
}

struct counter_backend *
counters_redis_new(const char *url, char *err, size_t errlen)
{
	struct redisdb *db = redisdb_new(url, err, errlen);
	struct counter_backend *b = NULL;

	/* connect this thread now: errors belong to the caller */
	if (db == NULL || redisdb_ping(db, err, errlen) < 0) {
		redisdb_free(db);
		return NULL;
	}
	if ((b = counters_redis_with(db)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", url);
		redisdb_free(db);
		return NULL;
	}
	((struct counters_redis *)(void *)b)->own_db = 1;
	return b;
}
