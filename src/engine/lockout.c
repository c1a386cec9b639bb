/* lockout.c - AUTH brute-force lockout: one mutex, one chained hash table
 * of IPs and account names (SipHash with a random key, so chosen names do
 * not pile into one chain), each entry one allocation holding the hashes of
 * the distinct names (IP) or IPs (account) it failed with.  See lockout.h
 * for the contract. */
#include "engine/lockout.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LO_NONE		INT64_MIN	/* no window open */
#define LO_SWEEP_PART	8		/* buckets visited per call */
#define LO_FULL_SWEEP_MS 1000		/* at most one full sweep a second */

enum lo_kind { LO_IP, LO_ACCOUNT };

struct lo_entry {
	struct lo_entry *next;
	int64_t win_start;		/* LO_NONE or the window's first failure */
	int64_t locked_until;
	int64_t last_lock_end;		/* back-off is forgotten after this + max */
	unsigned failures, strikes, ndist, maxdist;
	enum lo_kind kind;
	char key[LOCKOUT_KEY_MAX + 1];
	uint64_t dist[];		/* maxdist hashes */
};

struct lockout {
	pthread_mutex_t lock;
	struct lockout_params p;
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct lo_entry **bucket;
	struct lo_entry *overflow[2];	/* shared when the table is full */
	size_t mask, n, sweep_at;
	int64_t full_sweep_at;
	unsigned long nfull;
};

static uint64_t
lo_hash(const struct lockout *lk, enum lo_kind kind, const char *key)
{
	unsigned char in[LOCKOUT_KEY_MAX + 2], out[crypto_shorthash_BYTES];
	size_t len = strlen(key);
	uint64_t h;

	in[0] = (unsigned char)kind;
	memcpy(in + 1, key, len);
	crypto_shorthash(out, in, len + 1, lk->hkey);
	memcpy(&h, out, sizeof h);
	return h;
}

/* The key as tracked: cut to LOCKOUT_KEY_MAX, names lowercased. */
static void
lo_key(char *out, enum lo_kind kind, const char *in)
{
	size_t i;

	for (i = 0; i < LOCKOUT_KEY_MAX && in[i] != '\0'; i++)
		out[i] = kind == LO_ACCOUNT ?
		    (char)tolower((unsigned char)in[i]) : in[i];
	out[i] = '\0';
}

static struct lo_entry *
lo_entry_new(const struct lockout *lk, enum lo_kind kind, const char *key)
{
	unsigned maxdist = kind == LO_IP ? lk->p.spray_accounts :
	    lk->p.account_ips;
	struct lo_entry *e = calloc(1, sizeof *e + maxdist * sizeof e->dist[0]);

	if (e == NULL)
		return NULL;
	e->kind = kind;
	e->maxdist = maxdist;
	e->win_start = LO_NONE;
	snprintf(e->key, sizeof e->key, "%s", key);
	return e;
}

/* Nothing left to remember: no open window, no lock, no back-off. */
static int
lo_idle(const struct lockout *lk, const struct lo_entry *e, int64_t now)
{
	return now >= e->locked_until && (e->win_start == LO_NONE ||
	    now - e->win_start >= lk->p.window_ms) && (e->strikes == 0 ||
	    now - e->last_lock_end >= lk->p.ip_lock_max_ms);
}

static void
lo_sweep_bucket(struct lockout *lk, size_t b, int64_t now)
{
	struct lo_entry **pp = &lk->bucket[b], *e;

	while ((e = *pp) != NULL) {
		if (lo_idle(lk, e, now)) {
			*pp = e->next;
			free(e);
			lk->n--;
		} else {
			pp = &e->next;
		}
	}
}

/* A few buckets per call keep the table clean; a full pass when full. */
static void
lo_sweep(struct lockout *lk, int64_t now, int full)
{
	size_t count = full ? lk->mask + 1 : LO_SWEEP_PART;

	if (full) {
		if (lk->full_sweep_at != LO_NONE &&
		    now - lk->full_sweep_at < LO_FULL_SWEEP_MS)
			return;
		lk->full_sweep_at = now;
	}
	for (size_t i = 0; i < count && i <= lk->mask; i++) {
		lo_sweep_bucket(lk, lk->sweep_at, now);
		lk->sweep_at = (lk->sweep_at + 1) & lk->mask;
	}
}

