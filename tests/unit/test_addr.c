/* test_addr.c - table-driven tests for mail/addr.c (RFC 5321 §4.1.2). */
#include "mail/addr.h"

#include "../../tests/unit/harness.h"

#define R	ADDR_REVERSE
#define U	ADDR_SMTPUTF8
#define L	ADDR_LENIENT
#define ALL	((size_t)-1)	/* used == the whole input */

struct addr_row {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	unsigned mode;
	enum addr_err err;
	unsigned flags;
	const char *local;
	const char *decoded;
	const char *domain;
	size_t used;
};

static const struct addr_row addr_ok_rows[] = {
	/* plain paths */
	{ "<user@example.com>", 0, 0, ADDR_OK, 0,
	    "user", "user", "example.com", ALL },
	{ "<User.Name+tag@Example.COM>", 0, 0, ADDR_OK, 0,
	    "User.Name+tag", "User.Name+tag", "example.com", ALL },
	{ "<a!#$%&'*+-/=?^_`{|}~b@x.y>", 0, 0, ADDR_OK, 0,
	    "a!#$%&'*+-/=?^_`{|}~b", "a!#$%&'*+-/=?^_`{|}~b", "x.y", ALL },
	{ "<u@a-b.c0-9.example>", 0, 0, ADDR_OK, 0,
	    "u", "u", "a-b.c0-9.example", ALL },
	{ "<u@localhost>", 0, 0, ADDR_OK, 0, "u", "u", "localhost", ALL },
	{ "<u@1.2.3.4>", 0, 0, ADDR_OK, 0, "u", "u", "1.2.3.4", ALL },
	/* used stops at ">"; the rest is the caller's */
	{ "<u@x.y> SIZE=100", 0, 0, ADDR_OK, 0, "u", "u", "x.y", 7 },
	{ "<u@x.y>>", 0, 0, ADDR_OK, 0, "u", "u", "x.y", 7 },
	/* null reverse path */
	{ "<>", 0, R, ADDR_OK, ADDR_F_NULL, "", "", "", 2 },
	{ "<> BODY=8BITMIME", 0, R | L, ADDR_OK, ADDR_F_NULL, "", "", "", 2 },
	/* Postmaster, RFC 5321 §4.1.1.3 */
	{ "<Postmaster>", 0, 0, ADDR_OK, ADDR_F_NODOMAIN,
	    "Postmaster", "Postmaster", "", ALL },
	{ "<POSTMASTER>", 0, L, ADDR_OK, ADDR_F_NODOMAIN,
	    "POSTMASTER", "POSTMASTER", "", ALL },
	{ "postmaster", 0, L, ADDR_OK, ADDR_F_NODOMAIN,
	    "postmaster", "postmaster", "", ALL },
	{ "<postmaster@Local.Test>", 0, 0, ADDR_OK, 0,
	    "postmaster", "postmaster", "local.test", ALL },
	/* quoted local parts */
	{ "<\"john doe\"@local.test>", 0, 0, ADDR_OK, ADDR_F_QUOTED,
	    "\"john doe\"", "john doe", "local.test", ALL },
	{ "<\"a\\\"b\\\\c\"@x.y>", 0, 0, ADDR_OK, ADDR_F_QUOTED,
	    "\"a\\\"b\\\\c\"", "a\"b\\c", "x.y", ALL },
	{ "<\"user@evil.test\"@local.test>", 0, 0, ADDR_OK, ADDR_F_QUOTED,
	    "\"user@evil.test\"", "user@evil.test", "local.test", ALL },
	{ "<\"user\\@evil.test\"@local.test>", 0, 0, ADDR_OK, ADDR_F_QUOTED,
	    "\"user\\@evil.test\"", "user@evil.test", "local.test", ALL },
	{ "<\"\"@x.y>", 0, 0, ADDR_OK, ADDR_F_QUOTED, "\"\"", "", "x.y", ALL },
	{ "<\"a>b\"@x.y>", 0, 0, ADDR_OK, ADDR_F_QUOTED,
	    "\"a>b\"", "a>b", "x.y", ALL },
	/* source routes: checked, dropped, final domain kept */
	{ "<@a.example,@b.example:user@c.example>", 0, 0, ADDR_OK,
	    ADDR_F_ROUTE, "user", "user", "c.example", ALL },
	{ "<@evil.test:user@local.test>", 0, 0, ADDR_OK, ADDR_F_ROUTE,
	    "user", "user", "local.test", ALL },
	{ "<@local.test:user@evil.test>", 0, 0, ADDR_OK, ADDR_F_ROUTE,
	    "user", "user", "evil.test", ALL },
	/* trailing dot: taken, removed, flagged */
	{ "<user@local.test.>", 0, 0, ADDR_OK, ADDR_F_TRAILDOT,
	    "user", "user", "local.test", ALL },
	{ "user@Local.Test. NOTIFY=NEVER", 0, L, ADDR_OK, ADDR_F_TRAILDOT,
	    "user", "user", "local.test", 16 },
	/* address literals, RFC 5321 §4.1.3 */
	{ "<user@[192.0.2.1]>", 0, 0, ADDR_OK, ADDR_F_LITERAL,
	    "user", "user", "[192.0.2.1]", ALL },
	{ "<user@[IPv6:2001:DB8::1]>", 0, 0, ADDR_OK, ADDR_F_LITERAL,
	    "user", "user", "[ipv6:2001:db8::1]", ALL },
	{ "<u@[ipv6:::ffff:192.0.2.1]>", 0, 0, ADDR_OK, ADDR_F_LITERAL,
	    "u", "u", "[ipv6:::ffff:192.0.2.1]", ALL },
	{ "<u@[X-Tag:Some~Thing]>", 0, 0, ADDR_OK, ADDR_F_LITERAL,
	    "u", "u", "[x-tag:some~thing]", ALL },
	/* syntactically a General-address-literal with tag "2001" */
	{ "<u@[2001:db8::1]>", 0, 0, ADDR_OK, ADDR_F_LITERAL,
	    "u", "u", "[2001:db8::1]", ALL },
	/* lenient bare paths */
	{ "user@example.com", 0, L, ADDR_OK, 0,
	    "user", "user", "example.com", ALL },
	{ "user@example.com SIZE=1", 0, L, ADDR_OK, 0,
	    "user", "user", "example.com", 16 },
	{ "\"a b\"@x.y SIZE=1", 0, L, ADDR_OK, ADDR_F_QUOTED,
	    "\"a b\"", "a b", "x.y", 9 },
	/* SMTPUTF8, RFC 6531 §3.3 */
	{ "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 0, U, ADDR_OK, ADDR_F_UTF8,
	    "j\xc3\xb6rg", "j\xc3\xb6rg", "b\xc3\xbc" "cher.example", ALL },
	{ "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x9b\xbd>",
	    0, U, ADDR_OK, ADDR_F_UTF8, "\xe7\x94\xa8\xe6\x88\xb7",
	    "\xe7\x94\xa8\xe6\x88\xb7", "\xe4\xbe\x8b\xe5\xad\x90.\xe5\x9b\xbd",
	    ALL },
	{ "<\"\xf0\x9f\x98\x80 x\"@X.Y>", 0, U, ADDR_OK,
	    ADDR_F_UTF8 | ADDR_F_QUOTED, "\"\xf0\x9f\x98\x80 x\"",
	    "\xf0\x9f\x98\x80 x", "x.y", ALL },
	{ "<u@\xc3\x84X.y>", 0, U, ADDR_OK, ADDR_F_UTF8,
	    "u", "u", "\xc3\x84x.y", ALL },
};

