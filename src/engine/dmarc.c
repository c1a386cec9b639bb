/* dmarc.c - the DMARC record (RFC 7489 §6.3, §6.4).
 *
 * A cursor walks the tag-list against its length; each value is checked
 * in place and only rua, ruf, fo and rf are copied (bounded) into the
 * record. */
#include "engine/dmarc.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct dmarc_view {
	const char *s;
	size_t n;
};

static int
dmarc_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct dmarc_view
dmarc_trim(const char *s, size_t n)
{
	struct dmarc_view v = { s, n };

	while (v.n > 0 && dmarc_wsp(v.s[0])) {
		v.s++;
		v.n--;
	}
	while (v.n > 0 && dmarc_wsp(v.s[v.n - 1]))
		v.n--;
	return v;
}

static int
dmarc_is(struct dmarc_view v, const char *word)
{
	return v.n == strlen(word) && strncasecmp(v.s, word, v.n) == 0;
}

/* Copy v into out (size octets), truncating; always terminated. */
static void
dmarc_copy(struct dmarc_view v, char *out, size_t size)
{
	size_t n = v.n < size - 1 ? v.n : size - 1;

	memcpy(out, v.s, n);
	out[n] = '\0';
}

static int
dmarc_num(struct dmarc_view v, unsigned long max, unsigned long *out)
{
	unsigned long x = 0;
	size_t i;

	if (v.n == 0 || v.n > 10)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (!isdigit((unsigned char)v.s[i]))
			return -1;
		x = x * 10 + (unsigned long)(v.s[i] - '0');
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

/* A colon-separated list whose every item satisfies ok(); §6.3 fo, rf. */
static int
dmarc_list(struct dmarc_view v, int (*ok)(struct dmarc_view))
{
	const char *end = v.s + v.n, *p = v.s, *c;

	if (v.n == 0)
		return -1;
	while (p <= end) {
		c = memchr(p, ':', (size_t)(end - p));
		if (c == NULL)
			c = end;
		if (!ok(dmarc_trim(p, (size_t)(c - p))))
			return -1;
		p = c + 1;
	}
	return 0;
}

static int
dmarc_fo_item(struct dmarc_view v)
{
	return dmarc_is(v, "0") || dmarc_is(v, "1") || dmarc_is(v, "d") ||
	    dmarc_is(v, "s");
}

/* Only "afrf" is registered (§6.3, §11.4: the failure report formats). */
static int
dmarc_rf_item(struct dmarc_view v)
{
	return dmarc_is(v, "afrf");
}

static int
dmarc_policy(struct dmarc_view v, enum dmarc_policy *out)
{
	if (dmarc_is(v, "none"))
		*out = DMARC_P_NONE;
	else if (dmarc_is(v, "quarantine"))
		*out = DMARC_P_QUARANTINE;
	else if (dmarc_is(v, "reject"))
		*out = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

static int
dmarc_align(struct dmarc_view v, int *strict)
{
	if (dmarc_is(v, "s"))
		*strict = 1;
	else if (dmarc_is(v, "r"))
		*strict = 0;
	else
		return -1;
	return 0;
}

/* A checked list, kept in out when it fits; 0 or -1. */
static int
dmarc_kept_list(struct dmarc_view v, int (*ok)(struct dmarc_view), char *out,
    size_t size)
{
	if (dmarc_list(v, ok) < 0)
		return -1;
	dmarc_copy(v, out, size);
	return 0;
}

/* One known tag; 0, -1 on a bad value, 1 when the tag is unknown. */
static int
dmarc_tag(struct dmarc_view name, struct dmarc_view v, struct dmarc_record *r)
{
	unsigned long x;

	if (dmarc_is(name, "p"))
		return dmarc_policy(v, &r->p);
	if (dmarc_is(name, "sp"))
		return dmarc_policy(v, &r->sp);
	if (dmarc_is(name, "adkim"))
		return dmarc_align(v, &r->adkim_strict);
	if (dmarc_is(name, "aspf"))
		return dmarc_align(v, &r->aspf_strict);
	if (dmarc_is(name, "pct")) {
		if (dmarc_num(v, 100, &x) < 0)
			return -1;
		r->pct = (int)x;
		return 0;
	}
	if (dmarc_is(name, "ri"))
		return dmarc_num(v, 0xffffffffUL, &r->ri);
	if (dmarc_is(name, "fo"))
		return dmarc_kept_list(v, dmarc_fo_item, r->fo, sizeof r->fo);
	if (dmarc_is(name, "rf"))
		return dmarc_kept_list(v, dmarc_rf_item, r->rf, sizeof r->rf);
	if (dmarc_is(name, "rua") || dmarc_is(name, "ruf")) {
		dmarc_copy(v, tolower((unsigned char)name.s[2]) == 'a' ?
		    r->rua : r->ruf, sizeof r->rua);
		return v.n > 0 ? 0 : -1;
	}
	return 1;
}

/* tag-name = ALPHA *(ALPHA / DIGIT / "_")  (RFC 6376 §3.2) */
static int
dmarc_tag_name(struct dmarc_view v)
{
	size_t i;

	if (v.n == 0 || !isalpha((unsigned char)v.s[0]))
		return 0;
	for (i = 1; i < v.n; i++)
		if (!isalnum((unsigned char)v.s[i]) && v.s[i] != '_')
			return 0;
	return 1;
}

static void
dmarc_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof *r);
	r->p = DMARC_P_UNSET;
	r->sp = DMARC_P_UNSET;
	r->pct = 100;
	r->ri = 86400;
	memcpy(r->fo, "0", 2);
	memcpy(r->rf, "afrf", 5);
}

