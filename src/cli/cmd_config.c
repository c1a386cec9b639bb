/* cmd_config.c - "jaga config": check a configuration, print the defaults
 * (like postconf -d) or the effective values (like postconf, -n).
 *
 * Exit status: 0 good, 1 problems in the configuration, 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/nh_auth.h"
#include "gateway/params.h"
#include "gateway/signer.h"
#include "util/buf.h"
#include "util/config.h"

#define CMD_CONFIG_ERRS_MAX	(1024 * 1024)	/* problem text kept */
#define CMD_CONFIG_NAME_MAX	128		/* NAME in -o NAME=VALUE */

int cmd_config(int argc, char **argv);

struct cmd_config_opts {
	const char *sub;	/* check, defaults, show */
	const char *file;	/* -c; NULL = JAGA_CONFIG_PATH if it exists */
	char **o;		/* -o NAME=VALUE, in order (into argv) */
	int no;
	int only_changed;	/* -n */
};

static const char cmd_config_usage[] =
    "usage: jaga config check [-c FILE] [-o NAME=VALUE]...\n"
    "       jaga config defaults\n"
    "       jaga config show [-n] [-c FILE] [-o NAME=VALUE]...\n";

static void
cmd_config_help(const char *sub)
{
	if (sub != NULL && strcmp(sub, "check") == 0)
		fputs("usage: jaga config check [-c FILE] [-o NAME=VALUE]...\n"
		    "Check a configuration: print each problem as\n"
		    "FILE:LINE: PARAMETER: problem and exit 1, or print\n"
		    "\"FILE: configuration OK\".\n"
		    "  -c FILE        the file (default " JAGA_CONFIG_PATH
		    "; built-in\n                 defaults when it does not "
		    "exist; - = stdin)\n"
		    "  -o NAME=VALUE  override a parameter after the file\n",
		    stdout);
	else if (sub != NULL && strcmp(sub, "defaults") == 0)
		fputs("usage: jaga config defaults\n"
		    "Print every parameter with its default, type, range and "
		    "help.\n", stdout);
	else if (sub != NULL && strcmp(sub, "show") == 0)
		fputs("usage: jaga config show [-n] [-c FILE] [-o NAME=VALUE]"
		    "...\nPrint the effective value of every parameter.\n"
		    "  -n             only the values that differ from the "
		    "default\n  -c FILE, -o NAME=VALUE  as for check\n", stdout);
	else
		fputs(cmd_config_usage, stdout);
}

/* Options after the subcommand.  Returns 0, -1 after --help (done), or 2
 * for bad usage (said on stderr). */
static int
cmd_config_opts(int argc, char **argv, struct cmd_config_opts *o)
{
	int i, takes_file = strcmp(o->sub, "defaults") != 0;

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cmd_config_help(o->sub);
			return -1;
		} else if (takes_file && strcmp(a, "-c") == 0 && i + 1 < argc) {
			o->file = argv[++i];
		} else if (takes_file && strcmp(a, "-o") == 0 && i + 1 < argc) {
			o->o[o->no++] = argv[++i];
		} else if (strcmp(o->sub, "show") == 0 && strcmp(a, "-n") == 0) {
			o->only_changed = 1;
		} else {
			fprintf(stderr, "jaga config %s: bad argument \"%s\"\n%s",
			    o->sub, a, cmd_config_usage);
			return 2;
		}
	}
	return 0;
}

/* -o NAME=VALUE; returns the number of problems (0 or 1). */
static int
cmd_config_override(struct config *c, const char *arg, struct buf *errs)
{
	const char *eq = strchr(arg, '=');
	char name[CMD_CONFIG_NAME_MAX];
	size_t n;

	if (eq == NULL || (n = (size_t)(eq - arg)) >= sizeof name) {
		buf_printf(errs, "-o: %.100s: want -o NAME=VALUE\n", arg);
		return 1;
	}
	memcpy(name, arg, n);
	name[n] = '\0';
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	return config_set(c, name, eq + 1, "-o", errs) < 0 ? 1 : 0;
}

/* The file (or nothing), then every -o.  *what names what was read.
 * Returns the number of problems, or -1 when the file cannot be read. */
