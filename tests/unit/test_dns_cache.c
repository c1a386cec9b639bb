/* test_dns_cache.c - the answer cache (dns_cache.c) over a dns_table with
 * a counting wrapper, on a clock of its own: hits and misses, TTLs and
 * their caps, negative caching, what is never kept, names, the bounds,
 * answers round-tripping byte-exact (dns_blob.c), and many threads. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dns_int.h"
#include "harness.h"

/* The inner lookup: counts its queries, may rewrite what the table says. */
struct counting {
	struct dns_lookup l;
	struct dns_lookup *table;
	atomic_int queries;
	uint32_t ttl;			/* != 0: every TTL becomes this */
	int permfail;			/* every answer becomes PERMFAIL */
	const struct dns_result *fixed;	/* != NULL: the answer to all */
};

static int
counting_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct counting *c = (struct counting *)l;
	size_t i;

	atomic_fetch_add(&c->queries, 1);
	if (c->fixed != NULL) {
		memcpy(out, c->fixed, sizeof *out);
		for (i = 0; i < out->n; i++)	/* into out's own txtbuf */
			if (out->rr[i].txt != NULL)
				out->rr[i].txt = out->txtbuf +
				    (c->fixed->rr[i].txt - c->fixed->txtbuf);
		return 0;
	}
	dns_query(c->table, name, type, out);
	if (c->permfail)
		dns_result_init(out, DNS_PERMFAIL);
	if (c->ttl != 0 && out->status != DNS_TEMPFAIL) {
		out->ttl = c->ttl;
		for (i = 0; i < out->n; i++)
			out->rr[i].ttl = c->ttl;
	}
	return 0;
}

static void
counting_free(struct dns_lookup *l)
{
	struct counting *c = (struct counting *)l;

	dns_lookup_free(c->table);
	free(c);
}

static int64_t fake_now = 1000;

static int64_t
fake_clock(void)
{
	return fake_now;
}

/* A table like test_dns.c's, behind a counter, behind a cache of max
 * entries on the fake clock; *cp is the counter (owned by the cache). */
static struct dns_lookup *
cached_zone(size_t max, struct counting **cp)
{
	static const char *const joined[] = { "v=spf1 ", "ip4:192.0.2.5",
	    " -all" };
	struct counting *c = calloc(1, sizeof *c);
	struct dns_lookup *t = dns_table_new(), *l;
	int rc = 0;

	rc |= dns_table_add(t, "mail.example.com", DNS_T_A, "192.0.2.1");
	rc |= dns_table_add(t, "mail.example.com", DNS_T_A, "10.0.0.0");
	rc |= dns_table_add(t, "mail.example.com", DNS_T_AAAA, "2001:db8::1");
	rc |= dns_table_add(t, "mail.example.com", DNS_T_AAAA, "::");
	rc |= dns_table_add(t, "example.com", DNS_T_MX, "10 mail.example.com");
	rc |= dns_table_add(t, "example.com", DNS_T_MX, "20 mx2.example.com");
	rc |= dns_table_add(t, "example.com", DNS_T_TXT, "v=spf1 mx -all");
	rc |= dns_table_add_txt(t, "example.com", DNS_T_TXT, joined, 3);
	rc |= dns_table_add_txt(t, "empty.example.com", DNS_T_TXT, NULL, 0);
	rc |= dns_table_add(t, "nullmx.example.com", DNS_T_MX, "0 .");
	rc |= dns_table_add(t, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "mail.example.com");
	rc |= dns_table_add(t, "www.example.com", DNS_T_CNAME,
	    "mail.example.com");
	rc |= dns_table_add_name(t, "none.example.com");
	rc |= dns_table_timeout(t, "slow.example.com");
	CHECK_INT(rc, 0, "building the zone");
	c->l.query = counting_query;
	c->l.free = counting_free;
	c->table = t;
	*cp = c;
	l = dns_cache_new(&c->l, max);
	dns_cache_clock(l, fake_clock);
	return l;
}

/* got and want hold the same answer, octet for octet. */
static int
same_result(const struct dns_result *got, const struct dns_result *want)
{
	size_t i;

	if (got->status != want->status || got->secure != want->secure ||
	    got->ttl != want->ttl || got->n != want->n ||
	    got->truncated != want->truncated)
		return 0;
	for (i = 0; i < got->n; i++) {
		const struct dns_rr *g = &got->rr[i], *w = &want->rr[i];

		if (g->type != w->type || g->ttl != w->ttl ||
		    g->pref != w->pref || strcmp(g->name, w->name) != 0 ||
		    memcmp(g->addr, w->addr, sizeof g->addr) != 0 ||
		    (g->txt == NULL) != (w->txt == NULL))
			return 0;
		if (g->txt != NULL && (g->txtlen != w->txtlen ||
		    memcmp(g->txt, w->txt, g->txtlen + 1) != 0))
			return 0;
	}
	return 1;
}

