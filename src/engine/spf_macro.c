/* spf_macro.c - macro expansion (RFC 7208 §7) and target domains (§4.8).
 *
 * Expansion writes into a struct buf with a maximum, so no record can make
 * it grow without bound; a value splits into at most SPF_PARTS_MAX parts. */
#include "engine/spf_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SPF_PARTS_MAX	(DNS_NAME_MAX + 72)	/* one per octet of s */

struct spf_part {
	const char *p;
	size_t n;
};

/* One %{...} macro-expand, parsed (§7.1). */
struct spf_macro {
	char letter;			/* lowercase */
	int upper;			/* URL-escape the result (§7.3) */
	unsigned digits;		/* 0: all parts */
	int reverse;
	char delims[8];
};

static int
spf_letter_ok(char l, int exp)
{
	if (strchr("slodiphv", l) != NULL)
		return 1;
	return exp && strchr("crt", l) != NULL;
}

/* Parse "{letter digits r delims}" at s[*i] (after the '%'). */
static int
spf_macro_parse(const char *s, size_t n, size_t *i, int exp,
    struct spf_macro *m)
{
	size_t k = *i + 1, nd = 0;
	int digits = 0;

	memset(m, 0, sizeof *m);
	if (k >= n || !spf_letter_ok((char)tolower((unsigned char)s[k]), exp))
		return SPF_SYNTAX;
	m->letter = (char)tolower((unsigned char)s[k]);
	m->upper = isupper((unsigned char)s[k++]);
	for (; k < n && isdigit((unsigned char)s[k]); k++, digits = 1)
		if (m->digits < 1000)
			m->digits = m->digits * 10 + (unsigned)(s[k] - '0');
	if (digits && m->digits == 0)
		return SPF_SYNTAX;	/* §7.3: the number MUST be nonzero */
	if (k < n && (s[k] == 'r' || s[k] == 'R'))
		m->reverse = 1, k++;
	for (; k < n && strchr(".-+,/_=", s[k]) != NULL && s[k]; k++)
		if (nd < sizeof m->delims - 1 && !strchr(m->delims, s[k]))
			m->delims[nd++] = s[k];
	if (k >= n || s[k] != '}')
		return SPF_SYNTAX;
	*i = k + 1;
	return 0;
}

int
spf_macro_valid(const char *s, size_t n, int exp)
{
	struct spf_macro m;
	size_t i = 0;

	while (i < n) {
		if (s[i] != '%') {
			if ((unsigned char)s[i] < (exp ? 0x20 : 0x21) ||
			    (unsigned char)s[i] > 0x7e)
				return 0;
			i++;
			continue;
		}
		if (++i >= n)
			return 0;
		if (s[i] == '%' || s[i] == '_' || s[i] == '-')
			i++;
		else if (s[i] != '{' || spf_macro_parse(s, n, &i, exp, &m) < 0)
			return 0;
	}
	return 1;
}

/* %{i}: dotted quad, or 32 dot-separated nibbles for IPv6 (§7.3), in
 * upper case as the openspf suite and pyspf write them (DNS does not
 * mind the case). */
static void
spf_ip_dotted(const struct spf_ctx *c, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (c->family == AF_INET) {
		inet_ntop(AF_INET, c->ip, out, (socklen_t)outlen);
		return;
	}
	for (i = 0; i < 16 && o + 4 <= outlen; i++) {
		o += (size_t)snprintf(out + o, outlen - o, "%s%X.%X",
		    i ? "." : "", c->ip[i] >> 4, c->ip[i] & 15);
	}
}

/* The value of a macro letter into val (DNS_NAME_MAX + 72 octets). */
static void
spf_letter_value(struct spf_ctx *c, const char *domain, char l, char *val,
    size_t vlen)
{
	switch (l) {
	case 's': snprintf(val, vlen, "%s", c->sender); break;
	case 'l': snprintf(val, vlen, "%s", c->local); break;
	case 'o': snprintf(val, vlen, "%s", c->sdomain); break;
	case 'd': snprintf(val, vlen, "%s", domain); break;
	case 'i': spf_ip_dotted(c, val, vlen); break;
	case 'h': snprintf(val, vlen, "%s", c->helo); break;
	case 'v': snprintf(val, vlen, "%s",
		    c->family == AF_INET ? "in-addr" : "ip6"); break;
	case 'c': inet_ntop(c->family, c->ip, val, (socklen_t)vlen); break;
	case 'r': snprintf(val, vlen, "unknown"); break;
	case 't': snprintf(val, vlen, "%lld", (long long)time(NULL)); break;
	case 'p':
		if (spf_ptr_validated(c, domain, val, 0) < 0 || val[0] == '\0')
			snprintf(val, vlen, "unknown");
		break;
	default: val[0] = '\0'; break;
	}
}

