/* addr.c - RFC 5321 §4.1.2 mailbox and path parser.
 *
 * A cursor moves over the caller's bytes against a limit (the input is not
 * NUL-terminated); nothing is allocated.  The grammar, from RFC 5321 §4.1.2
 * with the RFC 6531 §3.3 extensions for SMTPUTF8:
 *
 *   Reverse-path = Path / "<>"
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l        = At-domain *( "," At-domain )      ; source route
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string
 *
 * Only after the whole path has been checked is anything copied into the
 * result, so a failed parse leaves *a zeroed.
 */
#include "mail/addr.h"
#include "util/utf8.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <string.h>

/* RFC 5321 §4.1.1.3: the one mailbox that may be given without a domain. */
static const char addr_postmaster[] = "postmaster";
#define ADDR_POSTMASTER_LEN (sizeof addr_postmaster - 1)

struct addr_cur {
	const unsigned char *s;
	size_t pos;
	size_t len;
	unsigned mode;		/* enum addr_mode */
	unsigned flags;		/* enum addr_flags gathered so far */
};

/* The byte under the cursor, or -1 at the limit. */
static int
addr_at(const struct addr_cur *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

/* ASCII only: the parser must not depend on the locale. */
static int
addr_is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

static int
addr_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* atext, RFC 5322 §3.2.3 (the UTF-8 extension is handled by the caller). */
static int
addr_is_atext(int ch)
{
	return ch >= 0 && (addr_is_alnum(ch) ||
	    (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL));
}

/* dcontent, RFC 5321 §4.1.3: printable US-ASCII except "[", "\", "]". */
static int
addr_is_dcontent(int ch)
{
	return (ch >= 33 && ch <= 90) || (ch >= 94 && ch <= 126);
}

/* Step over one UTF-8 character; RFC 6531 §3.3 allows them only when the
 * client asked for SMTPUTF8. */
static enum addr_err
addr_take_utf8(struct addr_cur *c)
{
	size_t n;

	if (!(c->mode & ADDR_SMTPUTF8))
		return ADDR_EUTF8;
	n = utf8_seq(c->s + c->pos, c->len - c->pos);
	if (n == 0)
		return ADDR_EUTF8;
	c->pos += n;
	c->flags |= ADDR_F_UTF8;
	return ADDR_OK;
}

/* Dot-string = Atom *("." Atom), RFC 5321 §4.1.2: no leading, trailing
 * or doubled dots. */
static enum addr_err
addr_scan_dotstring(struct addr_cur *c)
{
	size_t atom = 0;
	enum addr_err e;
	int ch;

	for (;;) {
		ch = addr_at(c);
		if (ch >= 0x80) {
			if ((e = addr_take_utf8(c)) != ADDR_OK)
				return e;
		} else if (addr_is_atext(ch)) {
			c->pos++;
		} else if (ch == '.' && atom > 0) {
			c->pos++;
			atom = 0;
			continue;
		} else {
			break;
		}
		atom++;
	}
	return atom > 0 ? ADDR_OK : ADDR_ESYNTAX;
}

/* Quoted-string, RFC 5321 §4.1.2: qtextSMTP = %d32-33 / %d35-91 /
 * %d93-126 (plus UTF-8, RFC 6531 §3.3), quoted-pairSMTP = "\" %d32-126. */
static enum addr_err
addr_scan_quoted(struct addr_cur *c)
{
	enum addr_err e;
	int ch;

	c->pos++;
	for (;;) {
		ch = addr_at(c);
		if (ch == '"') {
			c->pos++;
			return ADDR_OK;
		}
		if (ch >= 0x80) {
			if ((e = addr_take_utf8(c)) != ADDR_OK)
				return e;
			continue;
		}
		if (ch == '\\') {
			c->pos++;
			ch = addr_at(c);
		}
		if (ch < 32 || ch > 126)
			return ADDR_ESYNTAX;
		c->pos++;
	}
}

/* sub-domain = Let-dig [Ldh-str], RFC 5321 §4.1.2; U-labels per RFC 6531
 * §3.3; at most 63 octets, RFC 1035 §2.3.4. */
static enum addr_err
addr_scan_label(struct addr_cur *c)
{
	size_t start = c->pos;
	enum addr_err e;
	int ch, last = -1;

	for (;;) {
		ch = addr_at(c);
		if (ch >= 0x80) {
			if ((e = addr_take_utf8(c)) != ADDR_OK)
				return e;
		} else if (addr_is_alnum(ch) || (ch == '-' && c->pos > start)) {
			c->pos++;
		} else {
			break;
		}
		last = ch;
	}
	if (c->pos == start || last == '-')
		return ADDR_ESYNTAX;
	return c->pos - start > 63 ? ADDR_EDOMAIN_LONG : ADDR_OK;
}

/* Domain = sub-domain *("." sub-domain).  One trailing dot (the root) is
 * taken and reported in *traildot; the caller removes it. */
static enum addr_err
addr_scan_dname(struct addr_cur *c, int *traildot)
{
	enum addr_err e;
	int ch;

	*traildot = 0;
	for (;;) {
		if ((e = addr_scan_label(c)) != ADDR_OK)
			return e;
		if (addr_at(c) != '.')
			return ADDR_OK;
		c->pos++;
		ch = addr_at(c);
		if (!addr_is_alnum(ch) && ch < 0x80) {
			*traildot = 1;
			return ADDR_OK;
		}
	}
}

/* Parse an IPv4 or IPv6 literal with inet_pton (RFC 5321 §4.1.3). */
static enum addr_err
addr_check_inet(int af, const unsigned char *p, size_t n)
{
	unsigned char bin[16];
	char tmp[64];

	if (n == 0 || n >= sizeof tmp)
		return ADDR_ESYNTAX;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return inet_pton(af, tmp, bin) == 1 ? ADDR_OK : ADDR_ESYNTAX;
}

/* The text between "[" and "]", RFC 5321 §4.1.3: IPv4-address-literal,
 * "IPv6:" IPv6-addr, or General-address-literal = Standardized-tag ":"
 * 1*dcontent with Standardized-tag = Ldh-str. */
static enum addr_err
addr_check_literal(const unsigned char *p, size_t n)
{
	const unsigned char *colon = memchr(p, ':', n);
	size_t tag, i;

	if (colon == NULL)
		return addr_check_inet(AF_INET, p, n);
	tag = (size_t)(colon - p);
	if (tag == 0 || tag + 1 == n || !addr_is_alnum(p[tag - 1]))
		return ADDR_ESYNTAX;
	for (i = 0; i < tag; i++)
		if (!addr_is_alnum(p[i]) && p[i] != '-')
			return ADDR_ESYNTAX;
	if (tag == 4 && addr_lower(p[0]) == 'i' && addr_lower(p[1]) == 'p' &&
	    addr_lower(p[2]) == 'v' && p[3] == '6')
		return addr_check_inet(AF_INET6, colon + 1, n - tag - 1);
	return ADDR_OK;
}

/* address-literal = "[" ... "]"; the cursor is on the "[". */
static enum addr_err
addr_scan_literal(struct addr_cur *c)
{
	size_t start = ++c->pos;
	enum addr_err e;
	int ch;

	while ((ch = addr_at(c)) != ']') {
		if (ch >= 0x80 && !(c->mode & ADDR_SMTPUTF8))
			return ADDR_EUTF8;
		if (!addr_is_dcontent(ch))
			return ADDR_ESYNTAX;
		c->pos++;
	}
	e = addr_check_literal(c->s + start, c->pos - start);
	c->pos++;
	if (e == ADDR_OK)
		c->flags |= ADDR_F_LITERAL;
	return e;
}

/* A domain or (when literal_ok) an address literal; *dlen is its length
 * without a trailing dot, *traildot whether there was one. */
static enum addr_err
addr_scan_domain(struct addr_cur *c, int literal_ok, size_t *dlen,
    int *traildot)
{
	size_t start = c->pos;
	enum addr_err e;

	*traildot = 0;
	if (addr_at(c) == '[')
		e = literal_ok ? addr_scan_literal(c) : ADDR_ESYNTAX;
	else
		e = addr_scan_dname(c, traildot);
	if (e != ADDR_OK)
		return e;
	*dlen = c->pos - start - (size_t)*traildot;
	return *dlen > SMTP_DOMAIN_MAX ? ADDR_EDOMAIN_LONG : ADDR_OK;
}

/* A-d-l ":" (RFC 5321 §4.1.2); the route is checked, then dropped as
 * RFC 5321 §3.6.1 and Appendix C allow. */
static enum addr_err
addr_scan_route(struct addr_cur *c)
{
	enum addr_err e;
	size_t dlen;
	int td;

	for (;;) {
		if (addr_at(c) != '@')
			return ADDR_ESYNTAX;
		c->pos++;
		if ((e = addr_scan_domain(c, 0, &dlen, &td)) != ADDR_OK)
			return e;
		if (addr_at(c) == ':')
			break;
		if (addr_at(c) != ',')
			return ADDR_ESYNTAX;
		c->pos++;
	}
	c->pos++;
	c->flags |= ADDR_F_ROUTE;
	return ADDR_OK;
}

/* Keep the local part verbatim in a->local and with the quotes and the
 * backslashes of quoted-pairs removed in a->local_decoded. */
static void
addr_copy_local(struct addr *a, const unsigned char *p, size_t n)
{
	size_t i, j = 0;

	assert(n <= SMTP_LOCALPART_MAX);
	memcpy(a->local, p, n);
	a->local[n] = '\0';
	for (i = 0; i < n; i++) {
		if (p[i] == '"')
			continue;
		if (p[i] == '\\')
			i++;	/* the scanner made sure a character follows */
		a->local_decoded[j++] = (char)p[i];
	}
	a->local_decoded[j] = '\0';
}

static void
addr_copy_domain(struct addr *a, const unsigned char *p, size_t n)
{
	size_t i;

	assert(n <= SMTP_DOMAIN_MAX);
	for (i = 0; i < n; i++)
		a->domain[i] = (char)addr_lower(p[i]);
	a->domain[n] = '\0';
}

/* Mailbox = Local-part "@" ( Domain / address-literal ). */
static enum addr_err
addr_scan_mailbox(struct addr_cur *c, struct addr *a)
{
	size_t lstart = c->pos, llen, dstart, dlen;
	enum addr_err e;
	int td;

	if (addr_at(c) == '"') {
		c->flags |= ADDR_F_QUOTED;
		e = addr_scan_quoted(c);
	} else {
		e = addr_scan_dotstring(c);
	}
	if (e != ADDR_OK)
		return e;
	llen = c->pos - lstart;
	if (llen > SMTP_LOCALPART_MAX)
		return ADDR_ELOCAL_LONG;
	if (addr_at(c) != '@')
		return ADDR_ESYNTAX;
	dstart = ++c->pos;
	if ((e = addr_scan_domain(c, 1, &dlen, &td)) != ADDR_OK)
		return e;
	if (td)
		c->flags |= ADDR_F_TRAILDOT;
	addr_copy_local(a, c->s + lstart, llen);
	addr_copy_domain(a, c->s + dstart, dlen);
	return ADDR_OK;
}

/* "<Postmaster>" without a domain, RFC 5321 §4.1.1.3 (forward paths only);
 * it must be followed by ">" (or, bare, by a space or the end). */
static int
addr_is_postmaster(const struct addr_cur *c, int bracket)
{
	size_t i, n = ADDR_POSTMASTER_LEN;

	if (c->mode & ADDR_REVERSE || c->len - c->pos < n)
		return 0;
	for (i = 0; i < n; i++)
		if (addr_lower(c->s[c->pos + i]) != addr_postmaster[i])
			return 0;
	if (c->pos + n == c->len)
		return !bracket;
	return c->s[c->pos + n] == (bracket ? '>' : ' ');
}

/* The part between the brackets (or the bare path in lenient mode). */
static enum addr_err
addr_scan_path(struct addr_cur *c, struct addr *a, int bracket)
{
	enum addr_err e;

	if (bracket && addr_at(c) == '>') {
		if (!(c->mode & ADDR_REVERSE))
			return ADDR_ESYNTAX;
		c->flags |= ADDR_F_NULL;
		return ADDR_OK;
	}
	if (addr_is_postmaster(c, bracket)) {
		memcpy(a->local, c->s + c->pos, ADDR_POSTMASTER_LEN);
		memcpy(a->local_decoded, c->s + c->pos, ADDR_POSTMASTER_LEN);
		c->pos += ADDR_POSTMASTER_LEN;
		c->flags |= ADDR_F_NODOMAIN;
		return ADDR_OK;
	}
	if (addr_at(c) == '@' && (e = addr_scan_route(c)) != ADDR_OK)
		return e;
	return addr_scan_mailbox(c, a);
}

static enum addr_err
addr_parse_cur(struct addr_cur *c, struct addr *a)
{
	int bracket = addr_at(c) == '<';
	enum addr_err e;
	size_t total;
	int ch;

	if (!bracket && !(c->mode & ADDR_LENIENT))
		return ADDR_ESYNTAX;
	c->pos = (size_t)bracket;
	if ((e = addr_scan_path(c, a, bracket)) != ADDR_OK)
		return e;
	ch = addr_at(c);
	if (bracket) {
		if (ch != '>')
			return ADDR_ESYNTAX;
		c->pos++;
	} else if (ch != -1 && ch != ' ') {
		return ADDR_ESYNTAX;
	}
	/* RFC 5321 §4.5.3.1.3: 256 octets including the angle brackets,
	 * counted as if a lenient bare path had them. */
	total = c->pos + (bracket ? 0 : 2);
	return total > SMTP_PATH_MAX ? ADDR_EPATH_LONG : ADDR_OK;
}

enum addr_err
addr_parse(const char *s, size_t len, unsigned mode, struct addr *a,
    size_t *used)
{
	struct addr_cur c = { (const unsigned char *)s, 0, len, mode, 0 };
	enum addr_err e;

	assert(a != NULL && used != NULL && (s != NULL || len == 0));
	memset(a, 0, sizeof *a);
	*used = 0;
	e = addr_parse_cur(&c, a);
	if (e != ADDR_OK) {
		memset(a, 0, sizeof *a);
		return e;
	}
	a->flags = c.flags;
	*used = c.pos;
	return ADDR_OK;
}

int
addr_format(const struct addr *a, char *out, size_t outlen)
{
	int n;

	if (a->flags & ADDR_F_NULL)
		n = snprintf(out, outlen, "<>");
	else if (a->flags & ADDR_F_NODOMAIN)
		n = snprintf(out, outlen, "<%s>", a->local);
	else
		n = snprintf(out, outlen, "<%s@%s>", a->local, a->domain);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}

const char *
addr_strerror(enum addr_err e)
{
	switch (e) {
	case ADDR_OK:
		return "ok";
	case ADDR_ESYNTAX:
		return "bad address syntax";
	case ADDR_ELOCAL_LONG:
		return "local part too long";
	case ADDR_EDOMAIN_LONG:
		return "domain name too long";
	case ADDR_EPATH_LONG:
		return "path too long";
	case ADDR_EUTF8:
		return "non-ASCII address without SMTPUTF8, or invalid UTF-8";
	}
	return "unknown address error";
}
