/* evidence.h - what a suspension keeps as evidence (issue 3 §4): a small
 * JSON object an administrator reads with "jaga suspend show".
 *
 * {"rule":"messages=20/60s action=suspend","window_start":...,
 *  "window_end":...,"limit":20,"count":20,"counts":{"60s":20},
 *  "client_ips":["192.0.2.7"],"helo":"...","sender":"<a@b>",
 *  "rcpt_domains":["example.net"],"first":...,"last":...,
 *  "subjects":["..."]}
 * With the identity's recent activity (engine/burst.h) it also holds
 * "messages" (in the span), "top_domains" ({"example.net":12,...}, most
 * used first), every recent client IP, distinct recent subjects (oldest
 * first) and the span's first time.  A burst rule (e.g. "burst ips=6/10m")
 * gives limit = its threshold, count = its count and counts of every burst
 * measure: {"messages/1h":..,"domains/1h":..,"ips/10m":..,"nets/10m":..,
 * "baseline/1h":..}.
 * Every string is bounded (control and non-ASCII octets as '?'); the
 * whole fits 4096 octets (STORE_EVIDENCE_MAX): when it would not, fewer
 * IPs, domains and subjects are kept.
 */
#ifndef JAGA_ENGINE_EVIDENCE_H
#define JAGA_ENGINE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/burst.h"
#include "engine/limits.h"

#define EVIDENCE_DOMAINS_MAX	10	/* recipient domains kept; ours */
#define EVIDENCE_SUBJECT_MAX	120	/* octets of a kept subject; ours */
#define EVIDENCE_TEXT_MAX	128	/* octets of any other string; ours */

struct evidence {
	const struct limits_verdict *v;	/* the refusing limit, or NULL and: */
	const struct burst_verdict *burst;	/* the burst rule that fired */
	const struct burst_params *bp;	/* with burst: its windows */
	const struct burst_stats *stats;	/* with burst: every count */
	const struct burst_activity *act;	/* recent activity; may be NULL */
	const char *client_ip, *helo, *sender;	/* may be NULL */
	const char *const *domains;	/* recipient domains */
	size_t ndomains;
	const char *subject;		/* may be NULL */
	int64_t first, last;		/* Unix seconds: session start, now */
};

/* The rule as text: "messages=20/60s action=suspend" (out >= 64). */
void evidence_rule(const struct limits_rule *r, char *out, size_t outlen);
/* Write e as one JSON object into out (NUL-terminated).  Returns 0, or -1
 * when it does not fit in outlen (out then holds "{}"). */
int evidence_json(const struct evidence *e, char *out, size_t outlen);
/* The first Subject: of the header block msg[0..len) (RFC 5322 §3.6.5),
 * unfolded, control and non-ASCII octets as '?', cut at outlen - 1.
 * Returns 1, or 0 (out = "") when there is none. */
int evidence_subject(const char *msg, size_t len, char *out, size_t outlen);

#endif