static int
cmd_config_load(struct config *c, const struct cmd_config_opts *o,
    struct buf *errs, const char **what)
{
	const char *file = o->file;
	int i, n = 0;

	if (file == NULL && access(JAGA_CONFIG_PATH, F_OK) == 0)
		file = JAGA_CONFIG_PATH;
	*what = file != NULL ? file : "(defaults)";
	if (file != NULL && strcmp(file, "-") == 0) {
		*what = "stdin";
		n = config_load_stream(c, stdin, "stdin", errs);
	} else if (file != NULL) {
		n = config_load_file(c, file, errs);
	}
	if (n < 0)
		return -1;
	for (i = 0; i < o->no; i++)
		n += cmd_config_override(c, o->o[i], errs);
	return n;
}

/* next_hop_auth: the vault, its key and each entry, as "jaga serve"
 * checks them at start (gateway/nh_auth.h); 1 problem or 0. */
static int
cmd_config_upstream(const struct settings *s, struct buf *errs)
{
	char err[512];
	int rc = nh_auth_start(s, err, sizeof err);

	nh_auth_done();
	if (rc == 0)
		return 0;
	buf_printf(errs, "next_hop_auth: %s\n", err);
	return 1;
}

/* dkim_key_table: the table and every key, as "jaga serve" loads them
 * at start (gateway/signer.h); 1 problem or 0. */
static int
cmd_config_signer(const struct settings *s, struct buf *errs)
{
	struct signer *sg;
	char err[1024];

	if (signer_from_settings(s, &sg, err, sizeof err) == 0) {
		signer_free(sg);
		return 0;
	}
	buf_printf(errs, "%s\n", err);
	return 1;
}

static int
cmd_config_check(struct config *c, const struct cmd_config_opts *o,
    struct buf *errs)
{
	struct settings s;
	const char *what;
	int n = cmd_config_load(c, o, errs, &what);

	if (n >= 0) {
		/* The checks across parameters (a listener without a next
		 * hop, both TLS files) and the defaults are judged here. */
		n += settings_load(&s, c, errs);
		if (n == 0)
			n += cmd_config_upstream(&s, errs);
		if (n == 0)
			n += cmd_config_signer(&s, errs);
		settings_done(&s);
	}
	if (errs->len > 0)
		fputs(errs->data, stderr);
	if (n != 0)
		return 1;
	printf("%s: configuration OK\n", what);
	return 0;
}

static int
cmd_config_show(struct config *c, const struct cmd_config_opts *o,
    struct buf *errs)
{
	const char *what;
	int n = cmd_config_load(c, o, errs, &what);

	if (n != 0) {
		fputs(errs->data != NULL ? errs->data : "", stderr);
		return 1;
	}
	config_print(c, stdout, o->only_changed, 0);
	return 0;
}

int
cmd_config(int argc, char **argv)
{
	struct cmd_config_opts o;
	struct config *c;
	struct buf errs;
	int rc;

	memset(&o, 0, sizeof o);
	o.sub = argc > 1 ? argv[1] : "";
	if (strcmp(o.sub, "--help") == 0 || strcmp(o.sub, "-h") == 0) {
		cmd_config_help(NULL);
		return 0;
	}
	if (strcmp(o.sub, "check") != 0 && strcmp(o.sub, "defaults") != 0 &&
	    strcmp(o.sub, "show") != 0) {
		fputs(cmd_config_usage, stderr);
		return 2;
	}
	if ((o.o = calloc((size_t)argc, sizeof *o.o)) == NULL ||
	    (c = config_new(jaga_params, jaga_nparams)) == NULL) {
		fprintf(stderr, "jaga config: out of memory\n");
		free(o.o);
		return 1;
	}
	rc = cmd_config_opts(argc, argv, &o);
	buf_init(&errs, CMD_CONFIG_ERRS_MAX);
	if (rc == 0 && strcmp(o.sub, "defaults") == 0)
		config_print(c, stdout, 0, 1);
	else if (rc == 0)
		rc = strcmp(o.sub, "check") == 0 ?
		    cmd_config_check(c, &o, &errs) :
		    cmd_config_show(c, &o, &errs);
	buf_done(&errs);
	config_free(c);
	free(o.o);
	return rc < 0 ? 0 : rc;
}
