/* cmd_user.c - "jaga user": AUTH identities in the state store
 * (state_dir/jaga.db, engine/store.h).
 *
 * Passwords come from standard input (--password-stdin) or are generated
 * and printed once; never from argv or the environment, where other users
 * could read them.  Hashes are never printed except by "jaga user hash". */
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
#include "engine/passwd.h"
#include "engine/redisdb.h"
#include "engine/rotation.h"
#include "engine/store.h"
#include "engine/susp_redis.h"
#include "util/harden.h"
#include "util/netaddr.h"

#define USER_PATH_MAX 4096
#define USER_ADDR_MAX 254	/* RFC 5321 §4.5.3.1.3 path, less <> */
#define USER_LINE_MAX 4096	/* a line of an import file */
#define USER_DAYS_MAX 36500

/* What a verb accepts besides -c, -o and --help. */
enum {
	UO_APP = 1, UO_LISTS = 2, UO_LIMIT = 4, UO_EXPIRES = 8,
	UO_STDIN = 16, UO_JSON = 32,
};

struct user_verb {
	const char *name;
	int (*fn)(struct store *st, struct identity *id, int argc,
	    char **argv);
	int opts;
	int nargs;		/* positional arguments after the verb */
	const char *usage;
};

struct user_opts {
	const char *file;
	struct buf overrides;
	int app, json, pw_stdin;
	long days;		/* --expires; -1 = not given */
	int any_network;	/* --network any: no network restriction */
	int default_limit;	/* --limit default: limits_default applies */
	struct identity *id;	/* lists and limits land here */
	struct rotation_policy pol;	/* credential_max_age, ..._warning */
};

static struct user_opts uo;

static const char user_usage[] =
"usage: jaga user COMMAND [-c FILE] [-o name=value]... [options]\n"
"\n"
"  add NAME [--app] [--sender ADDR|@DOMAIN]... [--from ADDR|@DOMAIN]...\n"
"      [--network CIDR]... [--limit SPEC] [--expires DAYS]\n"
"      [--password-stdin]    create an identity; prints its new password once\n"
"  list [--json]             every identity (never the hashes)\n"
"  show NAME [--json]        one identity\n"
"  passwd NAME [--password-stdin]  a new password (generated unless read)\n"
"  set NAME [--sender ...]... [--from ...]... [--network CIDR|any]...\n"
"      [--limit SPEC|default] [--expires DAYS]  change an identity\n"
"  revoke NAME               refuse its AUTH at once\n"
"  unrevoke NAME             undo a revocation\n"
"  remove NAME               delete it\n"
"  import FILE               name:hash or Dovecot passwd-file lines\n"
"  hash                      read a password on stdin, print its Argon2id\n"
"                            hash (for user_table)\n"
"\n"
"-c FILE and -o name=value find state_dir as \"jaga serve\" does; the store\n"
"is state_dir/" STORE_FILE ".  \"jaga user COMMAND --help\" tells more.\n";

/* ---- secrets ---- */

/* Read one line without echo when stdin is a terminal. */
static long
user_read_secret(char *pass, size_t max)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = fread(pass, 1, max, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n == max)
		return -1;
	while (n > 0 && (pass[n - 1] == '\n' || pass[n - 1] == '\r'))
		n--;
	return (long)n;
}

/* A password from stdin (pw_stdin) or generated, hashed into hash.  A
 * generated one is left in pass (locked memory, PASSWD_MAX) for printing.
 * Returns 0, or 1 after saying why. */
static int
user_new_hash(const char *verb, char *pass, char *hash, size_t hashlen)
{
	long n;

	if (uo.pw_stdin) {
		n = user_read_secret(pass, PASSWD_MAX);
		if (n <= 0) {
			fprintf(stderr, "jaga user %s: %s\n", verb, n == 0 ?
			    "empty password" : "password longer than 1023 "
			    "octets");
			return 1;
		}
		pass[n] = '\0';
	} else {
		passwd_generate(pass, PASSWD_MAX);
		n = PASSWD_GEN_LEN;
	}
	if (passwd_hash(pass, (size_t)n, hash, hashlen) < 0) {
		fprintf(stderr, "jaga user %s: out of memory\n", verb);
		return 1;
	}
	return 0;
}

