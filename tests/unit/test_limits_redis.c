/* test_limits_redis.c - the Redis counter backend against a real
 * redis-server this test starts on a free loopback port: exact limits,
 * window roll-over, distinct domains, threads, two processes, a lost
 * script cache, and Redis going away (an error, never an allow). */
#include "engine/counters.h"
#include "engine/limits.h"

#include "../../tests/unit/harness.h"
#include "../../tests/unit/redis_scratch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0	((int64_t)1700006400)	/* a UTC midnight: 1d, 1h, 1m aligned */

static struct redis_scratch redis = { .pid = -1 };

/* A command's integer (or string) answer as a number; -99 on failure. */
static long long
redis_num(const char *cmd)
{
	redisReply *rep = redis_scratch_reply(&redis, cmd);
	long long v = -99;

	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else if (rep != NULL && (rep->type == REDIS_REPLY_STRING ||
	    rep->type == REDIS_REPLY_STATUS))
		v = strcmp(rep->str, "hash") == 0 ? 1 : strcmp(rep->str,
		    "listpack") == 0 ? 2 : strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	return v;
}

static struct counter_backend *
backend(void)
{
	char err[256];
	struct counter_backend *b = counters_redis_new(redis.url, err,
	    sizeof(err));

	if (b == NULL)
		fprintf(stderr, "counters_redis_new: %s\n", err);
	return b;
}

static struct limits_spec
spec_of(const char *text)
{
	struct limits_spec s;
	char err[256];

	if (limits_parse(&s, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "spec %s: %s\n", text, err);
		abort();
	}
	return s;
}

/* Messages allowed out of tries, one at a time (-1 on a backend error). */
static int
send_n(struct counter_backend *b, const char *key,
    const struct limits_spec *s, int64_t now, int tries)
{
	struct limits_verdict v;
	int ok = 0;

	for (int i = 0; i < tries; i++) {
		if (limits_check_and_count(b, key, s, now, 1, 1, NULL, 0, &v) < 0)
			return -1;
		ok += !v.refused;
	}
	return ok;
}

/* ---- cases ---- */

static void
test_url(void)
{
	static const char *const bad[] = { "http://127.0.0.1", "redis://",
	    "redis://h:0", "redis://h:70000", "redis://h:6379/x",
	    "redis://[::1", "redis://h:12ab", NULL };
	char err[256];

	for (const char *const *u = bad; *u != NULL; u++)
		CHECK(counters_redis_new(*u, err, sizeof(err)) == NULL &&
		    strstr(err, "bad Redis URL") != NULL, "bad url %s: %s", *u,
		    err);
}

static void
test_exact_and_windows(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=5/1m,7/1h");
	struct limits_verdict v;

	CHECK_INT(send_n(b, "id:exact", &s, T0, 9), 5, "5/1m lets 5 through");
	CHECK_INT(limits_check_and_count(b, "id:exact", &s, T0 + 59, 1, 0,
	    NULL, 0, &v), 0, "call ok");
	CHECK(v.refused && v.count == 5 && v.rule.window == 60 &&
	    v.window_end == T0 + 60, "refused by 1m at count 5");
	CHECK_INT(send_n(b, "id:exact", &s, T0 + 60, 9), 2,
	    "next minute: the hour allows 2 more");
	CHECK_INT(send_n(b, "id:exact", &s, T0 + 3600, 9), 5,
	    "next hour: 5 again");
	CHECK_INT(send_n(b, "id:other", &s, T0, 9), 5, "keys are apart");
}

static void
test_all_or_nothing(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=2/1h; rcpts=5/1h");
	struct limits_verdict v;
	int rc;

	rc = limits_check_and_count(b, "id:aon", &s, T0, 1, 3, NULL, 0, &v);
	CHECK(rc == 0 && !v.refused, "1 msg 3 rcpts ok");
	rc = limits_check_and_count(b, "id:aon", &s, T0, 1, 3, NULL, 0, &v);
	CHECK(rc == 0 && v.refused && v.rule.thing == LIMITS_RCPTS &&
	    v.count == 3, "3 more rcpts refused at 3");
	rc = limits_check_and_count(b, "id:aon", &s, T0, 1, 2, NULL, 0, &v);
	CHECK(rc == 0 && !v.refused, "refusal counted no message");
	rc = limits_check_and_count(b, "id:aon", &s, T0, 1, 0, NULL, 0, &v);
	CHECK(rc == 0 && v.refused && v.rule.thing == LIMITS_MESSAGES,
	    "third message refused");
}

