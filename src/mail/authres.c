/* authres.c - the Authentication-Results header field (RFC 8601).
 *
 * A cursor moves over the caller's octets against a limit (the value is not
 * NUL-terminated); nothing is allocated.  The grammar, RFC 8601 §2.2:
 *
 *   authres-payload = [CFWS] authserv-id [ CFWS authres-version ]
 *                     ( no-result / 1*resinfo ) [CFWS] CRLF
 *   no-result       = [CFWS] ";" [CFWS] "none"
 *   resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ]
 *                     [ CFWS 1*propspec ]
 *   methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
 *   method          = Keyword [ [CFWS] "/" [CFWS] method-version ]
 *   reasonspec      = "reason" [CFWS] "=" [CFWS] value
 *   propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
 *   pvalue          = [CFWS] ( value / [ [ local-part ] "@" ] domain-name )
 *
 * Two leniencies, both seen from large receivers: a ';' after the last
 * resinfo, and pvalues holding '/', '+', '=' and ':' (a base64 header.b,
 * an IPv6 policy.iprev) that RFC 2045's token refuses.
 */
#include "mail/authres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTHRES_VERSION_DIGITS	9	/* more cannot be a real version */

struct ar_cur {
	const unsigned char *s;
	size_t pos;
	size_t len;
};

