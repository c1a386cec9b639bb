/* fuzz_addr.c - libFuzzer target for addr_parse() and addr_format().
 *
 * Each input is parsed in every mode.  Beyond "no crash, no read past
 * len", it checks what the rest of jaga relies on: used stays within the
 * input, the copies are NUL-terminated and within their limits, the
 * decoded local part never grows, and a formatted path parses back to the
 * same local part and domain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_addr_check(const struct addr *a, size_t used, size_t size)
{
	if (used == 0 || used > size)
		abort();
	if (strlen(a->local) > SMTP_LOCALPART_MAX ||
	    strlen(a->local_decoded) > strlen(a->local) ||
	    strlen(a->domain) > SMTP_DOMAIN_MAX)
		abort();
	if ((a->flags & ADDR_F_NULL) && (a->local[0] || a->domain[0]))
		abort();
	if (!(a->flags & (ADDR_F_NULL | ADDR_F_NODOMAIN)) &&
	    a->domain[0] == '\0')
		abort();
}

/* Format, then parse again: the same local part and domain must come
 * back (routes and trailing dots are gone, so flags may differ). */
static void
fuzz_addr_roundtrip(const struct addr *a, unsigned mode)
{
	char out[SMTP_PATH_MAX + 1];
	struct addr b;
	size_t used;
	int n;

	n = addr_format(a, out, sizeof out);
	if (n < 2)
		abort();
	if (addr_parse(out, (size_t)n, mode & ~ADDR_LENIENT, &b, &used) !=
	    ADDR_OK || used != (size_t)n)
		abort();
	if (strcmp(a->local, b.local) != 0 || strcmp(a->domain, b.domain) ||
	    strcmp(a->local_decoded, b.local_decoded) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr a;
	unsigned mode;
	size_t used;

	for (mode = 0; mode < 8; mode++) {
		if (addr_parse((const char *)data, size, mode, &a, &used) !=
		    ADDR_OK) {
			if (used != 0)
				abort();
			continue;
		}
		fuzz_addr_check(&a, used, size);
		fuzz_addr_roundtrip(&a, mode);
	}
	return 0;
}
