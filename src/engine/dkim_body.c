/* dkim_body.c - the body hash (RFC 6376 §3.7) computed while the body is
 * canonicalized (§3.4.3, §3.4.4): the canonical octets pass through a
 * bounded staging buffer into the digest, never as a copy of the body.
 * The digests are fetched from OpenSSL's providers once per process. */
#include "engine/dkim_int.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define DKIM_STAGE 4096		/* octets handed to the digest at once */

static EVP_MD *dkim_sha256, *dkim_sha1;
static pthread_once_t dkim_md_once = PTHREAD_ONCE_INIT;

/* OpenSSL 3 looks an implicit EVP_sha256() up in its provider tables
 * (locks, a hash table) on every init; an explicit fetch is done once and
 * kept for the life of the process. */
static void
dkim_md_fetch(void)
{
	dkim_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	dkim_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

const EVP_MD *
dkim_md(enum dkim_alg a)
{
	pthread_once(&dkim_md_once, dkim_md_fetch);
	return a == DKIM_RSA_SHA1 ? dkim_sha1 : dkim_sha256;
}

struct dkim_bh {
	EVP_MD_CTX *ctx;
	size_t total;		/* canonical octets so far, past l= too */
	size_t limit;		/* octets to hash (l=, §3.4.5) */
	size_t blank;		/* empty lines held back: trailing ones go */
	size_t n;		/* octets in stage */
	int ok;
	unsigned char stage[DKIM_STAGE];
};

static void
dkim_bh_flush(struct dkim_bh *b)
{
	if (b->n > 0 && EVP_DigestUpdate(b->ctx, b->stage, b->n) != 1)
		b->ok = 0;
	b->n = 0;
}

/* len canonical octets: counted, and hashed up to the limit. */
static void
dkim_bh_put(struct dkim_bh *b, const char *s, size_t len)
{
	size_t room = b->limit > b->total ? b->limit - b->total : 0;
	size_t use = len < room ? len : room;

	b->total += len;
	if (use > sizeof b->stage - b->n)
		dkim_bh_flush(b);
	if (use >= sizeof b->stage) {
		if (EVP_DigestUpdate(b->ctx, s, use) != 1)
			b->ok = 0;
		return;
	}
	/* memmove: gcc expands a memcpy of bounded size into "rep movsq",
	 * several times slower than libc's for lines of 20 to 100 octets */
	memmove(b->stage + b->n, s, use);
	b->n += use;
}

/* CRLF: the end of most canonical lines. */
static void
dkim_bh_crlf(struct dkim_bh *b)
{
	if (b->n + 2 <= sizeof b->stage && b->total + 2 <= b->limit) {
		b->stage[b->n++] = '\r';
		b->stage[b->n++] = '\n';
		b->total += 2;
	} else {
		dkim_bh_put(b, "\r\n", 2);
	}
}

/* A line with content: the empty lines before it are not trailing. */
static void
dkim_bh_line(struct dkim_bh *b)
{
	for (; b->blank > 0; b->blank--)
		dkim_bh_crlf(b);
}

static int
dkim_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* The masks of the DKIM_CHUNK octets at s equal to SP, HTAB and LF (bit
 * i: s[i]). */
#if defined(__SSE2__)
#define DKIM_CHUNK 16
static void
dkim_chunk_masks(const char *s, unsigned *sp, unsigned *tab, unsigned *lf)
{
	__m128i w = _mm_loadu_si128((const __m128i *)(const void *)s);

	*sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w,
	    _mm_set1_epi8(' ')));
	*tab = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w,
	    _mm_set1_epi8('\t')));
	*lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w,
	    _mm_set1_epi8('\n')));
}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DKIM_CHUNK 8
/* Bit i set when octet i of x equals c, exactly (no borrow between
 * octets): the 0x80 of each equal octet, gathered by a multiply. */
static unsigned
dkim_octets_eq(uint64_t x, unsigned char c)
{
	const uint64_t lo = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t v = x ^ (c * 0x0101010101010101ULL);

	v = ~(((v & lo) + lo) | v | lo);
	return (unsigned)(((v >> 7) * 0x0102040810204080ULL) >> 56);
}

static void
dkim_chunk_masks(const char *s, unsigned *sp, unsigned *tab, unsigned *lf)
{
	uint64_t w;

	memcpy(&w, s, 8);
	*sp = dkim_octets_eq(w, ' ');
	*tab = dkim_octets_eq(w, '\t');
	*lf = dkim_octets_eq(w, '\n');
}
#else
#define DKIM_CHUNK 1
static void
dkim_chunk_masks(const char *s, unsigned *sp, unsigned *tab, unsigned *lf)
{
	*sp = s[0] == ' ';
	*tab = s[0] == '\t';
	*lf = s[0] == '\n';
}
#endif

/* The line at s (at most len octets): returns its length up to the LF
 * (without it; *nl tells whether there was one) and in *bad the offset of
 * the first HTAB or of the second SP of a run (SIZE_MAX: none).  A line
 * is its own relaxed form (§3.4.4) when its trailing WSP, once cut, ends
 * before bad.  Sixteen octets at a time with SSE2 (every x86-64): the
 * scan of the relaxed body was a third of its canonicalization cost. */
