/* cmd_dmarc.c - "jaga dmarc check": SPF, DKIM and DMARC for one message
 * as the gateway would see it (issue 5 §5; engine/msgauth.h), through the
 * resolver the daemon would use.  Prints the Authentication-Results header
 * jaga would add and the DMARC disposition.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_config.h"
#include "cli/cli_dns.h"
#include "cli/cmd.h"
#include "engine/msgauth.h"
#include "util/config.h"

#define DMARCCMD_MSG_MAX (64u << 20)	/* octets of one message */

static const char dmarc_usage[] =
"usage: jaga dmarc check --ip IP --sender ADDR --helo NAME [FILE]\n"
"                        [--resolver HOST[:PORT]] [--authserv-id ID]\n"
"                        [-c CONFIG] [-o name=value]... [--now UNIXTIME]\n"
"                        [--psl FILE] [--sample 0-99]\n"
"\n"
"Check the message in FILE (or stdin) as received from a client at IP\n"
"that said HELO NAME and MAIL FROM:<ADDR> (\"\" for <>): SPF for both,\n"
"every DKIM signature, DMARC on the From: domain (RFC 7489).  DNS goes\n"
"through the resolver of the configuration (parameter resolver) or\n"
"--resolver, within dns_timeout.  Prints the Authentication-Results\n"
"header (authserv-id: --authserv-id, else myhostname) and then\n"
"\"disposition: none|quarantine|reject\" with the policy applied.\n"
"--psl reads the Public Suffix List from FILE instead of the system's;\n"
"--sample fixes the random number that pct= is sampled with.\n"
"Exit 0 for dmarc=pass, 1 otherwise, 2 for usage.\n";

struct dmarccmd_opts {
	const char *file, *resolver, *ip, *sender, *helo, *servid, *psl;
	const char *msg;
	long long now, sample;
	struct buf overrides;
};

static long long
dmarccmd_num(const char *s, long long max)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return *s == '\0' || *end != '\0' || v < 0 || v > max ? -2 : v;
}

/* Options after "check"; returns -1 to go on, else the exit status. */
static int
dmarccmd_args(int argc, char **argv, struct dmarccmd_opts *o)
{
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'e' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "now", required_argument, NULL, 'n' },
		{ "psl", required_argument, NULL, 'p' },
		{ "sample", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->file = optarg; break;
		case 'o': buf_append(&o->overrides, optarg, strlen(optarg) + 1);
			break;
		case 'i': o->ip = optarg; break;
		case 's': o->sender = optarg; break;
		case 'e': o->helo = optarg; break;
		case 'r': o->resolver = optarg; break;
		case 'a': o->servid = optarg; break;
		case 'p': o->psl = optarg; break;
		case 'n': o->now = dmarccmd_num(optarg, (long long)1 << 40);
			break;
		case 'S': o->sample = dmarccmd_num(optarg, 99); break;
		case 'h': fputs(dmarc_usage, stdout); return 0;
		default: fputs(dmarc_usage, stderr); return 2;
		}
	}
	if (argc - optind > 1 || o->ip == NULL || o->sender == NULL ||
	    o->helo == NULL || o->now < -1 || o->sample < -1 ||
	    (o->servid != NULL && o->servid[0] == '\0')) {
		fputs(dmarc_usage, stderr);
		return 2;
	}
	o->msg = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* The whole message from path ("-" or NULL: stdin), bounded as
 * "jaga dkim" reads it. */
static char *
dmarccmd_read(const char *path, size_t *len)
{
	FILE *f = path && strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0;
	char *d = NULL, *nd;

	if (f == NULL)
		return NULL;
	while ((nd = realloc(d, cap)) != NULL) {
		d = nd;
		n += fread(d + n, 1, cap - n, f);
		if (n < cap || cap >= DMARCCMD_MSG_MAX)
			break;
		cap *= 2;
	}
	if (f != stdin)
		fclose(f);
	if (nd == NULL || n == cap) {	/* out of memory, or too long */
		free(d);
		return NULL;
	}
	*len = n;
	return d;
}

/* The header with LF line ends, then the disposition line. */
static void
dmarccmd_print(const struct msgauth_res *r, const char *servid)
{
	static char ar[MSGAUTH_AR_MAX];
	const struct dmarc_result *d = &r->dmarc;

	msgauth_ar_header(r, servid, ar, sizeof ar);
	for (const char *p = ar; *p != '\0'; p++)
		if (*p != '\r')
			putchar(*p);
	printf("disposition: %s", dmarc_disp_name(d->disposition));
	if (d->policy != DMARC_P_UNSET)
		printf(" policy=%s", dmarc_policy_name(d->policy));
	printf("%s\n", d->sampled_out ? " (pct sampled out)" : "");
}

/* Check and print; the exit status. */
static int
dmarccmd_run(const struct dmarccmd_opts *o, const struct config *cfg,
    const char *servid)
{
	static struct msgauth_res r;
	struct msgauth_in in = { o->ip, o->helo, o->sender, NULL, 0,
	    o->now >= 0 ? (time_t)o->now : time(NULL), o->sample >= 0 ?
	    (unsigned)o->sample : randombytes_uniform(100) };
	struct dns_lookup *l = NULL;
	struct dmarc_psl *psl;
	char err[256], *msg;

	if ((msg = dmarccmd_read(o->msg, &in.len)) == NULL) {
		fprintf(stderr, "jaga dmarc: cannot read the message\n");
		return 1;
	}
	in.msg = msg;
	if ((psl = dmarc_psl_load(o->psl, err, sizeof err)) == NULL)
		fprintf(stderr, "jaga dmarc: %s\n", err);
	else if ((l = cli_dns("jaga dmarc", cfg, o->resolver)) != NULL) {
		if (msgauth_check(l, psl, &in, &r) < 0)
			fprintf(stderr, "jaga dmarc: the message cannot be "
			    "parsed\n");
		dmarccmd_print(&r, servid);
	}
	dns_lookup_free(l);
	dmarc_psl_free(psl);
	free(msg);
	return l != NULL && r.dmarc.result == DMARC_PASS ? 0 : 1;
}

int
cmd_dmarc(int argc, char **argv)
{
	struct dmarccmd_opts o = { .now = -1, .sample = -1 };
	struct config *cfg;
	char host[256] = "localhost";
	const char *me;
	int r, help = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0);

	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fputs(dmarc_usage, help ? stdout : stderr);
		return help ? 0 : 2;
	}
	buf_init(&o.overrides, 256 * 1024);
	r = dmarccmd_args(argc - 1, argv + 1, &o);
	if (r < 0) {
		cfg = cli_config_load("jaga dmarc", o.file, &o.overrides);
		me = cfg ? config_str(cfg, "myhostname") : "";
		if (cfg != NULL && me[0] == '\0' &&
		    gethostname(host, sizeof host - 1) == 0)
			me = host;
		r = cfg == NULL ? 1 : dmarccmd_run(&o, cfg, o.servid ?
		    o.servid : me[0] ? me : host);
		config_free(cfg);
	}
	buf_done(&o.overrides);
	return r;
}