/* Print a generated password once; the caller wipes it. */
static void
user_print_password(const char *name, const char *pass)
{
	if (uo.pw_stdin)
		return;
	fprintf(stderr, "password for %s (shown only this once):\n", name);
	printf("%s\n", pass);
}

/* ---- list fields ---- */

/* An allowed sender: "@domain" or "local@domain", bounded, no blanks. */
static const char *
user_addr_check(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t n = strlen(s);

	if (n == 0 || n > USER_ADDR_MAX)
		return "empty or longer than 254 octets";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return "holds white space or a control character";
	if (at == NULL || at[1] == '\0' || strchr(at, '.') == NULL)
		return "want ADDR@DOMAIN or @DOMAIN";
	return NULL;
}

/* Append entry to the newline-separated list field. */
static int
user_list_add(char *field, size_t max, const char *what, const char *entry)
{
	struct cidr c;
	const char *why;

	if (strcmp(what, "--network") == 0 && strcmp(entry, "any") == 0) {
		uo.any_network = 1;
		return 0;
	}
	why = strcmp(what, "--network") == 0 ?
	    (cidr_parse(entry, &c) < 0 ? "not a CIDR network" : NULL) :
	    user_addr_check(entry);
	size_t len = strlen(field);

	if (why == NULL && len + strlen(entry) + 2 > max)
		why = "too many entries";
	if (why != NULL) {
		fprintf(stderr, "jaga user: %s %.100s: %s\n", what, entry, why);
		return -1;
	}
	snprintf(field + len, max - len, "%s%s", len ? "\n" : "", entry);
	return 0;
}

static int
user_set_limit(const char *spec)
{
	size_t n = strlen(spec);

	if (strcmp(spec, "default") == 0) {
		uo.default_limit = 1;
		uo.id->limits[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f)
			n = 0;
	if (n == 0 || n >= sizeof uo.id->limits) {
		fprintf(stderr, "jaga user: --limit: want a spec such as "
		    "\"messages=30/1m,300/1h; rcpts=500/1h\" (under 512 "
		    "octets)\n");
		return -1;
	}
	memcpy(uo.id->limits, spec, n + 1);
	return 0;
}

static int
user_set_days(const char *arg)
{
	char *end;

	errno = 0;
	uo.days = strtol(arg, &end, 10);
	if (errno || end == arg || *end || uo.days < 0 ||
	    uo.days > USER_DAYS_MAX) {
		fprintf(stderr, "jaga user: --expires: want a number of days "
		    "0..%d (0 = never)\n", USER_DAYS_MAX);
		return -1;
	}
	return 0;
}

/* ---- options ---- */

/* One option of getopt_long; returns 0, or -1 (said why). */
static int
user_opt(int c, int allowed)
{
	static const int need[128] = { ['a'] = UO_APP, ['s'] = UO_LISTS,
	    ['f'] = UO_LISTS, ['n'] = UO_LISTS, ['l'] = UO_LIMIT,
	    ['e'] = UO_EXPIRES, ['p'] = UO_STDIN, ['j'] = UO_JSON };
	struct identity *id = uo.id;

	if (c < 0 || c >= 128 || (need[c] && !(need[c] & allowed)))
		return -1;
	switch (c) {
	case 'c': uo.file = optarg; return 0;
	case 'o': return buf_append(&uo.overrides, optarg,
	    strlen(optarg) + 1) < 0 ? -1 : 0;
	case 'a': uo.app = 1; return 0;
	case 'j': uo.json = 1; return 0;
	case 'p': uo.pw_stdin = 1; return 0;
	case 's': return user_list_add(id->senders, sizeof id->senders,
	    "--sender", optarg);
	case 'f': return user_list_add(id->from_addrs, sizeof id->from_addrs,
	    "--from", optarg);
	case 'n': return user_list_add(id->networks, sizeof id->networks,
	    "--network", optarg);
	case 'l': return user_set_limit(optarg);
	case 'e': return user_set_days(optarg);
	default: return -1;
	}
}

/* Parse argv (argv[0] is the verb).  Returns -1 to go on, else the exit
 * status (0 after --help, 2 for bad usage). */
static int
user_args(const struct user_verb *v, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "app", no_argument, NULL, 'a' },
		{ "sender", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "network", required_argument, NULL, 'n' },
		{ "limit", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: jaga user %s%s", v->name, v->usage);
			return 0;
		}
		if (user_opt(c, v->opts) < 0)
			goto usage;
	}
	if (argc - optind == v->nargs)
		return -1;
