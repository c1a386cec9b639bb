/* limits.h - outbound limits: parse limit specs, decide and count (issue 3 §3).
 *
 * A spec is groups separated by ';', each "THING=COUNT/WINDOW[,COUNT/WINDOW...]
 * [action=defer|reject|suspend]", e.g.
 *     messages=30/1m,300/1h,2000/1d action=suspend; rcpts=500/1h; domains=50/1h
 * THING is messages, rcpts (recipients) or domains (distinct recipient
 * domains); WINDOW is a number and s, m, h or d; the action (default defer)
 * applies to every limit of its group.
 *
 * Keys are built by the caller: "id:app1", "ip:192.0.2.7",
 * "net:192.0.2.0/24" (limits_net_key), "snd:a@b.example",
 * "sdom:b.example".  The key is opaque here; one key, one set of counters.
 * One message may be counted under several keys at once
 * (limits_check_and_count_keys): all or nothing, in one atomic step.
 *
 * Windows are fixed and aligned to multiples of their length since the Unix
 * epoch (UTC): a 1h window runs 10:00:00-10:59:59, a 1d window is a UTC day.
 * Known boundary behaviour: up to 2N can pass within one window length that
 * straddles a boundary (N at 10:59:59, N more at 11:00:00); a shorter window
 * of the same spec (e.g. 30/1m beside 300/1h) bounds that burst.  Chosen for
 * exactness and O(1) state per (key, window), where a sliding log is O(N).
 */
#ifndef JAGA_ENGINE_LIMITS_H
#define JAGA_ENGINE_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define LIMITS_RULES_MAX	16	/* limits in one spec; ours */
#define LIMITS_WINDOW_MAX	(366 * 86400)	/* seconds; ours */
#define LIMITS_COUNT_MAX	100000000	/* a limit's COUNT; ours */
#define LIMITS_KEY_MAX		320	/* bytes of a key: "fromdom:" + RFC 5321 path */
#define LIMITS_DOMAIN_MAX	255	/* RFC 5321 §4.5.3.1.2 */
#define LIMITS_DOMAINS_MAX	1000	/* recipient domains in one call; ours */
#define LIMITS_NETKEY_MAX	64	/* "net:" + an IPv6 network + "/128" */
#define LIMITS_KEYS_MAX		5	/* keys of one message: id, snd, sdom, ip, net */

/* Negative returns of limits_check_and_count (and the counter backends). */
#define LIMITS_EINVAL	(-1)	/* bad argument: key or domain too long, ... */
#define LIMITS_EBACKEND	(-2)	/* the store failed (I/O, SQLite, Redis) */
#define LIMITS_EFULL	(-3)	/* the in-memory table is full (see counters.h) */

enum limits_thing { LIMITS_MESSAGES, LIMITS_RCPTS, LIMITS_DOMAINS };
enum limits_action { LIMITS_DEFER, LIMITS_REJECT, LIMITS_SUSPEND };

struct limits_rule {
	enum limits_thing thing;
	enum limits_action action;
	uint32_t window;		/* seconds, 1..LIMITS_WINDOW_MAX */
	uint32_t limit;			/* 0..LIMITS_COUNT_MAX */
};

struct limits_spec {
	size_t nrules;
	struct limits_rule rule[LIMITS_RULES_MAX];
};

struct limits_verdict {
	int refused;			/* 0: counted; 1: refused, nothing counted */
	size_t key;			/* index of the refusing key (keys call) */
	struct limits_rule rule;	/* the limit that refused (when refused) */
	uint32_t count;			/* its count in the window before this call */
	int64_t window_end;		/* when its window ends (retry after) */
};

struct counter_backend;

/* Parse text into *spec.  Returns 0, or -1 with a message naming the bad
 * token in err (always NUL-terminated; errlen >= 1).  An empty spec has no
 * limits.  No allocation; spec is plain data the caller owns. */
int limits_parse(struct limits_spec *spec, const char *text, char *err,
    size_t errlen);

/* Write "net:A.B.C.0/24" (IPv4, and IPv4-mapped IPv6) or "net:P::/64" (IPv6)
 * for the literal address ip into out (>= LIMITS_NETKEY_MAX).
 * Returns 0, or -1 when ip is not a literal address. */
int limits_net_key(const char *ip, char *out, size_t outlen);

/* Like limits_net_key with the prefix lengths len4 (0..32) and len6
 * (0..128) instead of 24 and 64: "net:A.B.C.D/LEN", "net:P::/LEN". */
int limits_net_key_len(const char *ip, unsigned len4, unsigned len6,
    char *out, size_t outlen);

/* One key of a multi-key decision and its spec (borrowed). */
struct limits_key {
	const char *key;
	const struct limits_spec *spec;
};

/* Atomically: if counting this message (n_msgs messages, n_rcpts recipients,
 * the recipient domains rcpt_domains[0..n_domains), any case, duplicates
 * allowed) would push any window of spec over its limit, count nothing and
 * fill *v with the first such limit (refused = 1); else add to every window
 * and set refused = 0.  now is Unix time in seconds.  Nothing is retained.
 * Returns 0 (see v->refused) or LIMITS_EINVAL/EBACKEND/EFULL, counting
 * nothing; what to answer then (451) is the caller's choice. */
int limits_check_and_count(struct counter_backend *b, const char *key,
    const struct limits_spec *spec, int64_t now, uint32_t n_msgs,
    uint32_t n_rcpts, const char *const *rcpt_domains, size_t n_domains,
    struct limits_verdict *v);

/* limits_check_and_count over keys[0..nkeys) (nkeys <= LIMITS_KEYS_MAX,
 * distinct keys) in ONE atomic step of the backend: when any window of any
 * key would go over, nothing is counted under any key and *v names the
 * first such limit, v->key its index in keys.  Returns as above. */
int limits_check_and_count_keys(struct counter_backend *b,
    const struct limits_key *keys, size_t nkeys, int64_t now, uint32_t n_msgs,
    uint32_t n_rcpts, const char *const *rcpt_domains, size_t n_domains,
    struct limits_verdict *v);

/* "messages", "rcpts", "domains"; "defer", "reject", "suspend". */
const char *limits_thing_name(enum limits_thing t);
const char *limits_action_name(enum limits_action a);

#endif
