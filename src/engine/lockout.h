/* lockout.h - AUTH brute-force lockout (issue 3 §6): failures per client IP
 * and per account name, shared by every worker thread (one mutex).
 *
 * - IP: ip_failures failures within window lock the IP for ip_lock_ms, then
 *   twice as long at each further lock (capped at ip_lock_max_ms); the
 *   doubling is forgotten after ip_lock_max_ms without a lock.
 * - Spraying: one IP failing with spray_accounts distinct names within
 *   window locks the IP the same way.
 * - Account: failures for one name from account_ips distinct IPs, or
 *   account_failures failures in all, within window lock the name for
 *   account_lock_ms (even the right password is refused by the caller).
 * Windows are fixed: they start at the first failure and end window_ms
 * later.  Names are compared case-insensitively (ASCII).
 *
 * Memory is bounded: at most max_entries IPs and names are tracked (each
 * one allocation of about 100 bytes plus 8 bytes per distinct name/IP it
 * remembers, at most spray_accounts or account_ips).  Entries whose windows
 * and locks are over are swept.  When the table is full of live entries,
 * every IP (name) not in it shares one overflow entry: they are counted,
 * and locked, together.  Filling the table therefore never lets anyone
 * guess unseen; at worst new clients are locked together while the table
 * stays full (lockout_full counts these events).
 *
 * All times are milliseconds of one monotonic clock chosen by the caller
 * (tests pass a fake one). */
#ifndef JAGA_ENGINE_LOCKOUT_H
#define JAGA_ENGINE_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

#define LOCKOUT_KEY_MAX		255	/* longer names are cut (then counted
					 * under the cut name) */
#define LOCKOUT_DISTINCT_MAX	1000	/* bound of spray_accounts, account_ips */

struct lockout_params {
	unsigned ip_failures;		/* >= 1 */
	unsigned spray_accounts;	/* 1..LOCKOUT_DISTINCT_MAX */
	unsigned account_ips;		/* 1..LOCKOUT_DISTINCT_MAX */
	unsigned account_failures;	/* >= 1 */
	int64_t window_ms;		/* >= 1 */
	int64_t ip_lock_ms;		/* first IP lock, >= 1 */
	int64_t ip_lock_max_ms;		/* >= ip_lock_ms */
	int64_t account_lock_ms;	/* >= 1 */
	size_t max_entries;		/* >= 2 */
};

enum lockout_why { LOCKOUT_NONE, LOCKOUT_FAILURES, LOCKOUT_SPRAYING };

/* What one failure caused: a lock that begins now (once per lock). */
struct lockout_event {
	enum lockout_why ip_locked;	/* NONE: no new IP lock */
	int64_t ip_until;
	unsigned ip_strikes;		/* 1 for the first lock, 2 ... */
	int account_locked;		/* 1: a new account lock */
	int64_t account_until;
	unsigned account_ips, account_failures;
};

struct lockout;

/* A tracker with the parameters copied.  NULL on ENOMEM or bad params. */
struct lockout *lockout_new(const struct lockout_params *p);
/* Takes NULL.  No thread may use lk any more. */
void lockout_free(struct lockout *lk);
/* Milliseconds ip stays locked from now (0: not locked). */
int64_t lockout_ip_locked(struct lockout *lk, const char *ip, int64_t now);
/* Milliseconds the account name stays locked from now (0: not locked). */
int64_t lockout_account_locked(struct lockout *lk, const char *name,
    int64_t now);
/* Count one failed AUTH of name from ip; *ev (zeroed here) tells which
 * locks begin with it.  A failure against an IP or name already locked
 * is counted but never starts a second lock. */
void lockout_fail(struct lockout *lk, const char *ip, const char *name,
    int64_t now, struct lockout_event *ev);
/* A successful AUTH from ip: its failure count starts again (its
 * distinct-name set, back-off and the account's state are kept). */
void lockout_success(struct lockout *lk, const char *ip, int64_t now);
/* Entries tracked now, and how often a key fell into an overflow entry. */
size_t lockout_entries(struct lockout *lk);
unsigned long lockout_full(struct lockout *lk);

#endif
