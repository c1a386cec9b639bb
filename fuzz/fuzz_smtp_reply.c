/* fuzz_smtp_reply.c - feed arbitrary bytes to the next hop reply parser.
 *
 * The first byte chooses EHLO keyword collection; the rest is split into
 * lines at LF (a CR before it is dropped, like EVBUFFER_EOL_CRLF does).
 * After each complete reply the invariants are checked and a new reply
 * starts; after a broken one, too (a real client would close instead).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "mail/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_smtp_reply_check(const struct smtp_reply *r)
{
	size_t n = strnlen(r->enh, sizeof r->enh);

	assert(r->code >= 200 && r->code <= 599);
	assert(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	assert(strnlen(r->text, sizeof r->text) < sizeof r->text);
	assert(n < sizeof r->enh);
	assert(n == 0 || r->enh[0] == '0' + r->code / 100);
	for (n = 0; r->text[n] != '\0'; n++)
		assert(r->text[n] != '\r' && r->text[n] != '\n');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	int ehlo, rc;
	size_t len;

	if (size == 0)
		return 0;
	ehlo = p[0] & 1;
	p++;
	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		rc = smtp_reply_feed(&r, p, len, ehlo);
		if (rc == REPLY_DONE)
			fuzz_smtp_reply_check(&r);
		if (rc != REPLY_MORE)
			smtp_reply_init(&r);
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
