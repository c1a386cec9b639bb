/* susp_redis.c - suspensions in Redis (see susp_redis.h).  The test "in
 * force" is the one of store.c: not lifted, or lifted on condition of a
 * password change that has not happened since (a flag, not a comparison
 * of times). */
#include "engine/susp_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/redisdb.h"

#define SR_KEY_MAX	(STORE_NAME_MAX + 16)	/* "jaga:s:" NAME */
#define SR_ACTIVE_KEY	"jaga:s:active"
#define SR_NUM_MAX	24

/* Every script starts by reading KEYS[1]'s state into v. */
#define SR_LUA_HEAD \
	"local v = redis.call('HMGET', KEYS[1], 'lifted_at', 'require_pw', " \
	"'pw_changed')\n" \
	"local active = v[1] and (v[1] == '0' or (v[2] == '1' and " \
	"v[3] == '0'))\n"

/* ARGV: name, since, rule, evidence.  1: added, 0: one in force. */
static struct redisdb_script sr_add = REDISDB_SCRIPT(SR_LUA_HEAD
    "if active then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'name', ARGV[1], 'since', ARGV[2], 'rule', "
    "ARGV[3], 'evidence', ARGV[4], 'lifted_at', '0', 'require_pw', '0', "
    "'pw_changed', '0')\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "return 1\n");

/* ARGV: name, now, require_pw ("0"/"1").  1: lifted, 0: none in force. */
static struct redisdb_script sr_lift = REDISDB_SCRIPT(SR_LUA_HEAD
    "if not active then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'lifted_at', ARGV[2], 'require_pw', "
    "ARGV[3])\n"
    "if ARGV[3] == '0' then redis.call('ZREM', KEYS[2], ARGV[1]) end\n"
    "return 1\n");

/* ARGV: name, now.  A lift waiting for a new password ends. */
static struct redisdb_script sr_pw = REDISDB_SCRIPT(SR_LUA_HEAD
    "if active and v[1] ~= '0' then\n"
    "  redis.call('HSET', KEYS[1], 'pw_changed', ARGV[2])\n"
    "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "end\n"
    "return 1\n");

/* argv[2..] = 2 KEY ACTIVE, then up to 4 arguments from args. */
static int
sr_run(struct redisdb *db, struct redisdb_script *sc, const char *name,
    const char *const *args, int nargs, char *err, size_t errlen)
{
	const char *argv[10];
	size_t argvlen[10];
	char key[SR_KEY_MAX];
	redisReply *rep;
	int i, r = -1;

	snprintf(key, sizeof key, "jaga:s:%s", name);
	argv[2] = "2";
	argv[3] = key;
	argv[4] = SR_ACTIVE_KEY;
	argv[5] = name;
	for (i = 0; i < nargs; i++)
		argv[6 + i] = args[i];
	for (i = 2; i < 6 + nargs; i++)
		argvlen[i] = strlen(argv[i]);
	if ((rep = redisdb_eval(db, sc, 6 + nargs, argv, argvlen, err,
	    errlen)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_INTEGER)
		r = (int)rep->integer;
	else
		snprintf(err, errlen, "redis: %s", rep->type ==
		    REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	freeReplyObject(rep);
	return r;
}

int
susp_redis_add(struct redisdb *db, const struct suspension *su, char *err,
    size_t errlen)
{
	char since[SR_NUM_MAX];
	const char *args[] = { since, su->rule, su->evidence };
	int r;

	snprintf(since, sizeof since, "%lld", su->since ? su->since :
	    (long long)time(NULL));
	r = sr_run(db, &sr_add, su->name, args, 3, err, errlen);
	return r < 0 ? -1 : r == 1 ? 0 : STORE_EXISTS;
}

int
susp_redis_lift(struct redisdb *db, const char *name, int require_pw,
    char *err, size_t errlen)
{
	char now[SR_NUM_MAX];
	const char *args[] = { now, require_pw ? "1" : "0" };
	int r;

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	r = sr_run(db, &sr_lift, name, args, 2, err, errlen);
	return r < 0 ? -1 : r == 1 ? 0 : STORE_NOTFOUND;
}

int
susp_redis_password_changed(struct redisdb *db, const char *name,
    char *err, size_t errlen)
{
	char now[SR_NUM_MAX];
	const char *args[] = { now };

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	return sr_run(db, &sr_pw, name, args, 1, err, errlen) < 0 ? -1 : 0;
}

/* One field of HGETALL's answer into out. */
static void
sr_field(struct suspension *out, const redisReply *f, const redisReply *v)
{
	long long n = strtoll(v->str, NULL, 10);
	int len = (int)v->len;

	if (strcmp(f->str, "name") == 0)
		snprintf(out->name, sizeof out->name, "%.*s", len, v->str);
	else if (strcmp(f->str, "rule") == 0)
		snprintf(out->rule, sizeof out->rule, "%.*s", len, v->str);
	else if (strcmp(f->str, "evidence") == 0)
		snprintf(out->evidence, sizeof out->evidence, "%.*s", len,
		    v->str);
	else if (strcmp(f->str, "since") == 0)
		out->since = n;
	else if (strcmp(f->str, "lifted_at") == 0)
		out->lifted_at = n;
	else if (strcmp(f->str, "require_pw") == 0)
		out->require_pw_change = n != 0;
	else if (strcmp(f->str, "pw_changed") == 0)
		out->active = n == 0;	/* finished below */
}

int
susp_redis_get(struct redisdb *db, const char *name,
    struct suspension *out, char *err, size_t errlen)
{
	char key[SR_KEY_MAX];
	const char *argv[] = { "HGETALL", key };
	size_t argvlen[2] = { 7, 0 };
	redisReply *rep;
	size_t i;

	argvlen[1] = (size_t)snprintf(key, sizeof key, "jaga:s:%s", name);
	if ((rep = redisdb_argv(db, 2, argv, argvlen, err, errlen)) == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errlen, "redis: %s", rep->type ==
		    REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return -1;
	}
	memset(out, 0, sizeof *out);
	for (i = 0; i + 1 < rep->elements; i += 2)
		if (rep->element[i]->type == REDIS_REPLY_STRING &&
		    rep->element[i + 1]->type == REDIS_REPLY_STRING)
			sr_field(out, rep->element[i], rep->element[i + 1]);
	/* in force: not lifted, or lifted until a password change not made */
	out->active = out->lifted_at == 0 || (out->require_pw_change &&
	    out->active);
	i = rep->elements;
	freeReplyObject(rep);
	return i == 0 ? STORE_NOTFOUND : 0;
}

/* Walk the names of rep (ZRANGE's answer) in order. */
static int
sr_walk(struct redisdb *db, const redisReply *rep, store_suspension_fn *fn,
    void *arg, char *err, size_t errlen)
{
	struct suspension *su = malloc(sizeof *su);
	char name[STORE_NAME_MAX + 1];
	int r = 0;

	if (su == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; r == 0 && i < rep->elements; i++) {
		if (rep->element[i]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)rep->element[i]->len,
		    rep->element[i]->str);
		r = susp_redis_get(db, name, su, err, errlen);
		if (r == 0 && su->active)
			r = fn(su, arg);
		else if (r == STORE_NOTFOUND)
			r = 0;	/* lifted meanwhile */
	}
	free(su);
	return r;
}

int
susp_redis_list(struct redisdb *db, store_suspension_fn *fn, void *arg,
    char *err, size_t errlen)
{
	const char *argv[] = { "ZRANGE", SR_ACTIVE_KEY, "0", "-1" };
	size_t argvlen[] = { 6, sizeof SR_ACTIVE_KEY - 1, 1, 2 };
	redisReply *rep = redisdb_argv(db, 4, argv, argvlen, err, errlen);
	int r;

	if (rep == NULL)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errlen, "redis: %s", rep->type ==
		    REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return -1;
	}
	r = sr_walk(db, rep, fn, arg, err, errlen);
	freeReplyObject(rep);
	return r;
}
