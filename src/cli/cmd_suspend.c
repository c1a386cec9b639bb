/* cmd_suspend.c - "jaga suspend": identities the daemon suspended because
 * they burst past a limit with action=suspend (issue 3 §4), read from and
 * lifted in the identity store (state_dir/jaga.db, engine/store.h), or in
 * Redis with store = redis:// (engine/susp_redis.h; every gateway on that
 * Redis sees the lift).  The running daemon reads the suspensions at every
 * MAIL, so a lift applies at once.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_config.h"
#include "cli/cli_out.h"
#include "cli/cmd.h"
#include "engine/redisdb.h"
#include "engine/store.h"
#include "engine/susp_redis.h"

#define SUSP_PATH_MAX 4096

struct susp_opts {
	const char *file;
	struct buf overrides;
	int json, require_pw;
};

static struct susp_opts so;
static struct redisdb *susp_rdb;	/* store = redis://, else NULL */

static const char susp_usage[] =
"usage: jaga suspend COMMAND [-c FILE] [-o name=value]... [options]\n"
"\n"
"  list [--json]             identities suspended now\n"
"  show NAME [--json]        the suspension of NAME with its evidence\n"
"  lift NAME [--require-password-change]\n"
"                            end it (with the flag: only once \"jaga user\n"
"                            passwd NAME\" has given a new password)\n"
"\n"
"-c FILE and -o name=value find state_dir and store as \"jaga serve\"\n"
"does (store = redis://...: the suspensions every gateway shares).\n";

/* Options; returns -1 to go on, else the exit status. */
static int
susp_args(int argc, char **argv, int nargs)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "require-password-change", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(susp_usage, stdout);
			return 0;
		} else if (c == 'c') {
			so.file = optarg;
		} else if (c == 'o') {
			if (buf_append(&so.overrides, optarg,
			    strlen(optarg) + 1) < 0)
				return 2;
		} else if (c == 'j' || c == 'r') {
			*(c == 'j' ? &so.json : &so.require_pw) = 1;
		} else {
			break;
		}
	}
	if (c == -1 && argc - optind == nargs)
		return -1;
	fputs(susp_usage, stderr);
	return 2;
}

static struct store *
susp_open(void)
{
	struct config *cfg = cli_config_load("jaga suspend", so.file,
	    &so.overrides);
	char path[SUSP_PATH_MAX], err[512];
	struct store *st = NULL;

	if (cfg == NULL)
		return NULL;
	if (strcmp(config_str(cfg, "store"), "sqlite") != 0 &&
	    (susp_rdb = redisdb_new(config_str(cfg, "store"), err,
	    sizeof err)) == NULL)
		fprintf(stderr, "jaga suspend: %s\n", err);
	else if ((size_t)snprintf(path, sizeof path, "%s/%s",
	    config_str(cfg, "state_dir"), STORE_FILE) >= sizeof path)
		fprintf(stderr, "jaga suspend: state_dir path too long\n");
	else if ((st = store_open(path, err, sizeof err)) == NULL)
		fprintf(stderr, "jaga suspend: %s\n", err);
	config_free(cfg);
	return st;
}

/* The suspensions live in Redis or in the store: the same calls. */
static int
susp_get(struct store *st, const char *name, struct suspension *su,
    char *err, size_t errlen)
{
	return susp_rdb ? susp_redis_get(susp_rdb, name, su, err, errlen) :
	    store_suspend_get(st, name, su, err, errlen);
}

static int
susp_walk(struct store *st, store_suspension_fn *fn, void *arg, char *err,
    size_t errlen)
{
	return susp_rdb ? susp_redis_list(susp_rdb, fn, arg, err, errlen) :
	    store_suspend_list(st, fn, arg, err, errlen);
}

static int
susp_end(struct store *st, const char *name, int require_pw, char *err,
    size_t errlen)
{
	return susp_rdb ? susp_redis_lift(susp_rdb, name, require_pw, err,
	    errlen) : store_suspend_lift(st, name, require_pw, err, errlen);
}

/* ---- output ---- */

/* The evidence is JSON made by the daemon (engine/evidence.h): as is. */
static void
susp_print_json(const struct suspension *su)
{
	printf("{\"name\":");
	cli_json_str(su->name);
	printf(",\"since\":%lld,\"rule\":", su->since);
	cli_json_str(su->rule);
	printf(",\"active\":%s,\"lifted_at\":%lld,\"require_password_change\""
	    ":%s,\"evidence\":%s}", su->active ? "true" : "false",
	    su->lifted_at, su->require_pw_change ? "true" : "false",
	    su->evidence[0] ? su->evidence : "{}");
}

