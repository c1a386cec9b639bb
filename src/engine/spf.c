/* spf.c - check_host() of RFC 7208 §4: record selection, evaluation,
 * redirect= and exp=, the result (§2.6) and Received-SPF (§9.1).
 *
 * Recursion follows include: and redirect= only, and each of them counts
 * against SPF_TERMS_MAX before it recurses, so the depth is bounded by it. */
#include "engine/spf_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPF_DEFAULT_EXPL "SPF fail: the domain does not authorize this host"

static enum spf_res spf_host(struct spf_ctx *c, const char *domain,
    int depth);

const char *
spf_res_name(enum spf_res r)
{
	static const char *names[] = { "none", "neutral", "pass", "fail",
	    "softfail", "temperror", "permerror" };

	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static enum spf_res
spf_problem(struct spf_ctx *c, enum spf_res r, const char *what,
    const char *domain)
{
	snprintf(c->out->problem, sizeof c->out->problem, "%s: %s", what,
	    domain);
	return r;
}

/* §4.3: a domain that is malformed or not multi-label gives "none". */
static int
spf_domain_ok(const char *d)
{
	size_t n = strlen(d), l;
	const char *p = d;

	if (n == 0 || n > DNS_NAME_MAX || strchr(d, '.') == NULL ||
	    d[0] == '[')
		return 0;
	while (*p != '\0') {
		l = strcspn(p, ".");
		if (l == 0 || l > 63)
			return 0;
		p += l;
		p += *p == '.';
	}
	return 1;
}

/* Is TXT text an SPF record (§4.5: "v=spf1" then SP or the end)? */
static int
spf_is_record(const char *t, size_t n)
{
	return n >= 6 && strncasecmp(t, "v=spf1", 6) == 0 &&
	    (n == 6 || t[6] == ' ');
}

/* §4.4, §4.5: fetch TXT only (type SPF is not looked up), keep the one
 * SPF record into rec.  Returns 0, 1 (none), SPF_DNSERR, SPF_SYNTAX. */
static int
spf_fetch(struct spf_ctx *c, const char *domain, char *rec, size_t *len)
{
	struct dns_result *r = c->res;
	size_t i, found = 0;

	dns_query(c->dns, domain, DNS_T_TXT, r);
	if (r->status == DNS_TEMPFAIL)
		return SPF_DNSERR;
	if (r->status != DNS_OK)
		return 1;
	for (i = 0; i < r->n; i++) {
		if (!spf_is_record(r->rr[i].txt, r->rr[i].txtlen))
			continue;
		if (found++ > 0)
			return SPF_SYNTAX;	/* §4.5: more than one */
		*len = r->rr[i].txtlen < DNS_TXT_MAX ? r->rr[i].txtlen :
		    DNS_TXT_MAX;
		memcpy(rec, r->rr[i].txt, *len);
		rec[*len] = '\0';
	}
	return found ? 0 : 1;
}

/* §4.6: the whole record is checked before any term is evaluated: SP and
 * printable ASCII only, every term valid, redirect= and exp= at most once
 * (§6).  Finds the modifiers.  Returns 0 or SPF_SYNTAX. */
static int
spf_validate(const char *rec, size_t len, struct spf_term *redir,
    struct spf_term *exp)
{
	struct spf_term t;
	size_t pos = 6, i;

	redir->mech = exp->mech = SPF_M_UNKNOWN;
	for (i = 0; i < len; i++)
		if ((unsigned char)rec[i] < 0x20 || (unsigned char)rec[i] > 0x7e)
			return SPF_SYNTAX;
	for (;;) {
		while (pos < len && rec[pos] == ' ')
			pos++;
		if (pos >= len)
			return 0;
		if (spf_term_parse(rec, len, &pos, &t) < 0)
			return SPF_SYNTAX;
		if (t.mech == SPF_M_REDIRECT || t.mech == SPF_M_EXP) {
			struct spf_term *m = t.mech == SPF_M_EXP ? exp : redir;
			if (m->mech != SPF_M_UNKNOWN)
				return SPF_SYNTAX;
			*m = t;
		}
	}
}

/* A term that queries DNS (§4.6.4). */
static int
spf_count(struct spf_ctx *c)
{
	if (++c->terms > SPF_TERMS_MAX) {
		snprintf(c->out->problem, sizeof c->out->problem,
		    "more than %d DNS-querying terms", SPF_TERMS_MAX);
		return SPF_SYNTAX;
	}
	return 0;
}

/* include: (§5.2): pass matches, fail/softfail/neutral do not,
 * temperror stays, none and permerror become permerror. */
static int
spf_include(struct spf_ctx *c, const char *target, int depth)
{
	switch (spf_host(c, target, depth + 1)) {
	case SPF_PASS:
		return 1;
	case SPF_FAIL: case SPF_SOFTFAIL: case SPF_NEUTRAL:
		return 0;
	case SPF_TEMPERROR:
		return SPF_DNSERR;
	default:
		return SPF_SYNTAX;
	}
}

/* Evaluate one mechanism for domain.  Returns 1 (match), 0, SPF_DNSERR or
 * SPF_SYNTAX. */
static int
spf_mech(struct spf_ctx *c, const char *domain, const struct spf_term *t,
    int depth)
{
	char target[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1];
	int r;

	if (t->mech == SPF_M_ALL)
		return 1;
	if (t->mech == SPF_M_IP4 || t->mech == SPF_M_IP6)
		return t->mech == SPF_M_IP4 ?
		    spf_ip_match(c, t->net, AF_INET, t->cidr4) :
		    spf_ip_match(c, t->net, AF_INET6, t->cidr6);
	if ((r = spf_count(c)) < 0)
		return r;
	snprintf(target, sizeof target, "%s", domain);
	if (t->arglen > 0 && (r = spf_domain_expand(c, domain, t, target)))
		/* no valid name: nothing matches; include: check_host gives
		 * none for it (§4.3), which include makes a permerror */
		return r < 0 ? r : t->mech == SPF_M_INCLUDE ? SPF_SYNTAX : 0;
	switch (t->mech) {
	case SPF_M_INCLUDE:
		return spf_include(c, target, depth);
	case SPF_M_A:
		return spf_addr_match(c, target, t->cidr4, t->cidr6, 1, c->res);
	case SPF_M_MX:
		return spf_mx(c, target, t->cidr4, t->cidr6);
	case SPF_M_PTR:
		return spf_ptr_validated(c, target, name, 1);
	default:
		return spf_exists(c, target);
	}
}

/* exp= (§6.2): the TXT record at the expanded domain, itself expanded
 * with c, r and t allowed.  Any failure leaves the default text. */
static void
spf_explain(struct spf_ctx *c, const char *domain, const struct spf_term *e)
{
	char target[DNS_NAME_MAX + 1], *txt;
	struct dns_result *r = c->res;
	struct buf b;

	snprintf(c->out->expl, sizeof c->out->expl, "%s", SPF_DEFAULT_EXPL);
	c->out->expl_from_record = 0;
	if (e->mech != SPF_M_EXP || spf_domain_expand(c, domain, e, target))
		return;
	dns_query(c->dns, target, DNS_T_TXT, r);
	if (r->status != DNS_OK || r->n != 1 ||
	    !spf_macro_valid(r->rr[0].txt, r->rr[0].txtlen, 1))
		return;
	/* copied first: %{p} reuses c->res */
	if ((txt = strndup(r->rr[0].txt, r->rr[0].txtlen)) == NULL)
		return;
	buf_init(&b, sizeof c->out->expl - 1);
	if (spf_macro_expand(c, domain, txt, strlen(txt), 1, &b) == 0) {
		snprintf(c->out->expl, sizeof c->out->expl, "%s",
		    b.data ? b.data : "");
		c->out->expl_from_record = 1;
	}
	free(txt);
	buf_done(&b);
}

/* The mechanisms of rec in order (§4.6.2); SPF_M_UNKNOWN when none
 * matched.  Returns 1 with *res set, 0, or the error of a mechanism. */
static int
spf_terms(struct spf_ctx *c, const char *domain, const char *rec,
    size_t len, int depth, enum spf_res *res)
{
	struct spf_term t;
	size_t pos = 6;
	int r;

	for (;;) {
		while (pos < len && rec[pos] == ' ')
			pos++;
		if (pos >= len)
			return 0;
		spf_term_parse(rec, len, &pos, &t);
		if (t.mech >= SPF_M_REDIRECT)
			continue;
		if ((r = spf_mech(c, domain, &t, depth)) == 0)
			continue;
		if (r < 0)
			return r;
		*res = t.qual == '-' ? SPF_FAIL : t.qual == '~' ? SPF_SOFTFAIL :
		    t.qual == '?' ? SPF_NEUTRAL : SPF_PASS;
		snprintf(c->out->mechanism, sizeof c->out->mechanism, "%.*s",
		    (int)t.textlen, t.text);
		return 1;
	}
}

/* redirect= (§6.1): counts as a querying term; none becomes permerror. */
static enum spf_res
spf_redirect(struct spf_ctx *c, const char *domain, const struct spf_term *t,
    int depth)
{
	char target[DNS_NAME_MAX + 1];
	enum spf_res r;

	if (spf_count(c) < 0)
		return SPF_PERMERROR;
	if (spf_domain_expand(c, domain, t, target) != 0)
		return spf_problem(c, SPF_PERMERROR, "bad redirect", domain);
	r = spf_host(c, target, depth + 1);
	return r == SPF_NONE ? spf_problem(c, SPF_PERMERROR,
	    "redirect to a domain without SPF", target) : r;
}

static enum spf_res
spf_host(struct spf_ctx *c, const char *domain, int depth)
{
	char rec[DNS_TXT_MAX + 1];
	struct spf_term redir, exp;
	enum spf_res res = SPF_NEUTRAL;
	size_t len = 0;
	int r;

	assert(depth <= SPF_TERMS_MAX + 1);
	if (!spf_domain_ok(domain))
		return SPF_NONE;
	r = spf_fetch(c, domain, rec, &len);
	if (r == SPF_DNSERR)
		return spf_problem(c, SPF_TEMPERROR, "DNS error", domain);
	if (r == SPF_SYNTAX)
		return spf_problem(c, SPF_PERMERROR, "several records", domain);
	if (r == 1)
		return SPF_NONE;
	if (spf_validate(rec, len, &redir, &exp) < 0)
		return spf_problem(c, SPF_PERMERROR, "syntax error", domain);
	r = spf_terms(c, domain, rec, len, depth, &res);
	if (r == SPF_DNSERR)
		return c->out->problem[0] ? SPF_TEMPERROR :
		    spf_problem(c, SPF_TEMPERROR, "DNS error", domain);
	if (r < 0)
		return c->out->problem[0] ? SPF_PERMERROR :
		    spf_problem(c, SPF_PERMERROR, "permerror", domain);
	if (r == 0 && redir.mech == SPF_M_REDIRECT)
		return spf_redirect(c, domain, &redir, depth);
	if (res == SPF_FAIL)
		spf_explain(c, domain, &exp);
	return res;
}

/* The identity (§2.3, §2.4, §4.3): local part and domain of the sender,
 * postmaster@helo when it is empty. */
static void
spf_identity(struct spf_result *out, const char *sender, const char *helo,
    char *local, size_t llen, char *domain)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	size_t n;

	snprintf(out->helo, sizeof out->helo, "%s", helo ? helo : "");
	out->helo_identity = sender == NULL || sender[0] == '\0';
	if (out->helo_identity)
		snprintf(domain, DNS_NAME_MAX + 1, "%s", out->helo);
	else
		snprintf(domain, DNS_NAME_MAX + 1, "%s", at ? at + 1 : sender);
	if (at != NULL && at != sender)
		snprintf(local, llen, "%.*s", (int)(at - sender), sender);
	else
		snprintf(local, llen, "postmaster");
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		domain[n - 1] = '\0';
	snprintf(out->sender, sizeof out->sender, "%s@%s", local, domain);
}