/* Bit of a known tag name, 0 for an unknown one (a repeat is a syntax
 * error for the known tags only). */
static unsigned
dmarc_tag_bit(struct dmarc_view name)
{
	static const char *const known[] = { "v", "p", "sp", "adkim", "aspf",
	    "pct", "ri", "fo", "rf", "rua", "ruf" };
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (dmarc_is(name, known[i]))
			return 1U << i;
	return 0;
}

/* One "name=value" segment; first is set for the first tag. */
static enum dmarc_parse_status
dmarc_segment(struct dmarc_view seg, int first, unsigned *seen,
    struct dmarc_record *r)
{
	const char *eq = memchr(seg.s, '=', seg.n);
	struct dmarc_view name, v;
	unsigned bit;

	if (eq == NULL)
		return first ? DMARC_PARSE_BAD_VERSION : DMARC_PARSE_SYNTAX;
	name = dmarc_trim(seg.s, (size_t)(eq - seg.s));
	v = dmarc_trim(eq + 1, seg.n - (size_t)(eq - seg.s) - 1);
	if (first)	/* §6.4: "v" then exactly %x44.4d.41.52.43.31 */
		return dmarc_is(name, "v") && v.n == 6 &&
		    memcmp(v.s, "DMARC1", 6) == 0 ? DMARC_PARSE_OK :
		    DMARC_PARSE_BAD_VERSION;
	if (!dmarc_tag_name(name))
		return DMARC_PARSE_SYNTAX;
	bit = dmarc_tag_bit(name);
	if (bit & (*seen | 1U))
		return DMARC_PARSE_SYNTAX;
	*seen |= bit;
	return dmarc_tag(name, v, r) < 0 ? DMARC_PARSE_BAD_VALUE :
	    DMARC_PARSE_OK;
}

enum dmarc_parse_status
dmarc_parse(const char *txt, size_t len, struct dmarc_record *out)
{
	const char *end = txt + len, *p = txt, *semi;
	enum dmarc_parse_status st;
	struct dmarc_view seg;
	unsigned seen = 0;
	int first = 1;

	dmarc_defaults(out);
	if (len > DNS_TXT_MAX)
		return DMARC_PARSE_TOO_LONG;
	if (dmarc_trim(txt, len).n == 0)
		return DMARC_PARSE_EMPTY;
	if (memchr(txt, '\0', len) != NULL)
		return DMARC_PARSE_SYNTAX;
	while (p < end) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		seg = dmarc_trim(p, (size_t)(semi - p));
		p = semi + 1;
		if (seg.n == 0 && !first)
			continue;
		if ((st = dmarc_segment(seg, first, &seen, out)) !=
		    DMARC_PARSE_OK)
			return st;
		first = 0;
	}
	if (out->p == DMARC_P_UNSET)
		return DMARC_PARSE_NO_P;
	if (out->sp == DMARC_P_UNSET)
		out->sp = out->p;
	return DMARC_PARSE_OK;
}

const char *
dmarc_parse_name(enum dmarc_parse_status s)
{
	static const char *const names[] = { "ok", "empty", "bad-version",
	    "bad-value", "syntax", "no-p", "too-long" };

	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	static const char *const names[] = { "unset", "none", "quarantine",
	    "reject" };

	return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "?";
}
