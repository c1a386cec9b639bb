/* spf_term.c - the terms of an SPF record (RFC 7208 §4.6.1, §5, §6).
 *
 * A cursor moves over the record against its length; every term is handed
 * out as views into the record, nothing is copied or allocated. */
#include "engine/spf_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum spf_mech mech;
} spf_mechs[] = {
	{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE }, { "a", SPF_M_A },
	{ "mx", SPF_M_MX }, { "ptr", SPF_M_PTR }, { "ip4", SPF_M_IP4 },
	{ "ip6", SPF_M_IP6 }, { "exists", SPF_M_EXISTS },
};

/* ip4-cidr-length / ip6-cidr-length (§5.6): no leading zeros, <= max. */
static int
spf_cidr_num(const char *s, size_t n, int max)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Strip a trailing "/N", "//M" or "/N//M" (dual-cidr-length, §5.6) off
 * t->arg.  Returns 0 or SPF_SYNTAX. */
static int
spf_dual_cidr(struct spf_term *t, int want4, int want6)
{
	const char *s = t->arg;
	size_t n = t->arglen, d;

	d = n;
	while (d > 0 && isdigit((unsigned char)s[d - 1]))
		d--;
	if (want6 && d >= 2 && d < n && s[d - 1] == '/' && s[d - 2] == '/') {
		if ((t->cidr6 = spf_cidr_num(s + d, n - d, 128)) < 0)
			return SPF_SYNTAX;
		n = d - 2;
		d = n;
		while (d > 0 && isdigit((unsigned char)s[d - 1]))
			d--;
	}
	if (want4 && d >= 1 && d < n && s[d - 1] == '/') {
		if ((t->cidr4 = spf_cidr_num(s + d, n - d, 32)) < 0)
			return SPF_SYNTAX;
		n = d - 1;
	}
	t->arglen = n;
	return 0;
}

/* toplabel (§7.1): alphanumerics and '-', starting and ending with an
 * alphanumeric, not all digits unless it has a '-'. */
static int
spf_toplabel_ok(const char *s, size_t n)
{
	int alpha = 0, dash = 0;
	size_t i;

	if (n == 0 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (isalpha((unsigned char)s[i]))
			alpha = 1;
		else if (s[i] == '-')
			dash = 1;
		else if (!isdigit((unsigned char)s[i]))
			return 0;
	}
	return alpha || dash;
}

/* domain-spec = macro-string domain-end (§7.1): a literal end must be
 * "." toplabel ["."]; an end that is a macro is checked once expanded. */
static int
spf_domain_spec_ok(const char *s, size_t n)
{
	const char *dot;

	if (n == 0 || !spf_macro_valid(s, n, 0))
		return 0;
	if (s[n - 1] == '}')
		return 1;
	if (s[n - 1] == '.')
		n--;
	dot = memrchr(s, '.', n);
	if (dot == NULL)
		return 0;
	return spf_toplabel_ok(dot + 1, n - (size_t)(dot + 1 - s));
}

/* ip4:net[/N] or ip6:net[/N] (§5.6). */
static int
spf_ip_arg(struct spf_term *t, int af)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(t->arg, '/', t->arglen);
	size_t n = slash ? (size_t)(slash - t->arg) : t->arglen;
	int max = af == AF_INET ? 32 : 128, v;

	if (n == 0 || n >= sizeof tmp)
		return SPF_SYNTAX;
	memcpy(tmp, t->arg, n);
	tmp[n] = '\0';
	if (inet_pton(af, tmp, t->net) != 1)
		return SPF_SYNTAX;
	if (slash != NULL) {
		v = spf_cidr_num(slash + 1, t->arglen - n - 1, max);
		if (v < 0)
			return SPF_SYNTAX;
		*(af == AF_INET ? &t->cidr4 : &t->cidr6) = v;
	}
	return 0;
}

/* The argument of a mechanism after its name: rest[0..n). */
static int
spf_mech_arg(struct spf_term *t, const char *rest, size_t n)
{
	int colon = n > 0 && rest[0] == ':';

	t->arg = colon ? rest + 1 : rest;
	t->arglen = colon ? n - 1 : n;
	switch (t->mech) {
	case SPF_M_ALL:
		return n == 0 ? 0 : SPF_SYNTAX;
	case SPF_M_IP4:
	case SPF_M_IP6:
		if (!colon)
			return SPF_SYNTAX;
		return spf_ip_arg(t, t->mech == SPF_M_IP4 ? AF_INET : AF_INET6);
	case SPF_M_A:
	case SPF_M_MX:
		if (n > 0 && !colon && rest[0] != '/')
			return SPF_SYNTAX;
		if (spf_dual_cidr(t, 1, 1) < 0)
			return SPF_SYNTAX;
		if (!colon && t->arglen == 0)
			return 0;
		break;
	case SPF_M_PTR:
		if (n == 0)
			return 0;
		if (!colon)
			return SPF_SYNTAX;
		break;
	default:		/* include, exists */
		if (!colon)
			return SPF_SYNTAX;
		break;
	}
	return spf_domain_spec_ok(t->arg, t->arglen) ? 0 : SPF_SYNTAX;
}

/* name=value (§6, §4.6.1): redirect and exp take a domain-spec, unknown
 * modifiers any macro-string. */
static int
spf_modifier(struct spf_term *t, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	t->arg = val;
	t->arglen = vlen;
	if (nlen == 8 && strncasecmp(name, "redirect", 8) == 0)
		t->mech = SPF_M_REDIRECT;
	else if (nlen == 3 && strncasecmp(name, "exp", 3) == 0)
		t->mech = SPF_M_EXP;
	else
		t->mech = SPF_M_UNKNOWN;
	if (t->mech == SPF_M_UNKNOWN)
		return spf_macro_valid(val, vlen, 0) ? 0 : SPF_SYNTAX;
	return spf_domain_spec_ok(val, vlen) ? 0 : SPF_SYNTAX;
}

int
spf_term_parse(const char *rec, size_t len, size_t *pos, struct spf_term *t)
{
	const char *s = rec + *pos, *end;
	size_t n, i, k;

	end = memchr(s, ' ', len - *pos);
	n = end ? (size_t)(end - s) : len - *pos;
	*pos += n;
	memset(t, 0, sizeof *t);
	t->text = s;
	t->textlen = n;
	t->qual = '+';
	t->cidr4 = 32;
	t->cidr6 = 128;
	if (n > 0 && strchr("+-~?", s[0]) != NULL)
		t->qual = *s++, n--;
	/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return SPF_SYNTAX;
	for (i = 1; i < n && (isalnum((unsigned char)s[i]) ||
	    s[i] == '-' || s[i] == '_' || s[i] == '.'); i++)
		;
	if (i < n && s[i] == '=')
		return t->textlen != n ? SPF_SYNTAX :
		    spf_modifier(t, s, i, s + i + 1, n - i - 1);
	for (k = 0; k < sizeof spf_mechs / sizeof spf_mechs[0]; k++)
		if (strlen(spf_mechs[k].name) == i &&
		    strncasecmp(s, spf_mechs[k].name, i) == 0)
			break;
	if (k == sizeof spf_mechs / sizeof spf_mechs[0])
		return SPF_SYNTAX;
	t->mech = spf_mechs[k].mech;
	return spf_mech_arg(t, s + i, n - i);
}
