/* dkim_canon.c - a message cut into header fields and body, and the
 * simple and relaxed canonicalizations of RFC 6376 §3.4. */
#include "engine/dkim.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static int
dkim_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Whether raw has a bare LF (an LF not after a CR).  Every message
 * verified is scanned whole: with SSE2, sixteen octets at a time (the
 * masks of CR and LF; an LF whose octet before is no CR), not a memchr
 * per line. */
static int
dkim_has_bare_lf(const char *raw, size_t len)
{
	size_t i = 0;
	const char *p;
#if defined(__SSE2__)
	unsigned cr, lf, prevcr = 1;	/* raw[-1]: no LF can be bare there */

	if (len > 0 && raw[0] == '\n')
		return 1;
	for (; i + 16 <= len; i += 16) {
		__m128i w = _mm_loadu_si128((const void *)(raw + i));

		cr = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w,
		    _mm_set1_epi8('\r')));
		lf = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w,
		    _mm_set1_epi8('\n')));
		if ((lf & ~((cr << 1) | prevcr)) != 0)
			return 1;
		prevcr = cr >> 15;
	}
#endif
	for (p = raw + i; p < raw + len &&
	    (p = memchr(p, '\n', (size_t)(raw + len - p))) != NULL; p++)
		if (p == raw || p[-1] != '\r')
			return 1;
	return 0;
}

/* A copy of raw where every bare LF becomes CRLF. */
static char *
dkim_crlf(const char *raw, size_t len, size_t *outlen)
{
	size_t n = 0, i;
	char *d;

	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	if ((d = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			d[n++] = '\r';
		d[n++] = raw[i];
	}
	d[n] = '\0';
	*outlen = n;
	return d;
}

/* Header fields up to the empty line; a line starting with WSP continues
 * the field before it.  A line without ':' ends the header (as if the
 * body began there; such messages are malformed anyway). */
static int
dkim_msg_fields(struct dkim_msg *m)
{
	size_t pos = 0, eol, c;
	const char *nl, *colon;

	while (pos < m->len) {
		if (m->len - pos >= 2 && m->data[pos] == '\r' &&
		    m->data[pos + 1] == '\n') {
			m->body = pos + 2;
			return 0;
		}
		nl = memchr(m->data + pos, '\n', m->len - pos);
		eol = nl ? (size_t)(nl - m->data) + 1 : m->len;
		if (dkim_wsp((unsigned char)m->data[pos]) && m->nf > 0) {
			m->f[m->nf - 1].len = eol - m->f[m->nf - 1].off;
		} else {
			colon = memchr(m->data + pos, ':', eol - pos);
			if (colon == NULL)
				break;
			if (m->nf == DKIM_HDR_MAX)
				return -1;
			c = (size_t)(colon - m->data);
			while (c > pos && dkim_wsp((unsigned char)m->data[c - 1]))
				c--;
			m->f[m->nf].off = pos;
			m->f[m->nf].len = eol - pos;
			m->f[m->nf++].namelen = c - pos;
		}
		pos = eol;
	}
	m->body = pos;
	return 0;
}

/* A copy of raw with a final NUL, by memcpy when there is no bare LF. */
static char *
dkim_copy(const char *raw, size_t len, size_t *outlen)
{
	char *d;

	if (dkim_has_bare_lf(raw, len))
		return dkim_crlf(raw, len, outlen);
	if (len == SIZE_MAX || (d = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(d, raw, len);
	d[len] = '\0';
	*outlen = len;
	return d;
}

/* The header table is not zeroed: only f[0..nf) is ever read. */
static struct dkim_msg *
dkim_msg_make(const char *raw, size_t len, int copy)
{
	struct dkim_msg *m = malloc(sizeof *m);

	if (m == NULL)
		return NULL;
	m->nf = 0;
	m->body = 0;
	m->owned = copy || dkim_has_bare_lf(raw, len);
	m->data = (char *)raw;	/* only read while not owned */
	m->len = len;
	if ((m->owned && (m->data = dkim_copy(raw, len, &m->len)) == NULL) ||
	    dkim_msg_fields(m) < 0) {
		dkim_msg_free(m);
		return NULL;
	}
	return m;
}

struct dkim_msg *
dkim_msg_parse(const char *raw, size_t len)
{
	return dkim_msg_make(raw, len, 1);
}

struct dkim_msg *
dkim_msg_view(const char *raw, size_t len)
{
	return dkim_msg_make(raw, len, 0);
}

void
dkim_msg_free(struct dkim_msg *m)
{
	if (m == NULL)
		return;
	if (m->owned)
		free(m->data);
	free(m);
}

/* The length of the run at s (at most len octets) without SP, HTAB, CR
 * or LF: what relaxed header canonicalization copies as it is.  Sixteen
 * octets at a time with SSE2 (the b= of a signature field is hundreds). */
static size_t
dkim_plain_run(const char *s, size_t len)
{
	size_t i = 0;

#if defined(__SSE2__)
	for (; i + 16 <= len; i += 16) {
		__m128i w = _mm_loadu_si128((const void *)(s + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8(' ')),
		    _mm_cmpeq_epi8(w, _mm_set1_epi8('\t'))),
		    _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('\r')),
		    _mm_cmpeq_epi8(w, _mm_set1_epi8('\n')))));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (i < len && !dkim_wsp((unsigned char)s[i]) && s[i] != '\r' &&
	    s[i] != '\n')
		i++;
	return i;
}

