/* fuzz_dkim.c - libFuzzer target for the DKIM parsers (engine/dkim.h):
 * the DKIM-Signature tag list, the key record, the message cut into
 * fields and body, and both canonicalizations.
 *
 * Beyond "no crash, no read past len": a parsed signature keeps its
 * limits (names NUL-terminated, b= and bh= within their buffers, the b=
 * span inside the input), canonical output never outgrows its bound,
 * relaxed header output is idempotent under a second pass, the streaming
 * body hash equals the hash of the canonical copy (whole and cut by l=),
 * and a message parsed in place cuts the same fields as a copy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dkim.h"
#include "engine/dkim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_dkim_sig(const char *s, size_t size)
{
	struct dkim_sig *sig = malloc(sizeof *sig);
	struct dkim_key key;
	char why[DKIM_REASON_MAX];

	if (sig == NULL)
		return;
	if (dkim_sig_parse(s, size, sig, why, sizeof why) == 0) {
		if (strlen(sig->d) > DNS_NAME_MAX || sig->nh == 0 ||
		    sig->nh > DKIM_H_MAX || sig->blen > sizeof sig->b ||
		    sig->bhlen > sizeof sig->bh || sig->bstart > sig->bend ||
		    sig->bend > size)
			abort();
	} else if (strlen(why) == 0) {
		abort();
	}
	if (dkim_key_parse(s, size, &key, why, sizeof why) == 0 &&
	    (key.plen > sizeof key.p || key.revoked != (key.plen == 0)))
		abort();
	free(sig);
}

/* dkim_body_digest against the digest of dkim_canon_body's copy. */
static void
fuzz_dkim_bodyhash(enum dkim_canon c, const char *body, size_t len,
    const char *canon, size_t clen)
{
	unsigned char want[32], got[32];
	unsigned int glen;
	size_t total, cut[3] = { clen, clen / 2, clen > 0 ? clen - 1 : 0 };

	for (int k = 0; k < 4; k++) {
		int64_t l = k == 3 ? -1 : (int64_t)cut[k];

		if (EVP_Digest(canon, k == 3 ? clen : cut[k], want, NULL,
		    EVP_sha256(), NULL) != 1 ||
		    dkim_body_digest(c, dkim_md(DKIM_RSA_SHA256), body, len, l,
		    got, &glen, &total) < 0)
			abort();
		if (total != clen || glen != 32 || memcmp(got, want, 32) != 0)
			abort();
	}
}

/* A view cuts the same fields as a copy. */
static void
fuzz_dkim_view(const struct dkim_msg *m, const char *s, size_t size)
{
	struct dkim_msg *v = dkim_msg_view(s, size);

	if (v == NULL || v->nf != m->nf || v->body != m->body ||
	    v->len != m->len || memcmp(v->data, m->data, m->len) != 0 ||
	    memcmp(v->f, m->f, m->nf * sizeof m->f[0]) != 0)
		abort();
	dkim_msg_free(v);
}

static void
fuzz_dkim_msg(const char *s, size_t size)
{
	struct dkim_msg *m = dkim_msg_parse(s, size);
	char out[4096], again[4096];
	size_t blen;
	char *b;

	if (m == NULL)
		return;
	if (m->body > m->len)
		abort();
	fuzz_dkim_view(m, s, size);
	for (size_t i = 0; i < m->nf && i < 8; i++) {
		long w = dkim_canon_header(DKIM_RELAXED, m->data + m->f[i].off,
		    m->f[i].len, out, sizeof out);
		long w2;

		if (w < 0)
			continue;
		if ((size_t)w > m->f[i].len + 2)
			abort();
		w2 = dkim_canon_header(DKIM_RELAXED, out, (size_t)w, again,
		    sizeof again);
		if (w2 != w || memcmp(out, again, (size_t)w) != 0)
			abort();
	}
	for (int c = 0; c < 2; c++)
		if (dkim_canon_body(c ? DKIM_RELAXED : DKIM_SIMPLE,
		    m->data + m->body, m->len - m->body, &b, &blen) == 0) {
			if (blen > 2 * (m->len - m->body) + 2)
				abort();
			fuzz_dkim_bodyhash(c ? DKIM_RELAXED : DKIM_SIMPLE,
			    m->data + m->body, m->len - m->body, b, blen);
			free(b);
		}
	dkim_msg_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_dkim_sig((const char *)data, size);
	fuzz_dkim_msg((const char *)data, size);
	return 0;
}