static const struct addr_row addr_err_rows[] = {
	/* no path at all */
	{ "", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "", 0, L, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },	/* forward */
	{ "<>", 0, L, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "user@example.com", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user@example.com", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user@example.com >", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "< user@example.com>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "user@example.com>", 0, L, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user@>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@example.com>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<Postmaster>", 0, R, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<Postmaster", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@a:Postmaster>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* more than one "@" */
	{ "<user@evil.test@local.test>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user@local.test@evil.test>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user@@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* dots */
	{ "<.user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<user.@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<us..er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x..y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@.x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x.y..>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@.>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* bad characters */
	{ "<us er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<us(er)@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<us,er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x_y.z>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@-x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x-.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x!y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u\x00v@x.y>", 10, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@x\x00.y>", 8, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"u\x00\"@x.y>", 10, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u\r\n@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"a\tb\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"a\x7f\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* quoted strings */
	{ "<\"abc@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"a\\\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"a\"b@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<a\"b\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\"a\\\x01\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* routes */
	{ "<@a.example:>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@a.example,user@b.example>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@a.example;@b:user@c>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@[1.2.3.4]:user@c>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@:user@c>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<@a,:user@c>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* literals */
	{ "<u@[1.2.3]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.256]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.4.5]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[IPv6:1.2.3.4]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[IPv6:2001:db8:::1]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[tag:]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[:x]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[t_g:x]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.4>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.4].>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[a\\]b]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.4 ]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	/* UTF-8 without SMTPUTF8, and malformed UTF-8 */
	{ "<j\xc3\xb6rg@x.y>", 0, 0, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<u@b\xc3\xbc" "cher.example>", 0, L, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.\xc3\xa4]>", 0, 0, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<u@[1.2.3.\xc3\xa4]>", 0, U, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
	{ "<\xc0\xafu@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },	/* overlong */
	{ "<\xe0\x80\xafu@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\xf0\x80\x80\xafu@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\xed\xa0\x80u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 }, /* D800 */
	{ "<\xf4\x90\x80\x80u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\xf5\x80\x80\x80u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\xc3u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },	/* truncated */
	{ "<u@x.y\xc3", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },	/* at the end */
	{ "<\x80u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },	/* bare cont. */
	{ "<\xc2\x85u@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },	/* C1 NEL */
	{ "<\xff@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\"a\xff\"@x.y>", 0, U, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\"a\xc3\xa4\"@x.y>", 0, 0, ADDR_EUTF8, 0, 0, 0, 0, 0 },
	{ "<\"a\\\xc3\xa4\"@x.y>", 0, U, ADDR_ESYNTAX, 0, 0, 0, 0, 0 },
};

static void
addr_test_row(const struct addr_row *r, int i)
{
	size_t len = r->len ? r->len : strlen(r->in), used = 12345;
	struct addr a;
	enum addr_err e;

	e = addr_parse(r->in, len, r->mode, &a, &used);
	CHECK_INT(e, r->err, "row %d %s: error", i, r->in);
	if (r->err != ADDR_OK) {
		CHECK_INT(used, 0, "row %d %s: used on error", i, r->in);
		CHECK_STR(a.domain, "", "row %d %s: cleared", i, r->in);
		return;
	}
	CHECK_INT(a.flags, r->flags, "row %d %s: flags", i, r->in);
	CHECK_STR(a.local, r->local, "row %d %s: local", i, r->in);
	CHECK_STR(a.local_decoded, r->decoded, "row %d %s: decoded", i, r->in);
	CHECK_STR(a.domain, r->domain, "row %d %s: domain", i, r->in);
	CHECK_INT(used, r->used == ALL ? len : r->used, "row %d %s: used",
	    i, r->in);
}

/* Build "<" + L local octets + "@" + domain labels + ">" into buf. */
static size_t
addr_test_build(char *buf, size_t cap, size_t llen, size_t dlen,
    size_t label)
{
	size_t n = 0, i;

	buf[n++] = '<';
	for (i = 0; i < llen; i++)
		buf[n++] = 'l';
	buf[n++] = '@';
	for (i = 0; i < dlen; i++)
		buf[n++] = (i % (label + 1) == label) ? '.' : 'd';
	buf[n++] = '>';
	CHECK(n <= cap, "build overflow");
	return n;
}

struct addr_len_row {
	size_t llen, dlen, label;
	enum addr_err err;
};

static const struct addr_len_row addr_len_rows[] = {
	{ 64, 10, 63, ADDR_OK },
	{ 65, 10, 63, ADDR_ELOCAL_LONG },
	{ 300, 10, 63, ADDR_ELOCAL_LONG },
	{ 1, 63, 63, ADDR_OK },
	{ 1, 64, 64, ADDR_EDOMAIN_LONG },		/* one label of 64 */
	{ 1, 252, 63, ADDR_OK },		/* path 256 */
	{ 1, 253, 63, ADDR_EPATH_LONG },	/* path 257 */
	{ 1, 255, 63, ADDR_EPATH_LONG },	/* domain ok, path 259 */
	{ 1, 257, 63, ADDR_EDOMAIN_LONG },
	{ 1, 5000, 63, ADDR_EDOMAIN_LONG },
	{ 64, 189, 63, ADDR_OK },		/* path exactly 256 */
	{ 64, 190, 63, ADDR_EPATH_LONG },	/* path 257 */
};

static void
addr_test_lengths(void)
{
	static char buf[6000];
	struct addr a;
	size_t i, n, used;

	for (i = 0; i < sizeof addr_len_rows / sizeof addr_len_rows[0]; i++) {
		const struct addr_len_row *r = &addr_len_rows[i];

		n = addr_test_build(buf, sizeof buf, r->llen, r->dlen,
		    r->label);
		CHECK_INT(addr_parse(buf, n, 0, &a, &used), r->err,
		    "length row %zu (local %zu, domain %zu)", i, r->llen,
		    r->dlen);
	}
}

/* A lenient bare path counts as if it had its angle brackets. */
static void
addr_test_bare_length(void)
{
	static char buf[400];
	struct addr a;
	size_t n, used;

	n = addr_test_build(buf, sizeof buf, 64, 189, 63);
	CHECK_INT(addr_parse(buf + 1, n - 2, L, &a, &used), ADDR_OK,
	    "bare 254");
	n = addr_test_build(buf, sizeof buf, 64, 190, 63);
	CHECK_INT(addr_parse(buf + 1, n - 2, L, &a, &used), ADDR_EPATH_LONG,
	    "bare 255");
}

/* The parser must stop at len even when more valid bytes follow. */
static void
addr_test_limit(void)
{
	const char *s = "<user@example.com>";
	struct addr a;
	size_t used, n;

	for (n = 0; n < strlen(s); n++)
		CHECK_INT(addr_parse(s, n, L, &a, &used), ADDR_ESYNTAX,
		    "prefix %zu", n);
	CHECK_INT(addr_parse("user@example.comX", 16, L, &a, &used), ADDR_OK,
	    "bare stops at len");
	CHECK_STR(a.domain, "example.com", "bare stops at len: domain");
}

struct addr_fmt_row {
	const char *in;
	unsigned mode;
	const char *out;
};

static const struct addr_fmt_row addr_fmt_rows[] = {
	{ "<>", R, "<>" },
	{ "<PostMaster>", 0, "<PostMaster>" },
	{ "<User@EXAMPLE.com>", 0, "<User@example.com>" },
	{ "<@a,@b:u@c.d>", 0, "<u@c.d>" },
	{ "<u@c.d.>", 0, "<u@c.d>" },
	{ "<\"a b\"@c.d>", 0, "<\"a b\"@c.d>" },
	{ "<u@[IPv6:::1]>", 0, "<u@[ipv6:::1]>" },
	{ "u@c.d", L, "<u@c.d>" },
};

static void
addr_test_format(void)
{
	char out[SMTP_PATH_MAX + 1];
	struct addr a;
	size_t i, used;

	for (i = 0; i < sizeof addr_fmt_rows / sizeof addr_fmt_rows[0]; i++) {
		const struct addr_fmt_row *r = &addr_fmt_rows[i];

		CHECK_INT(addr_parse(r->in, strlen(r->in), r->mode, &a, &used),
		    ADDR_OK, "format row %zu parse", i);
		CHECK_INT(addr_format(&a, out, sizeof out), strlen(r->out),
		    "format row %zu length", i);
		CHECK_STR(out, r->out, "format row %zu", i);
	}
	addr_parse("<u@c.d>", 7, 0, &a, &used);
	CHECK_INT(addr_format(&a, out, 7), -1, "format: too small");
	CHECK_INT(addr_format(&a, out, 8), 7, "format: just fits");
	CHECK_INT(addr_format(&a, NULL, 0), -1, "format: no buffer");
}

static void
addr_test_strerror(void)
{
	int e;

	for (e = ADDR_OK; e <= ADDR_EUTF8; e++)
		CHECK(addr_strerror((enum addr_err)e)[0] != '\0',
		    "strerror %d", e);
	CHECK_STR(addr_strerror(ADDR_ELOCAL_LONG), "local part too long",
	    "strerror text");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof addr_ok_rows / sizeof addr_ok_rows[0]; i++)
		addr_test_row(&addr_ok_rows[i], (int)i);
	for (i = 0; i < sizeof addr_err_rows / sizeof addr_err_rows[0]; i++)
		addr_test_row(&addr_err_rows[i], 100 + (int)i);
	addr_test_lengths();
	addr_test_bare_length();
	addr_test_limit();
	addr_test_format();
	addr_test_strerror();
	return harness_end("addr");
}