usage:
	fprintf(stderr, "usage: jaga user %s%s", v->name, v->usage);
	return 2;
}

/* ---- the store ---- */

/* state_dir/jaga.db from the configuration, state_dir made if missing. */
static int
user_db_path(char *path, size_t pathlen)
{
	struct config *cfg = cli_config_load("jaga user", uo.file,
	    &uo.overrides);
	const char *dir;
	int r = -1;

	if (cfg == NULL)
		return -1;
	dir = config_str(cfg, "state_dir");
	uo.pol.max_age = config_int(cfg, "credential_max_age") / 1000;
	uo.pol.warn_before = config_int(cfg, "credential_expiry_warning") /
	    1000;
	if (dir[0] == '\0')
		fprintf(stderr, "jaga user: state_dir is empty\n");
	else if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		fprintf(stderr, "jaga user: cannot create state_dir %s: %s\n",
		    dir, strerror(errno));
	else if ((size_t)snprintf(path, pathlen, "%s/%s", dir, STORE_FILE) >=
	    pathlen)
		fprintf(stderr, "jaga user: state_dir path too long\n");
	else
		r = 0;
	config_free(cfg);
	return r;
}

/* Run as root, hand a new jaga.db to the owner of state_dir (the daemon's
 * run_as user after its first start), so the daemon can still open it. */
