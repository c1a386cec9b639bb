/* fuzz_spf.c - libFuzzer target for the SPF record parser and evaluator.
 *
 * The first octet picks the client (bit 0: IPv6, bit 1: IPv4-mapped) and
 * the identity (bit 2: HELO); the rest is the TXT record of every name
 * asked, so include:, redirect= and exp= come back to the same text and
 * the limits are what stops them.  A, AAAA, MX and PTR answer one record
 * each.  Beyond "no crash", it checks the result is a known value, the
 * §4.6.4 counters stay at their bounds and the strings are terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *fuzz_rec;
static size_t fuzz_len;

static int
fuzz_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct dns_rr *rr = &out->rr[0];
	size_t n = fuzz_len < DNS_TXT_MAX ? fuzz_len : DNS_TXT_MAX;

	(void)l;
	memset(out, 0, offsetof(struct dns_result, txtbuf));
	out->txtused = 0;
	out->status = strlen(name) > DNS_NAME_MAX ? DNS_PERMFAIL : DNS_OK;
	out->n = out->status == DNS_OK;
	rr->type = type;
	rr->addr[0] = 1;
	rr->addr[3] = 4;
	memcpy(rr->name, "mx.example.com", 15);
	if (type == DNS_T_TXT) {
		memcpy(out->txtbuf, fuzz_rec, n);
		out->txtbuf[n] = '\0';
		rr->txt = out->txtbuf;
		rr->txtlen = n;
	}
	return 0;
}

static void
fuzz_check(const struct spf_result *r)
{
	if ((unsigned)r->result > SPF_PERMERROR ||
	    r->lookups > SPF_TERMS_MAX + 1 || r->voids > SPF_VOID_MAX + 1)
		abort();
	if (memchr(r->expl, '\0', sizeof r->expl) == NULL ||
	    memchr(r->mechanism, '\0', sizeof r->mechanism) == NULL ||
	    memchr(r->problem, '\0', sizeof r->problem) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_lookup l = { fuzz_query, NULL };
	struct spf_result r;
	char hdr[1024];
	const char *ip;
	unsigned mode;

	if (size < 1)
		return 0;
	mode = data[0];
	fuzz_rec = data + 1;
	fuzz_len = size - 1;
	ip = mode & 1 ? "2001:db8::1" : mode & 2 ? "::ffff:1.2.3.4" : "1.2.3.4";
	spf_check(&l, ip, mode & 4 ? "" : "a.b-c@example.com",
	    "helo.example.org", &r);
	fuzz_check(&r);
	if (spf_received(&r, "mx.example.net", hdr, sizeof hdr) == 0 ||
	    memchr(hdr, '\0', sizeof hdr) == NULL)
		abort();
	return 0;
}
