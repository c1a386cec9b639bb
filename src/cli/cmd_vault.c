/* cmd_vault.c - "jaga vault": upstream relay credentials encrypted at rest
 * (issue 4 §1, engine/vault.h).
 *
 * Secrets and passphrases come from the terminal without echo, or from
 * standard input one line each; never from argv or the environment, where
 * other users could read them.  No verb ever prints a secret.  Core dumps
 * are off for the whole command (a dump would hold the key).  A verb is
 * one row of vault_verbs: add one there (e.g. "test"). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_config.h"
#include "cli/cli_out.h"
#include "cli/cmd.h"
#include "engine/vault.h"
#include "util/harden.h"

#define VAULT_CLI_PATH_MAX 4096
#define VAULT_DAYS_MAX 36500
#define VAULT_LINE_MAX 1024	/* a secret or a passphrase, in octets */

/* What a verb accepts besides -c, -o and --help. */
enum { VO_USER = 1, VO_EXPIRES = 2, VO_JSON = 4, VO_TO = 8 };
/* What a verb needs before it runs. */
enum { VN_OPEN = 1, VN_KEY = 2 };

/* What every verb gets: the configuration's vault and key, options. */
struct vault_cli {
	const char *file;		/* -c */
	struct buf overrides;		/* -o, NUL-separated */
	const char *user, *to;		/* --user, --to */
	long days;			/* --expires; -1 = not given */
	int json;
	char path[VAULT_CLI_PATH_MAX];	/* the vault file */
	struct vault_keysrc *ks;
	int64_t max_age;		/* vault_max_age, seconds */
	struct vault *v;		/* VN_OPEN */
};

struct vault_verb {
	const char *name;
	int (*fn)(struct vault_cli *c, char **argv);
	int opts, needs;
	int nargs;			/* positional arguments after the verb */
	const char *usage;
};

static const char vault_usage[] =
"usage: jaga vault COMMAND [-c FILE] [-o name=value]... [options]\n"
"\n"
"  init                      make the master key (vault_key = file:PATH,\n"
"                            32 random bytes, mode 0400) and an empty vault\n"
"  set NAME --user USER [--expires DAYS]\n"
"                            store an upstream credential; the secret is\n"
"                            read from the terminal (no echo) or stdin\n"
"  list [--json]             names, users, ages, expiry, warnings (never\n"
"                            a secret)\n"
"  rotate NAME [--expires DAYS]  a new secret for NAME\n"
"  remove NAME               delete NAME\n"
"  rekey [--to SPEC]         a new master key, every entry re-encrypted\n"
"  test NAME                 log in to the upstream with NAME and report\n"
"                            the server's reply (the smarthost relay)\n"
"\n"
"-c FILE and -o name=value find vault_file (default state_dir/vault) and\n"
"vault_key (file:/etc/jaga/vault.key, credential:NAME or passphrase) as\n"
"\"jaga serve\" does.  \"jaga vault COMMAND --help\" tells more.\n";

/* ---- secrets: locked memory, no stdio buffers ---- */

/* One line from fd 0 into out (max bytes, locked), byte by byte so no
 * stdio buffer keeps a copy.  Returns its length without the line end,
 * or -1 when longer than max - 1. */
static long
vault_read_line(char *out, size_t max)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	while ((r = read(STDIN_FILENO, &ch, 1)) == 1 && ch != '\n') {
		if (n + 1 >= max) {
			sodium_memzero(out, max);
			return -1;
		}
		out[n++] = ch;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return (long)n;
}

/* Ask on the terminal without echo (prompt on stderr), or read a line of
 * stdin when it is not a terminal. */