static void
user_db_owner(const char *path)
{
	char dir[USER_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sd;

	if (geteuid() != 0 || slash == NULL)
		return;
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (stat(dir, &sd) == 0 && sd.st_uid != 0 &&
	    chown(path, sd.st_uid, sd.st_gid) < 0)
		fprintf(stderr, "jaga user: chown %s: %s\n", path,
		    strerror(errno));
}

static struct store *
user_open(char *path, size_t pathlen)
{
	char err[512];
	struct store *st;

	if (user_db_path(path, pathlen) < 0)
		return NULL;
	if ((st = store_open(path, err, sizeof err)) == NULL)
		fprintf(stderr, "jaga user: %s\n", err);
	return st;
}

/* The identity called name into id; 0, or 1 after saying why. */
static int
user_get(struct store *st, const char *name, struct identity *id)
{
	char err[512];
	int r = store_identity_get(st, name, id, err, sizeof err);

	if (r == STORE_NOTFOUND)
		fprintf(stderr, "jaga user: no identity \"%.255s\"\n", name);
	else if (r < 0)
		fprintf(stderr, "jaga user: %s\n", err);
	return r != 0;
}

static int
user_put(struct store *st, const struct identity *id)
{
	char err[512];
	int r = store_identity_update(st, id, err, sizeof err);

	if (r == STORE_NOTFOUND)
		fprintf(stderr, "jaga user: no identity \"%s\"\n", id->name);
	else if (r < 0)
		fprintf(stderr, "jaga user: %s\n", err);
	return r != 0;
}

/* ---- output ---- */

/* A newline-separated list as a JSON array. */
static void
user_json_list(const char *s)
{
	putchar('[');
	while (*s) {
		size_t n = strcspn(s, "\n");
		char one[STORE_LIST_MAX];
		snprintf(one, sizeof one, "%.*s", (int)n, s);
		cli_json_str(one);
		s += n + (s[n] == '\n');
		if (*s)
			putchar(',');
	}
	putchar(']');
}

static const char *
user_status(const struct identity *id)
{
	if (id->revoked)
		return "revoked";
	if (id->expires != 0 && (long long)time(NULL) >= id->expires)
		return "expired";
	return id->must_change ? "must-change" : "active";
}

/* What the daemon's credential check says of id (issue 4 §3): "old"
 * (an application past credential_max_age), "expiring", "expired" or ""
 * into out (ROTATION_TEXT_MAX). */
static const char *
user_rotation(const struct identity *id, char *out, size_t outlen)
{
	struct rotation_policy p = uo.pol;

	if (id->kind != STORE_APP)
		p.max_age = 0;		/* people's passwords: no age warning */
	return rotation_text(id->revoked ? 0 : rotation_flags(&p,
	    id->pw_changed, id->expires, (int64_t)time(NULL)), out, outlen);
}

static void
user_show_json(const struct identity *id)
{
	char rot[ROTATION_TEXT_MAX];

	printf("{\"name\":");
	cli_json_str(id->name);
	printf(",\"kind\":\"%s\",\"status\":\"%s\",\"created\":%lld,"
	    "\"pw_changed\":%lld,\"revoked\":%s,\"revoked_at\":%lld,"
	    "\"expires\":%lld,\"must_change\":%s,\"senders\":",
	    id->kind == STORE_APP ? "app" : "account", user_status(id),
	    id->created, id->pw_changed, id->revoked ? "true" : "false",
	    id->revoked_at, id->expires, id->must_change ? "true" : "false");
	user_json_list(id->senders);
	printf(",\"from\":");
	user_json_list(id->from_addrs);
	printf(",\"networks\":");
	user_json_list(id->networks);
	printf(",\"limits\":");
	cli_json_str(id->limits);
	printf(",\"note\":");
	cli_json_str(id->note);
	printf(",\"age_days\":%lld,\"rotation\":\"%s\"}",
	    (long long)rotation_days(id->pw_changed, (int64_t)time(NULL)),
	    user_rotation(id, rot, sizeof rot));
}

static void
user_show_list(const char *key, const char *list)
{
	printf("%-11s ", key);
	for (const char *p = list; *p; p++) {
		if (*p == '\n')
			fputs(", ", stdout);
		else
			putchar(*p);
	}
	printf("%s\n", list[0] ? "" : "(any)");
}

static void
user_show_text(const struct identity *id)
{
	char t[32];

	printf("name        %s\nkind        %s\nstatus      %s\n", id->name,
	    id->kind == STORE_APP ? "app" : "account", user_status(id));
	printf("created     %s\n", cli_time(id->created, t, sizeof t));
	printf("pw_changed  %s\n", cli_time(id->pw_changed, t, sizeof t));
	if (id->revoked)
		printf("revoked_at  %s\n", cli_time(id->revoked_at, t,
		    sizeof t));
	printf("expires     %s\n", cli_time(id->expires, t, sizeof t));
	user_show_list("senders", id->senders);
	user_show_list("from", id->from_addrs);
	user_show_list("networks", id->networks);
	printf("limits      %s\n", id->limits[0] ? id->limits : "(defaults)");
	if (id->note[0])
		printf("note        %s\n", id->note);
	printf("age         %lld days\n", (long long)rotation_days(
	    id->pw_changed, (int64_t)time(NULL)));
	if (user_rotation(id, t, sizeof t)[0])
		printf("rotation    %s\n", t);
}

/* ---- the verbs ---- */

/* Sender enforcement (issue 3 §2, gateway/authdb.h): without lists an
 * identity whose name is an address sends only as itself; any other name
 * may send as anyone, which the administrator should hear about. */
static void
user_warn_unrestricted(const struct identity *id)
{
	const char *at = strrchr(id->name, '@');

	if (id->senders[0] || id->from_addrs[0] ||
	    (at != NULL && at != id->name && strchr(at, '.') != NULL))
		return;
	fprintf(stderr, "jaga user add: warning: %s may send as any address; "
	    "restrict it with --sender and --from\n", id->name);
}

static int
user_add(struct store *st, struct identity *id, int argc, char **argv)
{
	char *pass = sodium_malloc(PASSWD_MAX + 1), err[512];
	const char *why = store_name_check(argv[0]);
	int r = 1;

	if (why != NULL || pass == NULL) {
		fprintf(stderr, "jaga user add: %s\n", why ? why : "out of "
		    "memory");
		sodium_free(pass);
		return 1;
	}
	snprintf(id->name, sizeof id->name, "%s", argv[0]);
	id->kind = uo.app ? STORE_APP : STORE_ACCOUNT;
	if (uo.days > 0)
		id->expires = (long long)time(NULL) + uo.days * 86400LL;
	if (user_new_hash("add", pass, id->pwhash, sizeof id->pwhash) == 0) {
		r = store_identity_add(st, id, err, sizeof err);
		if (r == STORE_EXISTS)
			fprintf(stderr, "jaga user add: \"%s\" exists already "
			    "(jaga user passwd changes its password)\n",
			    id->name);
		else if (r < 0)
			fprintf(stderr, "jaga user add: %s\n", err);
		else
			user_print_password(id->name, pass);
		if (r == 0)
			user_warn_unrestricted(id);
		r = r != 0;
	}
	sodium_free(pass);
	return r;
}

static int
user_list_one(const struct identity *id, void *arg)
{
	int *n = arg;
	char t[32], rot[ROTATION_TEXT_MAX];

	if (!uo.json && user_rotation(id, rot, sizeof rot)[0] == '\0')
		snprintf(rot, sizeof rot, "-");
	if (uo.json) {
		fputs((*n)++ ? ",\n" : "\n", stdout);
		user_show_json(id);
	} else {
		printf("%-24s %-7s %-11s %-20s %5lld %s\n", id->name,
		    id->kind == STORE_APP ? "app" : "account", user_status(id),
		    id->expires ? cli_time(id->expires, t, sizeof t) :
		    "never", (long long)rotation_days(id->pw_changed,
		    (int64_t)time(NULL)), rot);
	}
	return 0;
}

static int
user_list(struct store *st, struct identity *id, int argc, char **argv)
{
	char err[512];
	int n = 0, r;

	if (uo.json)
		putchar('[');
	else
		printf("%-24s %-7s %-11s %-20s %5s %s\n", "NAME", "KIND",
		    "STATUS", "EXPIRES", "AGE", "ROTATION");
	r = store_identity_list(st, user_list_one, &n, err, sizeof err);
	if (uo.json)
		printf("%s]\n", n ? "\n" : "");
	if (r < 0)
		fprintf(stderr, "jaga user list: %s\n", err);
	return r != 0;
}

static int
user_show(struct store *st, struct identity *id, int argc, char **argv)
{
	if (user_get(st, argv[0], id) != 0)
		return 1;
	if (uo.json) {
		user_show_json(id);
		putchar('\n');
	} else {
		user_show_text(id);
	}
	return 0;
}

/* The same in Redis with store = redis:// (the suspensions every gateway
 * shares, engine/susp_redis.h); nothing to do with store = sqlite. */
static int
user_suspension_pw_redis(const char *name)
{
	struct config *cfg = cli_config_load("jaga user", uo.file,
	    &uo.overrides);
	struct redisdb *db = NULL;
	char err[512] = "";
	int r = 1;

	if (cfg == NULL)
		return 1;
	if (strcmp(config_str(cfg, "store"), "sqlite") == 0)
		r = 0;
	else if ((db = redisdb_new(config_str(cfg, "store"), err,
	    sizeof err)) != NULL &&
	    susp_redis_password_changed(db, name, err, sizeof err) == 0)
		r = 0;
	if (r != 0)
		fprintf(stderr, "jaga user: the suspension of %s was not told "
		    "about the new password: %s\n", name, err);
	redisdb_free(db);
	config_free(cfg);
	return r;
}

/* A suspension lifted on condition of a new password ends now. */
static int
user_suspension_pw(struct store *st, const char *name)
{
	char err[512];

	if (store_suspend_password_changed(st, name, err, sizeof err) == 0)
		return user_suspension_pw_redis(name);
	fprintf(stderr, "jaga user: %s\n", err);
	return 1;
}

static int
user_passwd(struct store *st, struct identity *id, int argc, char **argv)
{
	char *pass = sodium_malloc(PASSWD_MAX + 1);
	int r = 1;

	if (pass == NULL) {
		fprintf(stderr, "jaga user passwd: out of memory\n");
		return 1;
	}
	if (user_get(st, argv[0], id) == 0 &&
	    user_new_hash("passwd", pass, id->pwhash, sizeof id->pwhash) == 0) {
		id->pw_changed = (long long)time(NULL);
		id->must_change = 0;
		if ((r = user_put(st, id)) == 0)
			user_print_password(id->name, pass);
		if (r == 0)
			r = user_suspension_pw(st, id->name);
	}
	sodium_free(pass);
	return r;
}

static int
user_revoke(struct store *st, struct identity *id, int argc, char **argv)
{
	if (user_get(st, argv[0], id) != 0)
		return 1;
	if (id->revoked) {
		fprintf(stderr, "jaga user revoke: %s was revoked already\n",
		    id->name);
		return 0;
	}
	id->revoked = 1;
	id->revoked_at = (long long)time(NULL);
	if (user_put(st, id) != 0)
		return 1;
	fprintf(stderr, "jaga user revoke: %s revoked; its next AUTH is "
	    "refused\n", id->name);
	return 0;
}

static int
user_unrevoke(struct store *st, struct identity *id, int argc, char **argv)
{
	if (user_get(st, argv[0], id) != 0)
		return 1;
	if (!id->revoked) {
		fprintf(stderr, "jaga user unrevoke: %s is not revoked\n",
		    id->name);
		return 0;
	}
	id->revoked = 0;
	id->revoked_at = 0;
	if (user_put(st, id) != 0)
		return 1;
	fprintf(stderr, "jaga user unrevoke: %s may AUTH again (consider "
	    "\"jaga user passwd %s\" if its password leaked)\n", id->name,
	    id->name);
	return 0;
}

/* Copy the fields given on the command line (in opt) over cur.  Returns
 * how many were given. */
static int
user_set_fields(struct identity *cur, const struct identity *opt)
{
	int n = 0;

	if (opt->senders[0] && ++n)
		memcpy(cur->senders, opt->senders, sizeof cur->senders);
	if (opt->from_addrs[0] && ++n)
		memcpy(cur->from_addrs, opt->from_addrs, sizeof cur->from_addrs);
	if ((opt->networks[0] || uo.any_network) && ++n)
		memcpy(cur->networks, uo.any_network ? "" : opt->networks,
		    uo.any_network ? 1 : sizeof cur->networks);
	if ((opt->limits[0] || uo.default_limit) && ++n)
		memcpy(cur->limits, opt->limits, sizeof cur->limits);
	if (uo.days >= 0 && ++n)
		cur->expires = uo.days ? (long long)time(NULL) +
		    uo.days * 86400LL : 0;
	return n;
}

static int
user_set(struct store *st, struct identity *id, int argc, char **argv)
{
	struct identity *cur = calloc(1, sizeof *cur);
	int r = 1;

	if (cur == NULL || user_get(st, argv[0], cur) != 0) {
		free(cur);
		return 1;
	}
	if (user_set_fields(cur, id) == 0) {
		fprintf(stderr, "jaga user set: nothing to change (give "
		    "--sender, --from, --network, --limit or --expires)\n");
		r = 2;
	} else if (user_put(st, cur) == 0) {
		fprintf(stderr, "jaga user set: %s changed; a running daemon "
		    "applies senders and networks at its next AUTH, limits "
		    "at its next message\n", cur->name);
		user_warn_unrestricted(cur);
		r = 0;
	}
	sodium_memzero(cur, sizeof *cur);
	free(cur);
	return r;
}

static int
user_remove(struct store *st, struct identity *id, int argc, char **argv)
{
	char err[512];
	int r = store_identity_remove(st, argv[0], err, sizeof err);

	if (r == STORE_NOTFOUND)
		fprintf(stderr, "jaga user remove: no identity \"%.255s\"\n",
		    argv[0]);
	else if (r < 0)
		fprintf(stderr, "jaga user remove: %s\n", err);
	return r != 0;
}

/* One line "name:hash" or Dovecot "user:{SCHEME}hash:uid:gid:..." into
 * id.  Returns NULL or what is wrong. */
static const char *
user_import_parse(char *line, struct identity *id)
{
	char *colon = strchr(line, ':'), *end;
	const char *why;

	if (colon == NULL)
		return "expected name:hash";
	*colon = '\0';
	if ((why = store_name_check(line)) != NULL)
		return why;
	if ((end = strchr(colon + 1, ':')) != NULL)
		*end = '\0';	/* Dovecot: uid, gid... are not ours */
	memset(id, 0, sizeof *id);
	snprintf(id->name, sizeof id->name, "%s", line);
	id->kind = STORE_ACCOUNT;
	if (passwd_normalize(colon + 1, id->pwhash, sizeof id->pwhash,
	    &why) < 0)
		return why;
	snprintf(id->note, sizeof id->note, "imported");
	return NULL;
}

/* One line; returns 0 (added or blank) or 1 (skipped, said why). */
static int
user_import_line(struct store *st, struct identity *id, char *line,
    const char *path, int lineno)
{
	char err[512];
	const char *why;
	int r;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
		return 0;
	if ((why = user_import_parse(line, id)) != NULL) {
		fprintf(stderr, "%s:%d: %s (line skipped)\n", path, lineno, why);
		return 1;
	}
	r = store_identity_add(st, id, err, sizeof err);
	if (r == STORE_EXISTS)
		fprintf(stderr, "%s:%d: %s exists already (line skipped)\n",
		    path, lineno, id->name);
	else if (r < 0)
		fprintf(stderr, "%s:%d: %s (line skipped)\n", path, lineno, err);
	return r != 0;
}

static int
user_import(struct store *st, struct identity *id, int argc, char **argv)
{
	char line[USER_LINE_MAX];
	int lineno = 0, bad = 0, good = 0, r;
	FILE *f = fopen(argv[0], "r");

	if (f == NULL) {
		fprintf(stderr, "jaga user import: %s: %s\n", argv[0],
		    strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "%s:%d: line too long (skipped)\n",
			    argv[0], lineno);
			bad++;
			for (int ch; (ch = getc(f)) != EOF && ch != '\n';)
				;
			continue;
		}
		r = user_import_line(st, id, line, argv[0], lineno);
		bad += r;
		good += r == 0 && id->name[0] != '\0';
		id->name[0] = '\0';
	}
	fclose(f);
	sodium_memzero(line, sizeof line);
	fprintf(stderr, "jaga user import: %d imported, %d skipped\n", good,
	    bad);
	return bad != 0;
}

