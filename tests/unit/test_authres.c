/* test_authres.c - the Authentication-Results parser (RFC 8601 §2.2, the
 * examples of its §6) and authres_strip (§5). */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mail/authres.h"

/* What was parsed, as one line: "method=result [reason=R] [p.q=v]..."
 * per resinfo, joined by "; ". */
static const char *
summary(const struct authres *ar)
{
	static char buf[2048];
	size_t o = 0, i, j;

	buf[0] = '\0';
	for (i = 0; i < ar->nres; i++) {
		const struct authres_info *r = &ar->res[i];

		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s=%s",
		    i ? "; " : "", r->method, r->result);
		if (r->reason[0])
			o += (size_t)snprintf(buf + o, sizeof buf - o,
			    " reason=%s", r->reason);
		for (j = 0; j < r->nprop && o < sizeof buf; j++)
			o += (size_t)snprintf(buf + o, sizeof buf - o,
			    " %s.%s=%s", r->prop[j].ptype, r->prop[j].property,
			    r->prop[j].value);
		if (o >= sizeof buf)
			break;
	}
	return buf;
}

static const struct {
	const char *val;
	enum authres_status want;
	const char *servid;
	int version, none;
	const char *res;
} cases[] = {
	/* RFC 8601 §6.2 to §6.6 */
	{ " example.org 1; none", AUTHRES_OK, "example.org", 1, 1, "" },
	{ " example.com;\r\n          spf=pass smtp.mailfrom=example.net",
	    AUTHRES_OK, "example.com", 1, 0,
	    "spf=pass smtp.mailfrom=example.net" },
	{ " example.com;\r\n          auth=pass (cram-md5) "
	    "smtp.auth=sender@example.net;\r\n          spf=pass "
	    "smtp.mailfrom=example.net", AUTHRES_OK, "example.com", 1, 0,
	    "auth=pass smtp.auth=sender@example.net; "
	    "spf=pass smtp.mailfrom=example.net" },
	{ " example.com; iprev=pass\r\n          policy.iprev=192.0.2.200",
	    AUTHRES_OK, "example.com", 1, 0,
	    "iprev=pass policy.iprev=192.0.2.200" },
	{ " example.com;\r\n          dkim=pass reason=\"good signature\"\r\n"
	    "            header.i=@mail-router.example.net;\r\n"
	    "          dkim=fail reason=\"bad signature\"\r\n"
	    "            header.i=@newyork.example.com", AUTHRES_OK,
	    "example.com", 1, 0, "dkim=pass reason=good signature "
	    "header.i=@mail-router.example.net; dkim=fail reason=bad "
	    "signature header.i=@newyork.example.com" },
	{ " mail-router.example.net;\r\n          dkim=pass (good signature) "
	    "header.d=newyork.example.com\r\n            header.b=oINEO8hg;\r\n"
	    "          dkim=fail (bad signature) header.d=mail-router.example"
	    ".net\r\n            header.b=EToRSuvU\r\n", AUTHRES_OK,
	    "mail-router.example.net", 1, 0, "dkim=pass "
	    "header.d=newyork.example.com header.b=oINEO8hg; dkim=fail "
	    "header.d=mail-router.example.net header.b=EToRSuvU" },
	{ " example.com; sender-id=fail header.from=example.com; "
	    "dkim=pass (good signature) header.d=example.com", AUTHRES_OK,
	    "example.com", 1, 0, "sender-id=fail header.from=example.com; "
	    "dkim=pass header.d=example.com" },
	/* comments: nested, with quoted-pairs, everywhere CFWS is */
	{ " (a (nested) comment)mx.Example.COM (x \\) y) 1 (v);"
	    "(c)spf(c)=(c)pass(c)smtp(c).(c)mailfrom(c)=(c)a@b.example(c)",
	    AUTHRES_OK, "mx.Example.COM", 1, 0,
	    "spf=pass smtp.mailfrom=a@b.example" },
	/* quoted authserv-id, version, method version, case */
	{ " \"my id\" 1; DKIM/1 = PASS Header.D=Example.com", AUTHRES_OK,
	    "my id", 1, 0, "dkim=pass header.d=Example.com" },
	{ " example.com 2; spf=pass", AUTHRES_OK, "example.com", 2, 0,
	    "spf=pass" },
	{ " example.com; none (nothing) ", AUTHRES_OK, "example.com", 1, 1,
	    "" },
	/* properties: quoted values, a quoted local-part, header.b base64,
	 * an IPv6 address; a trailing ';' as large receivers write it */
	{ " x; spf=pass smtp.mailfrom=\"john doe\"@example.com "
	    "header.b=ab/C+d=; iprev=pass policy.iprev=2001:db8::1;",
	    AUTHRES_OK, "x", 1, 0, "spf=pass smtp.mailfrom=john doe@example.com "
	    "header.b=ab/C+d=; iprev=pass policy.iprev=2001:db8::1" },
	{ " x; dmarc=fail (p=reject sp=none dis=reject) "
	    "header.from=\"a;b\"", AUTHRES_OK, "x", 1, 0,
	    "dmarc=fail header.from=a;b" },
	{ " x; spf=pass smtp.mailfrom=@example.com", AUTHRES_OK, "x", 1, 0,
	    "spf=pass smtp.mailfrom=@example.com" },
	/* a method called none is a method */
	{ " x; none=pass", AUTHRES_OK, "x", 1, 0, "none=pass" },
	/* malformed */
	{ "", AUTHRES_EMPTY, "", 1, 0, "" },
	{ " \r\n (only a comment)", AUTHRES_EMPTY, "", 1, 0, "" },
	{ " ; spf=pass", AUTHRES_EMPTY, "", 1, 0, "" },
	{ " \"\"; spf=pass", AUTHRES_EMPTY, "", 1, 0, "" },
	{ " \"open; spf=pass", AUTHRES_EMPTY, "", 1, 0, "" },
	{ " example.com", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com;", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com spf=pass", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com 1x; none", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com; spf pass", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com; spf=", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com; =pass", AUTHRES_SYNTAX, "example.com", 1, 0, "" },
	{ " example.com; spf=pass smtp.mailfrom=", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; spf=pass smtp=x", AUTHRES_SYNTAX, "example.com", 1,
	    0, "" },
	{ " example.com; spf=pass smtp.mailfrom=<a@b>", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; spf=pass (open comment", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; spf=pass reason=\"open", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; spf=pass reason=\"x\"smtp.mailfrom=a", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; none; spf=pass", AUTHRES_SYNTAX, "example.com", 1,
	    0, "" },
	{ " example.com; spf=pass;; dkim=pass", AUTHRES_SYNTAX,
	    "example.com", 1, 0, "" },
	{ " example.com; dkim/x=pass", AUTHRES_SYNTAX, "example.com", 1, 0,
	    "" },
	/* the Microsoft form without an authserv-id: "spf" is read as one */
	{ " spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com",
	    AUTHRES_SYNTAX, "spf", 1, 0, "" },
};

static void
test_parse(void)
{
	struct authres ar;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum authres_status st = authres_parse(cases[i].val,
		    strlen(cases[i].val), &ar);

		CHECK_STR(authres_status_name(st),
		    authres_status_name(cases[i].want), "status %zu: %s", i,
		    cases[i].val);
		CHECK_STR(ar.servid, cases[i].servid, "servid %zu", i);
		if (st != AUTHRES_OK)
			continue;
		CHECK_INT(ar.version, cases[i].version, "version %zu", i);
		CHECK_INT(ar.none, cases[i].none, "none %zu", i);
		CHECK_STR(summary(&ar), cases[i].res, "resinfos %zu", i);
		CHECK_INT(ar.nres_seen, ar.nres, "seen %zu", i);
	}
}

