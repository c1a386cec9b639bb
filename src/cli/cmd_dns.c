/* cmd_dns.c - "jaga dns NAME [TYPE] [--resolver HOST[:PORT]]": ask the
 * resolver the daemon would use (engine/dns_unbound.c) and print the
 * answer: a debugging tool for administrators, and how the tests reach
 * dns_unbound end to end.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_config.h"
#include "cli/cli_dns.h"
#include "cli/cmd.h"
#include "engine/dns.h"

static const char dns_usage[] =
"usage: jaga dns NAME [TYPE] [--resolver HOST[:PORT]] [-c FILE]\n"
"                [-o name=value]...\n"
"\n"
"Look NAME up (TYPE: A, AAAA, MX, TXT, PTR, CNAME, SPF; default A; for\n"
"PTR, NAME may be an IPv4 or IPv6 address)\n"
"through the resolver of the configuration (parameter resolver; empty =\n"
"recursion from the root) or --resolver, within dns_timeout.  Prints\n"
"\"STATUS ttl=N secure=yes|no records=N\" (STATUS: ok, nxdomain, nodata,\n"
"tempfail, permfail), then one line per record: NAME TTL TYPE DATA.\n"
"Exit 0 for an answer (ok, nxdomain, nodata), 1 for a failure.\n";

struct dns_opts {
	const char *file, *resolver, *name;
	enum dns_type type;
	struct buf overrides;
};

/* Options; returns -1 to go on, else the exit status. */
static int
dns_args(int argc, char **argv, struct dns_opts *o)
{
	static const struct option longopts[] = {
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
		case 'r': o->resolver = optarg; break;
		case 'h': fputs(dns_usage, stdout); return 0;
		default: fputs(dns_usage, stderr); return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 || (argc - optind == 2 &&
	    dns_type_parse(argv[optind + 1], &o->type) != 0)) {
		fputs(dns_usage, stderr);
		return 2;
	}
	o->name = argv[optind];
	return -1;
}

/* A TXT as one quoted string: '"', '\' and octets outside printable
 * ASCII escaped (\DDD, RFC 1035 §5.1), so a hostile record cannot
 * forge output lines. */
static void
dns_print_txt(const struct dns_rr *rr)
{
	size_t i;

	putchar('"');
	for (i = 0; i < rr->txtlen; i++) {
		unsigned char c = (unsigned char)rr->txt[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\%03u", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
dns_print_rr(const char *name, const struct dns_rr *rr)
{
	char a[INET6_ADDRSTRLEN];

	printf("%s %u %s ", name, rr->ttl, dns_type_name(rr->type));
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, rr->addr,
		    a, sizeof a);
		fputs(a, stdout);
		break;
	case DNS_T_MX:
		printf("%u %s", rr->pref, rr->name[0] ? rr->name : ".");
		break;
	case DNS_T_TXT:
	case DNS_T_SPF:
		dns_print_txt(rr);
		break;
	default:
		fputs(rr->name, stdout);
		break;
	}
	putchar('\n');
}

/* Ask and print; the exit status. */
static int
dns_ask(const struct dns_opts *o, const struct config *cfg)
{
	static struct dns_result r;	/* large: not on the stack */
	struct dns_lookup *l;
	char rev[DNS_NAME_MAX + 1];
	const char *name = o->name;
	size_t i;

	if (o->type == DNS_T_PTR && dns_reverse_name(name, rev) == 0)
		name = rev;

	if ((l = cli_dns("jaga dns", cfg, o->resolver)) == NULL)
		return 1;
	dns_query(l, name, o->type, &r);
	printf("%s ttl=%u secure=%s records=%zu", dns_status_name(r.status),
	    r.n > 0 ? r.rr[0].ttl : 0, r.secure ? "yes" : "no", r.n);
	if (r.truncated > 0)
		printf(" truncated=%zu", r.truncated);
	putchar('\n');
	for (i = 0; i < r.n; i++)
		dns_print_rr(name, &r.rr[i]);
	dns_lookup_free(l);
	return r.status == DNS_TEMPFAIL || r.status == DNS_PERMFAIL ? 1 : 0;
}

int
cmd_dns(int argc, char **argv)
{
	struct dns_opts o = { .type = DNS_T_A };
	struct config *cfg;
	int r;

	buf_init(&o.overrides, 256 * 1024);
	r = dns_args(argc, argv, &o);
	if (r < 0) {
		cfg = cli_config_load("jaga dns", o.file, &o.overrides);
		r = cfg == NULL ? 1 : dns_ask(&o, cfg);
		config_free(cfg);
	}
	buf_done(&o.overrides);
	return r;
}
