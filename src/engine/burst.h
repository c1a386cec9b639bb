/* burst.h - burst detection (issue 3 §4): flag behaviour that is new for
 * an identity, beyond its fixed limits (limits.h).  Three rules:
 *
 *   volume   messages in the last hour > max(floor, factor x baseline)
 *   ips      distinct client IPs within ip_window > ips, or distinct
 *            networks (prefix4 / prefix6) > nets
 *   domains  distinct recipient domains in the last hour >
 *            max(domains_floor, factor x domain baseline)
 *
 * The baseline is the identity's mean per ACTIVE hour (an hour with at
 * least one message) over the baseline_days before the current hour: a
 * person sending 40 mails over an 8-hour day has a baseline of 5, not
 * 40/24.  No history means baseline 0: the floors alone apply.
 *
 * burst_check is pure logic (time passed in, no I/O); the state lives
 * behind struct burst_store (burst_sqlite.c; a Redis store can implement
 * the same two calls).  A store keeps, per identity, messages and
 * recipient-domain counts per clock hour for baseline_days, and a bounded
 * list of recent messages (time, client IP, network, subject) and recent
 * recipient domains, from which the rules count and the evidence is taken.
 */
#ifndef JAGA_ENGINE_BURST_H
#define JAGA_ENGINE_BURST_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/limits.h"

#define BURST_HOUR		3600
#define BURST_EVENTS_MAX	5000	/* recent messages kept per identity; ours */
#define BURST_IPS_MAX		10	/* client IPs kept as evidence; ours */
#define BURST_DOMAINS_MAX	10	/* top recipient domains kept; ours */
#define BURST_SUBJECTS_MAX	5	/* subjects kept as evidence; ours */
#define BURST_SUBJECT_MAX	120	/* octets of a kept subject (evidence.h) */
#define BURST_DAYS_MAX		90	/* burst_baseline_days at most; ours */
#define BURST_TEXT_MAX		64	/* "burst domains=31/1h" */

struct burst_params {
	uint32_t floor;			/* burst_floor: messages per hour */
	uint32_t factor;		/* burst_factor: x the baseline */
	uint32_t baseline_days;		/* burst_baseline_days, 1..BURST_DAYS_MAX */
	uint32_t ips, nets;		/* burst_ips, burst_nets; 0 = off */
	uint32_t ip_window;		/* burst_ip_window, seconds */
	uint32_t domains_floor;		/* burst_domains_floor */
	unsigned prefix4, prefix6;	/* a client IP's network (limits_net_prefix*) */
	enum limits_action action;	/* burst_action */
};

/* One message of an identity, as the store records it. */
struct burst_msg {
	const char *name;		/* the identity */
	int64_t now;			/* Unix seconds */
	const char *client_ip;		/* a literal address */
	const char *subject;		/* may be NULL */
	const char *const *domains;	/* recipient domains, any case, repeats */
	size_t ndomains;
};

/* An identity's counts at now, this message included. */
struct burst_stats {
	uint32_t msgs_hour;		/* messages in (now - 1h, now] */
	uint32_t domains_hour;		/* distinct recipient domains, same span */
	uint32_t ips, nets;		/* distinct IPs, networks in ip_window */
	uint64_t base_msgs, base_domains; /* sums over the baseline hours */
	uint32_t base_hours;		/* active hours among them */
};

/* Recent activity, for the evidence (the store fills it). */
struct burst_activity {
	size_t nips;
	char ip[BURST_IPS_MAX][INET6_ADDRSTRLEN];
	size_t ndomains;
	char domain[BURST_DOMAINS_MAX][LIMITS_DOMAIN_MAX + 1];
	uint32_t domain_n[BURST_DOMAINS_MAX];	/* messages to it */
	size_t nsubjects;
	char subject[BURST_SUBJECTS_MAX][BURST_SUBJECT_MAX + 1];
	int64_t first, last;		/* first and last message of the span */
	uint32_t msgs;			/* messages in the span */
};

enum burst_rule { BURST_NONE, BURST_VOLUME, BURST_IPS, BURST_NETS,
	BURST_DOMAINS };

struct burst_verdict {
	enum burst_rule rule;		/* BURST_NONE: nothing new */
	uint32_t count, threshold;	/* flagged when count > threshold */
	uint32_t window;		/* seconds */
	char text[BURST_TEXT_MAX];	/* "burst ips=6/10m" */
};

/* The defaults of the burst_* parameters (README, params.c). */
void burst_params_default(struct burst_params *p);
/* The identity's baseline per active hour (rounded up); 0 without one. */
uint32_t burst_baseline(uint64_t total, uint32_t hours);
/* Apply the rules to st; the first that fires fills *v (volume, ips,
 * nets, domains in that order), else v->rule = BURST_NONE. */
void burst_check(const struct burst_params *p, const struct burst_stats *st,
    struct burst_verdict *v);
/* "1h", "10m", "90s" for seconds (out >= 16). */
void burst_window_text(uint32_t secs, char *out, size_t outlen);

/* ---- the state ---- */

struct burst_store;
struct redisdb;

struct burst_store_ops {
	const char *name;
	/* Record m and read its identity's counts at m->now (this message
	 * included), in one atomic step; forget what no rule needs any more.
	 * Returns 0 or -1 (logged by the caller; err is not kept). */
	int (*record)(struct burst_store *s, const struct burst_params *p,
	    const struct burst_msg *m, struct burst_stats *st);
	/* The activity of name in (since, now], for the evidence.  0 or -1. */
	int (*activity)(struct burst_store *s, const char *name, int64_t since,
	    int64_t now, struct burst_activity *a);
	void (*free)(struct burst_store *s);
};

struct burst_store {
	const struct burst_store_ops *ops;
};

/* Free any store; takes NULL.  No thread may use s any more. */
void burst_store_free(struct burst_store *s);

/* SQLite at path (created if missing; WAL; busy_timeout 5 s).  One
 * connection behind a mutex, every record one BEGIN IMMEDIATE transaction
 * (so several processes sharing the file agree).  NULL with err. */
struct burst_store *burst_sqlite_new(const char *path, char *err,
    size_t errlen);

/* Redis in db (borrowed: it must outlive the store; nothing is connected
 * here): the same counts, shared by several gateways.  Every record is
 * one Lua script (EVALSHA, atomic); keys "jaga:b:NAME:*" expire
 * baseline_days after the identity's last message.  Connections as
 * redisdb.h (one per thread): a failed call returns -1 and drops its
 * connection, the next call reconnects.  NULL on ENOMEM. */
struct burst_store *burst_redis_with(struct redisdb *db);
/* The same on a Redis of its own at url, "redis://host[:port][/db]" (as
 * counters_redis_new).  NULL (message in err) on a bad URL; a Redis that
 * cannot be reached yet is connected at the first call that needs it. */
struct burst_store *burst_redis_new(const char *url, char *err,
    size_t errlen);

#endif