static int
user_hash(void)
{
	char hash[PASSWD_HASH_MAX];
	char *pass = sodium_malloc(PASSWD_MAX);
	long n;
	int r = 1;

	if (pass == NULL) {
		fprintf(stderr, "jaga user hash: cannot allocate locked memory\n");
		return 1;
	}
	n = user_read_secret(pass, PASSWD_MAX);
	if (n <= 0)
		fprintf(stderr, "jaga user hash: %s\n", n == 0 ?
		    "empty password" : "password longer than 1023 octets");
	else if (passwd_hash(pass, (size_t)n, hash, sizeof hash) < 0)
		fprintf(stderr, "jaga user hash: out of memory\n");
	else
		r = printf("%s\n", hash) < 0;
	sodium_free(pass);
	return r;
}

static const struct user_verb user_verbs[] = {
	{ "add", user_add, UO_APP | UO_LISTS | UO_LIMIT | UO_EXPIRES |
	    UO_STDIN, 1, " NAME [--app] [--sender ADDR|@DOMAIN]...\n"
	    "    [--from ADDR|@DOMAIN]... [--network CIDR]... [--limit SPEC]\n"
	    "    [--expires DAYS] [--password-stdin] [-c FILE] [-o name=value]"
	    "...\nCreate an account (or with --app an application "
	    "credential).  A strong\npassword is generated and printed once, "
	    "or read from standard input with\n--password-stdin.  --sender "
	    "and --from allow envelope and header senders\n(repeatable; none: "
	    "the name if it is an address, else any),\n--network client "
	    "networks, --limit a spec such as\n"
	    "\"messages=30/1m,300/1h; rcpts=500/1h\", --expires a lifetime in "
	    "days.\n" },
	{ "list", user_list, UO_JSON, 0, " [--json] [-c FILE] [-o name=value]"
	    "...\nList every identity with its kind, status, expiry, age in "
	    "days (since its\npassword was set) and what needs rotating: old "
	    "(an application past\ncredential_max_age), expiring (within "
	    "credential_expiry_warning), expired.\n" },
	{ "show", user_show, UO_JSON, 1, " NAME [--json] [-c FILE] "
	    "[-o name=value]...\nShow one identity (never its hash).\n" },
	{ "passwd", user_passwd, UO_STDIN, 1, " NAME [--password-stdin] "
	    "[-c FILE] [-o name=value]...\nGive NAME a new password, "
	    "generated and printed once unless read from\nstandard input; "
	    "clears a required password change (and ends a suspension\nlifted "
	    "with \"jaga suspend lift --require-password-change\").\n" },
	{ "revoke", user_revoke, 0, 1, " NAME [-c FILE] [-o name=value]...\n"
	    "Revoke NAME: a running daemon refuses its next AUTH.\n" },
	{ "unrevoke", user_unrevoke, 0, 1, " NAME [-c FILE] [-o name=value]"
	    "...\nUndo a revocation: NAME may AUTH again with its password.\n" },
	{ "set", user_set, UO_LISTS | UO_LIMIT | UO_EXPIRES, 1, " NAME "
	    "[--sender ADDR|@DOMAIN]... [--from ADDR|@DOMAIN]...\n"
	    "    [--network CIDR|any]... [--limit SPEC|default] [--expires DAYS]"
	    " [-c FILE]\n    [-o name=value]...\nChange NAME: each list given "
	    "replaces the stored one (--network any: from\nevery network), "
	    "--limit default returns to limits_default, --expires 0 means\n"
	    "never.  A running daemon applies it without a restart.\n" },
	{ "remove", user_remove, 0, 1, " NAME [-c FILE] [-o name=value]...\n"
	    "Delete NAME from the store.\n" },
	{ "import", user_import, 0, 1, " FILE [-c FILE] [-o name=value]...\n"
	    "Import \"name:hash\" lines or a Dovecot passwd-file (user:{SCHEME}"
	    "hash:...).\nHashes: $argon2id$, $y$ (yescrypt), $6$, $5$, $2b$/"
	    "$2y$ (bcrypt), with or\nwithout {SHA512-CRYPT}, {SHA256-CRYPT}, "
	    "{BLF-CRYPT}, {CRYPT}, {ARGON2ID}.\nBad lines are skipped and "
	    "reported as FILE:LINE; exit status 1 then.\n" },
	{ "hash", NULL, 0, 0, "\nRead a password from standard input (no "
	    "echo on a terminal) and print its\nArgon2id hash, for a "
	    "\"name:hash\" line in user_table.\n" },
};

