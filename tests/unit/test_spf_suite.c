/* test_spf_suite.c - an openspf-format suite (RFC 7208 tests) against
 * spf_check, each scenario's zone data served by a table lookup.
 *
 * spf_suite.py turns the YAML into the flat file read here (its header
 * says the format).  The table answers as a server loaded with the zone
 * would: records of the type asked are answered, else a
 * TIMEOUT name fails temporarily (even with "TXT: NONE", as the suite
 * wants), a name with other records gives NODATA,
 * an unknown name NXDOMAIN; CNAMEs are followed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/spf.h"
#include "harness.h"

#define ZONE_MAX	512
#define FIELD_MAX	8

struct zrec {
	char name[DNS_NAME_MAX + 2];
	char type[8];
	char data[DNS_TXT_MAX + 1];
	size_t len;
	int pref;
};

struct ztable {
	struct dns_lookup l;
	struct zrec rec[ZONE_MAX];
	size_t n;
	int queries;
};

/* Decode hex (or "-" for empty) into out; returns the length. */
static size_t
unhex(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	unsigned v;

	if (strcmp(s, "-") == 0)
		s = "";
	while (s[0] && s[1] && n + 1 < outlen && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (char)v;
		s += 2;
	}
	out[n] = '\0';
	return n;
}

static int
zname_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	la -= la > 0 && a[la - 1] == '.';
	lb -= lb > 0 && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

static const char *
ztype_name(enum dns_type t)
{
	switch (t) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_MX: return "MX";
	case DNS_T_PTR: return "PTR";
	case DNS_T_TXT: return "TXT";
	case DNS_T_SPF: return "SPF";
	default: return "CNAME";
	}
}

/* Add record z to the answer r. */
static void
zanswer(const struct zrec *z, enum dns_type type, struct dns_result *r)
{
	struct dns_rr *rr = &r->rr[r->n];

	if (r->n >= DNS_RR_MAX) {
		r->truncated++;
		return;
	}
	memset(rr, 0, sizeof *rr);
	rr->type = type;
	rr->pref = (uint16_t)z->pref;
	if (type == DNS_T_A || type == DNS_T_AAAA) {
		if (inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, z->data,
		    rr->addr) != 1)
			return;
	} else if (type == DNS_T_TXT || type == DNS_T_SPF) {
		if (r->txtused + z->len + 1 > sizeof r->txtbuf)
			return;
		rr->txt = r->txtbuf + r->txtused;
		memcpy(rr->txt, z->data, z->len + 1);
		rr->txtlen = z->len;
		r->txtused += z->len + 1;
	} else {
		snprintf(rr->name, sizeof rr->name, "%s", z->data);
		size_t n = strlen(rr->name);
		if (n > 0 && rr->name[n - 1] == '.')
			rr->name[n - 1] = '\0';
	}
	r->n++;
}

static int
zquery(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct ztable *t = (struct ztable *)l;
	const char *cname = NULL;
	int exists = 0, timeout = 0, listed = 0, hops;
	size_t i;

	memset(out, 0, offsetof(struct dns_result, txtbuf));
	out->txtused = 0;
	t->queries++;
	for (hops = 0; hops < 8; hops++, name = cname, cname = NULL) {
		for (i = 0; i < t->n; i++) {
			const struct zrec *z = &t->rec[i];
			if (!zname_eq(z->name, name))
				continue;
			exists = 1;
			if (strcmp(z->type, "TIMEOUT") == 0)
				timeout = 1;
			else if (strcmp(z->type, "NONE") == 0 &&
			    strcmp(z->data, ztype_name(type)) == 0)
				listed = 1;
			else if (strcmp(z->type, "CNAME") == 0)
				cname = z->data;
			else if (strcmp(z->type, ztype_name(type)) == 0)
				zanswer(z, type, out);
		}
		if (out->n > 0 || listed || cname == NULL)
			break;
	}
	if (out->n == 0 && timeout) {
		out->status = DNS_TEMPFAIL;
		return 0;
	}
	out->status = out->n > 0 ? DNS_OK : exists ? DNS_NODATA : DNS_NXDOMAIN;
	return 0;
}

static void
zfree(struct dns_lookup *l)
{
	(void)l;
}

/* "pass,fail" contains "fail"? */
static int
result_ok(const char *want, const char *got)
{
	size_t n = strlen(got);
	const char *p = want;

	while ((p = strstr(p, got)) != NULL) {
		if ((p == want || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static void
run_test(struct ztable *z, char **f)
{
	char name[256], from[1024], helo[1024], exp[1024];
	struct spf_result r;
	int exp_given = strcmp(f[6], "-") != 0;

	unhex(f[1], name, sizeof name);
	unhex(f[3], from, sizeof from);
	unhex(f[4], helo, sizeof helo);
	unhex(f[6], exp, sizeof exp);
	spf_check(&z->l, f[2], from, helo, &r);
	CHECK(result_ok(f[5], spf_res_name(r.result)),
	    "%s: got %s, want %s (%s)", name, spf_res_name(r.result), f[5],
	    r.problem);
	if (!exp_given)
		return;
	if (strcmp(exp, "DEFAULT") == 0)
		CHECK(!r.expl_from_record, "%s: explanation %s, want default",
		    name, r.expl);
	else
		CHECK_STR(r.expl, exp, "%s: explanation", name);
}

static void
add_zone(struct ztable *z, char **f, int nf)
{
	struct zrec *r;

	if (z->n >= ZONE_MAX || nf < 3) {
		CHECK(0, "zone too large or bad line");
		return;
	}
	r = &z->rec[z->n++];
	unhex(f[1], r->name, sizeof r->name);
	snprintf(r->type, sizeof r->type, "%s", f[2]);
	if (strcmp(f[2], "MX") == 0 && nf > 4) {
		r->pref = (int)strtol(f[3], NULL, 10);
		r->len = unhex(f[4], r->data, sizeof r->data);
	} else if (strcmp(f[2], "NONE") == 0 && nf > 3) {
		r->len = (size_t)snprintf(r->data, sizeof r->data, "%s", f[3]);
	} else if (nf > 3) {
		r->len = unhex(f[3], r->data, sizeof r->data);
	}
}

int
main(int argc, char **argv)
{
	static struct ztable z;
	static char line[4 * DNS_TXT_MAX];
	char *f[FIELD_MAX], *p;
	FILE *fp;
	int nf;

	if (argc != 2 || (fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: test_spf_suite FILE\n");
		return 2;
	}
	z.l.query = zquery;
	z.l.free = zfree;
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, p = line; nf < FIELD_MAX && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (f[0][0] == 'S')
			z.n = 0;
		else if (f[0][0] == 'Z')
			add_zone(&z, f, nf);
		else if (f[0][0] == 'T' && nf >= 7)
			run_test(&z, f);
	}
	fclose(fp);
	return harness_end("spf_suite");
}
