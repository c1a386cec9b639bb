/* dns_cache.c - an answer cache in front of any dns_lookup (see dns.h).
 *
 * Why: every query through dns_unbound crosses to libunbound's worker and
 * back (ub_resolve_async, a pipe, a wake-up) even when libunbound has the
 * answer cached; an SPF check asks up to 10 names (RFC 7208 §4.6.4).  A
 * hit here is a hash lookup and a copy under one shard's mutex.
 *
 * The key is the normalized name (lowercase, no trailing dot) and the
 * type; the name picks the shard and the bucket (FNV-1a).  Each entry is
 * one allocation: the entry, its name, its answer as a blob (dns_blob.c,
 * a few hundred octets where struct dns_result is ~35 KB).  A shard keeps
 * its entries on an LRU list; an insert evicts from the tail until both
 * its entry and octet budgets hold.  An expired entry is dropped when it
 * is found, or when the LRU reaches it.
 */
#include "engine/dns_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SMALL	1024	/* below this many entries: one shard */

struct cache_ent {
	struct cache_ent *hnext;	/* bucket chain */
	struct cache_ent *prev, *next;	/* LRU list, most recent first */
	uint64_t hash;
	int64_t stored, expires;	/* seconds, the cache's clock */
	size_t bloblen;
	uint16_t type;
	uint8_t namelen;
	/* char name[namelen + 1]; uint8_t blob[bloblen]; */
};

struct cache_shard {
	pthread_mutex_t mu;
	struct cache_ent **bucket;
	size_t mask;			/* buckets - 1 */
	struct cache_ent *head, *tail;
	size_t entries, bytes, max_entries, max_bytes;
	unsigned long long hits, misses, evictions;
};

struct dns_cache {
	struct dns_lookup l;		/* first: the lookup is the cache */
	struct dns_lookup *inner;
	int64_t (*now)(void);
	size_t nshards;
	struct cache_shard shard[];
};

static int64_t
cache_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static uint64_t
cache_hash(const char *name, enum dns_type type)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a 64 */

	while (*name != '\0') {
		h ^= (unsigned char)*name++;
		h *= 1099511628211ULL;
	}
	h ^= (uint64_t)type;
	return h * 1099511628211ULL;
}

static char *
cache_name(struct cache_ent *e)
{
	return (char *)(e + 1);
}

static uint8_t *
cache_blob(struct cache_ent *e)
{
	return (uint8_t *)cache_name(e) + e->namelen + 1;
}

static size_t
cache_size(const struct cache_ent *e)
{
	return sizeof *e + e->namelen + 1 + e->bloblen;
}

/* The link pointing at the entry for (name, type), or at its chain's end. */
static struct cache_ent **
cache_find(struct cache_shard *s, uint64_t h, const char *name,
    enum dns_type type)
{
	struct cache_ent **pp = &s->bucket[h & s->mask];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if ((*pp)->hash == h && (*pp)->type == (uint16_t)type &&
		    strcmp(cache_name(*pp), name) == 0)
			break;
	return pp;
}

static void
lru_unlink(struct cache_shard *s, struct cache_ent *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
}

static void
lru_push(struct cache_shard *s, struct cache_ent *e)
{
	e->prev = NULL;
	e->next = s->head;
	if (s->head != NULL)
		s->head->prev = e;
	else
		s->tail = e;
	s->head = e;
}

/* Unlink the entry *pp points at from its chain and the LRU; free it. */
static void
cache_drop(struct cache_shard *s, struct cache_ent **pp)
{
	struct cache_ent *e = *pp;

	*pp = e->hnext;
	lru_unlink(s, e);
	s->entries--;
	s->bytes -= cache_size(e);
	free(e);
}

/* Evict the least recently used entry. */
static void
cache_evict(struct cache_shard *s)
{
	struct cache_ent *e = s->tail;

	cache_drop(s, cache_find(s, e->hash, cache_name(e),
	    (enum dns_type)e->type));
	s->evictions++;
}

/* The stored answer into out, its TTLs less its age; 0, or -1 (and the
 * entry dropped) when it has expired.  Under s->mu. */
static int
cache_hit(struct cache_shard *s, struct cache_ent **pp, int64_t now,
    struct dns_result *out)
{
	struct cache_ent *e = *pp;
	uint32_t age = (uint32_t)(now - e->stored);
	size_t i;

	if (now >= e->expires || now < e->stored ||
	    dns_blob_get(cache_blob(e), e->bloblen, out) != 0) {
		cache_drop(s, pp);
		return -1;
	}
	lru_unlink(s, e);
	lru_push(s, e);
	out->ttl = out->ttl > age ? out->ttl - age : 0;
	for (i = 0; i < out->n; i++)	/* each lives >= e->expires */
		out->rr[i].ttl = out->rr[i].ttl > age ? out->rr[i].ttl - age : 0;
	return 0;
}

/* How long r may be kept, in seconds: 0 for not at all. */
static uint32_t
cache_life(const struct dns_result *r)
{
	uint32_t life = r->ttl != 0 ? r->ttl : UINT32_MAX;
	size_t i;

	switch (r->status) {
	case DNS_OK:		/* the least TTL of the answer's records */
		for (i = 0; i < r->n; i++)
			if (r->rr[i].ttl < life)
				life = r->rr[i].ttl;
		if (life == UINT32_MAX)
			return 0;
		return life < DNS_CACHE_TTL_MAX ? life : DNS_CACHE_TTL_MAX;
	case DNS_NXDOMAIN:
	case DNS_NODATA:	/* RFC 2308 §5: no longer than the SOA says */
		return r->ttl < DNS_CACHE_NEG_TTL_MAX ? r->ttl :
		    DNS_CACHE_NEG_TTL_MAX;
	default:
		return 0;	/* TEMPFAIL, PERMFAIL: ask again next time */
	}
}

