/* lockout_redis.c - AUTH lockout in Redis (see lockout_redis.h); the
 * rules are those of lockout.c, written as one Lua script per failure. */
#include "engine/lockout_redis.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/redisdb.h"

#define LR_KEY_MAX	(LOCKOUT_KEY_MAX + 24)	/* "jaga:a:acct:" K ":strikes" */
#define LR_NUM_MAX	24
#define LR_NKEYS	7
#define LR_NARGS	10

/* KEYS: ip :f :n :lock :strikes, account :f :i :lock.  ARGV: ip, name,
 * window, ip_failures, spray_accounts, account_ips, account_failures,
 * ip_lock, ip_lock_max, account_lock (ms).  Returns {ip_why (0 none,
 * 1 failures, 2 spraying), ip_lock_ms, strikes, account_locked,
 * account_lock_ms, ips, failures} for the locks that begin now.  A lock
 * starts a fresh window (lockout.c does the same). */
static struct redisdb_script lr_fail = REDISDB_SCRIPT(
    "local W = tonumber(ARGV[3])\n"
    "local function count(kc, ks, member, maxd)\n"
    "  local n = redis.call('INCR', kc)\n"
    "  if n == 1 then redis.call('PEXPIRE', kc, W) end\n"
    "  if redis.call('SCARD', ks) < maxd and "
    "redis.call('SADD', ks, member) == 1 and "
    "redis.call('SCARD', ks) == 1 then\n"
    "    redis.call('PEXPIRE', ks, W)\n"
    "  end\n"
    "  return n, redis.call('SCARD', ks)\n"
    "end\n"
    "local ev = {0, 0, 0, 0, 0, 0, 0}\n"
    "local f, nd = count(KEYS[1], KEYS[2], ARGV[2], tonumber(ARGV[5]))\n"
    "if redis.call('EXISTS', KEYS[3]) == 0 then\n"
    "  local why = 0\n"
    "  if nd >= tonumber(ARGV[5]) then why = 2\n"
    "  elseif f >= tonumber(ARGV[4]) then why = 1 end\n"
    "  if why > 0 then\n"
    "    local s = redis.call('INCR', KEYS[4])\n"
    "    local d, max = tonumber(ARGV[8]), tonumber(ARGV[9])\n"
    "    for i = 2, s do if d < max then d = d * 2 end end\n"
    "    if d > max then d = max end\n"
    "    redis.call('SET', KEYS[3], s, 'PX', d)\n"
    "    redis.call('PEXPIRE', KEYS[4], d + max)\n"
    "    redis.call('DEL', KEYS[1], KEYS[2])\n"
    "    ev[1], ev[2], ev[3] = why, d, s\n"
    "  end\n"
    "end\n"
    "if ARGV[2] ~= '' then\n"
    "  local a, ni = count(KEYS[5], KEYS[6], ARGV[1], tonumber(ARGV[6]))\n"
    "  if redis.call('EXISTS', KEYS[7]) == 0 and (ni >= tonumber(ARGV[6]) "
    "or a >= tonumber(ARGV[7])) then\n"
    "    redis.call('SET', KEYS[7], 1, 'PX', ARGV[10])\n"
    "    redis.call('DEL', KEYS[5], KEYS[6])\n"
    "    ev[4], ev[5], ev[6], ev[7] = 1, tonumber(ARGV[10]), ni, a\n"
    "  end\n"
    "end\n"
    "return ev\n");

/* KEYS: the IP's and the account's lock.  Their PTTLs (< 0: none). */
static struct redisdb_script lr_locked = REDISDB_SCRIPT(
    "return {redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])}\n");

struct lockout_redis {
	struct redisdb *db;
	struct lockout_params p;
};

/* The keys of one IP and one name, as lockout.c tracks them: cut to
 * LOCKOUT_KEY_MAX, names in lowercase. */
struct lr_keys {
	char ip[LOCKOUT_KEY_MAX + 1], name[LOCKOUT_KEY_MAX + 1];
	char k[LR_NKEYS][LR_KEY_MAX];
};

static void
lr_keys(struct lr_keys *x, const char *ip, const char *name)
{
	static const char *const suffix[LR_NKEYS] = {
		"f", "n", "lock", "strikes", "f", "i", "lock",
	};
	size_t i;

	snprintf(x->ip, sizeof x->ip, "%s", ip);
	for (i = 0; i < LOCKOUT_KEY_MAX && name[i] != '\0'; i++)
		x->name[i] = (char)tolower((unsigned char)name[i]);
	x->name[i] = '\0';
	for (i = 0; i < LR_NKEYS; i++)
		snprintf(x->k[i], LR_KEY_MAX, "jaga:a:%s:%s:%s", i < 4 ? "ip" :
		    "acct", i < 4 ? x->ip : x->name, suffix[i]);
}

struct lockout_redis *
lockout_redis_new(struct redisdb *db, const struct lockout_params *p)
{
	struct lockout_redis *lr = calloc(1, sizeof *lr);

	if (lr == NULL)
		return NULL;
	lr->db = db;
	lr->p = *p;
	return lr;
}

