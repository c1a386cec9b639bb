/* test_limits.c - limit specs, and exact limits in every counter backend:
 * a limit of N lets exactly N through, across windows, threads, processes
 * and restarts; a refusal counts nothing. */
#include "engine/counters.h"
#include "engine/limits.h"

#include "../../tests/unit/harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0	((int64_t)1700006400)	/* a UTC midnight: 1d, 1h, 1m aligned */

/* ---- spec parsing ---- */

struct parse_row {
	const char *text;
	const char *want;	/* canonical rules, or the error message */
};

static const struct parse_row parse_rows[] = {
	{ "", "" },
	{ "  ;; ", "" },
	{ "messages=30/1m", "messages 30/60 defer" },
	{ "messages=30/1m,300/1h,2000/1d action=suspend",
	  "messages 30/60 suspend, messages 300/3600 suspend, "
	  "messages 2000/86400 suspend" },
	{ "messages=30/1m, 300/1h ; rcpts=500/1h action=reject;domains=50/1h",
	  "messages 30/60 defer, messages 300/3600 defer, rcpts 500/3600 "
	  "reject, domains 50/3600 defer" },
	{ " messages = 0/90s ", "messages 0/90 defer" },
	{ "rcpts=100000000/366d", "rcpts 100000000/31622400 defer" },
	{ "msgs=30/1m", "unknown counted thing \"msgs\" (want messages, rcpts "
	  "or domains)" },
	{ "messages 30/1m", "missing \"=\" after \"messages\"" },
	{ "messages=30", "bad limit \"30\" (want COUNT/WINDOW, e.g. 30/1m)" },
	{ "messages=3x/1m", "bad count in \"3x/1m\" (want 0 to 100000000)" },
	{ "messages=100000001/1m", "bad count in \"100000001/1m\" (want 0 to "
	  "100000000)" },
	{ "messages=30/1w", "bad window in \"30/1w\" (want a number and s, m, "
	  "h or d, at most 366d)" },
	{ "messages=30/m", "bad window in \"30/m\" (want a number and s, m, h "
	  "or d, at most 366d)" },
	{ "messages=30/0s", "bad window in \"30/0s\" (want a number and s, m, "
	  "h or d, at most 366d)" },
	{ "messages=30/367d", "bad window in \"30/367d\" (want a number and s, "
	  "m, h or d, at most 366d)" },
	{ "messages=30/60", "bad window in \"30/60\" (want a number and s, m, "
	  "h or d, at most 366d)" },
	{ "messages=30/1m action=drop", "unknown action \"drop\" (want defer, "
	  "reject or suspend)" },
	{ "messages=30/1m action=defer x", "unexpected \"x\" after "
	  "\"action=defer\"" },
	{ "messages=30/1m,60/60s", "duplicate window in \"60/60s\" (messages "
	  "already has one of 60 s)" },
	{ "messages=", "bad limit list in \"messages=\" (want e.g. "
	  "messages=30/1m,300/1h action=defer)" },
	{ "messages=30/1m,", "bad limit list in \"messages=30/1m,\" (want e.g. "
	  "messages=30/1m,300/1h action=defer)" },
	{ "messages=30/1m 40/1h", "bad limit list in \"messages=30/1m 40/1h\" "
	  "(want e.g. messages=30/1m,300/1h action=defer)" },
	{ "messages=action=defer", "bad limit \"action=defer\" (want "
	  "COUNT/WINDOW, e.g. 30/1m)" },
	{ "messages=1/1s,2/2s,3/3s,4/4s,5/5s,6/6s,7/7s,8/8s,9/9s,10/10s,11/11s,"
	  "12/12s,13/13s,14/14s,15/15s,16/16s,17/17s", "too many limits at "
	  "\"17/17s\" (at most 16)" },
};

static void
spec_show(const struct limits_spec *s, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->nrules && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s %u/%u %s",
		    i ? ", " : "", limits_thing_name(s->rule[i].thing),
		    (unsigned)s->rule[i].limit, (unsigned)s->rule[i].window,
		    limits_action_name(s->rule[i].action));
}

static void
test_parse(void)
{
	struct limits_spec spec;
	char err[256], got[1024];

	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		if (limits_parse(&spec, r->text, err, sizeof(err)) == 0)
			spec_show(&spec, got, sizeof(got));
		else
			snprintf(got, sizeof(got), "%s", err);
		CHECK_STR(got, r->want, "parse \"%s\"", r->text);
	}
}

