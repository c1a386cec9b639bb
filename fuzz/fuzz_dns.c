/* fuzz_dns.c - feed arbitrary rdata to the wire parsers of dns_rdata.c.
 *
 * The first byte chooses the type (A, AAAA, MX, TXT, PTR, CNAME, SPF); the
 * rest is split into records at each 2-byte big-endian length prefix, as
 * libunbound hands an answer's rdata, all added to one result (so TXT
 * room and DNS_RR_MAX are reached too).  The invariants of dns.h hold
 * whatever came in.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "engine/dns_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum dns_type fuzz_dns_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME,
	DNS_T_SPF,
};

static void
fuzz_dns_check(const struct dns_result *r, enum dns_type t)
{
	size_t i, k;

	assert(r->n <= DNS_RR_MAX && r->txtused <= sizeof r->txtbuf);
	for (i = 0; i < r->n; i++) {
		const struct dns_rr *rr = &r->rr[i];
		size_t nl = strnlen(rr->name, sizeof rr->name);

		assert(rr->type == t && nl <= DNS_NAME_MAX);
		for (k = 0; k < nl; k++)	/* presentation form only */
			assert(rr->name[k] > ' ' && rr->name[k] < 0x7f &&
			    !(rr->name[k] >= 'A' && rr->name[k] <= 'Z'));
		if (t != DNS_T_TXT && t != DNS_T_SPF) {
			assert(rr->txt == NULL);
			continue;
		}
		assert(rr->txt >= r->txtbuf && rr->txtlen <= DNS_TXT_MAX);
		assert(rr->txt + rr->txtlen < r->txtbuf + r->txtused + 1);
		assert(rr->txt[rr->txtlen] == '\0');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_result r;
	enum dns_type t;
	size_t i = 1, len;

	if (size == 0)
		return 0;
	t = fuzz_dns_types[data[0] % (sizeof fuzz_dns_types /
	    sizeof fuzz_dns_types[0])];
	dns_result_init(&r, DNS_OK);
	while (i + 2 <= size) {
		len = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		dns_rdata_add(&r, t, 60, data + i, len);
		i += len;
	}
	fuzz_dns_check(&r, t);
	return 0;
}