static void
susp_print_text(const struct suspension *su)
{
	char t[32];

	printf("name        %s\n", su->name);
	printf("status      %s\n", !su->active ? "lifted" :
	    su->require_pw_change ? "suspended until the password changes" :
	    "suspended");
	printf("since       %s\n", cli_time(su->since, t, sizeof t));
	printf("rule        %s\n", su->rule);
	if (su->lifted_at)
		printf("lifted_at   %s\n", cli_time(su->lifted_at, t, sizeof t));
	printf("evidence    %s\n", su->evidence);
	if (su->active && su->require_pw_change)
		printf("lift with   jaga user passwd %s\n", su->name);
	else if (su->active)
		printf("lift with   jaga suspend lift %s [--require-password-"
		    "change]\n", su->name);
}

/* ---- the verbs ---- */

static int
susp_list_one(const struct suspension *su, void *arg)
{
	int *n = arg;
	char t[32];

	if (so.json) {
		printf("%s", (*n)++ ? "," : "");
		susp_print_json(su);
	} else {
		printf("%-24s %-20s %s%s\n", su->name, cli_time(su->since, t,
		    sizeof t), su->rule, su->require_pw_change ?
		    " (lifted once the password changes)" : "");
	}
	return 0;
}

static int
susp_list(struct store *st, char **argv)
{
	char err[512];
	int n = 0, r;

	(void)argv;
	if (so.json)
		putchar('[');
	r = susp_walk(st, susp_list_one, &n, err, sizeof err);
	if (so.json)
		printf("]\n");
	if (r < 0)
		fprintf(stderr, "jaga suspend: %s\n", err);
	return r != 0;
}

static int
susp_show(struct store *st, char **argv)
{
	struct suspension *su = malloc(sizeof *su);
	char err[512];
	int r = su == NULL ? -1 : susp_get(st, argv[0], su, err, sizeof err);

	if (r == 0 && so.json) {
		susp_print_json(su);
		putchar('\n');
	} else if (r == 0) {
		susp_print_text(su);
	} else if (r == STORE_NOTFOUND) {
		fprintf(stderr, "jaga suspend: %s was never suspended\n",
		    argv[0]);
	} else {
		fprintf(stderr, "jaga suspend: %s\n", su ? err : "out of memory");
	}
	free(su);
	return r != 0;
}

/* Mark the identity: a new password is due.  Returns 0 or -1 (said). */
static int
susp_must_change(struct store *st, const char *name)
{
	struct identity *id = calloc(1, sizeof *id);
	char err[512];
	int r = id == NULL ? -1 : store_identity_get(st, name, id, err,
	    sizeof err);

	if (r == 0) {
		id->must_change = 1;
		r = store_identity_update(st, id, err, sizeof err);
	}
	if (r != 0 && r != STORE_NOTFOUND)
		fprintf(stderr, "jaga suspend: %s\n", id ? err : "out of memory");
	if (id != NULL)
		sodium_memzero(id, sizeof *id);
	free(id);
	return r == 0 || r == STORE_NOTFOUND ? 0 : -1;
}

/* With --require-password-change the identity also gets must_change, so
 * "jaga user show" tells why it still cannot send. */
static int
susp_lift(struct store *st, char **argv)
{
	char err[512];
	int r = susp_end(st, argv[0], so.require_pw, err, sizeof err);

	if (r == STORE_NOTFOUND) {
		fprintf(stderr, "jaga suspend: %s is not suspended\n", argv[0]);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "jaga suspend: %s\n", err);
		return 1;
	}
	if (so.require_pw && susp_must_change(st, argv[0]) < 0)
		return 1;
	if (so.require_pw)
		printf("%s stays suspended until \"jaga user passwd %s\"\n",
		    argv[0], argv[0]);
	else
		printf("%s may send again\n", argv[0]);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct store *st, char **argv);
	int nargs;
} susp_verbs[] = {
	{ "list", susp_list, 0 },
	{ "show", susp_show, 1 },
	{ "lift", susp_lift, 1 },
};

static int
susp_verb_find(const char *name)
{
	for (size_t i = 0; i < sizeof susp_verbs / sizeof susp_verbs[0]; i++)
		if (strcmp(name, susp_verbs[i].name) == 0)
			return (int)i;
	return -1;
}

int
cmd_suspend(int argc, char **argv)
{
	struct store *st;
	int v, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(susp_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if ((v = susp_verb_find(argv[1])) < 0) {
		fprintf(stderr, "jaga suspend: unknown command \"%s\"\n%s",
		    argv[1], susp_usage);
		return 2;
	}
	buf_init(&so.overrides, 256 * 1024);
	r = susp_args(argc - 1, argv + 1, susp_verbs[v].nargs);
	if (r < 0 && (st = susp_open()) == NULL)
		r = 1;
	else if (r < 0) {
		r = susp_verbs[v].fn(st, argv + 1 + optind);
		store_close(st);
	}
	redisdb_free(susp_rdb);
	susp_rdb = NULL;
	buf_done(&so.overrides);
	return r;
}