/* relaxed (§3.4.2): name lowercased, unfolded, WSP runs to one SP, no WSP
 * at the ends of the value or around the colon. */
static long
dkim_relaxed_header(const char *f, size_t len, char *out, size_t cap)
{
	const char *colon = memchr(f, ':', len);
	size_t n = 0, i, ne, vs, ve, start, run;
	int sp = 0;

	if (colon == NULL)
		return -1;
	ne = (size_t)(colon - f);
	while (ne > 0 && dkim_wsp((unsigned char)f[ne - 1]))
		ne--;
	vs = (size_t)(colon - f) + 1;
	ve = len;
	while (ve > vs && (dkim_wsp((unsigned char)f[ve - 1]) ||
	    f[ve - 1] == '\r' || f[ve - 1] == '\n'))
		ve--;
	if (ne + (ve - vs) + 3 > cap)
		return -1;
	for (i = 0; i < ne; i++)
		out[n++] = (char)(f[i] >= 'A' && f[i] <= 'Z' ? f[i] + 32 : f[i]);
	out[n++] = ':';
	start = n;
	for (i = vs; i < ve; i += run) {
		if ((run = dkim_plain_run(f + i, ve - i)) == 0) {
			/* WSP; CR and LF only unfold */
			sp |= dkim_wsp((unsigned char)f[i]);
			run = 1;
			continue;
		}
		if (sp && n > start)
			out[n++] = ' ';
		sp = 0;
		memcpy(out + n, f + i, run);
		n += run;
	}
	out[n++] = '\r';
	out[n++] = '\n';
	return (long)n;
}

long
dkim_canon_header(enum dkim_canon c, const char *field, size_t len,
    char *out, size_t cap)
{
	if (c == DKIM_RELAXED)
		return dkim_relaxed_header(field, len, out, cap);
	if (len > cap)
		return -1;
	memcpy(out, field, len);
	return (long)len;
}

/* One body line (without its CRLF) in relaxed form (§3.4.4). */
static size_t
dkim_relaxed_line(const char *s, size_t len, char *out)
{
	size_t n = 0;
	int sp = 0;

	while (len > 0 && dkim_wsp((unsigned char)s[len - 1]))
		len--;
	for (size_t i = 0; i < len; i++) {
		if (dkim_wsp((unsigned char)s[i])) {
			sp = 1;
			continue;
		}
		if (sp)
			out[n++] = ' ';
		sp = 0;
		out[n++] = s[i];
	}
	return n;
}

int
dkim_canon_body(enum dkim_canon c, const char *body, size_t len,
    char **out, size_t *outlen)
{
	size_t pos = 0, n = 0, keep = 0, eol, ll;
	const char *nl;
	char *d;

	/* a bare LF line grows by one octet, a last line without LF by two */
	if (len > (SIZE_MAX - 3) / 2 || (d = malloc(2 * len + 3)) == NULL)
		return -1;
	while (pos < len) {
		nl = memchr(body + pos, '\n', len - pos);
		eol = nl ? (size_t)(nl - body) + 1 : len;
		ll = eol - pos;
		if (ll >= 1 && body[eol - 1] == '\n')
			ll--;
		if (ll >= 1 && nl && body[pos + ll - 1] == '\r')
			ll--;
		if (c == DKIM_RELAXED)
			ll = dkim_relaxed_line(body + pos, ll, d + n);
		else
			memcpy(d + n, body + pos, ll);
		n += ll;
		d[n++] = '\r';
		d[n++] = '\n';
		if (ll > 0)	/* a line with content: keep up to here */
			keep = n;
		pos = eol;
	}
	/* Trailing empty lines go (§3.4.3, §3.4.4); an empty body is CRLF
	 * under simple, nothing under relaxed. */
	n = keep;
	if (n == 0 && c == DKIM_SIMPLE) {
		d[n++] = '\r';
		d[n++] = '\n';
	}
	*out = d;
	*outlen = n;
	return 0;
}