static struct dns_result r1, r2;	/* large: not on the stack */

static void
t_hit_miss(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	struct dns_cache_stats st;

	fake_now = 1000;
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	dns_query(l, "mail.example.com", DNS_T_A, &r2);
	CHECK_INT(c->queries, 1, "second query is a hit");
	CHECK(same_result(&r2, &r1), "the hit is the answer");
	CHECK_INT(r2.n, 2, "both A records");
	dns_query(l, "mail.example.com", DNS_T_AAAA, &r2);
	CHECK_INT(c->queries, 2, "another type is another key");
	dns_cache_stats(l, &st);
	CHECK_INT(st.hits, 1, "hits");
	CHECK_INT(st.misses, 2, "misses");
	CHECK_INT(st.entries, 2, "entries");
	CHECK(st.bytes > 0 && st.bytes < 1024, "compact: %zu octets",
	    st.bytes);
	CHECK_INT(dns_query(l, NULL, DNS_T_A, &r2), -1, "NULL name");
	dns_lookup_free(l);
	CHECK(dns_cache_new(NULL, 10) == NULL, "no inner");
	CHECK(dns_cache_new(dns_table_new(), 0) == NULL, "size 0 (frees)");
	CHECK(dns_cache_new(dns_table_new(), DNS_CACHE_SIZE_MAX + 1) == NULL,
	    "size over the maximum");
}

static void
t_ttl(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);

	fake_now = 5000;
	dns_query(l, "example.com", DNS_T_MX, &r1);
	CHECK_INT(r1.ttl, DNS_TABLE_TTL, "the table's ttl");
	fake_now = 5100;
	dns_query(l, "example.com", DNS_T_MX, &r2);
	CHECK_INT(c->queries, 1, "hit within the TTL");
	CHECK_INT(r2.ttl, DNS_TABLE_TTL - 100, "ttl less the age");
	CHECK_INT(r2.rr[0].ttl, DNS_TABLE_TTL - 100, "record ttl less age");
	CHECK_INT(r2.rr[1].ttl, DNS_TABLE_TTL - 100, "second record too");
	fake_now = 5000 + DNS_TABLE_TTL - 1;
	dns_query(l, "example.com", DNS_T_MX, &r2);
	CHECK_INT(c->queries, 1, "hit in the last second");
	CHECK_INT(r2.rr[0].ttl, 1, "one second left");
	fake_now = 5000 + DNS_TABLE_TTL;
	dns_query(l, "example.com", DNS_T_MX, &r2);
	CHECK_INT(c->queries, 2, "expired: asked again");
	CHECK_INT(r2.rr[0].ttl, DNS_TABLE_TTL, "fresh ttl");
	fake_now = 4000;	/* a clock gone back: not trusted */
	dns_query(l, "example.com", DNS_T_MX, &r2);
	CHECK_INT(c->queries, 3, "clock gone back: asked again");
	dns_lookup_free(l);
}

static void
t_ttl_caps(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);

	c->ttl = 86400;
	fake_now = 10000;
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	dns_query(l, "nothere.example.com", DNS_T_A, &r1);
	CHECK_INT(r1.status, DNS_NXDOMAIN, "nxdomain");
	fake_now += DNS_CACHE_NEG_TTL_MAX - 1;
	dns_query(l, "nothere.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 2, "negative kept under its cap");
	CHECK_INT(r1.ttl, 86400 - DNS_CACHE_NEG_TTL_MAX + 1, "its ttl");
	fake_now++;
	dns_query(l, "nothere.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 3, "negative capped (RFC 2308)");
	fake_now = 10000 + DNS_CACHE_TTL_MAX - 1;
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 3, "positive kept under its cap");
	CHECK_INT(r1.rr[0].ttl, 86400 - DNS_CACHE_TTL_MAX + 1, "its ttl");
	fake_now++;
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 4, "positive capped at an hour");
	dns_lookup_free(l);
}