/* The octet under the cursor, or -1 at the limit. */
static int
ar_at(const struct ar_cur *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

/* ASCII only: the parser must not depend on the locale. */
static int
ar_is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

static int
ar_is_ws(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* token (RFC 2045 §5.1): no CTL, space or tspecial. */
static int
ar_is_token(int ch)
{
	return ch > 32 && ch < 127 && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

/* An unquoted pvalue octet: token, widened for local-part@domain, the
 * base64 of header.b and IPv6 addresses; UTF-8 as RFC 8616 allows. */
static int
ar_is_pchar(int ch)
{
	return ch >= 128 ||
	    (ch > 32 && ch < 127 && strchr("()<>,;\\\"[]", ch) == NULL);
}

/* CFWS (RFC 5322 §3.2.2): white space, the line breaks of a folded field
 * and comments, nested, with quoted-pairs.  Returns 0, or -1 for a
 * comment left open. */
static int
ar_cfws(struct ar_cur *c)
{
	int depth = 0, ch;

	while ((ch = ar_at(c)) >= 0) {
		if (depth > 0 && ch == '\\') {
			c->pos += c->pos + 1 < c->len ? 2 : 1;
			continue;
		}
		if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !ar_is_ws(ch))
			return 0;
		c->pos++;
	}
	return depth == 0 ? 0 : -1;
}

/* CFWS that must separate two items unless a ';' or the end follows. */
static int
ar_sep(struct ar_cur *c)
{
	size_t start = c->pos;
	int ch;

	if (ar_cfws(c) < 0)
		return -1;
	ch = ar_at(c);
	return ch < 0 || ch == ';' || c->pos > start ? 0 : -1;
}

/* A run of octets accepted by ok into out, lowercased when lower, cut
 * to size; returns the run's length, 0 when there is none. */
static size_t
ar_run(struct ar_cur *c, int (*ok)(int), int lower, char *out, size_t size)
{
	size_t n = 0;
	int ch;

	while ((ch = ar_at(c)) >= 0 && ok(ch)) {
		if (lower && ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (n + 1 < size)
			out[n] = (char)ch;
		n++;
		c->pos++;
	}
	out[n + 1 < size ? n : size - 1] = '\0';
	return n;
}

/* Keyword (RFC 8601 §2.2: ldh-str of RFC 5321). */
static int
ar_is_kw(int ch)
{
	return ar_is_alnum(ch) || ch == '-' || ch == '_';
}

static size_t
ar_keyword(struct ar_cur *c, char *out, size_t size)
{
	return ar_run(c, ar_is_kw, 1, out, size);
}

/* A quoted-string (RFC 5322 §3.2.4) at the cursor, unquoted into out (cut
 * to size), folding removed.  Returns its unquoted length, or -1 when it
 * is not closed or holds a NUL. */
static long
ar_quoted(struct ar_cur *c, char *out, size_t size)
{
	size_t n = 0;
	int ch;

	c->pos++;	/* the opening DQUOTE */
	while ((ch = ar_at(c)) >= 0 && ch != '"') {
		c->pos++;
		if (ch == '\\' && c->pos < c->len)
			ch = c->s[c->pos++];
		else if (ch == '\r' || ch == '\n')
			continue;
		if (ch == '\0')
			return -1;
		if (n + 1 < size)
			out[n] = (char)ch;
		n++;
	}
	if (ch != '"')
		return -1;
	c->pos++;
	out[n + 1 < size ? n : size - 1] = '\0';
	return (long)n;
}

/* value (RFC 2045 token / quoted-string), or with pchars the wider
 * pvalue, whose local-part may be quoted: "a b"@example.com is kept as
 * a b@example.com.  0, or -1 when there is no value. */
static int
ar_value(struct ar_cur *c, int pchars, char *out, size_t size)
{
	size_t n;
	long q;

	if (ar_at(c) == '"') {
		if ((q = ar_quoted(c, out, size)) < 0)
			return -1;
		if (!pchars || ar_at(c) != '@')
			return 0;
		n = (size_t)q < size ? (size_t)q : size - 1;
		return ar_run(c, ar_is_pchar, 0, out + n, size - n) > 1 ? 0 : -1;
	}
	return ar_run(c, pchars ? ar_is_pchar : ar_is_token, 0, out, size) > 0 ?
	    0 : -1;
}

/* methodspec (RFC 8601 §2.2): method, an optional "/version", "=",
 * result. */
static int
ar_methodspec(struct ar_cur *c, struct authres_info *info)
{
	char digits[16];

	if (ar_cfws(c) < 0 || ar_keyword(c, info->method, sizeof info->method)
	    == 0 || ar_cfws(c) < 0)
		return -1;
	if (ar_at(c) == '/') {
		c->pos++;
		if (ar_cfws(c) < 0 || ar_keyword(c, digits, sizeof digits) == 0 ||
		    strspn(digits, "0123456789") != strlen(digits) ||
		    ar_cfws(c) < 0)
			return -1;
	}
	if (ar_at(c) != '=')
		return -1;
	c->pos++;
	if (ar_cfws(c) < 0)
		return -1;
	return ar_keyword(c, info->result, sizeof info->result) > 0 ? 0 : -1;
}

/* "=" and a value after a reason or a property; with pchars a pvalue. */
static int
ar_equals_value(struct ar_cur *c, int pchars, char *out, size_t size)
{
	if (ar_cfws(c) < 0 || ar_at(c) != '=')
		return -1;
	c->pos++;
	if (ar_cfws(c) < 0)
		return -1;
	return ar_value(c, pchars, out, size);
}

/* A reasonspec or a propspec after the methodspec; props past
 * AUTHRES_PROP_MAX are checked, not kept. */
static int
ar_propspec(struct ar_cur *c, struct authres_info *info, size_t *seen)
{
	struct authres_prop p;
	size_t save = c->pos;

	memset(&p, 0, sizeof p);
	if (ar_keyword(c, p.ptype, sizeof p.ptype) == 0)
		return -1;
	if (*seen == 0 && strcmp(p.ptype, "reason") == 0 && info->reason[0]
	    == '\0' && ar_cfws(c) == 0 && ar_at(c) == '=')
		return ar_equals_value(c, 0, info->reason, sizeof info->reason);
	c->pos = save;
	ar_keyword(c, p.ptype, sizeof p.ptype);
	if (ar_cfws(c) < 0 || ar_at(c) != '.')
		return -1;
	c->pos++;
	if (ar_cfws(c) < 0 ||
	    ar_keyword(c, p.property, sizeof p.property) == 0 ||
	    ar_equals_value(c, 1, p.value, sizeof p.value) < 0)
		return -1;
	if (info->nprop < AUTHRES_PROP_MAX)
		info->prop[info->nprop++] = p;
	(*seen)++;
	return 0;
}

/* One resinfo after its ';'.  info NULL: past AUTHRES_RES_MAX, checked
 * and not kept.  0, or -1 on bad grammar. */
static int
ar_resinfo(struct ar_cur *c, struct authres_info *info)
{
	struct authres_info scratch;
	size_t seen = 0;

	if (info == NULL)
		info = &scratch;
	memset(info, 0, sizeof *info);
	if (ar_methodspec(c, info) < 0 || ar_sep(c) < 0)
		return -1;
	while (ar_at(c) >= 0 && ar_at(c) != ';')
		if (ar_propspec(c, info, &seen) < 0 || ar_sep(c) < 0)
			return -1;
	return 0;
}

/* "none" as the only thing after the first ';' (no-result). */
static int
ar_none(struct ar_cur *c)
{
	struct ar_cur t = *c;
	char word[8];

	if (ar_keyword(&t, word, sizeof word) != 4 || strcmp(word, "none") ||
	    ar_cfws(&t) < 0 || ar_at(&t) >= 0)
		return 0;
	*c = t;
	return 1;
}

/* [CFWS] authserv-id [CFWS version] [CFWS] up to the first ';'. */
static enum authres_status
ar_head(struct ar_cur *c, struct authres *out)
{
	char digits[AUTHRES_VERSION_DIGITS + 2];
	long q;

	if (ar_cfws(c) < 0 || ar_at(c) < 0)
		return AUTHRES_EMPTY;
	if (ar_at(c) == '"')
		q = ar_quoted(c, out->servid, sizeof out->servid);
	else
		q = (long)ar_run(c, ar_is_token, 0, out->servid,
		    sizeof out->servid);
	if (q <= 0 || q > AUTHRES_ID_MAX) {
		out->servid[0] = '\0';	/* cut: it must not match ours */
		return AUTHRES_EMPTY;
	}
	if (ar_cfws(c) < 0)
		return AUTHRES_SYNTAX;
	if (ar_at(c) >= '0' && ar_at(c) <= '9') {
		if (ar_keyword(c, digits, sizeof digits) >
		    AUTHRES_VERSION_DIGITS || strspn(digits, "0123456789") !=
		    strlen(digits) || ar_cfws(c) < 0)
			return AUTHRES_SYNTAX;
		out->version = (int)strtol(digits, NULL, 10);
	}
	return ar_at(c) == ';' ? AUTHRES_OK : AUTHRES_SYNTAX;
}

enum authres_status
authres_parse(const char *val, size_t len, struct authres *out)
{
	struct ar_cur c = { (const unsigned char *)val, 0, len };
	enum authres_status st;

	memset(out, 0, sizeof *out);
	out->version = 1;
	if (len > AUTHRES_VALUE_MAX) {
		c.len = AUTHRES_VALUE_MAX;	/* the id, for authres_strip */
		return ar_head(&c, out) == AUTHRES_EMPTY ? AUTHRES_EMPTY :
		    AUTHRES_TOO_LONG;
	}
	if ((st = ar_head(&c, out)) != AUTHRES_OK)
		return st;
	c.pos++;	/* the first ';' */
	if (ar_cfws(&c) < 0)
		return AUTHRES_SYNTAX;
	if (ar_none(&c)) {
		out->none = 1;
		return AUTHRES_OK;
	}
	for (;;) {
		if (ar_resinfo(&c, out->nres < AUTHRES_RES_MAX ?
		    &out->res[out->nres] : NULL) < 0)
			return AUTHRES_SYNTAX;
		out->nres += out->nres < AUTHRES_RES_MAX;
		out->nres_seen++;
		if (ar_at(&c) < 0)
			return AUTHRES_OK;
		c.pos++;	/* ';' */
		if (ar_cfws(&c) < 0)
			return AUTHRES_SYNTAX;
		if (ar_at(&c) < 0)
			return AUTHRES_OK;	/* a trailing ';' */
	}
}

const char *
authres_status_name(enum authres_status s)
{
	switch (s) {
	case AUTHRES_OK:	return "ok";
	case AUTHRES_EMPTY:	return "empty";
	case AUTHRES_SYNTAX:	return "syntax";
	case AUTHRES_TOO_LONG:	return "too-long";
	}
	return "?";
}

/* The end of the header field at pos: past its last line end, its
 * continuation lines (RFC 5322 §2.2.3) included. */
static size_t
ar_field_end(const char *msg, size_t pos, size_t len)
{
	const char *nl;

	for (;;) {
		nl = memchr(msg + pos, '\n', len - pos);
		if (nl == NULL)
			return len;
		pos = (size_t)(nl - msg) + 1;
		if (pos >= len || (msg[pos] != ' ' && msg[pos] != '\t'))
			return pos;
	}
}

/* 1 when the field f (n octets) is an Authentication-Results field that
 * claims servid, or whose authserv-id cannot be read (RFC 8601 §5). */
static int
ar_claims(const char *f, size_t n, const char *servid)
{
	static const char name[] = "Authentication-Results";
	size_t k = sizeof name - 1;
	struct authres ar;

	if (n < k || strncasecmp(f, name, k) != 0)
		return 0;
	while (k < n && (f[k] == ' ' || f[k] == '\t'))
		k++;
	if (k >= n || f[k] != ':')
		return 0;
	authres_parse(f + k + 1, n - k - 1, &ar);
	return ar.servid[0] == '\0' || strcasecmp(ar.servid, servid) == 0;
}

size_t
authres_strip(char *msg, size_t len, const char *servid, size_t *removed)
{
	size_t rd = 0, wr = 0, end, nrem = 0;

	/* one pass with a write cursor: many fields never cost more than
	 * one move of the message */
	while (rd < len && msg[rd] != '\r' && msg[rd] != '\n') {
		end = ar_field_end(msg, rd, len);
		if (ar_claims(msg + rd, end - rd, servid)) {
			nrem++;
		} else {
			if (wr != rd)
				memmove(msg + wr, msg + rd, end - rd);
			wr += end - rd;
		}
		rd = end;
	}
	if (wr != rd)
		memmove(msg + wr, msg + rd, len - rd);
	if (removed != NULL)
		*removed = nrem;
	return wr + (len - rd);
}