static size_t
dkim_line_scan(const char *s, size_t len, int *nl, size_t *bad)
{
	unsigned sp, tab, lf, m, prev = 0;
	size_t i = 0;
	const char *p;

	*bad = SIZE_MAX;
	for (; i + DKIM_CHUNK <= len; i += DKIM_CHUNK) {
		dkim_chunk_masks(s + i, &sp, &tab, &lf);
		m = tab | (sp & ((sp << 1) | prev));
		prev = sp >> (DKIM_CHUNK - 1);	/* the last octet's SP */
		if (m != 0 && (lf == 0 || (m & (lf - 1)) != 0))	/* before LF */
			*bad = i + (size_t)__builtin_ctz(m);
		if (lf != 0) {
			*nl = 1;
			return i + (size_t)__builtin_ctz(lf);
		}
		if (*bad != SIZE_MAX)
			break;
	}
	if (*bad == SIZE_MAX)	/* the tail, under one chunk */
		for (; i < len && s[i] != '\n'; i++)
			if (*bad == SIZE_MAX && (s[i] == '\t' ||
			    (s[i] == ' ' && i > 0 && s[i - 1] == ' ')))
				*bad = i;
	p = memchr(s + i, '\n', len - i);	/* only the LF is wanted now */
	*nl = p != NULL;
	return p ? (size_t)(p - s) : len;
}

/* One body line without its line end, relaxed (§3.4.4): trailing WSP
 * goes, every WSP run becomes one SP.  crlf: the raw line is followed by
 * CRLF, which can then go in the same put; bad: from dkim_line_scan. */
static void
dkim_bh_relaxed(struct dkim_bh *b, const char *s, size_t len, int crlf,
    size_t bad)
{
	size_t i, run;

	crlf = crlf && (len == 0 || !dkim_wsp((unsigned char)s[len - 1]));
	while (len > 0 && dkim_wsp((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		b->blank++;
		return;
	}
	dkim_bh_line(b);
	if (bad >= len) {
		dkim_bh_put(b, s, len + (crlf ? 2 : 0));
		if (!crlf)
			dkim_bh_crlf(b);
		return;
	}
	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len && !dkim_wsp((unsigned char)s[i + run]);
		    run++)
			;
		dkim_bh_put(b, s + i, run);
		if (run == 0) {		/* a WSP run: one SP */
			while (i + run < len && dkim_wsp((unsigned char)s[i + run]))
				run++;
			dkim_bh_put(b, " ", 1);
		}
	}
	dkim_bh_crlf(b);
}

/* One body line, simple (§3.4.3): as it is, with CRLF. */
static void
dkim_bh_simple(struct dkim_bh *b, const char *s, size_t len, int crlf)
{
	if (len == 0) {
		b->blank++;
		return;
	}
	dkim_bh_line(b);
	dkim_bh_put(b, s, len + (crlf ? 2 : 0));
	if (!crlf)
		dkim_bh_crlf(b);
}

/* Lines as dkim_canon_body cuts them: up to LF, a CR before it is part of
 * the line end; a last line without LF gets CRLF. */
static void
dkim_bh_lines(struct dkim_bh *b, enum dkim_canon c, const char *body,
    size_t len)
{
	size_t pos = 0, ll, bad = 0;
	const char *lf;
	int nl, crlf;

	while (pos < len) {
		if (c == DKIM_RELAXED) {
			ll = dkim_line_scan(body + pos, len - pos, &nl, &bad);
		} else {	/* memchr alone is faster when WSP is no matter */
			lf = memchr(body + pos, '\n', len - pos);
			nl = lf != NULL;
			ll = lf ? (size_t)(lf - body) - pos : len - pos;
		}
		crlf = nl && ll >= 1 && body[pos + ll - 1] == '\r';
		if (c == DKIM_RELAXED)
			dkim_bh_relaxed(b, body + pos, ll - (crlf ? 1 : 0), crlf,
			    bad);
		else
			dkim_bh_simple(b, body + pos, ll - (crlf ? 1 : 0), crlf);
		pos += ll + (nl ? 1 : 0);
	}
}

int
dkim_body_digest(enum dkim_canon c, const EVP_MD *md, const char *body,
    size_t len, int64_t l, unsigned char *out, unsigned int *outlen,
    size_t *canonlen)
{
	struct dkim_bh b;
	int ok;

	if (md == NULL || (b.ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	b.total = b.blank = b.n = 0;
	b.limit = l >= 0 && (uint64_t)l < SIZE_MAX ? (size_t)l : SIZE_MAX;
	b.ok = EVP_DigestInit_ex(b.ctx, md, NULL) == 1;
	dkim_bh_lines(&b, c, body, len);
	/* an empty body is CRLF under simple, nothing under relaxed */
	if (b.total == 0 && c == DKIM_SIMPLE)
		dkim_bh_put(&b, "\r\n", 2);
	dkim_bh_flush(&b);
	ok = b.ok && EVP_DigestFinal_ex(b.ctx, out, outlen) == 1;
	*canonlen = b.total;
	EVP_MD_CTX_free(b.ctx);
	return ok ? 0 : -1;
}
