/* fuzz_dns_blob.c - the answer cache's blobs (dns_blob.c).
 *
 * First byte even: the rest is a blob; dns_blob_get must refuse it or
 * rebuild an answer that dns_blob_put writes back and dns_blob_get reads
 * again unchanged.  First byte odd: the rest is rdata as fuzz_dns.c reads
 * it (type from the first byte), and the answer built from it must
 * round-trip through a blob octet for octet.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dns_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum dns_type fuzz_blob_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME,
	DNS_T_SPF,
};

static void
fuzz_blob_same(const struct dns_result *a, const struct dns_result *b)
{
	size_t i;

	assert(a->status == b->status && a->secure == b->secure &&
	    a->ttl == b->ttl && a->n == b->n && a->truncated == b->truncated);
	for (i = 0; i < a->n; i++) {
		const struct dns_rr *x = &a->rr[i], *y = &b->rr[i];

		assert(x->type == y->type && x->ttl == y->ttl &&
		    x->pref == y->pref && strcmp(x->name, y->name) == 0 &&
		    memcmp(x->addr, y->addr, sizeof x->addr) == 0 &&
		    (x->txt == NULL) == (y->txt == NULL));
		assert(x->txt == NULL || (x->txtlen == y->txtlen &&
		    memcmp(x->txt, y->txt, x->txtlen + 1) == 0));
	}
}

/* a through a blob into b, and the same answer. */
static void
fuzz_blob_trip(const struct dns_result *a, struct dns_result *b)
{
	size_t len = dns_blob_len(a);
	uint8_t *p = malloc(len);

	assert(p != NULL);
	dns_blob_put(a, p);
	assert(dns_blob_get(p, len, b) == 0);
	fuzz_blob_same(a, b);
	free(p);
}

/* An answer of rdata records, as fuzz_dns.c builds it. */
static void
fuzz_blob_rdata(const uint8_t *data, size_t size, struct dns_result *r)
{
	enum dns_type t = fuzz_blob_types[data[0] / 2 %
	    (sizeof fuzz_blob_types / sizeof fuzz_blob_types[0])];
	size_t i = 1, len;

	dns_result_init(r, DNS_OK);
	r->ttl = 60;
	while (i + 2 <= size) {
		len = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		dns_rdata_add(r, t, (uint32_t)len * 7, data + i, len);
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_result a, b;

	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		if (dns_blob_get(data + 1, size - 1, &a) != 0) {
			assert(a.status == DNS_PERMFAIL && a.n == 0);
			return 0;
		}
	} else {
		fuzz_blob_rdata(data, size, &a);
	}
	fuzz_blob_trip(&a, &b);
	return 0;
}