static void
test_net_key(void)
{
	static const char *const rows[][2] = {
		{ "192.0.2.7", "net:192.0.2.0/24" },
		{ "::ffff:198.51.100.200", "net:198.51.100.0/24" },
		{ "2001:db8:1:2:3:4:5:6", "net:2001:db8:1:2::/64" },
		{ "2001:db8::1", "net:2001:db8::/64" },
		{ "192.0.2", "-" },
		{ "example.com", "-" },
	};
	char out[LIMITS_NETKEY_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (limits_net_key(rows[i][0], out, sizeof(out)) < 0)
			snprintf(out, sizeof(out), "-");
		CHECK_STR(out, rows[i][1], "net key of %s", rows[i][0]);
	}
	limits_net_key_len("192.0.2.77", 26, 48, out, sizeof(out));
	CHECK_STR(out, "net:192.0.2.64/26", "net key /26");
	limits_net_key_len("2001:db8:1:2::9", 26, 48, out, sizeof(out));
	CHECK_STR(out, "net:2001:db8:1::/48", "net key /48");
	limits_net_key_len("192.0.2.77", 32, 128, out, sizeof(out));
	CHECK_STR(out, "net:192.0.2.77/32", "net key /32");
	limits_net_key_len("10.1.2.3", 0, 128, out, sizeof(out));
	CHECK_STR(out, "net:0.0.0.0/0", "net key /0");
	CHECK_INT(limits_net_key_len("10.1.2.3", 33, 64, out, sizeof(out)), -1,
	    "net key /33");
}

/* ---- exactness, per backend ---- */

/* 1 refused, 0 counted, < 0 an error. */
static int
try(struct counter_backend *b, const char *key, const char *spec_text,
    int64_t now, uint32_t rcpts, const char *const *doms, size_t nd,
    struct limits_verdict *v)
{
	struct limits_spec spec;
	char err[256];
	int rc;

	if (limits_parse(&spec, spec_text, err, sizeof(err)) < 0)
		return -100;
	rc = limits_check_and_count(b, key, &spec, now, 1, rcpts, doms, nd, v);
	return rc < 0 ? rc : v->refused;
}

/* How many of n single-recipient messages pass. */
static int
pass_count(struct counter_backend *b, const char *key, const char *spec,
    int64_t now, int n)
{
	struct limits_verdict v;
	int ok = 0;

	for (int i = 0; i < n; i++)
		ok += try(b, key, spec, now, 1, NULL, 0, &v) == 0;
	return ok;
}

static void
test_windows(struct counter_backend *b, const char *name)
{
	const char *spec = "messages=5/1m,7/1h action=suspend";
	struct limits_verdict v;

	CHECK_INT(pass_count(b, "id:w", spec, T0 + 5, 9), 5, "%s 5/1m", name);
	CHECK_INT(try(b, "id:w", spec, T0 + 59, 1, NULL, 0, &v), 1, "%s", name);
	CHECK_INT(v.rule.window, 60, "%s refused by 1m", name);
	CHECK_INT(v.rule.limit, 5, "%s limit", name);
	CHECK_INT(v.count, 5, "%s count", name);
	CHECK_INT(v.rule.action, LIMITS_SUSPEND, "%s action", name);
	CHECK_INT(v.window_end, T0 + 60, "%s window end", name);
	/* the next minute: the hour allows 2 more */
	CHECK_INT(pass_count(b, "id:w", spec, T0 + 60, 9), 2, "%s 7/1h", name);
	CHECK_INT(try(b, "id:w", spec, T0 + 61, 1, NULL, 0, &v), 1, "%s", name);
	CHECK_INT(v.rule.window, 3600, "%s refused by 1h", name);
	CHECK_INT(v.count, 7, "%s hour count", name);
	/* another key is not affected; the next hour starts afresh */
	CHECK_INT(pass_count(b, "id:other", spec, T0 + 61, 9), 5, "%s key", name);
	CHECK_INT(pass_count(b, "id:w", spec, T0 + 3600, 9), 5, "%s hour", name);
}

static void
test_rcpts(struct counter_backend *b, const char *name)
{
	const char *spec = "messages=100/1h; rcpts=10/1h action=reject";
	struct limits_verdict v;

	for (int i = 0; i < 3; i++)
		CHECK_INT(try(b, "id:r", spec, T0, 3, NULL, 0, &v), 0, "%s", name);
	CHECK_INT(try(b, "id:r", spec, T0, 5, NULL, 0, &v), 1, "%s 9+5", name);
	CHECK_INT(v.rule.thing, LIMITS_RCPTS, "%s rcpts refused", name);
	CHECK_INT(v.count, 9, "%s rcpt count", name);
	CHECK_INT(v.rule.action, LIMITS_REJECT, "%s action", name);
	CHECK_INT(try(b, "id:r", spec, T0, 1, NULL, 0, &v), 0, "%s 9+1", name);
	CHECK_INT(try(b, "id:r", spec, T0, 1, NULL, 0, &v), 1, "%s 10+1", name);
	/* the refusals counted no message: 4 so far */
	CHECK_INT(try(b, "id:r", "messages=4/1h", T0, 0, NULL, 0, &v), 1,
	    "%s refusal counted nothing", name);
	CHECK_INT(v.count, 4, "%s messages counted", name);
}

