/* fuzz_msgauth_ar.c - libFuzzer target for the Authentication-Results
 * header jaga writes (engine/msgauth.h): the input fills the strings of a
 * struct msgauth_res (NUL or LF separated) and the results; the header
 * must parse with our own parser (mail/authres.h), with the authserv-id
 * (the first string, quoted when it is no token), with
 * one resinfo per method line, end in CRLF, hold no other CR or LF, and
 * keep every line within 998 octets (RFC 5322 §2.1.1). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/msgauth.h"
#include "mail/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next string of the input into out (cut to size). */
static void
fuzz_take(const uint8_t **p, const uint8_t *end, char *out, size_t size)
{
	size_t n = 0;

	while (*p < end && **p != '\0' && **p != '\n') {
		if (n + 1 < size)
			out[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[n] = '\0';
}

/* Every line within 998 octets, ending in CRLF, no other CR or LF. */
static void
fuzz_lines(const char *h, size_t n)
{
	size_t start = 0, i;

	if (n < 2 || h[n - 2] != '\r' || h[n - 1] != '\n')
		abort();
	for (i = 0; i < n; i++) {
		if (h[i] == '\r' && (i + 1 >= n || h[i + 1] != '\n'))
			abort();
		if (h[i] == '\n' && (i == 0 || h[i - 1] != '\r'))
			abort();
		if (h[i] == '\n') {
			if (i + 1 - start > 1000)
				abort();
			start = i + 1;
		}
	}
}

static void
fuzz_fill(const uint8_t *data, ptrdiff_t off, size_t size,
    struct msgauth_res *r)
{
	const uint8_t *p = data + off, *end = data + size;
	size_t i;

	r->spf_mfrom.result = (enum spf_res)(data[0] % 7);
	r->spf_helo.result = (enum spf_res)(data[1] % 7);
	r->spf_mfrom.helo_identity = data[2] & 1;
	r->helo_checked = (data[2] >> 1) & 1;
	r->ndkim = (size_t)(data[3] % (DKIM_VERIFY_MAX + 1));
	r->dmarc.result = (enum dmarc_res)((data[2] >> 2) % 5);
	r->dmarc.policy = (enum dmarc_policy)((data[2] >> 5) % 4);
	fuzz_take(&p, end, r->spf_mfrom.sender, sizeof r->spf_mfrom.sender);
	fuzz_take(&p, end, r->spf_mfrom.helo, sizeof r->spf_mfrom.helo);
	fuzz_take(&p, end, r->spf_mfrom.problem, sizeof r->spf_mfrom.problem);
	fuzz_take(&p, end, r->spf_helo.helo, sizeof r->spf_helo.helo);
	for (i = 0; i < r->ndkim; i++) {
		r->dkim[i].result = (enum dkim_result)(i % 7);
		fuzz_take(&p, end, r->dkim[i].d, sizeof r->dkim[i].d);
		fuzz_take(&p, end, r->dkim[i].s, sizeof r->dkim[i].s);
		fuzz_take(&p, end, r->dkim[i].reason, sizeof r->dkim[i].reason);
		fuzz_take(&p, end, r->dkim_b[i], sizeof r->dkim_b[i]);
	}
	fuzz_take(&p, end, r->dmarc.from_domain, sizeof r->dmarc.from_domain);
	fuzz_take(&p, end, r->dmarc.problem, sizeof r->dmarc.problem);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msgauth_res r;
	static struct authres ar;
	static char h[8 * MSGAUTH_AR_MAX];
	char id[AUTHRES_ID_MAX + 1];
	const uint8_t *p = data + 4;
	size_t n, want, i;

	if (size < 4)
		return 0;
	memset(&r, 0, sizeof r);
	fuzz_take(&p, data + size, id, sizeof id);
	for (i = 0; id[i] != '\0'; i++)
		if ((unsigned char)id[i] < 32 || id[i] == 127)
			id[i] = 'x';	/* dropped when quoted: not comparable */
	if (id[0] == '\0')
		memcpy(id, "mx.jaga.example", 16);
	fuzz_fill(data, p - data, size, &r);
	n = msgauth_ar_header(&r, id, h, sizeof h);
	if (n >= sizeof h)
		abort();	/* every field is bounded: it always fits */
	fuzz_lines(h, n);
	want = 1 + (r.spf_mfrom.helo_identity ? 0 : r.helo_checked) +
	    (r.ndkim ? r.ndkim : 1) + 1;
	if (memcmp(h, "Authentication-Results:", 23) != 0 ||
	    authres_parse(h + 23, n - 23, &ar) != AUTHRES_OK ||
	    strcmp(ar.servid, id) != 0 || ar.nres_seen != want)
		abort();
	return 0;
}