/* The bounds: resinfos and properties past the maxima are checked and
 * counted, not kept; a long token is cut; a long value is too-long. */
static void
test_bounds(void)
{
	static char v[AUTHRES_VALUE_MAX + 64];
	struct authres ar;
	size_t o, i;

	o = (size_t)snprintf(v, sizeof v, "x");
	for (i = 0; i < AUTHRES_RES_MAX + 4; i++)
		o += (size_t)snprintf(v + o, sizeof v - o, "; m%zu=pass a.b=c",
		    i);
	CHECK_INT(authres_parse(v, o, &ar), AUTHRES_OK, "many resinfos");
	CHECK_INT(ar.nres, AUTHRES_RES_MAX, "resinfos kept");
	CHECK_INT(ar.nres_seen, AUTHRES_RES_MAX + 4, "resinfos seen");
	CHECK_STR(ar.res[AUTHRES_RES_MAX - 1].method, "m15", "last kept");
	o = (size_t)snprintf(v, sizeof v, "x; spf=pass");
	for (i = 0; i < AUTHRES_PROP_MAX + 3; i++)
		o += (size_t)snprintf(v + o, sizeof v - o, " p.q%zu=v", i);
	CHECK_INT(authres_parse(v, o, &ar), AUTHRES_OK, "many props");
	CHECK_INT(ar.res[0].nprop, AUTHRES_PROP_MAX, "props kept");
	o = (size_t)snprintf(v, sizeof v, "x; spf=pass smtp.mailfrom=");
	memset(v + o, 'a', 300);
	CHECK_INT(authres_parse(v, o + 300, &ar), AUTHRES_OK, "long value");
	CHECK_INT(strlen(ar.res[0].prop[0].value), AUTHRES_TOKEN_MAX - 1,
	    "value cut");
	memset(v, 'a', AUTHRES_ID_MAX + 1);
	memcpy(v + AUTHRES_ID_MAX + 1, "; none", 6);
	CHECK_INT(authres_parse(v, AUTHRES_ID_MAX + 7, &ar), AUTHRES_EMPTY,
	    "authserv-id too long");
	CHECK_STR(ar.servid, "", "a cut id is no id");
	o = (size_t)snprintf(v, sizeof v, "Big.Example; spf=pass (");
	memset(v + o, 'c', AUTHRES_VALUE_MAX);
	CHECK_INT(authres_parse(v, o + AUTHRES_VALUE_MAX, &ar),
	    AUTHRES_TOO_LONG, "too long");
	CHECK_STR(ar.servid, "Big.Example", "too long: the id read");
	CHECK_INT(authres_parse("x; spf=pass\0", 12, &ar), AUTHRES_SYNTAX,
	    "a NUL");
	CHECK_STR(authres_status_name(AUTHRES_TOO_LONG), "too-long", "name");
}