void
lockout_redis_free(struct lockout_redis *lr)
{
	free(lr);
}

/* An integer element of an array reply, or def. */
static long long
lr_int(const redisReply *rep, size_t i, long long def)
{
	if (rep->type != REDIS_REPLY_ARRAY || i >= rep->elements ||
	    rep->element[i]->type != REDIS_REPLY_INTEGER)
		return def;
	return rep->element[i]->integer;
}

/* An array reply of n integers, else -1 with err (and rep freed). */
static int
lr_check(redisReply *rep, size_t n, char *err, size_t errlen)
{
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == n &&
	    lr_int(rep, n - 1, -1000) != -1000)
		return 0;
	snprintf(err, errlen, "redis: %s", rep->type == REDIS_REPLY_ERROR ?
	    rep->str : "unexpected reply");
	freeReplyObject(rep);
	return -1;
}

int
lockout_redis_locked(struct lockout_redis *lr, const char *ip,
    const char *name, int64_t *ip_ms, int64_t *account_ms, char *err,
    size_t errlen)
{
	struct lr_keys x;
	const char *argv[5];
	size_t argvlen[5];
	redisReply *rep;

	lr_keys(&x, ip, name);
	argv[2] = "2";
	argv[3] = x.k[2];
	argv[4] = x.k[6];
	for (int i = 2; i < 5; i++)
		argvlen[i] = strlen(argv[i]);
	if ((rep = redisdb_eval(lr->db, &lr_locked, 5, argv, argvlen, err,
	    errlen)) == NULL || lr_check(rep, 2, err, errlen) < 0)
		return -1;
	*ip_ms = lr_int(rep, 0, 0) > 0 ? lr_int(rep, 0, 0) : 0;
	*account_ms = lr_int(rep, 1, 0) > 0 && x.name[0] ? lr_int(rep, 1, 0) : 0;
	freeReplyObject(rep);
	return 0;
}

/* Fill the numeric arguments from the parameters. */
static void
lr_params(const struct lockout_params *p, char num[][LR_NUM_MAX])
{
	const long long v[] = { p->window_ms, p->ip_failures,
	    p->spray_accounts, p->account_ips, p->account_failures,
	    p->ip_lock_ms, p->ip_lock_max_ms, p->account_lock_ms };

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		snprintf(num[i], LR_NUM_MAX, "%lld", v[i]);
}

/* The script's answer into ev (times as milliseconds from now). */
static void
lr_event(const redisReply *rep, struct lockout_event *ev)
{
	long long why = lr_int(rep, 0, 0);

	memset(ev, 0, sizeof *ev);
	ev->ip_locked = why == 2 ? LOCKOUT_SPRAYING : why == 1 ?
	    LOCKOUT_FAILURES : LOCKOUT_NONE;
	ev->ip_until = lr_int(rep, 1, 0);
	ev->ip_strikes = (unsigned)lr_int(rep, 2, 0);
	ev->account_locked = lr_int(rep, 3, 0) != 0;
	ev->account_until = lr_int(rep, 4, 0);
	ev->account_ips = (unsigned)lr_int(rep, 5, 0);
	ev->account_failures = (unsigned)lr_int(rep, 6, 0);
}

int
lockout_redis_fail(struct lockout_redis *lr, const char *ip,
    const char *name, struct lockout_event *ev, char *err, size_t errlen)
{
	const char *argv[3 + LR_NKEYS + LR_NARGS];
	size_t argvlen[3 + LR_NKEYS + LR_NARGS];
	char num[LR_NARGS - 2][LR_NUM_MAX];
	struct lr_keys x;
	redisReply *rep;
	int i, a = 3;

	memset(ev, 0, sizeof *ev);
	lr_keys(&x, ip, name);
	lr_params(&lr->p, num);
	argv[2] = "7";
	for (i = 0; i < LR_NKEYS; i++)
		argv[a++] = x.k[i];
	argv[a++] = x.ip;
	argv[a++] = x.name;
	for (i = 0; i < LR_NARGS - 2; i++)
		argv[a++] = num[i];
	for (i = 2; i < a; i++)
		argvlen[i] = strlen(argv[i]);
	if ((rep = redisdb_eval(lr->db, &lr_fail, a, argv, argvlen, err,
	    errlen)) == NULL || lr_check(rep, 7, err, errlen) < 0)
		return -1;
	lr_event(rep, ev);
	freeReplyObject(rep);
	return 0;
}

int
lockout_redis_success(struct lockout_redis *lr, const char *ip, char *err,
    size_t errlen)
{
	struct lr_keys x;
	const char *argv[2] = { "DEL", x.k[0] };
	size_t argvlen[2] = { 3, 0 };
	redisReply *rep;
	int r = 0;

	lr_keys(&x, ip, "");
	argvlen[1] = strlen(x.k[0]);
	if ((rep = redisdb_argv(lr->db, 2, argv, argvlen, err, errlen)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "redis: %s", rep->str);
		r = -1;
	}
	freeReplyObject(rep);
	return r;
}