static void
test_domains(struct counter_backend *b, const char *name)
{
	const char *spec = "domains=3/1h", *ab[] = { "a.test", "B.test", "a.TEST" };
	const char *ac[] = { "A.test", "c.test" }, *d[] = { "d.test" };
	const char *bc[] = { "b.test", "c.test", "c.test" };
	struct limits_verdict v;

	CHECK_INT(try(b, "id:d", spec, T0, 3, ab, 3, &v), 0, "%s a b", name);
	CHECK_INT(try(b, "id:d", spec, T0, 2, ac, 2, &v), 0, "%s a c", name);
	CHECK_INT(try(b, "id:d", spec, T0, 2, ac, 1, &v), 0, "%s a", name);
	CHECK_INT(try(b, "id:d", spec, T0, 1, d, 1, &v), 1, "%s d", name);
	CHECK_INT(v.rule.thing, LIMITS_DOMAINS, "%s domains refused", name);
	CHECK_INT(v.count, 3, "%s domain count", name);
	CHECK_INT(try(b, "id:d", spec, T0, 3, bc, 3, &v), 0, "%s b c", name);
	CHECK_INT(try(b, "id:d", spec, T0 + 3600, 1, d, 1, &v), 0, "%s +1h", name);
}

/* Several keys in one decision: all or nothing across keys. */
static void
test_keys(struct counter_backend *b, const char *name)
{
	struct limits_spec sid, sip, sdom;
	struct limits_key k[3] = { { "id:k", &sid }, { "ip:192.0.2.1", &sip },
	    { "sdom:k.test", &sdom } };
	const char *d2[] = { "x.test", "y.test" }, *d1[] = { "z.test" };
	const char *dw[] = { "w.test" };
	struct limits_verdict v;
	char err[256];
	int n = 0;

	limits_parse(&sid, "messages=5/1h", err, sizeof(err));
	limits_parse(&sip, "messages=2/1h action=reject", err, sizeof(err));
	limits_parse(&sdom, "domains=3/1h", err, sizeof(err));
	for (int i = 0; i < 4; i++)
		if (limits_check_and_count_keys(b, k, 3, T0, 1, 2, d2, 2, &v) == 0 &&
		    !v.refused)
			n++;
	CHECK_INT(n, 2, "%s keys: the IP key holds at 2", name);
	CHECK_INT(v.key, 1, "%s keys: refused by key 1", name);
	CHECK(v.rule.action == LIMITS_REJECT && v.count == 2,
	    "%s keys: the IP rule and its count", name);
	k[1].key = "ip:192.0.2.2";	/* the refusals counted nothing */
	CHECK(limits_check_and_count_keys(b, k, 3, T0, 1, 1, d1, 1, &v) == 0 &&
	    !v.refused, "%s keys: a third domain", name);
	CHECK(limits_check_and_count_keys(b, k, 3, T0, 1, 1, dw, 1, &v) == 0 &&
	    v.refused && v.key == 2 && v.count == 3,
	    "%s keys: a fourth domain refused by key 2", name);
	for (n = 0; n < 3; n++)
		if (limits_check_and_count_keys(b, k, 1, T0, 1, 1, NULL, 0,
		    &v) != 0 || v.refused)
			break;
	CHECK_INT(n, 2, "%s keys: id counted 3 of 5, not 4", name);
	CHECK(v.refused && v.key == 0 && v.count == 5, "%s keys: id at 5",
	    name);
	k[1].key = "id:k";
	CHECK_INT(limits_check_and_count_keys(b, k, 2, T0, 1, 1, NULL, 0, &v),
	    LIMITS_EINVAL, "%s keys: a key twice", name);
}

static void
test_backend(struct counter_backend *b, const char *name)
{
	struct limits_verdict v;

	CHECK(b != NULL, "%s backend opened", name);
	if (b == NULL)
		return;
	test_windows(b, name);
	test_rcpts(b, name);
	test_domains(b, name);
	test_keys(b, name);
	CHECK_INT(try(b, "id:z", "messages=0/1d", T0, 1, NULL, 0, &v), 1,
	    "%s limit 0", name);
	CHECK_INT(try(b, "id:e", "", T0, 1, NULL, 0, &v), 0, "%s no limits", name);
}