static void
test_domains(struct counter_backend *b)
{
	struct limits_spec s = spec_of("domains=3/1h");
	struct limits_verdict v;
	static const char *const ab[] = { "a.example", "B.example", "a.EXAMPLE" };
	static const char *const c[] = { "c.example" }, *const d[] = { "d.example" };
	static const char *const a[] = { "a.example" };
	int rc;

	rc = limits_check_and_count(b, "id:dom", &s, T0, 1, 3, ab, 3, &v);
	CHECK(rc == 0 && !v.refused, "a, b: 2 domains");
	rc = limits_check_and_count(b, "id:dom", &s, T0, 1, 1, ab, 2, &v);
	CHECK(rc == 0 && !v.refused, "a, b again: no new domain");
	rc = limits_check_and_count(b, "id:dom", &s, T0, 1, 1, c, 1, &v);
	CHECK(rc == 0 && !v.refused, "c: the third");
	rc = limits_check_and_count(b, "id:dom", &s, T0, 1, 1, d, 1, &v);
	CHECK(rc == 0 && v.refused && v.count == 3, "d: a fourth, refused");
	rc = limits_check_and_count(b, "id:dom", &s, T0, 1, 1, a, 1, &v);
	CHECK(rc == 0 && !v.refused, "a: known, allowed");
	rc = limits_check_and_count(b, "id:dom", &s, T0 + 3600, 1, 1, d, 1, &v);
	CHECK(rc == 0 && !v.refused, "d in the next hour");
}

/* One listpack hash per tracked key; old windows pruned; TTL = the end of
 * the longest window. */
static void
test_layout(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=100/1m,1000/1h; domains=9/1h");
	static const char *const d[] = { "a.example", "b.example" };
	struct limits_verdict v;
	long long ttl;

	for (int64_t t = T0; t < T0 + 10 * 60; t += 60)
		CHECK_INT(limits_check_and_count(b, "id:lay", &s, t, 1, 2, d, 2,
		    &v), 0, "call at %lld", (long long)(t - T0));
	CHECK_INT(redis_num("EXISTS jaga:l:id:lay"), 1, "one key");
	CHECK_INT(redis_num("TYPE jaga:l:id:lay"), 1, "a hash");
	CHECK_INT(redis_num("OBJECT ENCODING jaga:l:id:lay"), 2, "a listpack");
	/* 1m (this minute only), 1h, domains 1h + its 2 members */
	CHECK_INT(redis_num("HLEN jaga:l:id:lay"), 5, "old minutes pruned");
	CHECK_INT(redis_num("HGET jaga:l:id:lay 1000036001700006400"), 10,
	    "the hour's count, field THING:LEN:START");
	CHECK_INT(redis_num("HGET jaga:l:id:lay 3000036001700006400"), 2,
	    "two distinct domains");
	ttl = redis_num("PTTL jaga:l:id:lay");
	/* set at T0 (3601 s ahead) and never shortened by later calls */
	CHECK(ttl > 3590 * 1000 && ttl <= 3601 * 1000,
	    "expires with the hour: %lld ms", ttl);
}

/* Two keys in one script: a refusal by the second counts nothing in
 * the first. */
static void
test_keys(struct counter_backend *b)
{
	struct limits_spec sid = spec_of("messages=3/1h");
	struct limits_spec sip = spec_of("messages=1/1h action=reject");
	struct limits_key k[2] = { { "id:rk", &sid }, { "ip:192.0.2.9", &sip } };
	struct limits_verdict v;
	int rc;

	rc = limits_check_and_count_keys(b, k, 2, T0, 1, 1, NULL, 0, &v);
	CHECK(rc == 0 && !v.refused, "keys: first counted");
	rc = limits_check_and_count_keys(b, k, 2, T0, 1, 1, NULL, 0, &v);
	CHECK(rc == 0 && v.refused && v.key == 1 && v.count == 1,
	    "keys: refused by the IP key");
	CHECK_INT(send_n(b, "id:rk", &sid, T0, 5), 2,
	    "keys: the refusal did not count under id");
}