static void
strip_case(const char *in, const char *want, size_t want_removed,
    const char *what)
{
	char buf[4096];
	size_t len = strlen(in), n, removed = 99;

	memcpy(buf, in, len);
	n = authres_strip(buf, len, "mx.jaga.example", &removed);
	buf[n] = '\0';
	CHECK_STR(buf, want, "strip: %s", what);
	CHECK_INT(removed, want_removed, "strip removed: %s", what);
}

static void
test_strip(void)
{
	strip_case("Received: from a\r\nAuthentication-Results: "
	    "mx.jaga.example; spf=pass smtp.mailfrom=a@b\r\nSubject: s\r\n"
	    "\r\nAuthentication-Results: mx.jaga.example; none\r\n",
	    "Received: from a\r\nSubject: s\r\n\r\n"
	    "Authentication-Results: mx.jaga.example; none\r\n", 1,
	    "ours removed, the body untouched");
	strip_case("authentication-results  :\r\n MX.Jaga.EXAMPLE;\r\n"
	    "\tdkim=pass header.d=a\r\nAUTHENTICATION-RESULTS: "
	    "\"mx.jaga.example\" 1; none\r\nFrom: a@b\r\n\r\nbody",
	    "From: a@b\r\n\r\nbody", 2, "any case, quoted, folded");
	strip_case("Authentication-Results: mx.google.com; spf=pass\r\n"
	    "Authentication-Results: other.example; none\r\n\r\nb",
	    "Authentication-Results: mx.google.com; spf=pass\r\n"
	    "Authentication-Results: other.example; none\r\n\r\nb", 0,
	    "others kept");
	strip_case("Authentication-Results: mx.jaga.example.evil; none\r\n"
	    "Authentication-Results: mx.jaga.exampl; none\r\n\r\n",
	    "Authentication-Results: mx.jaga.example.evil; none\r\n"
	    "Authentication-Results: mx.jaga.exampl; none\r\n\r\n", 0,
	    "no prefix match");
	strip_case("Subject: s\r\nAuthentication-Results: mx.jaga.example;\r\n"
	    " spf=fail\r\n", "Subject: s\r\n", 1,
	    "the last field, no body");
	strip_case("Subject: s\r\nAuthentication-Results: mx.jaga.example; "
	    "none", "Subject: s\r\n", 1, "no final CRLF");
	strip_case("Authentication-Results: ;\r\n spf=pass\r\n"
	    "Authentication-Results: (open\r\nAuthentication-Results:\r\n"
	    "Authentication-Results: mx.jaga.example; spf=\r\nTo: t\r\n\r\n",
	    "To: t\r\n\r\n", 4, "unparsable and malformed ones removed");
	strip_case("Authentication-Results: other; spf=\r\nX: y\r\n\r\n",
	    "Authentication-Results: other; spf=\r\nX: y\r\n\r\n", 0,
	    "malformed but not ours: kept");
	strip_case("Authentication-Results-Foo: mx.jaga.example; none\r\n"
	    "X-Authentication-Results: mx.jaga.example; none\r\n\r\n",
	    "Authentication-Results-Foo: mx.jaga.example; none\r\n"
	    "X-Authentication-Results: mx.jaga.example; none\r\n\r\n", 0,
	    "other field names");
	strip_case("A: 1\nAuthentication-Results: mx.jaga.example; none\n"
	    " x=y\nB: 2\n\nbody\n", "A: 1\nB: 2\n\nbody\n", 1, "bare LF");
	strip_case("", "", 0, "empty message");
	strip_case("\r\nAuthentication-Results: mx.jaga.example; none\r\n",
	    "\r\nAuthentication-Results: mx.jaga.example; none\r\n", 0,
	    "no header at all");
}

int
main(void)
{
	test_parse();
	test_bounds();
	test_strip();
	return harness_end("authres");
}
