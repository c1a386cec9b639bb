/* guard_int.h - the pieces of gateway/guard.c kept in files of their own
 * (guard_keys.c: limit keys beyond the identity; guard_burst.c: burst
 * detection).  Internal to the guard. */
#ifndef JAGA_GATEWAY_GUARD_INT_H
#define JAGA_GATEWAY_GUARD_INT_H

#include "engine/evidence.h"
#include "gateway/guard.h"

/* The parsed specs of the keys beyond the identity. */
struct guard_keyset {
	struct limits_spec sender, sender_domain, ip, net;
	unsigned prefix4, prefix6;
};

/* Room for the text of every key of one message. */
struct guard_keybuf {
	char text[LIMITS_KEYS_MAX][LIMITS_KEY_MAX];
};

/* Parse k's specs into ks.  0, or -1 with "PARAMETER: problem" in err. */
int guard_keyset_parse(struct guard_keyset *ks, const struct guard_keys *k,
    char *err, size_t errlen);
/* 1 when any spec of ks has a limit. */
int guard_keyset_on(const struct guard_keyset *ks);
/* Append the keys of m that have limits to keys[*n] (texts in kb):
 * "snd:local@domain" and "sdom:domain" (domain lowercased, RFC 5321 §2.4;
 * none for the null path <>), "ip:ADDR", "net:PREFIX/LEN". */
void guard_keyset_keys(const struct guard_keyset *ks, const struct guard_msg *m,
    struct guard_keybuf *kb, struct limits_key *keys, size_t *n);

/* Record m (an identity's message that passed its limits) in bs and apply
 * the burst rules; when one fires, fill out (verdict from p->action, rule,
 * burst) and *stats, and return 1.  0: nothing new; -1: the store failed
 * (logged; the message passes: the limits were met). */
int guard_burst_check(struct burst_store *bs, const struct burst_params *p,
    const struct guard_msg *m, struct guard_result *out,
    struct burst_stats *stats);
/* The recent activity of m's identity for the evidence of a suspension by
 * out's rule (a burst rule or a limit); a->msgs = 0 when there is none. */
void guard_burst_activity(struct burst_store *bs, const struct guard_msg *m,
    const struct guard_result *out, struct burst_activity *a);

#endif
