/* redisdb.h - one Redis (or its primary; not Redis Cluster) holding the
 * state several gateways share (issue 3 §7, "store = redis://..."):
 * counters (counters_redis.c), suspensions (susp_redis.h) and AUTH
 * lockouts (lockout_redis.h).  Identities stay in each gateway's SQLite.
 *
 * A synchronous hiredis context must not be shared, so every thread gets
 * its own connection (a pthread key), opened on its first call, at most
 * REDISDB_THREADS at once.  Every call blocks for up to the timeouts below:
 * call it in a job-pool thread or the CLI, never on an event loop.  A
 * call whose connection failed or timed out returns NULL (the reason in
 * err) and drops that connection; the next call reconnects.  Nothing is
 * retried: a timed-out script may have run.  Do not carry a redisdb
 * across fork(). */
#ifndef JAGA_ENGINE_REDISDB_H
#define JAGA_ENGINE_REDISDB_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#define REDISDB_THREADS		256
#define REDISDB_CONNECT_MS	1000
#define REDISDB_COMMAND_MS	2000
#define REDISDB_HOST_MAX	256

/* A Lua script run with EVALSHA (and EVAL when Redis lost it: NOSCRIPT
 * after a restart or SCRIPT FLUSH).  Define one per script, static:
 * static struct redisdb_script s = REDISDB_SCRIPT(src); */
struct redisdb_script {
	const char *src;
	size_t len;
	char sha[41];			/* SCRIPT LOAD's answer, set on first use */
};
#define REDISDB_SCRIPT(s) { s, sizeof(s) - 1, "" }

struct redisdb;

/* NULL when url is "redis://host[:port][/db]" (port 6379, db 0 by
 * default; an IPv6 host in brackets, RFC 3986 §3.2.2), else what is
 * wrong.  The message is static (per thread). */
const char *redisdb_url_check(const char *url);
/* A handle for url; nothing is connected yet.  NULL with err on a bad
 * URL or ENOMEM. */
struct redisdb *redisdb_new(const char *url, char *err, size_t errlen);
/* Takes NULL.  No thread may use r any more. */
void redisdb_free(struct redisdb *r);
/* Connect this thread now and PING.  0, or -1 with err. */
int redisdb_ping(struct redisdb *r, char *err, size_t errlen);

/* Run one command given as argv (binary-safe).  The reply is the
 * caller's (freeReplyObject); an error reply is returned as it is.  NULL
 * with err when the connection failed. */
redisReply *redisdb_argv(struct redisdb *r, int argc, const char **argv,
    const size_t *argvlen, char *err, size_t errlen);
/* Run sc with argv[2..argc) as "numkeys key... arg..." (argv[0] and
 * argv[1] are filled here: leave them free).  As redisdb_argv. */
redisReply *redisdb_eval(struct redisdb *r, struct redisdb_script *sc,
    int argc, const char **argv, size_t *argvlen, char *err, size_t errlen);

#endif
