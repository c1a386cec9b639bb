/* params.h - jaga's parameter table and the typed view of it.
 *
 * gateway/params.c holds THE table: every parameter with type, default and
 * bounds.  settings_load turns a struct config into struct settings, the
 * read-only view the daemon uses (parsed listeners, networks, next hops).
 */
#ifndef JAGA_GATEWAY_PARAMS_H
#define JAGA_GATEWAY_PARAMS_H

#include <stddef.h>
#include <sys/socket.h>

#include "engine/lockout.h"
#include "gateway/guard.h"
#include "gateway/nexthop.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/netaddr.h"

extern const struct param_def jaga_params[];
extern const size_t jaga_nparams;

enum role { ROLE_INBOUND, ROLE_SUBMISSION, ROLE_SUBMISSIONS };

struct listener_spec {
	enum role role;
	char text[128];			/* as configured, for logs */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct nexthop_url next_hop;	/* this listener's next hop */
	char auth[NEXTHOP_AUTH_MAX + 1];	/* ;next_hop_auth=vault:NAME */
};

enum bare_lf_policy { BARE_LF_REJECT, BARE_LF_NORMALIZE };

struct settings {
	const struct config *cfg;	/* the source, for anything else */
	char hostname[256];
	struct listener_spec *listeners;
	size_t nlisteners;
	const char *const *local_domains;	/* lowercase, NULL-terminated */
	struct cidr *trusted;		/* trusted_networks */
	size_t ntrusted;
	const char *state_dir;
	const char *tls_cert_file, *tls_key_file;	/* "" = self-signed */
	const char *user_table;		/* "" = no AUTH users */
	const char *limits_default;	/* an identity without its own limits */
	const char *store;		/* "sqlite" or redis://... (shared state) */
	struct guard_keys guard;	/* limits_sender ... and burst_* */
	size_t message_size_limit;
	unsigned max_recipients;
	unsigned max_sessions, max_sessions_per_ip;
	unsigned max_errors;
	unsigned workers;		/* 0 = one per core */
	unsigned nh_cache, nh_cache_ms;	/* idle next-hop connections kept */
	int nh_pipelining;		/* MAIL goes with the first RCPT */
	unsigned shutdown_timeout_ms;	/* SIGTERM: time for transactions */
	const char *run_as;		/* "" = keep the user we started as */
	enum bare_lf_policy bare_lf;
	int smtputf8;
	/* timeouts in milliseconds, RFC 5321 §4.5.3.2 */
	unsigned greet_pause_ms;
	unsigned command_timeout_ms, data_timeout_ms;
	struct nexthop_timeouts nh_timeouts;
	struct nexthop_tls nh_tls;
	struct lockout_params lockout;	/* AUTH brute force, auth_* */
	unsigned auth_fail_delay_ms;
	/* storage for the above (owned) */
	void *priv;
};

/* The configuration file read when no -c is given. */
#define JAGA_CONFIG_PATH "/etc/jaga/jaga.conf"

/* Validate c and build *s.  Problems go to errs (one line each, naming the
 * parameter); returns the number of problems.  listen entries have the form
 *   ROLE=ADDR:PORT[;next_hop=URL][;next_hop_auth=vault:NAME]
 * ROLE is inbound|submission|submissions; next_hop_auth applies to the
 * listener's own next hop, else the global next_hop_auth to the global
 * next_hop.
 * Each line reads "ORIGIN: PARAMETER: problem" (ORIGIN as config_origin,
 * left out for a default).  s points into c, which must outlive it.  On
 * failure s is already released (settings_done on it is harmless). */
int settings_load(struct settings *s, const struct config *c, struct buf *errs);
/* Release what settings_load built; s is zeroed.  Safe to call twice. */
void settings_done(struct settings *s);

const char *role_name(enum role r);

#endif
