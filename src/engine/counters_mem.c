/* counters_mem.c - the in-memory counter backend: one mutex, one chained
 * hash table of keys, each key one allocation holding its window slots and
 * its key text; distinct recipient domains are kept as 56-bit FNV-1a hashes
 * tagged with their slot (a false "seen" needs a 2^-56 collision).
 * Expired keys are swept a few buckets per call, and fully when the table
 * is full.  See counters.h for the contract. */
#include "engine/counters.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CM_SLOTS_MAX	(2 * LIMITS_RULES_MAX)	/* live windows per key */
#define CM_SWEEP_EVERY	64	/* calls between two partial sweeps */
#define CM_SWEEP_PART	64	/* a partial sweep visits buckets/this */

struct cm_slot {
	uint32_t window_len;		/* 0: unused */
	uint32_t window_idx;		/* window_start / window_len */
	uint32_t count;
	uint32_t thing;
};

struct cm_entry {
	struct cm_entry *next;
	uint64_t *dom;			/* hash << 8 | slot index */
	int64_t expires;		/* when every window is over */
	uint32_t ndom, domcap;
	uint16_t nslot;
	uint16_t keylen;
	/* char key[keylen + 1]; padding to 4; struct cm_slot slot[nslot]; */
};

struct counters_mem {
	struct counter_backend base;	/* first: the ops */
	pthread_mutex_t lock;
	struct cm_entry **bucket;
	size_t mask, nkeys, max_keys, sweep_at;
	unsigned calls;
};

static uint64_t
cm_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a 64 */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
cm_keyspace(size_t keylen)
{
	return (keylen + 1 + 3) & ~(size_t)3;
}

static char *
cm_key(struct cm_entry *e)
{
	return (char *)(e + 1);
}

static struct cm_slot *
cm_slots(struct cm_entry *e)
{
	return (struct cm_slot *)(void *)(cm_key(e) + cm_keyspace(e->keylen));
}

static void
cm_entry_free(struct cm_entry *e)
{
	free(e->dom);
	free(e);
}

/* The link that points to key's entry (or to the NULL at its chain end). */
static struct cm_entry **
cm_find(struct counters_mem *m, const char *key, uint64_t h)
{
	struct cm_entry **l = &m->bucket[h & m->mask];

	while (*l != NULL && strcmp(cm_key(*l), key) != 0)
		l = &(*l)->next;
	return l;
}

/* Remove expired entries from buckets [from, to). */
static void
cm_sweep(struct counters_mem *m, size_t from, size_t to, int64_t now)
{
	for (size_t i = from; i < to && i <= m->mask; i++) {
		struct cm_entry **l = &m->bucket[i], *e;
		while ((e = *l) != NULL) {
			if (e->expires > now) {
				l = &e->next;
				continue;
			}
			*l = e->next;
			cm_entry_free(e);
			m->nkeys--;
		}
	}
}

static void
cm_sweep_some(struct counters_mem *m, int64_t now)
{
	size_t part = (m->mask + 1) / CM_SWEEP_PART;

	if (++m->calls % CM_SWEEP_EVERY != 0)
		return;
	part = part ? part : 1;
	cm_sweep(m, m->sweep_at, m->sweep_at + part, now);
	m->sweep_at = m->sweep_at + part > m->mask ? 0 : m->sweep_at + part;
}

/* The slot of (thing, window_len) in e, or -1. */
static int
cm_slot_find(struct cm_entry *e, const struct counter_item *it)
{
	struct cm_slot *s = e != NULL ? cm_slots(e) : NULL;

	for (int i = 0; e != NULL && i < e->nslot; i++)
		if (s[i].window_len == it->window_len && s[i].thing == it->thing)
			return i;
	return -1;
}

static uint32_t
cm_idx(const struct counter_item *it)
{
	return (uint32_t)(it->window_start / it->window_len);
}

static int
cm_dom_has(const struct cm_entry *e, uint64_t tagged)
{
	for (uint32_t i = 0; i < e->ndom; i++)
		if (e->dom[i] == tagged)
			return 1;
	return 0;
}

static uint64_t
cm_dom_tag(const char *domain, int slot)
{
	return (cm_hash(domain) << 8) | (unsigned)slot;
}

/* The count of item it before the request, and what the request adds. */
static void
cm_current(struct cm_entry *e, const struct counter_request *req,
    const struct counter_item *it, uint64_t *cur, uint64_t *add)
{
	int si = cm_slot_find(e, it);
	int live = si >= 0 && cm_slots(e)[si].window_idx == cm_idx(it);

	*cur = live ? cm_slots(e)[si].count : 0;
	*add = it->add;
	if (it->thing != LIMITS_DOMAINS)
		return;
	*add = 0;
	for (size_t d = 0; d < req->ndomains; d++)
		*add += !live || !cm_dom_has(e, cm_dom_tag(req->domains[d], si));
}