static int
user_run(const struct user_verb *v, int argc, char **argv)
{
	char path[USER_PATH_MAX];
	struct store *st;
	int r = user_args(v, argc, argv);

	if (r >= 0)
		return r;
	if (v->fn == NULL)
		return user_hash();
	if ((st = user_open(path, sizeof path)) == NULL)
		return 1;
	r = v->fn(st, uo.id, argc - optind, argv + optind);
	store_close(st);
	user_db_owner(path);
	return r;
}

static const struct user_verb *
user_verb_find(const char *name)
{
	for (size_t i = 0; i < sizeof user_verbs / sizeof user_verbs[0]; i++)
		if (strcmp(name, user_verbs[i].name) == 0)
			return &user_verbs[i];
	return NULL;
}

int
cmd_user(int argc, char **argv)
{
	const struct user_verb *v;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(user_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if ((v = user_verb_find(argv[1])) == NULL) {
		fprintf(stderr, "jaga user: unknown command \"%s\"\n%s",
		    argv[1], user_usage);
		return 2;
	}
	harden_no_core(1);	/* passwords pass through: no core, no ptrace */
	uo.days = -1;
	buf_init(&uo.overrides, 256 * 1024);
	if ((uo.id = calloc(1, sizeof *uo.id)) == NULL)
		return 1;
	r = user_run(v, argc - 1, argv + 1);
	sodium_memzero(uo.id, sizeof *uo.id);
	free(uo.id);
	buf_done(&uo.overrides);
	return r;
}
