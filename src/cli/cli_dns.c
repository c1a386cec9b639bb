/* cli_dns.c - the subcommands' resolver (see cli_dns.h). */
#include "cli/cli_dns.h"

#include <stdio.h>

struct dns_lookup *
cli_dns(const char *prog, const struct config *cfg, const char *resolver)
{
	struct dns_lookup *l;
	char err[256];

	l = dns_unbound_new(resolver != NULL ? resolver :
	    config_str(cfg, "resolver"), err, sizeof err);
	if (l == NULL) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return NULL;
	}
	dns_unbound_timeout(l, (int)config_int(cfg, "dns_timeout"));
	if (config_int(cfg, "dns_cache_size") > 0 && (l = dns_cache_new(l,
	    (size_t)config_int(cfg, "dns_cache_size"))) == NULL)
		fprintf(stderr, "%s: out of memory\n", prog);
	return l;
}