/* Forget the domains of slot si. */
static void
cm_dom_drop(struct cm_entry *e, int si)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < e->ndom; i++)
		if ((e->dom[i] & 0xff) != (unsigned)si)
			e->dom[k++] = e->dom[i];
	e->ndom = k;
}

/* An unused slot, or one whose window is over; -1 when none. */
static int
cm_slot_free(struct cm_entry *e, int64_t now)
{
	struct cm_slot *s = cm_slots(e);

	for (int i = 0; i < e->nslot; i++)
		if (s[i].window_len == 0 ||
		    ((int64_t)s[i].window_idx + 1) * s[i].window_len <= now)
			return i;
	return -1;
}

/* The slot for it in *link's entry, in its current window (growing the
 * entry when needed; *link then points to the new block).  Index or EFULL. */
static int
cm_slot_claim(struct cm_entry **link, const struct counter_item *it,
    int64_t now)
{
	struct cm_entry *e = *link;
	int i = cm_slot_find(e, it);
	struct cm_slot *s;

	if (i < 0 && (i = cm_slot_free(e, now)) < 0) {
		size_t base = sizeof(*e) + cm_keyspace(e->keylen);
		if (e->nslot >= CM_SLOTS_MAX ||
		    (e = realloc(e, base + (e->nslot + 1u) * sizeof(*s))) == NULL)
			return LIMITS_EFULL;
		*link = e;
		i = e->nslot++;
		memset(&cm_slots(e)[i], 0, sizeof(*s));
	}
	s = &cm_slots(e)[i];
	if (s->window_len != it->window_len || s->thing != (uint32_t)it->thing ||
	    s->window_idx != cm_idx(it)) {
		cm_dom_drop(e, i);
		s->window_len = it->window_len;
		s->thing = (uint32_t)it->thing;
		s->window_idx = cm_idx(it);
		s->count = 0;
	}
	return i;
}

/* A new entry for the key of req's items at the end of its chain; the link or NULL. */
static struct cm_entry **
cm_insert(struct counters_mem *m, const struct counter_request *req)
{
	const char *key = req->item[0].key;
	size_t keylen = strlen(key);
	uint64_t h = cm_hash(key);
	struct cm_entry *e, **link;

	if (m->nkeys >= m->max_keys)
		cm_sweep(m, 0, m->mask + 1, req->now);
	if (m->nkeys >= m->max_keys)
		return NULL;
	e = calloc(1, sizeof(*e) + cm_keyspace(keylen) +
	    req->nitems * sizeof(struct cm_slot));
	if (e == NULL)
		return NULL;
	e->keylen = (uint16_t)keylen;
	e->nslot = (uint16_t)req->nitems;
	memcpy(cm_key(e), key, keylen + 1);
	link = cm_find(m, key, h);
	*link = e;
	m->nkeys++;
	return link;
}

/* Room for every request domain in every domain window. */
static int
cm_dom_reserve(struct cm_entry *e, const struct counter_request *req)
{
	size_t need = e->ndom, cap;
	uint64_t *d;

	for (size_t i = 0; i < req->nitems; i++)
		if (req->item[i].thing == LIMITS_DOMAINS)
			need += req->ndomains;
	if (need <= e->domcap)
		return 0;
	if (need > UINT32_MAX / 2)
		return LIMITS_EFULL;
	cap = e->domcap * 2 > need ? e->domcap * 2 : need;
	if ((d = realloc(e->dom, cap * sizeof(*d))) == NULL)
		return LIMITS_EBACKEND;
	e->dom = d;
	e->domcap = (uint32_t)cap;
	return 0;
}

static void
cm_apply(struct cm_entry *e, const struct counter_request *req,
    const uint64_t *add, const int *si)
{
	for (size_t i = 0; i < req->nitems; i++) {
		const struct counter_item *it = &req->item[i];
		int64_t end = it->window_start + it->window_len;
		cm_slots(e)[si[i]].count += (uint32_t)add[i];
		if (end > e->expires)
			e->expires = end;
		for (size_t d = 0; it->thing == LIMITS_DOMAINS &&
		    d < req->ndomains; d++) {
			uint64_t tag = cm_dom_tag(req->domains[d], si[i]);
			if (!cm_dom_has(e, tag))
				e->dom[e->ndom++] = tag;
		}
	}
}

