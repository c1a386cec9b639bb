/* fuzz_authres.c - libFuzzer target for the Authentication-Results parser
 * and authres_strip (RFC 8601).  The input is one field value, and the
 * same octets as a message.  Beyond "no crash", it checks the status is a
 * known value, the kept strings are terminated and counted within their
 * bounds, the body after the header block is left as it was, and a second
 * strip finds nothing more to remove. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
fuzz_check(enum authres_status st, const struct authres *ar)
{
	size_t i, j;

	if ((unsigned)st > AUTHRES_TOO_LONG || ar->nres > AUTHRES_RES_MAX ||
	    ar->nres > ar->nres_seen || !fuzz_terminated(ar->servid,
	    sizeof ar->servid) || (st == AUTHRES_OK && ar->servid[0] == '\0'))
		abort();
	for (i = 0; i < ar->nres; i++) {
		const struct authres_info *r = &ar->res[i];

		if (r->nprop > AUTHRES_PROP_MAX || !fuzz_terminated(r->method,
		    sizeof r->method) || !fuzz_terminated(r->result,
		    sizeof r->result) || !fuzz_terminated(r->reason,
		    sizeof r->reason))
			abort();
		for (j = 0; j < r->nprop; j++)
			if (!fuzz_terminated(r->prop[j].value,
			    sizeof r->prop[j].value))
				abort();
	}
}

/* Where the body starts: the first line that begins with CR or LF. */
static size_t
fuzz_body(const uint8_t *d, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if ((i == 0 || d[i - 1] == '\n') && (d[i] == '\r' ||
		    d[i] == '\n'))
			return i;
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authres ar;
	size_t body = fuzz_body(data, size), n, n2, removed, again;
	char *m = malloc(size + 1);

	fuzz_check(authres_parse((const char *)data, size, &ar), &ar);
	if (m == NULL)
		return 0;
	memcpy(m, data, size);
	n = authres_strip(m, size, "mx.jaga.example", &removed);
	if (n > size || (removed == 0) != (n == size) ||
	    n < size - body || memcmp(m + n - (size - body), data + body,
	    size - body) != 0)
		abort();
	n2 = authres_strip(m, n, "MX.JAGA.EXAMPLE", &again);
	if (n2 != n || again != 0)
		abort();
	free(m);
	return 0;
}