/* The client address: IPv4-mapped IPv6 is IPv4 (§5, §5.6). */
static int
spf_parse_ip(struct spf_ctx *c, const char *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (ip != NULL && inet_pton(AF_INET, ip, c->ip) == 1) {
		c->family = AF_INET;
		return 0;
	}
	if (ip == NULL || inet_pton(AF_INET6, ip, c->ip) != 1)
		return -1;
	c->family = AF_INET6;
	if (memcmp(c->ip, mapped, sizeof mapped) == 0) {
		memmove(c->ip, c->ip + 12, 4);
		c->family = AF_INET;
	}
	return 0;
}

int
spf_check(struct dns_lookup *dns, const char *ip, const char *sender,
    const char *helo, struct spf_result *out)
{
	char local[DNS_NAME_MAX + 1], domain[DNS_NAME_MAX + 1];
	struct spf_ctx c;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	c.dns = dns;
	c.out = out;
	spf_identity(out, sender, helo, local, sizeof local, domain);
	snprintf(out->domain, sizeof out->domain, "%s", domain);
	if (spf_parse_ip(&c, ip) < 0) {
		out->result = spf_problem(&c, SPF_PERMERROR, "bad client IP",
		    ip ? ip : "");
		return -1;
	}
	inet_ntop(c.family, c.ip, out->client_ip, sizeof out->client_ip);
	c.local = local;
	c.sdomain = domain;
	c.sender = out->sender;
	c.helo = out->helo;
	c.res = malloc(sizeof *c.res);
	c.res2 = malloc(sizeof *c.res2);
	if (c.res == NULL || c.res2 == NULL)
		out->result = spf_problem(&c, SPF_TEMPERROR, "out of memory",
		    domain);
	else
		out->result = spf_host(&c, domain, 0);
	out->lookups = c.terms;
	out->voids = c.voids;
	free(c.res);
	free(c.res2);
	return 0;
}