struct thr {
	struct counter_backend *b;
	const struct limits_spec *s;
	atomic_int *ok;
};

static void *
thr_run(void *p)
{
	struct thr *t = p;
	int n = send_n(t->b, "id:threads", t->s, T0, 1000);

	atomic_fetch_add(t->ok, n < 0 ? -100000 : n);
	return NULL;
}

static void
test_threads(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=1000/1h");
	atomic_int ok = 0;
	pthread_t t[4];
	struct thr a = { b, &s, &ok };

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thr_run, &a);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&ok), 1000, "4 threads x 1000 against 1000");
}

/* Child: its own backend (never carried across fork); writes its count. */
static void
proc_child(int fd)
{
	struct limits_spec s = spec_of("messages=500/1h");
	struct counter_backend *b = backend();
	int n = b != NULL ? send_n(b, "id:procs", &s, T0, 400) : -1;

	counter_backend_free(b);
	_exit(write(fd, &n, sizeof(n)) == sizeof(n) ? 0 : 1);
}

static void
test_processes(void)
{
	int fds[2], total = 0, n;
	pid_t pid[2];

	if (pipe(fds) != 0)
		abort();
	fflush(NULL);
	for (int i = 0; i < 2; i++)
		if ((pid[i] = fork()) == 0)
			proc_child(fds[1]);
	close(fds[1]);
	for (int i = 0; i < 2; i++) {
		CHECK(read(fds[0], &n, sizeof(n)) == sizeof(n) && n >= 0,
		    "child %d reported", i);
		total += n;
	}
	close(fds[0]);
	for (int i = 0; i < 2; i++)
		waitpid(pid[i], NULL, 0);
	CHECK_INT(total, 500, "2 processes x 400 against 500");
}

static void
test_noscript(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=3/1m");

	CHECK_INT(send_n(b, "id:flush", &s, T0, 1), 1, "before the flush");
	CHECK_INT(redis_scratch_cmd(&redis, "SCRIPT FLUSH"), 0, "SCRIPT FLUSH");
	CHECK_INT(send_n(b, "id:flush", &s, T0, 5), 2, "EVAL after NOSCRIPT");
}

static void
test_redis_gone(struct counter_backend *b)
{
	struct limits_spec s = spec_of("messages=1000/1m");
	struct limits_verdict v;
	char err[256];

	CHECK_INT(send_n(b, "id:gone", &s, T0, 1), 1, "up: allowed");
	redis_scratch_stop(&redis);
	for (int i = 0; i < 3; i++)
		CHECK_INT(limits_check_and_count(b, "id:gone", &s, T0, 1, 1,
		    NULL, 0, &v), LIMITS_EBACKEND, "down: an error, try %d", i);
	CHECK(counters_redis_new(redis.url, err, sizeof(err)) == NULL &&
	    err[0] != '\0', "new against a dead server fails: %s", err);
}

int
main(void)
{
	struct counter_backend *b;

	signal(SIGPIPE, SIG_IGN);	/* a write to a killed Redis */
	test_url();
	if (redis_scratch_start(&redis, "test_limits_redis", 0) < 0) {
		fprintf(stderr, "test_limits_redis: redis-server did not start "
		    "(is it installed? make check runs scripts/deps.sh test)\n");
		redis_scratch_stop(&redis);
		return 1;
	}
	if ((b = backend()) == NULL) {
		redis_scratch_stop(&redis);
		return 1;
	}
	test_exact_and_windows(b);
	test_all_or_nothing(b);
	test_domains(b);
	test_layout(b);
	test_keys(b);
	test_threads(b);
	test_processes();
	test_noscript(b);
	test_redis_gone(b);
	counter_backend_free(b);
	redis_scratch_stop(&redis);
	return harness_end("limits_redis");
}