/* A new entry holding r for (name, type), not yet linked; NULL when r is
 * not to be kept, is larger than the shard's octets, or no memory. */
static struct cache_ent *
cache_ent_new(const struct cache_shard *s, const char *name,
    enum dns_type type, const struct dns_result *r, int64_t now)
{
	uint32_t life = cache_life(r);
	size_t nl = strlen(name), bl;
	struct cache_ent *e;

	if (life == 0)
		return NULL;
	bl = dns_blob_len(r);
	if (sizeof *e + nl + 1 + bl > s->max_bytes ||
	    (e = malloc(sizeof *e + nl + 1 + bl)) == NULL)
		return NULL;	/* not kept: the next query asks again */
	memset(e, 0, sizeof *e);
	e->stored = now;
	e->expires = now + life;
	e->bloblen = bl;
	e->type = (uint16_t)type;
	e->namelen = (uint8_t)nl;	/* nl <= DNS_NAME_MAX */
	memcpy(cache_name(e), name, nl + 1);
	dns_blob_put(r, cache_blob(e));
	return e;
}

/* Keep r, the answer inner just gave, evicting from the LRU's tail until
 * the shard's bounds hold. */
static void
cache_store(struct cache_shard *s, uint64_t h, const char *name,
    enum dns_type type, const struct dns_result *r, int64_t now)
{
	struct cache_ent *e = cache_ent_new(s, name, type, r, now), **pp;

	if (e == NULL)
		return;
	e->hash = h;
	pthread_mutex_lock(&s->mu);
	if (*(pp = cache_find(s, h, name, type)) != NULL)
		cache_drop(s, pp);	/* another thread asked meanwhile */
	while (s->entries > 0 && (s->entries >= s->max_entries ||
	    s->bytes + cache_size(e) > s->max_bytes))
		cache_evict(s);
	e->hnext = s->bucket[h & s->mask];
	s->bucket[h & s->mask] = e;
	lru_push(s, e);
	s->entries++;
	s->bytes += cache_size(e);
	pthread_mutex_unlock(&s->mu);
}

static int
cache_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct dns_cache *c = (struct dns_cache *)l;
	char norm[DNS_NAME_MAX + 1];
	struct cache_shard *s;
	struct cache_ent **pp;
	int64_t now;
	uint64_t h;
	int hit = -1;

	if (name == NULL)
		return -1;
	if (dns_name_norm(name, norm) != 0)	/* inner says PERMFAIL */
		return dns_query(c->inner, name, type, out);
	h = cache_hash(norm, type);
	s = &c->shard[(h >> 32) % c->nshards];
	now = c->now();
	pthread_mutex_lock(&s->mu);
	if (*(pp = cache_find(s, h, norm, type)) != NULL)
		hit = cache_hit(s, pp, now, out);
	if (hit == 0)
		s->hits++;
	else
		s->misses++;
	pthread_mutex_unlock(&s->mu);
	if (hit == 0)
		return 0;
	if (dns_query(c->inner, norm, type, out) != 0)
		return -1;
	cache_store(s, h, norm, type, out, now);
	return 0;
}

static void
cache_shard_done(struct cache_shard *s)
{
	struct cache_ent *e, *next;

	for (e = s->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	free(s->bucket);
	pthread_mutex_destroy(&s->mu);
}

static void
cache_free(struct dns_lookup *l)
{
	struct dns_cache *c = (struct dns_cache *)l;
	size_t i;

	for (i = 0; i < c->nshards; i++)
		cache_shard_done(&c->shard[i]);
	dns_lookup_free(c->inner);
	free(c);
}

/* A shard of at most max entries; its buckets a power of two >= max. */
static int
cache_shard_init(struct cache_shard *s, size_t max)
{
	size_t nb = 1;

	while (nb < max)
		nb *= 2;
	if ((s->bucket = calloc(nb, sizeof s->bucket[0])) == NULL)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	s->mask = nb - 1;
	s->max_entries = max;
	s->max_bytes = max * DNS_CACHE_ENTRY_BYTES;
	return 0;
}

struct dns_lookup *
dns_cache_new(struct dns_lookup *inner, size_t max_entries)
{
	size_t nshards = max_entries >= CACHE_SMALL ? DNS_CACHE_SHARDS : 1, i;
	struct dns_cache *c = NULL;

	if (inner == NULL || max_entries == 0 ||
	    max_entries > DNS_CACHE_SIZE_MAX || (c = calloc(1, sizeof *c +
	    nshards * sizeof c->shard[0])) == NULL) {
		dns_lookup_free(inner);
		return NULL;
	}
	c->l.query = cache_query;
	c->l.free = cache_free;
	c->inner = inner;
	c->now = cache_clock;
	for (i = 0; i < nshards; i++, c->nshards++)
		if (cache_shard_init(&c->shard[i], max_entries / nshards) != 0) {
			cache_free(&c->l);
			return NULL;
		}
	return &c->l;
}

void
dns_cache_stats(struct dns_lookup *l, struct dns_cache_stats *st)
{
	struct dns_cache *c = (struct dns_cache *)l;
	size_t i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < c->nshards; i++) {
		struct cache_shard *s = &c->shard[i];

		pthread_mutex_lock(&s->mu);
		st->hits += s->hits;
		st->misses += s->misses;
		st->evictions += s->evictions;
		st->entries += s->entries;
		st->bytes += s->bytes;
		pthread_mutex_unlock(&s->mu);
	}
}

void
dns_cache_clock(struct dns_lookup *l, int64_t (*now)(void))
{
	((struct dns_cache *)l)->now = now;
}
