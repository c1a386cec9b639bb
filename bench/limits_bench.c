/* limits_bench.c - limit decisions per second (1 and 2 threads) in the
 * in-memory, SQLite and (given a URL) Redis counter backends, and the memory
 * of 1,000,000 tracked keys (RSS for memory, file size for SQLite, INFO
 * memory used_memory for Redis).
 * usage: limits_bench DIR [SECONDS] [KEYS] [redis://127.0.0.1:PORT]
 * (LIMITS_ONLY=redis in the environment: the Redis runs alone)
 * (DIR holds the SQLite files; the Redis is flushed: use a scratch one) */
#include "engine/counters.h"
#include "engine/limits.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_SPEC "messages=1000000/1m,1000000/1h,1000000/1d; rcpts=1000000/1h"
#define BENCH_HOT_KEYS 10000	/* keys the rate runs cycle through */

struct bench_arg {
	struct counter_backend *b;
	const struct limits_spec *spec;
	double secs;
	unsigned seed;
	long done, errors;
};

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
bench_run(void *p)
{
	struct bench_arg *a = p;
	struct limits_verdict v;
	char key[32];
	double end = bench_now() + a->secs;

	while ((a->done & 255) != 0 || bench_now() < end) {
		a->seed = a->seed * 1103515245u + 12345u;
		snprintf(key, sizeof(key), "id:user%u", (a->seed >> 8) % BENCH_HOT_KEYS);
		if (limits_check_and_count(a->b, key, a->spec, time(NULL), 1, 1,
		    NULL, 0, &v) < 0 || v.refused)
			a->errors++;
		a->done++;
	}
	return NULL;
}