static int
cm_commit(struct counters_mem *m, struct cm_entry **link,
    const struct counter_request *req, const uint64_t *add)
{
	int si[LIMITS_RULES_MAX], rc;

	if (*link == NULL && (link = cm_insert(m, req)) == NULL)
		return LIMITS_EFULL;
	for (size_t i = 0; i < req->nitems; i++)
		if ((si[i] = cm_slot_claim(link, &req->item[i], req->now)) < 0)
			return si[i];
	if ((rc = cm_dom_reserve(*link, req)) < 0)
		return rc;
	cm_apply(*link, req, add, si);
	return 0;
}

/* The items [from, ...) of req under one key, as a request of their own
 * (items of one key are adjacent, counters.h).  Returns the next from. */
static size_t
cm_group(const struct counter_request *req, size_t from,
    struct counter_request *sub)
{
	size_t to = from;

	while (to < req->nitems &&
	    strcmp(req->item[to].key, req->item[from].key) == 0)
		to++;
	sub->now = req->now;
	sub->nitems = to - from;
	memcpy(sub->item, &req->item[from], sub->nitems * sizeof(sub->item[0]));
	sub->domains = req->domains;
	sub->ndomains = req->ndomains;
	return to;
}

/* Read every window of every key; 1 when one refuses (res filled). */
static int
cm_decide(struct counters_mem *m, const struct counter_request *req,
    uint64_t *add, size_t *newkeys, struct counter_result *res)
{
	struct cm_entry *e = NULL;
	uint64_t cur;

	*newkeys = 0;
	for (size_t i = 0; i < req->nitems; i++) {
		const struct counter_item *it = &req->item[i];
		if (i == 0 || strcmp(it->key, req->item[i - 1].key) != 0) {
			e = *cm_find(m, it->key, cm_hash(it->key));
			*newkeys += e == NULL;
		}
		cm_current(e, req, it, &cur, &add[i]);
		if (cur + add[i] > it->limit) {
			res->refused = 1;
			res->index = i;
			res->count = (uint32_t)cur;
			return 1;
		}
	}
	return 0;
}

/* Count every key's group; room for the new keys was made first, so only
 * ENOMEM can stop this half way. */
static int
cm_commit_all(struct counters_mem *m, const struct counter_request *req,
    const uint64_t *add)
{
	struct counter_request sub;
	size_t from = 0, to;
	int rc = 0;

	while (rc == 0 && from < req->nitems) {
		to = cm_group(req, from, &sub);
		rc = cm_commit(m, cm_find(m, sub.item[0].key,
		    cm_hash(sub.item[0].key)), &sub, add + from);
		from = to;
	}
	return rc;
}

static int
cm_check_and_count(struct counter_backend *b,
    const struct counter_request *req, struct counter_result *res)
{
	struct counters_mem *m = (struct counters_mem *)(void *)b;
	uint64_t add[COUNTER_ITEMS_MAX];
	size_t newkeys;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	cm_sweep_some(m, req->now);
	if (cm_decide(m, req, add, &newkeys, res))
		goto out;
	if (m->nkeys + newkeys > m->max_keys)
		cm_sweep(m, 0, m->mask + 1, req->now);
	if (m->nkeys + newkeys > m->max_keys)
		rc = LIMITS_EFULL;
	else
		rc = cm_commit_all(m, req, add);
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void
cm_free(struct counter_backend *b)
{
	struct counters_mem *m = (struct counters_mem *)(void *)b;

	for (size_t i = 0; i <= m->mask; i++) {
		struct cm_entry *e = m->bucket[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			cm_entry_free(e);
		}
	}
	free(m->bucket);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct counter_backend_ops cm_ops = {
	"memory", cm_check_and_count, cm_free,
};

struct counter_backend *
counters_mem_new(size_t max_keys)
{
	struct counters_mem *m;
	size_t n = 16;

	if (max_keys == 0 || max_keys > ((size_t)1 << 32))
		return NULL;
	while (n < max_keys)
		n *= 2;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->bucket = calloc(n, sizeof(*m->bucket))) == NULL) {
		free(m);
		return NULL;
	}
	m->base.ops = &cm_ops;
	m->mask = n - 1;
	m->max_keys = max_keys;
	pthread_mutex_init(&m->lock, NULL);
	return &m->base;
}

size_t
counters_mem_keys(struct counter_backend *b)
{
	struct counters_mem *m = (struct counters_mem *)(void *)b;
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->nkeys;
	pthread_mutex_unlock(&m->lock);
	return n;
}
