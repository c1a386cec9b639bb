/* cli_dns.h - the resolver of the subcommands that look things up in DNS
 * (jaga dns, spf, dkim verify): --resolver when given, else the
 * configuration's `resolver`, with its `dns_timeout`, behind an answer
 * cache of `dns_cache_size` entries. */
#ifndef JAGA_CLI_CLI_DNS_H
#define JAGA_CLI_CLI_DNS_H

#include "engine/dns.h"
#include "util/config.h"

/* A libunbound lookup behind the cache (free it with dns_lookup_free);
 * NULL after printing "PROG: why" on stderr.  resolver may be NULL. */
struct dns_lookup *cli_dns(const char *prog, const struct config *cfg,
    const char *resolver);

#endif