static void
test_mem_full(void)
{
	struct counter_backend *b = counters_mem_new(2);
	const char *spec = "messages=10/1m";
	struct limits_verdict v;

	CHECK_INT(try(b, "id:1", spec, T0, 1, NULL, 0, &v), 0, "key 1");
	CHECK_INT(try(b, "id:2", spec, T0, 1, NULL, 0, &v), 0, "key 2");
	CHECK_INT(try(b, "id:3", spec, T0, 1, NULL, 0, &v), LIMITS_EFULL, "full");
	CHECK_INT(try(b, "id:1", spec, T0, 1, NULL, 0, &v), 0, "known key counts");
	CHECK_INT(counters_mem_keys(b), 2, "2 keys");
	CHECK_INT(try(b, "id:3", spec, T0 + 60, 1, NULL, 0, &v), 0, "expired");
	CHECK_INT(counters_mem_keys(b), 1, "old keys swept");
	counter_backend_free(b);
}

/* ---- threads, processes, restarts ---- */

#define CONC_THREADS	4
#define CONC_TRIES	1000

struct conc_arg {
	struct counter_backend *b;
	atomic_int ok, errors;
};

static void *
conc_run(void *p)
{
	struct conc_arg *a = p;
	struct limits_verdict v;

	for (int i = 0; i < CONC_TRIES; i++) {
		int rc = try(a->b, "id:conc", "messages=1000/1d", T0, 1, NULL, 0, &v);
		if (rc == 0)
			atomic_fetch_add(&a->ok, 1);
		else if (rc < 0)
			atomic_fetch_add(&a->errors, 1);
	}
	return NULL;
}

static void
test_threads(struct counter_backend *b, const char *name)
{
	pthread_t t[CONC_THREADS];
	struct conc_arg a = { .b = b };

	for (int i = 0; i < CONC_THREADS; i++)
		pthread_create(&t[i], NULL, conc_run, &a);
	for (int i = 0; i < CONC_THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(atomic_load(&a.ok), 1000, "%s: 4 threads, limit 1000", name);
	CHECK_INT(atomic_load(&a.errors), 0, "%s: no errors", name);
}

/* One child: how many of 300 pass a limit of 300, written to fd. */
static void
fork_child(const char *path, int fd)
{
	char err[256];
	struct counter_backend *b = counters_sqlite_new(path, err, sizeof(err));
	int ok = b != NULL ? pass_count(b, "id:fork", "messages=300/1d", T0, 300) : -1;

	counter_backend_free(b);
	if (write(fd, &ok, sizeof(ok)) != (ssize_t)sizeof(ok))
		_exit(1);
	_exit(0);
}

static void
test_fork(const char *path)
{
	int fds[2], total = 0, ok, status;
	pid_t pid[2];

	if (pipe(fds) < 0)
		abort();
	for (int i = 0; i < 2; i++)
		if ((pid[i] = fork()) == 0)
			fork_child(path, fds[1]);
	close(fds[1]);
	for (int i = 0; i < 2; i++) {
		CHECK(read(fds[0], &ok, sizeof(ok)) == (ssize_t)sizeof(ok), "read");
		CHECK(ok >= 0, "child opened the file");
		total += ok;
	}
	close(fds[0]);
	for (int i = 0; i < 2; i++)
		waitpid(pid[i], &status, 0);
	CHECK_INT(total, 300, "two processes, limit 300");
}

static void
test_restart(const char *path)
{
	char err[256];
	const char *spec = "messages=5/1h";
	struct counter_backend *b = counters_sqlite_new(path, err, sizeof(err));

	CHECK_INT(pass_count(b, "id:restart", spec, T0, 3), 3, "before restart");
	counter_backend_free(b);
	b = counters_sqlite_new(path, err, sizeof(err));
	CHECK_INT(pass_count(b, "id:restart", spec, T0 + 1, 9), 2, "after restart");
	counter_backend_free(b);
}

static void
test_sqlite_errors(void)
{
	char err[256] = "";

	CHECK(counters_sqlite_new("/nonexistent/dir/x.db", err, sizeof(err)) ==
	    NULL, "bad path");
	CHECK(strncmp(err, "/nonexistent/dir/x.db: ", 23) == 0, "err: %s", err);
}

int
main(void)
{
	char dir[] = "/tmp/jaga-limits-XXXXXX", path[64], err[256];
	struct counter_backend *b;

	test_parse();
	test_net_key();
	b = counters_mem_new(1000);
	test_backend(b, "memory");
	test_threads(b, "memory");
	counter_backend_free(b);
	test_mem_full();
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/counters.db", dir);
	b = counters_sqlite_new(path, err, sizeof(err));
	CHECK(b != NULL, "open: %s", err);
	test_backend(b, "sqlite");
	test_threads(b, "sqlite");
	counter_backend_free(b);
	test_fork(path);
	test_restart(path);
	test_sqlite_errors();
	for (const char *const *s = (const char *const[]){ "", "-wal", "-shm",
	    NULL }; *s != NULL; s++) {
		snprintf(path, sizeof(path), "%s/counters.db%s", dir, *s);
		unlink(path);
	}
	rmdir(dir);
	return harness_end("limits");
}