static long
vault_ask(const char *prompt, char *out, size_t max)
{
	struct termios old, quiet;
	long n;

	if (!isatty(STDIN_FILENO))
		return vault_read_line(out, max);
	fputs(prompt, stderr);
	tcgetattr(STDIN_FILENO, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	n = vault_read_line(out, max);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return n;
}

/* A new secret (or passphrase) into out: on a terminal asked twice. */
static long
vault_ask_new(const char *what, char *out, size_t max)
{
	char prompt[160], *again;
	long n, m;

	snprintf(prompt, sizeof prompt, "%s: ", what);
	if ((n = vault_ask(prompt, out, max)) <= 0 || !isatty(STDIN_FILENO))
		return n;
	if ((again = sodium_malloc(max)) == NULL)
		return -1;
	m = vault_ask("Again: ", again, max);
	if (m != n || sodium_memcmp(out, again, (size_t)n) != 0) {
		fprintf(stderr, "jaga vault: the two do not match\n");
		n = -2;
	}
	sodium_free(again);
	return n;
}

/* Read a line and hand it to the passphrase source ks. */
static int
vault_passphrase(struct vault_keysrc *ks, const char *what, int fresh)
{
	char *pass = sodium_malloc(VAULT_LINE_MAX);
	long n = -1;

	if (pass != NULL)
		n = fresh ? vault_ask_new(what, pass, VAULT_LINE_MAX) :
		    vault_ask("Vault passphrase: ", pass, VAULT_LINE_MAX);
	if (n == 0 || n == -1)
		fprintf(stderr, "jaga vault: %s: empty, or longer than %d "
		    "octets\n", what, VAULT_LINE_MAX - 1);
	if (n > 0)
		vault_keysrc_set_passphrase(ks, pass, (size_t)n);
	sodium_free(pass);
	return n > 0 ? 0 : -1;
}

/* ---- the verbs ---- */

static int
vault_fail(const char *verb, const char *err)
{
	fprintf(stderr, "jaga vault %s: %s\n", verb, err);
	return 1;
}

/* The key file of a file source, made when missing (its directory too). */
static int
vault_init_key(struct vault_cli *c, const char *spec, char *err,
    size_t errlen)
{
	char dir[VAULT_CLI_PATH_MAX];
	const char *path = spec + 5, *slash = strrchr(path, '/');

	if (strncmp(spec, "file:", 5) != 0 || access(path, F_OK) == 0)
		return 0;
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (dir[0] != '\0' && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (vault_keyfile_create(path, err, errlen) < 0)
		return -1;
	fprintf(stderr, "jaga vault: new master key in %s (mode 0400); keep "
	    "it apart from the vault and back it up separately\n", path);
	return 0;
}

/* A key file in the vault's own directory ends up in the same backup. */
static void
vault_init_warn(const char *vault, const char *spec)
{
	const char *vs = strrchr(vault, '/'), *ks = strrchr(spec, '/');

	if (strncmp(spec, "file:", 5) != 0 || vs == NULL || ks == NULL)
		return;
	spec += 5;
	if (vs - vault == ks - spec && memcmp(vault, spec,
	    (size_t)(vs - vault)) == 0)
		fprintf(stderr, "jaga vault: warning: the key is in the vault's "
		    "directory; move it elsewhere (vault_key = file:PATH) so "
		    "one copy of that directory does not hold both\n");
}

static int
vault_init(struct vault_cli *c, char **argv)
{
	struct config *cfg = cli_config_load("jaga vault", c->file,
	    &c->overrides);
	char err[1024], spec_copy[VAULT_CLI_PATH_MAX + 8];
	int r = -1;

	if (cfg == NULL)
		return 1;
	snprintf(spec_copy, sizeof spec_copy, "%s", config_str(cfg,
	    "vault_key"));
	if (access(c->path, F_OK) == 0)
		snprintf(err, sizeof err, "%s exists already (jaga vault rekey "
		    "changes its key)", c->path);
	else if (vault_init_key(c, config_str(cfg, "vault_key"), err,
	    sizeof err) == 0 && (!vault_keysrc_is_passphrase(c->ks) ||
	    vault_passphrase(c->ks, "New vault passphrase", 1) == 0))
		r = vault_create(c->path, c->ks, err, sizeof err);
	config_free(cfg);
	if (r < 0)
		return vault_fail("init", err);
	printf("created %s\n", c->path);
	vault_init_warn(c->path, spec_copy);
	return 0;
}

/* The secret for name, read, then handed to put; wiped after. */
static int
vault_with_secret(struct vault_cli *c, const char *verb, const char *name,
    const char *user, long days, const struct vault_meta *old)
{
	char *secret = sodium_malloc(VAULT_LINE_MAX), err[1024], prompt[128];
	int64_t now = (int64_t)time(NULL), expires;
	long n = -1;
	int r = -1;

	snprintf(prompt, sizeof prompt, "Secret for %s", name);
	if (secret != NULL)
		n = vault_ask_new(prompt, secret, VAULT_LINE_MAX);
	expires = days > 0 ? now + days * 86400LL : days == 0 ? 0 :
	    old ? old->expires : 0;
	if (n == 0 || n == -1)
		snprintf(err, sizeof err, "the secret is empty, or longer than "
		    "%d octets", VAULT_SECRET_MAX);
	else if (n > 0)
		r = vault_set(c->v, c->ks, name, user, secret, (size_t)n,
		    expires, now, err, sizeof err);
	sodium_free(secret);
	if (n == -2)
		return 1;
	return r < 0 ? vault_fail(verb, err) : 0;
}

static int
vault_find_meta(const struct vault_meta *m, void *arg)
{
	struct vault_meta *want = arg;

	if (strcmp(m->name, want->name) != 0)
		return 0;
	*want = *m;
	return 1;
}

/* The metadata of name into m; 0, or 1 when there is none. */
static int
vault_meta_of(struct vault_cli *c, const char *name, struct vault_meta *m)
{
	char err[16];

	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	return vault_list(c->v, vault_find_meta, m, err, sizeof err) == 1 ?
	    0 : 1;
}

static int
vault_set_cmd(struct vault_cli *c, char **argv)
{
	struct vault_meta old;
	int had = vault_meta_of(c, argv[0], &old) == 0;

	if (vault_with_secret(c, "set", argv[0], c->user, c->days,
	    had ? &old : NULL) != 0)
		return 1;
	printf("%s %s (user %s)\n", had ? "replaced" : "stored", argv[0],
	    c->user);
	return 0;
}

static int
vault_rotate_cmd(struct vault_cli *c, char **argv)
{
	struct vault_meta old;

	if (vault_meta_of(c, argv[0], &old) != 0) {
		fprintf(stderr, "jaga vault rotate: no entry \"%s\"\n", argv[0]);
		return 1;
	}
	if (vault_with_secret(c, "rotate", argv[0], old.user, c->days,
	    &old) != 0)
		return 1;
	printf("rotated %s (version %u)\n", argv[0],
	    (unsigned)old.version + 1);
	return 0;
}

static int
vault_remove_cmd(struct vault_cli *c, char **argv)
{
	char err[1024];
	int r = vault_remove(c->v, c->ks, argv[0], err, sizeof err);

	if (r == 1)
		fprintf(stderr, "jaga vault remove: no entry \"%s\"\n", argv[0]);
	if (r < 0)
		return vault_fail("remove", err);
	if (r == 0)
		printf("removed %s\n", argv[0]);
	return r != 0;
}

/* --to SPEC: the new key source (a missing key file is made). */
static int
vault_rekey_cmd(struct vault_cli *c, char **argv)
{
	struct vault_keysrc *to = NULL;
	char err[1024];
	int r = -1;

	if (c->to != NULL && (to = vault_keysrc_new(c->to, err,
	    sizeof err)) == NULL)
		return vault_fail("rekey", err);
	if (to == NULL && vault_keysrc_is_passphrase(c->ks))
		to = vault_keysrc_new("passphrase", err, sizeof err);
	if (to != NULL && vault_keysrc_is_passphrase(to) &&
	    vault_passphrase(to, "New vault passphrase", 1) < 0)
		snprintf(err, sizeof err, "no new passphrase");
	else if (to == NULL || vault_init_key(c, c->to ? c->to : "", err,
	    sizeof err) == 0)
		r = vault_rekey(c->v, c->ks, to, err, sizeof err);
	vault_keysrc_free(to);
	if (r < 0)
		return vault_fail("rekey", err);
	printf("rekeyed %s%s%s\n", c->path, c->to ? ": set vault_key = " : "",
	    c->to ? c->to : "");
	return 0;
}

/* ---- list ---- */

struct vault_list_state {
	struct vault_cli *c;
	int64_t now;
	int n, flagged;
};

/* The warnings of m as words ("age,expiring"), "-" for none. */
static const char *
vault_warn_words(unsigned w, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s%s", w & VAULT_WARN_AGE ? "age," : "",
	    w & VAULT_WARN_EXPIRING ? "expiring," : "",
	    w & VAULT_WARN_EXPIRED ? "expired," : "");
	if (out[0] == '\0')
		return "-";
	out[strlen(out) - 1] = '\0';
	return out;
}

static void
vault_list_json(const struct vault_meta *m, unsigned w, long long days)
{
	char t[32];
	int first = 1;

	fputs("{\"name\": ", stdout);
	cli_json_str(m->name);
	fputs(", \"user\": ", stdout);
	cli_json_str(m->user);
	printf(", \"version\": %u, \"created\": \"%s\"", (unsigned)m->version,
	    cli_time(m->created, t, sizeof t));
	printf(", \"rotated\": \"%s\", \"age_days\": %lld, \"expires\": ",
	    cli_time(m->rotated, t, sizeof t), days);
	if (m->expires)
		printf("\"%s\"", cli_time(m->expires, t, sizeof t));
	else
		fputs("null", stdout);
	fputs(", \"warnings\": [", stdout);
	if (w & VAULT_WARN_AGE)
		printf("%s\"age\"", first-- ? "" : ", ");
	if (w & VAULT_WARN_EXPIRING)
		printf("%s\"expiring\"", first-- ? "" : ", ");
	if (w & VAULT_WARN_EXPIRED)
		printf("%s\"expired\"", first-- ? "" : ", ");
	fputs("]}", stdout);
}

static int
vault_list_one(const struct vault_meta *m, void *arg)
{
	struct vault_list_state *ls = arg;
	unsigned w = vault_meta_warn(m, ls->now, ls->c->max_age);
	long long days = (ls->now - (m->rotated ? m->rotated : m->created)) /
	    86400;
	char t[32], words[40], age[32];

	ls->flagged += w != 0;
	if (ls->c->json) {
		fputs(ls->n++ ? ",\n" : "\n", stdout);
		vault_list_json(m, w, days);
		return 0;
	}
	snprintf(age, sizeof age, "%lldd", days);
	printf("%-20s %-24s %7u %6s %-20s %s\n", m->name, m->user,
	    (unsigned)m->version, age, cli_time(m->expires, t, sizeof t),
	    vault_warn_words(w, words, sizeof words));
	return 0;
}

static int
vault_list_cmd(struct vault_cli *c, char **argv)
{
	struct vault_list_state ls = { c, (int64_t)time(NULL), 0, 0 };
	char err[1024];

	if (c->json)
		putchar('[');
	else
		printf("%-20s %-24s %7s %6s %-20s %s\n", "NAME", "USER",
		    "VERSION", "AGE", "EXPIRES", "WARNING");
	vault_list(c->v, vault_list_one, &ls, err, sizeof err);
	if (c->json)
		printf("%s]\n", ls.n ? "\n" : "");
	if (ls.flagged)
		fprintf(stderr, "jaga vault: %d entr%s past vault_max_age (%lld "
		    "days) or near expiry: jaga vault rotate NAME\n", ls.flagged,
		    ls.flagged == 1 ? "y" : "ies",
		    (long long)(c->max_age / 86400));
	return 0;
}

/* ---- the table, options and running a verb ---- */

static const struct vault_verb vault_verbs[] = {
	{ "init", vault_init, 0, 0, 0, " [-c FILE] [-o name=value]...\n"
	    "Make the master key of vault_key (file:PATH: 32 random bytes, "
	    "mode 0400, its\ndirectory made 0700 when missing; an existing "
	    "key file is used) and an\nempty vault at vault_file.  Keep the "
	    "key apart from the vault (another\ndirectory, another backup).  "
	    "With vault_key = passphrase the passphrase is\nasked twice "
	    "(or read as one line of stdin).\n" },
	{ "set", vault_set_cmd, VO_USER | VO_EXPIRES, VN_OPEN | VN_KEY, 1,
	    " NAME --user USER [--expires DAYS] [-c FILE] [-o name=value]..."
	    "\nStore the upstream credential NAME ([A-Za-z0-9._-], up to 64): "
	    "USER and a\nsecret read from the terminal without echo (asked "
	    "twice) or as one line of\nstdin; never from argv or the "
	    "environment.  With vault_key = passphrase\nthe passphrase comes "
	    "first (its own line on stdin).  --expires: days until\nthe "
	    "provider expires it (0 = never).\n" },
	{ "list", vault_list_cmd, VO_JSON, VN_OPEN, 0, " [--json] [-c FILE] "
	    "[-o name=value]...\nEvery entry: name, user, version, age since "
	    "its last rotation, expiry and\na warning past vault_max_age "
	    "(\"age\") or within 14 days of expiry\n(\"expiring\", "
	    "\"expired\").  Needs no key; never prints a secret.\n" },
	{ "rotate", vault_rotate_cmd, VO_EXPIRES, VN_OPEN | VN_KEY, 1,
	    " NAME [--expires DAYS] [-c FILE] [-o name=value]...\nA new "
	    "secret for NAME, read as for set; the user stays, the version "
	    "goes up.\n" },
	{ "remove", vault_remove_cmd, 0, VN_OPEN | VN_KEY, 1, " NAME [-c FILE]"
	    " [-o name=value]...\nDelete NAME from the vault.\n" },
	{ "rekey", vault_rekey_cmd, VO_TO, VN_OPEN | VN_KEY, 0, " [--to SPEC] "
	    "[-c FILE] [-o name=value]...\nA new master key, every entry "
	    "re-encrypted.  Without --to: new random bytes\nin the key file "
	    "(written to KEY.new, the vault renamed, then KEY.new over KEY;"
	    "\na crash between leaves a pair jaga opens), or a new passphrase."
	    "  --to SPEC:\nthe key of another source (file:PATH, made when "
	    "missing, or passphrase);\nset vault_key to it afterwards.\n" },
};

static int
vault_opt(struct vault_cli *c, int ch, int allowed)
{
	static const int need[128] = { ['u'] = VO_USER, ['e'] = VO_EXPIRES,
	    ['j'] = VO_JSON, ['t'] = VO_TO };
	char *end;

	if (ch < 0 || ch >= 128 || (need[ch] && !(need[ch] & allowed)))
		return -1;
	switch (ch) {
	case 'c': c->file = optarg; return 0;
	case 'o': return buf_append(&c->overrides, optarg,
	    strlen(optarg) + 1) < 0 ? -1 : 0;
	case 'u': c->user = optarg; return 0;
	case 't': c->to = optarg; return 0;
	case 'j': c->json = 1; return 0;
	case 'e':
		errno = 0;
		c->days = strtol(optarg, &end, 10);
		return errno || end == optarg || *end || c->days < 0 ||
		    c->days > VAULT_DAYS_MAX ? -1 : 0;
	default: return -1;
	}
}

/* Parse argv (argv[0] is the verb).  Returns -1 to go on, else the exit
 * status (0 after --help, 2 for bad usage). */
static int
vault_args(struct vault_cli *c, const struct vault_verb *v, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "expires", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;	/* its complaint would echo "--password=SECRET" */
	while ((ch = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: jaga vault %s%s", v->name, v->usage);
			return 0;
		}
		if (vault_opt(c, ch, v->opts) < 0)
			goto usage;
	}
	if (argc - optind == v->nargs && (!(v->opts & VO_USER) || c->user))
		return -1;
usage:
	fprintf(stderr, "usage: jaga vault %s%s", v->name, v->usage);
	return 2;
}

/* vault_file, vault_key and vault_max_age from the configuration. */
static int
vault_setup(struct vault_cli *c)
{
	struct config *cfg = cli_config_load("jaga vault", c->file,
	    &c->overrides);
	char err[1024];
	int r = -1;

	if (cfg == NULL)
		return -1;
	c->max_age = config_int(cfg, "vault_max_age") / 1000;
	if (vault_path(config_str(cfg, "vault_file"),
	    config_str(cfg, "state_dir"), c->path, sizeof c->path) < 0)
		fprintf(stderr, "jaga vault: vault_file path too long\n");
	else if ((c->ks = vault_keysrc_new(config_str(cfg, "vault_key"), err,
	    sizeof err)) == NULL)
		fprintf(stderr, "jaga vault: %s\n", err);
	else
		r = 0;
	config_free(cfg);
	return r;
}

static int
vault_run(struct vault_cli *c, const struct vault_verb *v, int argc,
    char **argv)
{
	char err[1024];
	int r = vault_args(c, v, argc, argv);

	if (r >= 0)
		return r;
	if (vault_setup(c) < 0)
		return 1;
	if ((v->needs & VN_OPEN) &&
	    (c->v = vault_open(c->path, err, sizeof err)) == NULL)
		return vault_fail(v->name, err);
	if ((v->needs & VN_KEY) && vault_keysrc_is_passphrase(c->ks) &&
	    vault_passphrase(c->ks, "Vault passphrase", 0) < 0)
		return 1;
	return v->fn(c, argv + optind);
}

int
cmd_vault(int argc, char **argv)
{
	struct vault_cli c;
	const struct vault_verb *v = NULL;
	int r;

	harden_no_core(1);	/* keys in memory: no core, no ptrace */
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(vault_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "test") == 0)	/* its own options */
		return cmd_vault_test(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof vault_verbs / sizeof vault_verbs[0]; i++)
		if (strcmp(argv[1], vault_verbs[i].name) == 0)
			v = &vault_verbs[i];
	if (v == NULL) {
		fprintf(stderr, "jaga vault: unknown command \"%s\"\n%s",
		    argv[1], vault_usage);
		return 2;
	}
	memset(&c, 0, sizeof c);
	c.days = -1;
	buf_init(&c.overrides, 256 * 1024);
	r = vault_run(&c, v, argc - 1, argv + 1);
	vault_close(c.v);
	vault_keysrc_free(c.ks);
	buf_done(&c.overrides);
	return r;
}