int
spf_check_sa(struct dns_lookup *dns, const struct sockaddr *sa,
    const char *sender, const char *helo, struct spf_result *out)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, ip, sizeof ip);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, ip, sizeof ip);
	else
		ip[0] = '\0';
	return spf_check(dns, ip, sender, helo, out);
}

/* The comment of Received-SPF (§9.1, its examples). */
static const char *
spf_comment(enum spf_res r)
{
	switch (r) {
	case SPF_PASS: return "designates";
	case SPF_FAIL: return "does not designate";
	case SPF_SOFTFAIL: return "does not designate (softfail)";
	case SPF_NEUTRAL: return "neither permits nor denies";
	case SPF_NONE: return "publishes no SPF record for";
	default: return "could not be checked for";
	}
}

/* A key=value of §9.1: a dot-atom bare, anything else as a quoted-string
 * (RFC 5322 §3.2.3, §3.2.4; '"' and '\\' escaped). */
static void
spf_kv(struct buf *b, const char *k, const char *v)
{
	size_t i, n = strlen(v);
	int q = n == 0 || v[0] == '.' || v[n - 1] == '.' ||
	    strstr(v, "..") != NULL;

	for (i = 0; i < n && !q; i++)
		q = !isalnum((unsigned char)v[i]) &&
		    !strchr("!#$%&'*+-/=?^_`{|}~.", v[i]);
	buf_printf(b, " %s=%s", k, q ? "\"" : "");
	for (i = 0; i < n; i++) {
		if (v[i] == '"' || v[i] == '\\')
			buf_append(b, "\\", 1);
		buf_append(b, &v[i], 1);
	}
	buf_puts(b, q ? "\";" : ";");
}

