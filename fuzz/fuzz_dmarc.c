/* fuzz_dmarc.c - libFuzzer target for the DMARC record parser (RFC 7489
 * §6.3) and the From domain (§6.6.1).  The input is one TXT record, and
 * the same octets as a message's header block.  Beyond "no crash", it checks the
 * status is a known value, an accepted record has a policy and pct in
 * range, and the kept strings are terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(enum dmarc_parse_status st, const struct dmarc_record *r)
{
	if ((unsigned)st > DMARC_PARSE_TOO_LONG || r->pct < 0 || r->pct > 100)
		abort();
	if (st == DMARC_PARSE_OK && (r->p == DMARC_P_UNSET ||
	    r->sp == DMARC_P_UNSET))
		abort();
	if (memchr(r->rua, '\0', sizeof r->rua) == NULL ||
	    memchr(r->ruf, '\0', sizeof r->ruf) == NULL ||
	    memchr(r->fo, '\0', sizeof r->fo) == NULL ||
	    memchr(r->rf, '\0', sizeof r->rf) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dom[DNS_NAME_MAX + 1];
	struct dmarc_record r;

	fuzz_check(dmarc_parse((const char *)data, size, &r), &r);
	if (dmarc_from_domain((const char *)data, size, dom) == 0 &&
	    (dom[0] == '\0' || memchr(dom, '\0', sizeof dom) == NULL))
		abort();
	return 0;
}
