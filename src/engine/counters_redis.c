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
#define CR_ITEM_ARGS	5	/* per item: key index, field, kind, limit, add */
#define CR_ARGS_MAX	(3 + 4 + COUNTER_ITEMS_MAX * (2 + CR_ITEM_ARGS) + \
			 LIMITS_DOMAINS_MAX)	/* numkeys, keys, head, ttls */
#define CR_TTL_GRACE_MS	1000	/* keep a window this long after its end */

/* KEYS: one hash per tracked key of the request (a message may be counted
 * under several keys: all in one script, so a refusal by one key counts
 * nothing under the others).  ARGV[1] = items, ARGV[2] = domains, ARGV[3]
 * = now (s), ARGV[4] = keys, then per key its TTL in ms (the end of its
 * longest window), then per item: key index, field, kind ("c" count, "d"
 * domains), limit, add; then the domains.  A domain window's members are
 * fields FIELD:DOMAIN beside its count.  Reads every window first and
 * writes only when all hold: all-or-nothing.  Returns {0, 0} or {item,
 * count} (1-based) of the first window that would go over.  Two items
 * naming one field of one key are written once.  When a window is new,
 * fields of that key's windows that are over are deleted (START + LEN <=
 * now), so a busy key's hash stays small; a TTL is only ever extended. */
static const char cr_src[] =
    "local n, nd = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local now, nk = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local ib, db = 4 + nk, 4 + nk + 5 * n\n"
    "local add, fresh = {}, {}\n"
    "for i = 1, n do\n"
    "  local b = ib + (i - 1) * 5\n"
    "  local k = KEYS[tonumber(ARGV[b + 1])]\n"
    "  local f, a = ARGV[b + 2], tonumber(ARGV[b + 5])\n"
    "  local v = redis.call('HGET', k, f)\n"
    "  if not v then fresh[k] = true end\n"
    "  local cur = tonumber(v or '0')\n"
    "  if ARGV[b + 3] == 'd' then\n"
    "    a = 0\n"
    "    for d = 1, nd do\n"
    "      if redis.call('HEXISTS', k, f .. ':' .. ARGV[db + d]) == 0 "
    "then a = a + 1 end\n"
    "    end\n"
    "  end\n"
    "  if cur + a > tonumber(ARGV[b + 4]) then return {i, cur} end\n"
    "  add[i] = a\n"
    "end\n"
    "for k, _ in pairs(fresh) do\n"
    "  for _, f in ipairs(redis.call('HKEYS', k)) do\n"
    "    if tonumber(string.sub(f, 10, 19)) + tonumber(string.sub(f, 2, 9))"
    " <= now then redis.call('HDEL', k, f) end\n"
    "  end\n"
    "end\n"
    "local done, wrote = {}, {}\n"
    "for i = 1, n do\n"
    "  local b = ib + (i - 1) * 5\n"
    "  local ki = tonumber(ARGV[b + 1])\n"
    "  local k, f = KEYS[ki], ARGV[b + 2]\n"
    "  local id = ki .. '/' .. f\n"
    "  if add[i] > 0 and not done[id] then\n"
    "    done[id], wrote[ki] = true, true\n"
    "    if ARGV[b + 3] == 'd' then\n"
    "      for d = 1, nd do\n"
    "        redis.call('HSET', k, f .. ':' .. ARGV[db + d], 1)\n"
    "      end\n"
    "    end\n"
    "    redis.call('HINCRBY', k, f, add[i])\n"
    "  end\n"
    "end\n"
    "for ki = 1, nk do\n"
    "  local ttl = tonumber(ARGV[4 + ki])\n"
    "  if wrote[ki] and redis.call('PTTL', KEYS[ki]) < ttl then\n"
    "    redis.call('PEXPIRE', KEYS[ki], ttl)\n"
    "  end\n"
    "end\n"
    "return {0, 0}\n";

static struct redisdb_script cr_script = REDISDB_SCRIPT(cr_src);

struct counters_redis {
	struct counter_backend base;	/* first: the ops */
	struct redisdb *db;
	int own_db;			/* counters_redis_new made it */
};

/* One call's arguments (about 40 KB with every key and domain: on the
 * heap). */
struct cr_args {
	const char *argv[CR_ARGS_MAX];
	size_t argvlen[CR_ARGS_MAX];
	char keys[COUNTER_ITEMS_MAX][CR_KEY_MAX];
	char fields[COUNTER_ITEMS_MAX][CR_FIELD_LEN + 1];
	char nums[4 + COUNTER_ITEMS_MAX * 4][CR_NUM_MAX];
	int64_t ttl[COUNTER_ITEMS_MAX];	/* per key, ms */
	size_t nkeys;
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

/* The hashes: one per run of adjacent items with the same key; idx[i] is
 * item i's key (0-based).  Each key's TTL is the end of its longest
 * window from the caller's now (windows follow the caller's clock, not
 * Redis's), plus a grace.  Returns 0, or -1 when a key is too long. */
static int
cr_keys(struct cr_args *a, const struct counter_request *req, size_t *idx)
{
	a->nkeys = 0;
	for (size_t i = 0; i < req->nitems; i++) {
		const struct counter_item *it = &req->item[i];
		int64_t t = (it->window_start + it->window_len - req->now) *
		    1000 + CR_TTL_GRACE_MS;
		if (i == 0 || strcmp(it->key, req->item[i - 1].key) != 0) {
			int len = snprintf(a->keys[a->nkeys], CR_KEY_MAX,
			    "jaga:l:%s", it->key);
			if (len < 0 || len >= CR_KEY_MAX)
				return -1;
			a->ttl[a->nkeys++] = 0;
		}
		idx[i] = a->nkeys - 1;
		if (t > a->ttl[idx[i]])
			a->ttl[idx[i]] = t;
	}
	return 0;
}

/* Fill a->argv[2..] for req; returns argc, or -1 when something does not
 * fit. */
static int
cr_build(struct cr_args *a, const struct counter_request *req)
{
	size_t n = req->nitems, i, x, idx[COUNTER_ITEMS_MAX];

	assert(n <= COUNTER_ITEMS_MAX && req->ndomains <= LIMITS_DOMAINS_MAX);
	if (n == 0 || cr_keys(a, req, idx) < 0)
		return -1;
	cr_arg_num(a, 2, (int64_t)a->nkeys);
	for (x = 3, i = 0; i < a->nkeys; i++) {
		a->argv[x] = a->keys[i];
		a->argvlen[x++] = strlen(a->keys[i]);
	}
	cr_arg_num(a, x++, (int64_t)n);
	cr_arg_num(a, x++, (int64_t)req->ndomains);
	cr_arg_num(a, x++, req->now);
	cr_arg_num(a, x++, (int64_t)a->nkeys);
	for (i = 0; i < a->nkeys; i++)
		cr_arg_num(a, x++, a->ttl[i]);
	for (i = 0; i < n; i++) {
		const struct counter_item *it = &req->item[i];
		if (cr_field(a->fields[i], it) < 0)
			return -1;
		cr_arg_num(a, x++, (int64_t)idx[i] + 1);
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