size_t
spf_received(const struct spf_result *r, const char *receiver, char *out,
    size_t outlen)
{
	struct buf b;
	size_t n;

	buf_init(&b, 8192);
	buf_printf(&b, "Received-SPF: %s (%s: domain of %s %s %s as "
	    "permitted sender)", spf_res_name(r->result), receiver,
	    r->helo_identity ? r->helo : r->sender, spf_comment(r->result),
	    r->client_ip);
	spf_kv(&b, "client-ip", r->client_ip);
	if (!r->helo_identity)
		spf_kv(&b, "envelope-from", r->sender);
	if (r->helo[0] != '\0')
		spf_kv(&b, "helo", r->helo);
	spf_kv(&b, "receiver", receiver);
	spf_kv(&b, "identity", r->helo_identity ? "helo" : "mailfrom");
	if (r->mechanism[0] != '\0')
		spf_kv(&b, "mechanism", r->mechanism);
	if (r->problem[0] != '\0')
		spf_kv(&b, "problem", r->problem);
	if (b.len > 0 && b.data[b.len - 1] == ';')
		b.data[--b.len] = '\0';	/* no trailing ';' */
	n = b.len;
	if (outlen > 0)
		snprintf(out, outlen, "%s", b.data ? b.data : "");
	buf_done(&b);
	return n;
}