/* Split val on the delimiters, reverse, keep the rightmost parts, join
 * with '.', URL-escape when asked (§7.3). */
static int
spf_transform(const struct spf_macro *m, const char *val, struct buf *out)
{
	struct spf_part pv[SPF_PARTS_MAX];
	const char *d = m->delims[0] ? m->delims : ".";
	size_t np = 0, i, first, k;
	const char *p = val, *e;

	for (;;) {
		e = p + strcspn(p, d);
		if (np < SPF_PARTS_MAX)
			pv[np++] = (struct spf_part){ p, (size_t)(e - p) };
		if (*e == '\0')
			break;
		p = e + 1;
	}
	for (i = 0; m->reverse && i < np / 2; i++) {
		struct spf_part t = pv[i];
		pv[i] = pv[np - 1 - i];
		pv[np - 1 - i] = t;
	}
	first = m->digits && m->digits < np ? np - m->digits : 0;
	for (i = first; i < np; i++) {
		if (i > first && buf_append(out, ".", 1) < 0)
			return -3;
		for (k = 0; k < pv[i].n; k++) {
			unsigned char ch = (unsigned char)pv[i].p[k];
			int r = m->upper && !isalnum(ch) && !strchr("-._~", ch)
			    ? buf_printf(out, "%%%02X", ch)
			    : buf_append(out, &pv[i].p[k], 1);
			if (r < 0)
				return -3;
		}
	}
	return 0;
}

int
spf_macro_expand(struct spf_ctx *c, const char *domain, const char *s,
    size_t n, int exp, struct buf *out)
{
	char val[DNS_NAME_MAX + 72];
	struct spf_macro m;
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		if (s[i] != '%') {
			r = buf_append(out, &s[i++], 1) < 0 ? -3 : 0;
			continue;
		}
		if (++i >= n)
			return SPF_SYNTAX;
		if (s[i] == '%' || s[i] == '_' || s[i] == '-') {
			r = buf_puts(out, s[i] == '%' ? "%" :
			    s[i] == '_' ? " " : "%20") < 0 ? -3 : 0;
			i++;
			continue;
		}
		if (s[i] != '{' || spf_macro_parse(s, n, &i, exp, &m) < 0)
			return SPF_SYNTAX;
		spf_letter_value(c, domain, m.letter, val, sizeof val);
		r = spf_transform(&m, val, out);
	}
	return r;
}

/* Check labels: none empty (a final dot aside), none over 63 octets. */
static int
spf_labels_ok(const char *d)
{
	size_t n;

	while (*d != '\0') {
		n = strcspn(d, ".");
		if (n == 0 || n > 63)
			return 0;
		d += n;
		if (*d == '.')
			d++;
	}
	return 1;
}

int
spf_domain_expand(struct spf_ctx *c, const char *cur,
    const struct spf_term *t, char *dom)
{
	struct buf b;
	const char *p;
	int r;

	buf_init(&b, 4 * DNS_TXT_MAX);
	r = spf_macro_expand(c, cur, t->arg, t->arglen, 0, &b);
	if (r < 0) {
		buf_done(&b);
		return r == -3 ? 1 : r;
	}
	p = b.data ? b.data : "";
	if (b.len > 0 && p[b.len - 1] == '.')
		b.data[--b.len] = '\0';
	/* §7.3: over 253 octets, drop labels from the left until it fits */
	while (strlen(p) > DNS_NAME_MAX && strchr(p, '.') != NULL)
		p = strchr(p, '.') + 1;
	r = strlen(p) > DNS_NAME_MAX || p[0] == '\0' || !spf_labels_ok(p);
	if (!r)
		snprintf(dom, DNS_NAME_MAX + 1, "%s", p);
	buf_done(&b);
	return r;
}