/* Decisions per second with n threads. */
static double
bench_rate(struct counter_backend *b, const struct limits_spec *spec, int n,
    double secs)
{
	pthread_t t[2];
	struct bench_arg a[2];
	double t0 = bench_now(), total = 0;

	for (int i = 0; i < n; i++) {
		a[i] = (struct bench_arg){ b, spec, secs, 7u + (unsigned)i, 0, 0 };
		pthread_create(&t[i], NULL, bench_run, &a[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += (double)a[i].done;
		if (a[i].errors)
			fprintf(stderr, "limits_bench: %ld errors\n", a[i].errors);
	}
	return total / (bench_now() - t0);
}

static long
bench_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kb;
}

/* Track nkeys distinct keys; returns seconds taken. */
static double
bench_fill(struct counter_backend *b, const struct limits_spec *spec,
    long nkeys)
{
	struct limits_verdict v;
	char key[32];
	double t0 = bench_now();

	for (long i = 0; i < nkeys; i++) {
		snprintf(key, sizeof(key), "id:user%07ld", i);
		if (limits_check_and_count(b, key, spec, time(NULL), 1, 1, NULL, 0,
		    &v) < 0) {
			fprintf(stderr, "limits_bench: fill failed at %ld\n", i);
			break;
		}
	}
	return bench_now() - t0;
}

static long
bench_file_kb(const char *path)
{
	char p[512];
	struct stat st;
	long kb = 0;

	for (const char *const *s = (const char *const[]){ "", "-wal", NULL };
	    *s != NULL; s++) {
		snprintf(p, sizeof(p), "%s%s", path, *s);
		if (stat(p, &st) == 0)
			kb += (long)(st.st_size / 1024);
	}
	return kb;
}

static void
bench_rates(const char *name, struct counter_backend *b,
    const struct limits_spec *spec, double secs)
{
	for (int n = 1; n <= 2; n++)
		printf("| %s | %d | %.0f |\n", name, n,
		    bench_rate(b, spec, n, secs));
}

static void
bench_memory(const struct limits_spec *spec, long nkeys)
{
	long rss0 = bench_rss_kb();
	struct counter_backend *b = counters_mem_new((size_t)nkeys);
	double secs = bench_fill(b, spec, nkeys);

	printf("- memory backend: %zu keys tracked (4 windows each) in %.1f s; "
	    "RSS grew by %.1f MB\n", counters_mem_keys(b), secs,
	    (double)(bench_rss_kb() - rss0) / 1024);
	counter_backend_free(b);
}

static void
bench_sqlite_file(const char *dir, const struct limits_spec *spec,
    long nkeys)
{
	char path[512], err[256];
	struct counter_backend *b;
	double secs;

	snprintf(path, sizeof(path), "%s/keys.db", dir);
	if ((b = counters_sqlite_new(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "limits_bench: %s\n", err);
		return;
	}
	secs = bench_fill(b, spec, nkeys);
	counter_backend_free(b);	/* the last close checkpoints the WAL */
	printf("- SQLite backend: %ld keys tracked (4 windows each) in %.1f s; "
	    "file %.1f MB\n", nkeys, secs, (double)bench_file_kb(path) / 1024);
}

/* A number after "field:" in the reply to cmd on host:port; -1 if none. */
static long long
bench_redis_info(const char *host, int port, const char *cmd,
    const char *field)
{
	redisContext *c = redisConnect(host, port);
	redisReply *rep = c != NULL && c->err == 0 ? redisCommand(c, cmd) : NULL;
	long long v = -1;
	const char *p;

	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else if (rep != NULL && rep->type == REDIS_REPLY_STRING &&
	    (p = strstr(rep->str, field)) != NULL)
		v = strtoll(p + strlen(field), NULL, 10);
	freeReplyObject(rep);
	if (c != NULL)
		redisFree(c);
	return v;
}

/* Decisions per second through the Redis at url. */
static void
bench_redis_rates(const char *url, const struct limits_spec *spec, double secs)
{
	char err[256];
	struct counter_backend *b = counters_redis_new(url, err, sizeof(err));

	if (b == NULL) {
		fprintf(stderr, "limits_bench: %s\n", err);
		return;
	}
	bench_rates("redis", b, spec, secs);
	counter_backend_free(b);
}

/* nkeys tracked keys in the emptied Redis at redis://127.0.0.1:PORT. */
static void
bench_redis_memory(const char *url, const struct limits_spec *spec,
    long nkeys)
{
	char err[256];
	int port = (int)strtol(url + strlen("redis://127.0.0.1:"), NULL, 10);
	struct counter_backend *b = counters_redis_new(url, err, sizeof(err));
	long long mem0;
	double fill;

	if (b == NULL) {
		fprintf(stderr, "limits_bench: %s\n", err);
		return;
	}
	bench_redis_info("127.0.0.1", port, "FLUSHALL", "");
	mem0 = bench_redis_info("127.0.0.1", port, "INFO memory", "used_memory:");
	fill = bench_fill(b, spec, nkeys);
	printf("- Redis backend: %ld keys tracked in %.1f s; %lld Redis keys "
	    "(one hash each); used_memory grew by "
	    "%.1f MB\n", nkeys, fill, bench_redis_info("127.0.0.1", port,
	    "DBSIZE", ""), (double)(bench_redis_info("127.0.0.1", port,
	    "INFO memory", "used_memory:") - mem0) / (1024 * 1024));
	counter_backend_free(b);
}

/* The memory and SQLite backends' rates; 0 or -1 (said). */
static int
bench_local_rates(const char *dir, const struct limits_spec *spec,
    double secs)
{
	struct counter_backend *b = counters_mem_new(2 * BENCH_HOT_KEYS);
	char err[256], path[512];

	bench_rates("memory", b, spec, secs);
	counter_backend_free(b);
	snprintf(path, sizeof(path), "%s/rate.db", dir);
	if ((b = counters_sqlite_new(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "limits_bench: %s\n", err);
		return -1;
	}
	bench_rates("sqlite", b, spec, secs);
	counter_backend_free(b);
	return 0;
}

int
main(int argc, char **argv)
{
	struct limits_spec spec;
	char err[256];
	double secs = argc > 2 ? strtod(argv[2], NULL) : 3;
	long nkeys = argc > 3 ? strtol(argv[3], NULL, 10) : 1000000;
	const char *only = getenv("LIMITS_ONLY");
	int all = only == NULL || strcmp(only, "redis") != 0;

	if (argc < 2 || limits_parse(&spec, BENCH_SPEC, err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: limits_bench DIR [SECONDS] [KEYS] "
		    "[REDIS_URL]\n");
		return 2;
	}
	printf("spec: `%s`, %d hot keys, %.0f s per run\n\n", BENCH_SPEC,
	    BENCH_HOT_KEYS, secs);
	printf("| backend | threads | decisions/s |\n|---|---|---|\n");
	if (all && bench_local_rates(argv[1], &spec, secs) < 0)
		return 1;
	if (argc > 4)
		bench_redis_rates(argv[4], &spec, secs);
	printf("\n");
	if (all) {
		bench_memory(&spec, nkeys);
		bench_sqlite_file(argv[1], &spec, nkeys);
	}
	if (argc > 4)
		bench_redis_memory(argv[4], &spec, nkeys);
	return 0;
}