static struct lo_entry *
lo_find(struct lockout *lk, enum lo_kind kind, const char *key)
{
	struct lo_entry *e = lk->bucket[lo_hash(lk, kind, key) & lk->mask];

	while (e != NULL && (e->kind != kind || strcmp(e->key, key) != 0))
		e = e->next;
	return e;
}

/* The entry that counts key: its own, a new one, or the overflow entry
 * when the table is full (or memory is short).  NULL only for a lookup
 * (create = 0) of an unknown key while the table has room. */
static struct lo_entry *
lo_get(struct lockout *lk, enum lo_kind kind, const char *raw, int64_t now,
    int create)
{
	char key[LOCKOUT_KEY_MAX + 1];
	struct lo_entry *e;
	size_t b;

	lo_key(key, kind, raw);
	if ((e = lo_find(lk, kind, key)) != NULL)
		return e;
	if (lk->n >= lk->p.max_entries)
		lo_sweep(lk, now, 1);
	if (lk->n >= lk->p.max_entries || (create &&
	    (e = lo_entry_new(lk, kind, key)) == NULL)) {
		lk->nfull += create;
		return lk->overflow[kind];
	}
	if (!create)
		return NULL;
	b = lo_hash(lk, kind, key) & lk->mask;
	e->next = lk->bucket[b];
	lk->bucket[b] = e;
	lk->n++;
	return e;
}

struct lockout *
lockout_new(const struct lockout_params *p)
{
	struct lockout *lk;
	size_t nb = 16;

	if (p->ip_failures < 1 || p->account_failures < 1 ||
	    p->spray_accounts < 1 || p->spray_accounts > LOCKOUT_DISTINCT_MAX ||
	    p->account_ips < 1 || p->account_ips > LOCKOUT_DISTINCT_MAX ||
	    p->window_ms < 1 || p->ip_lock_ms < 1 || p->account_lock_ms < 1 ||
	    p->ip_lock_max_ms < p->ip_lock_ms || p->max_entries < 2 ||
	    sodium_init() < 0 || (lk = calloc(1, sizeof *lk)) == NULL)
		return NULL;
	if (pthread_mutex_init(&lk->lock, NULL) != 0) {
		free(lk);
		return NULL;
	}
	lk->p = *p;
	while (nb < p->max_entries && nb < ((size_t)1 << 24))
		nb <<= 1;
	lk->mask = nb - 1;
	lk->full_sweep_at = LO_NONE;
	randombytes_buf(lk->hkey, sizeof lk->hkey);
	lk->bucket = calloc(nb, sizeof *lk->bucket);
	lk->overflow[LO_IP] = lo_entry_new(lk, LO_IP, "(overflow)");
	lk->overflow[LO_ACCOUNT] = lo_entry_new(lk, LO_ACCOUNT, "(overflow)");
	if (lk->bucket == NULL || lk->overflow[0] == NULL ||
	    lk->overflow[1] == NULL) {
		lockout_free(lk);
		return NULL;
	}
	return lk;
}