static void
t_negative(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	int i;

	fake_now = 20000;
	for (i = 0; i < 3; i++) {
		dns_query(l, "nothere.example.com", DNS_T_A, &r1);
		CHECK_INT(r1.status, DNS_NXDOMAIN, "nxdomain %d", i);
		dns_query(l, "none.example.com", DNS_T_TXT, &r2);
		CHECK_INT(r2.status, DNS_NODATA, "nodata %d", i);
		CHECK_INT(r2.n, 0, "nodata has no records");
	}
	CHECK_INT(c->queries, 2, "negative answers kept");
	fake_now += DNS_TABLE_TTL;
	dns_query(l, "nothere.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 3, "nxdomain expires");
	dns_lookup_free(l);
}

static void
t_never_kept(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	int i;

	fake_now = 30000;
	for (i = 0; i < 3; i++) {
		dns_query(l, "slow.example.com", DNS_T_A, &r1);
		CHECK_INT(r1.status, DNS_TEMPFAIL, "tempfail %d", i);
		dns_query(l, "bad..name", DNS_T_A, &r1);
		CHECK_INT(r1.status, DNS_PERMFAIL, "bad name %d", i);
	}
	CHECK_INT(c->queries, 6, "TEMPFAIL and a bad name never kept");
	c->permfail = 1;
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	dns_query(l, "mail.example.com", DNS_T_A, &r1);
	CHECK_INT(r1.status, DNS_PERMFAIL, "permfail");
	CHECK_INT(c->queries, 8, "PERMFAIL never kept");
	dns_lookup_free(l);
}

static void
t_ttl_zero(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	struct dns_result *fx = calloc(1, sizeof *fx);
	struct dns_rr *rr;

	dns_result_init(fx, DNS_OK);
	fx->ttl = 300;
	rr = dns_result_push(fx, DNS_T_A, 0);	/* one record of TTL 0 */
	rr->addr[0] = 192;
	dns_result_push(fx, DNS_T_A, 300)->addr[0] = 10;
	c->fixed = fx;
	dns_query(l, "zero.example.com", DNS_T_A, &r1);
	dns_query(l, "zero.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 2, "a record of TTL 0: not kept");
	fx->rr[0].ttl = 7;
	dns_query(l, "seven.example.com", DNS_T_A, &r1);
	fake_now += 7;
	dns_query(l, "seven.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 4, "kept for the least record TTL");
	dns_lookup_free(l);
	free(fx);
}

static void
t_names(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);

	fake_now = 40000;
	dns_query(l, "Mail.Example.COM.", DNS_T_A, &r1);
	dns_query(l, "mail.example.com", DNS_T_A, &r2);
	dns_query(l, "MAIL.EXAMPLE.COM", DNS_T_A, &r2);
	CHECK_INT(c->queries, 1, "names compared case-insensitively");
	CHECK(same_result(&r2, &r1), "same answer");
	dns_query(l, "mail.example.co", DNS_T_A, &r2);
	CHECK_INT(c->queries, 2, "a prefix is another name");
	dns_lookup_free(l);
}

/* Each type through the cache is what the table says, octet for octet. */
static void
t_types(void)
{
	static const struct { const char *name; enum dns_type type; } q[] = {
		{ "mail.example.com", DNS_T_A },
		{ "mail.example.com", DNS_T_AAAA },
		{ "example.com", DNS_T_MX },
		{ "nullmx.example.com", DNS_T_MX },
		{ "1.2.0.192.in-addr.arpa", DNS_T_PTR },
		{ "www.example.com", DNS_T_CNAME },
		{ "www.example.com", DNS_T_A },
		{ "example.com", DNS_T_TXT },
		{ "empty.example.com", DNS_T_TXT },
	};
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	size_t i;

	fake_now = 50000;
	for (i = 0; i < sizeof q / sizeof q[0]; i++) {
		dns_query(c->table, q[i].name, q[i].type, &r1);
		dns_query(l, q[i].name, q[i].type, &r2);
		dns_query(l, q[i].name, q[i].type, &r2);
		CHECK_INT(r2.status, DNS_OK, "%s %s", q[i].name,
		    dns_type_name(q[i].type));
		CHECK(same_result(&r2, &r1), "%s %s round-trips", q[i].name,
		    dns_type_name(q[i].type));
	}
	CHECK_INT(c->queries, (int)(sizeof q / sizeof q[0]), "all hits");
	CHECK_INT(r2.rr[0].txtlen, 0, "empty TXT");
	CHECK(r2.rr[0].txt != NULL, "empty TXT has text");
	dns_lookup_free(l);
}

/* TXT records with NULs, several strings, a secure answer, truncation. */
static void
t_txt_exact(void)
{
	static const char nul[] = "v=spf1\0 ip4:192.0.2.1\0\0-all";
	struct counting *c;
	struct dns_lookup *l = cached_zone(100, &c);
	struct dns_result *fx = calloc(1, sizeof *fx);
	struct dns_rr *rr;
	char big[DNS_TXT_MAX];

	memset(big, 'x', sizeof big);
	big[100] = '\0';
	dns_result_init(fx, DNS_OK);
	fx->secure = 1;
	fx->ttl = 60;
	fx->truncated = 3;
	rr = dns_result_push(fx, DNS_T_TXT, 60);
	dns_result_txt(fx, rr, nul, sizeof nul);
	dns_result_txt(fx, rr, "second string", 13);
	rr = dns_result_push(fx, DNS_T_TXT, 61);
	dns_result_txt(fx, rr, big, sizeof big);
	rr = dns_result_push(fx, DNS_T_TXT, 62);
	dns_result_txt(fx, rr, "", 0);
	c->fixed = fx;
	fake_now = 60000;
	dns_query(l, "txt.example.com", DNS_T_TXT, &r1);
	dns_query(l, "txt.example.com", DNS_T_TXT, &r2);
	CHECK_INT(c->queries, 1, "hit");
	CHECK(same_result(&r2, fx), "TXT with NULs round-trips");
	CHECK_INT(r2.rr[0].txtlen, sizeof nul + 13, "NULs kept");
	CHECK(memcmp(r2.rr[0].txt, nul, sizeof nul) == 0, "text kept");
	CHECK_INT(r2.secure, 1, "secure kept");
	CHECK_INT(r2.truncated, 3, "truncated kept");
	dns_lookup_free(l);
	free(fx);
}

static void
t_eviction(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(8, &c);
	struct dns_cache_stats st;
	char name[64];
	int i;

	fake_now = 70000;
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "n%d.example.com", i);
		dns_query(l, name, DNS_T_A, &r1);
	}
	dns_cache_stats(l, &st);
	CHECK_INT(st.entries, 8, "at the bound");
	CHECK_INT(st.evictions, 12, "evictions");
	CHECK(st.bytes <= 8 * DNS_CACHE_ENTRY_BYTES, "octets bounded");
	dns_query(l, "n12.example.com", DNS_T_A, &r1);	/* oldest, touched */
	CHECK_INT(c->queries, 20, "n12 still kept");
	dns_query(l, "n20.example.com", DNS_T_A, &r1);	/* evicts n13 */
	dns_query(l, "n12.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 21, "recently used n12 kept");
	dns_query(l, "n13.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 22, "least recently used n13 evicted");
	dns_query(l, "n0.example.com", DNS_T_A, &r1);
	CHECK_INT(c->queries, 23, "n0 evicted long ago");
	dns_lookup_free(l);
}

/* A cache of one entry has 2048 octets: a 4 KB TXT is not kept. */
static void
t_bytes(void)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(1, &c);
	struct dns_result *fx = calloc(1, sizeof *fx);
	struct dns_cache_stats st;
	char big[DNS_TXT_MAX];

	memset(big, 'y', sizeof big);
	dns_result_init(fx, DNS_OK);
	fx->ttl = 60;
	dns_result_txt(fx, dns_result_push(fx, DNS_T_TXT, 60), big,
	    sizeof big);
	c->fixed = fx;
	dns_query(l, "big.example.com", DNS_T_TXT, &r1);
	dns_query(l, "big.example.com", DNS_T_TXT, &r1);
	CHECK_INT(c->queries, 2, "over the octet bound: not kept");
	dns_cache_stats(l, &st);
	CHECK_INT(st.entries, 0, "nothing kept");
	CHECK_INT(r1.rr[0].txtlen, DNS_TXT_MAX, "the answer still whole");
	dns_lookup_free(l);
	free(fx);
}

/* A random answer of records of any kind, texts with NULs. */
static void
random_result(struct dns_result *r, unsigned *seed)
{
	size_t n = (size_t)rand_r(seed) % (DNS_RR_MAX + 1), i, k, len;
	char txt[600];

	dns_result_init(r, (enum dns_status)(rand_r(seed) % 5));
	r->secure = rand_r(seed) % 2;
	r->ttl = (uint32_t)rand_r(seed);
	r->truncated = (size_t)rand_r(seed) % 3;
	for (i = 0; i < n; i++) {
		struct dns_rr *rr = dns_result_push(r,
		    (enum dns_type)(rand_r(seed) % 100), (uint32_t)rand_r(seed));

		rr->pref = (uint16_t)rand_r(seed);
		for (k = (size_t)rand_r(seed) % 17; k > 0; k--)
			rr->addr[k - 1] = (uint8_t)rand_r(seed);
		len = (size_t)rand_r(seed) % (DNS_NAME_MAX + 1);
		for (k = 0; k < len; k++)
			rr->name[k] = (char)(1 + rand_r(seed) % 255);
		if (rand_r(seed) % 2 == 0)
			continue;
		len = (size_t)rand_r(seed) % sizeof txt;
		for (k = 0; k < len; k++)
			txt[k] = (char)(rand_r(seed) % 4 ? 'a' + k % 26 : 0);
		if (dns_result_txt(r, rr, txt, len) != 0)
			dns_result_drop(r);
	}
}

static void
t_blob_random(void)
{
	static struct dns_result a, b;
	unsigned seed = 2026;
	size_t len, cut;
	int i, bad = 0, prefix_ok = 0;

	for (i = 0; i < 500; i++) {
		uint8_t *p;

		random_result(&a, &seed);
		len = dns_blob_len(&a);
		if ((p = malloc(len + 1)) == NULL)
			break;
		dns_blob_put(&a, p);
		bad += dns_blob_get(p, len, &b) != 0 || !same_result(&b, &a);
		for (cut = 0; cut < len; cut += 1 + cut / 4)
			prefix_ok += dns_blob_get(p, cut, &b) == 0;
		p[len] = 0;
		prefix_ok += dns_blob_get(p, len + 1, &b) == 0;
		CHECK_INT(b.status, DNS_PERMFAIL, "refused blob is PERMFAIL");
		free(p);
	}
	CHECK_INT(bad, 0, "random answers round-trip");
	CHECK_INT(prefix_ok, 0, "cut or padded blobs refused");
}

#define T_THREADS	8
#define T_NAMES		64
#define T_QUERIES	3000

struct t_worker {
	struct dns_lookup *l;
	unsigned seed;
	int wrong;
};

static void *
t_worker_run(void *arg)
{
	struct t_worker *w = arg;
	struct dns_result *r = malloc(sizeof *r);
	char name[64];
	int i, k;

	for (i = 0; r != NULL && i < T_QUERIES; i++) {
		k = rand_r(&w->seed) % T_NAMES;
		snprintf(name, sizeof name, "T%d.Example.com", k);
		dns_query(w->l, name, DNS_T_A, r);
		w->wrong += r->status != DNS_OK || r->n != 1 ||
		    r->rr[0].addr[3] != k || r->rr[0].ttl != DNS_TABLE_TTL;
	}
	free(r);
	return NULL;
}

/* T_THREADS threads on one cache of max entries: every answer right, every
 * query a hit or a miss, every miss one inner query. */
static void
t_threads(size_t max)
{
	struct counting *c;
	struct dns_lookup *l = cached_zone(max, &c);
	struct t_worker w[T_THREADS];
	pthread_t th[T_THREADS];
	struct dns_cache_stats st;
	char name[64], addr[32];
	int i, wrong = 0;

	for (i = 0; i < T_NAMES; i++) {
		snprintf(name, sizeof name, "t%d.example.com", i);
		snprintf(addr, sizeof addr, "10.0.0.%d", i);
		dns_table_add(c->table, name, DNS_T_A, addr);
	}
	fake_now = 80000;
	for (i = 0; i < T_THREADS; i++) {
		w[i] = (struct t_worker){ l, (unsigned)i + 1, 0 };
		pthread_create(&th[i], NULL, t_worker_run, &w[i]);
	}
	for (i = 0; i < T_THREADS; i++) {
		pthread_join(th[i], NULL);
		wrong += w[i].wrong;
	}
	dns_cache_stats(l, &st);
	CHECK_INT(wrong, 0, "every answer right (max %zu)", max);
	CHECK_INT(st.hits + st.misses, T_THREADS * T_QUERIES, "all counted");
	CHECK_INT(st.misses, c->queries, "a miss is one inner query");
	CHECK(st.entries <= max, "bounded: %zu", st.entries);
	if (max >= T_NAMES)
		CHECK(st.hits >= T_THREADS * T_QUERIES - T_THREADS * T_NAMES,
		    "mostly hits: %llu", st.hits);
	dns_lookup_free(l);
}

int
main(void)
{
	t_hit_miss();
	t_ttl();
	t_ttl_caps();
	t_negative();
	t_never_kept();
	t_ttl_zero();
	t_names();
	t_types();
	t_txt_exact();
	t_eviction();
	t_bytes();
	t_blob_random();
	t_threads(16);
	t_threads(4096);
	return harness_end("dns_cache");
}
