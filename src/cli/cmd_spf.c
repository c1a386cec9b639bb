/* cmd_spf.c - "jaga spf --ip IP --sender ADDR [--helo NAME]
 * [--resolver HOST[:PORT]]": check_host() of RFC 7208 (engine/spf.h)
 * through the resolver the daemon would use, for administrators asking
 * "would this client pass?" and for the tests.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_config.h"
#include "cli/cli_dns.h"
#include "cli/cmd.h"
#include "engine/dns.h"
#include "engine/spf.h"

static const char spf_usage[] =
"usage: jaga spf --ip IP --sender ADDR [--helo NAME]\n"
"                [--resolver HOST[:PORT]] [-c FILE] [-o name=value]...\n"
"\n"
"Evaluate the SPF record of ADDR's domain (RFC 7208) for a client at IP\n"
"(IPv4 or IPv6); with --sender \"\" the HELO name is checked, as\n"
"postmaster@NAME.  DNS goes through the resolver of the configuration\n"
"(parameter resolver) or --resolver, within dns_timeout.  Prints the\n"
"result (pass, fail, softfail, neutral, none, permerror, temperror) as\n"
"the first word, then the explanation; then the Received-SPF header.\n"
"Exit 0 whatever the result; 1 when it could not run, 2 for usage.\n";

struct spf_opts {
	const char *file, *resolver, *ip, *sender, *helo;
	struct buf overrides;
};

/* Options; returns -1 to go on, else the exit status. */
static int
spf_args(int argc, char **argv, struct spf_opts *o)
{
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'e' },
		{ "resolver", required_argument, NULL, 'r' },
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
		case 'h': fputs(spf_usage, stdout); return 0;
		default: fputs(spf_usage, stderr); return 2;
		}
	}
	if (optind != argc || o->ip == NULL || o->sender == NULL ||
	    (o->sender[0] == '\0' && o->helo == NULL)) {
		fputs(spf_usage, stderr);
		return 2;
	}
	return -1;
}

/* The explanation after the result word: the exp= text of a fail, the
 * problem of an error, else what the result means (RFC 7208 §2.6). */
static const char *
spf_explanation(const struct spf_result *r)
{
	switch (r->result) {
	case SPF_FAIL: return r->expl;
	case SPF_PERMERROR: case SPF_TEMPERROR: return r->problem;
	case SPF_PASS: return "the domain authorizes this host";
	case SPF_SOFTFAIL: return "the domain believes this host is not "
	    "authorized, but does not say so strongly";
	case SPF_NEUTRAL: return "the domain makes no assertion about "
	    "this host";
	default: return "no SPF record";
	}
}

/* Check and print; the exit status. */
static int
spf_run(const struct spf_opts *o, const struct config *cfg,
    const char *receiver)
{
	static struct spf_result r;
	struct dns_lookup *l;
	char hdr[2048];

	if ((l = cli_dns("jaga spf", cfg, o->resolver)) == NULL)
		return 1;
	if (spf_check(l, o->ip, o->sender, o->helo ? o->helo : "", &r) < 0) {
		fprintf(stderr, "jaga spf: %s is not an IP address\n", o->ip);
		dns_lookup_free(l);
		return 2;
	}
	printf("%s %s\n", spf_res_name(r.result), spf_explanation(&r));
	spf_received(&r, receiver, hdr, sizeof hdr);
	printf("%s\n", hdr);
	dns_lookup_free(l);
	return 0;
}

int
cmd_spf(int argc, char **argv)
{
	struct spf_opts o = { 0 };
	struct config *cfg;
	char host[256] = "localhost";
	const char *me;
	int r;

	buf_init(&o.overrides, 256 * 1024);
	r = spf_args(argc, argv, &o);
	if (r < 0) {
		cfg = cli_config_load("jaga spf", o.file, &o.overrides);
		me = cfg ? config_str(cfg, "myhostname") : "";
		if (cfg != NULL && me[0] == '\0' &&
		    gethostname(host, sizeof host - 1) == 0)
			me = host;
		r = cfg == NULL ? 1 : spf_run(&o, cfg, me[0] ? me : host);
		config_free(cfg);
	}
	buf_done(&o.overrides);
	return r;
}