void
lockout_free(struct lockout *lk)
{
	if (lk == NULL)
		return;
	for (size_t i = 0; lk->bucket != NULL && i <= lk->mask; i++) {
		while (lk->bucket[i] != NULL) {
			struct lo_entry *e = lk->bucket[i];
			lk->bucket[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&lk->lock);
	free(lk->overflow[0]);
	free(lk->overflow[1]);
	free(lk->bucket);
	free(lk);
}

static int64_t
lo_locked(struct lockout *lk, enum lo_kind kind, const char *key, int64_t now)
{
	struct lo_entry *e;
	int64_t left;

	pthread_mutex_lock(&lk->lock);
	e = lo_get(lk, kind, key, now, 0);
	left = e != NULL && e->locked_until > now ? e->locked_until - now : 0;
	pthread_mutex_unlock(&lk->lock);
	return left;
}

int64_t
lockout_ip_locked(struct lockout *lk, const char *ip, int64_t now)
{
	return lo_locked(lk, LO_IP, ip, now);
}

int64_t
lockout_account_locked(struct lockout *lk, const char *name, int64_t now)
{
	return lo_locked(lk, LO_ACCOUNT, name, now);
}

/* Open a new window when the last one is over; count one failure with
 * the hash of the other side (a name for an IP, an IP for a name). */
static void
lo_count(struct lockout *lk, struct lo_entry *e, uint64_t other, int64_t now)
{
	unsigned i;

	if (e->win_start == LO_NONE || now - e->win_start >= lk->p.window_ms) {
		e->win_start = now;
		e->failures = 0;
		e->ndist = 0;
	}
	e->failures++;
	for (i = 0; i < e->ndist && e->dist[i] != other; i++)
		continue;
	if (i == e->ndist && e->ndist < e->maxdist)
		e->dist[e->ndist++] = other;
}

/* Lock an IP for ip_lock_ms doubled per earlier lock, up to the cap. */
static void
lo_lock_ip(struct lockout *lk, struct lo_entry *e, enum lockout_why why,
    int64_t now, struct lockout_event *ev)
{
	int64_t dur = lk->p.ip_lock_ms;

	if (e->strikes > 0 && now - e->last_lock_end >= lk->p.ip_lock_max_ms)
		e->strikes = 0;
	e->strikes++;
	for (unsigned i = 1; i < e->strikes && dur < lk->p.ip_lock_max_ms; i++)
		dur *= 2;
	if (dur > lk->p.ip_lock_max_ms)
		dur = lk->p.ip_lock_max_ms;
	e->locked_until = e->last_lock_end = now + dur;
	e->win_start = LO_NONE;		/* count afresh after the lock */
	ev->ip_locked = why;
	ev->ip_until = e->locked_until;
	ev->ip_strikes = e->strikes;
}

static void
lo_fail_ip(struct lockout *lk, struct lo_entry *e, uint64_t name_h,
    int64_t now, struct lockout_event *ev)
{
	lo_count(lk, e, name_h, now);
	if (now < e->locked_until)
		return;
	if (e->ndist >= lk->p.spray_accounts)
		lo_lock_ip(lk, e, LOCKOUT_SPRAYING, now, ev);
	else if (e->failures >= lk->p.ip_failures)
		lo_lock_ip(lk, e, LOCKOUT_FAILURES, now, ev);
}

static void
lo_fail_account(struct lockout *lk, struct lo_entry *a, uint64_t ip_h,
    int64_t now, struct lockout_event *ev)
{
	lo_count(lk, a, ip_h, now);
	if (now < a->locked_until || (a->ndist < lk->p.account_ips &&
	    a->failures < lk->p.account_failures))
		return;
	a->locked_until = now + lk->p.account_lock_ms;
	ev->account_locked = 1;
	ev->account_until = a->locked_until;
	ev->account_ips = a->ndist;
	ev->account_failures = a->failures;
	a->win_start = LO_NONE;
}

void
lockout_fail(struct lockout *lk, const char *ip, const char *name,
    int64_t now, struct lockout_event *ev)
{
	char key[LOCKOUT_KEY_MAX + 1];
	uint64_t ip_h, name_h;

	memset(ev, 0, sizeof *ev);
	lo_key(key, LO_ACCOUNT, name);
	name_h = lo_hash(lk, LO_ACCOUNT, key);
	lo_key(key, LO_IP, ip);
	ip_h = lo_hash(lk, LO_IP, key);
	pthread_mutex_lock(&lk->lock);
	lo_sweep(lk, now, 0);
	lo_fail_ip(lk, lo_get(lk, LO_IP, ip, now, 1), name_h, now, ev);
	lo_fail_account(lk, lo_get(lk, LO_ACCOUNT, name, now, 1), ip_h, now,
	    ev);
	pthread_mutex_unlock(&lk->lock);
}

void
lockout_success(struct lockout *lk, const char *ip, int64_t now)
{
	struct lo_entry *e;

	pthread_mutex_lock(&lk->lock);
	e = lo_get(lk, LO_IP, ip, now, 0);
	if (e != NULL && e != lk->overflow[LO_IP])
		e->failures = 0;
	pthread_mutex_unlock(&lk->lock);
}

size_t
lockout_entries(struct lockout *lk)
{
	size_t n;

	pthread_mutex_lock(&lk->lock);
	n = lk->n;
	pthread_mutex_unlock(&lk->lock);
	return n;
}

unsigned long
lockout_full(struct lockout *lk)
{
	unsigned long n;

	pthread_mutex_lock(&lk->lock);
	n = lk->nfull;
	pthread_mutex_unlock(&lk->lock);
	return n;
}
