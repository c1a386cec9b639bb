/* redis_scratch.h - a redis-server of a unit test's own, on a loopback
 * port the kernel picks, with no persistence (for test_burst,
 * test_limits_redis, test_state_redis).  Needs redis-server on PATH
 * (scripts/deps.sh test).  Blocking calls; test code only. */
#ifndef JAGA_TESTS_REDIS_SCRATCH_H
#define JAGA_TESTS_REDIS_SCRATCH_H

#include <hiredis/hiredis.h>
#include <sys/types.h>

struct redis_scratch {
	pid_t pid;			/* -1: not running */
	int port;			/* 0: pick one at the next start */
	char url[64];			/* "redis://127.0.0.1:PORT[/DB]" */
};

/* Start redis-server on rs->port (a free one when 0) and wait up to 5 s
 * until it answers PING; url names database db.  0, or -1 (said on
 * stderr with test's name).  Stop it with redis_scratch_stop even then. */
int redis_scratch_start(struct redis_scratch *rs, const char *test, int db);
/* SIGTERM and reap it; the port is kept for a restart.  Takes a stopped
 * one. */
void redis_scratch_stop(struct redis_scratch *rs);
/* Run one command on a fresh connection: the reply (freeReplyObject), or
 * NULL when Redis did not answer. */
redisReply *redis_scratch_reply(const struct redis_scratch *rs,
    const char *cmd);
/* As redis_scratch_reply; 0 when Redis answered without an error. */
int redis_scratch_cmd(const struct redis_scratch *rs, const char *cmd);

#endif
