/* test_spf_suite.c - an openspf-format suite (RFC 7208 tests) against
 * spf_check, each scenario's zone data served by a table lookup.
 *
 * spf_suite.py turns the YAML into the flat file read here (its header
 * says the format); each scenario's zone goes into a dns_table (dns.h),
 * which answers as a server loaded with the zone would, TIMEOUT names
 * included.  Two kinds of record the table does not take (presentation
 * form) stay in a small overlay answered here: names with octets such as
 * SP or '%' (RFC 7208 §7.3's "%_" and "%-" make them; DNS labels may hold
 * any octet, RFC 2181 §11) and TXT strings holding NUL octets. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/dns.h"
#include "engine/spf.h"
#include "harness.h"

#define FIELD_MAX	8
#define RAW_MAX		64

/* A record the table refused, answered by raw_query. */
struct raw_rec {
	char name[DNS_NAME_MAX + 64];
	enum dns_type type;
	char data[DNS_TXT_MAX + 1];
	size_t len;
};

struct raw_lookup {
	struct dns_lookup l;
	struct dns_lookup *table;
	struct raw_rec rec[RAW_MAX];
	size_t n;
};

static struct raw_lookup raw;

/* Add overlay record r to the answer out. */
static void
raw_answer(const struct raw_rec *r, struct dns_result *out)
{
	struct dns_rr *rr = &out->rr[out->n];

	if (out->n >= DNS_RR_MAX || out->txtused + r->len + 1 >
	    sizeof out->txtbuf)
		return;
	memset(rr, 0, sizeof *rr);
	rr->type = r->type;
	if (r->type == DNS_T_A || r->type == DNS_T_AAAA) {
		if (inet_pton(r->type == DNS_T_A ? AF_INET : AF_INET6,
		    r->data, rr->addr) != 1)
			return;
	} else {
		rr->txt = out->txtbuf + out->txtused;
		memcpy(rr->txt, r->data, r->len + 1);
		rr->txtlen = r->len;
		out->txtused += r->len + 1;
	}
	out->n++;
	out->status = DNS_OK;
}

static int
raw_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct raw_lookup *rl = (struct raw_lookup *)(void *)l;
	int known = 0;
	size_t i;

	dns_query(rl->table, name, type, out);
	for (i = 0; i < rl->n; i++) {
		if (strcasecmp(rl->rec[i].name, name) != 0)
			continue;
		known = 1;
		if (rl->rec[i].type == type)
			raw_answer(&rl->rec[i], out);
	}
	if (known && out->n == 0 && (out->status == DNS_NXDOMAIN ||
	    out->status == DNS_PERMFAIL))
		out->status = DNS_NODATA;
	return 0;
}

/* Keep a record the table refused. */
static int
raw_add(const char *name, enum dns_type type, const char *data, size_t len)
{
	struct raw_rec *r;

	if (raw.n >= RAW_MAX || len >= sizeof r->data)
		return -1;
	r = &raw.rec[raw.n++];
	snprintf(r->name, sizeof r->name, "%s", name);
	r->type = type;
	memcpy(r->data, data, len);
	r->data[len] = '\0';
	r->len = len;
	return 0;
}

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
run_test(struct dns_lookup *z, char **f)
{
	char name[256], from[1024], helo[1024], exp[1024];
	struct spf_result r;
	int exp_given = strcmp(f[6], "-") != 0;

	unhex(f[1], name, sizeof name);
	unhex(f[3], from, sizeof from);
	unhex(f[4], helo, sizeof helo);
	unhex(f[6], exp, sizeof exp);
	raw.table = z;
	spf_check(&raw.l, f[2], from, helo, &r);
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

/* One zone line: name TYPE data (MX: pref host). */
static void
add_zone(struct dns_lookup *z, char **f, int nf)
{
	static char name[DNS_NAME_MAX + 64], data[DNS_TXT_MAX + 1];
	const char *strs[1] = { data };
	enum dns_type t;
	int r;

	unhex(f[1], name, sizeof name);
	if (strcmp(f[2], "TIMEOUT") == 0) {
		r = dns_table_timeout(z, name);
	} else if (strcmp(f[2], "NONE") == 0) {
		r = dns_table_add_name(z, name);
	} else if (nf < 4 || dns_type_parse(f[2], &t) < 0) {
		r = -1;
	} else if (t == DNS_T_MX && nf > 4) {
		char mx[DNS_NAME_MAX + 16];
		unhex(f[4], data, sizeof data);
		snprintf(mx, sizeof mx, "%s %s", f[3], data);
		r = dns_table_add(z, name, t, mx);
	} else if (t == DNS_T_TXT || t == DNS_T_SPF) {
		size_t n = unhex(f[3], data, sizeof data);
		r = n != strlen(data) ? raw_add(name, t, data, n) :
		    dns_table_add_txt(z, name, t, strs, n ? 1 : 0);
	} else {
		size_t n = unhex(f[3], data, sizeof data);
		r = dns_table_add(z, name, t, data);
		if (r < 0 && (t == DNS_T_A || t == DNS_T_AAAA ||
		    t == DNS_T_TXT))
			r = raw_add(name, t, data, n);
	}
	if (r < 0)
		fprintf(stderr, "note: zone record not loaded: %s %s\n", name,
		    f[2]);
}

int
main(int argc, char **argv)
{
	static char line[4 * DNS_TXT_MAX];
	struct dns_lookup *z = NULL;

	raw.l.query = raw_query;
	char *f[FIELD_MAX], *p;
	FILE *fp;
	int nf;

	if (argc != 2 || (fp = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: test_spf_suite FILE\n");
		return 2;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, p = line; nf < FIELD_MAX && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (f[0][0] == 'S') {
			dns_lookup_free(z);
			if ((z = dns_table_new()) == NULL)
				return 2;
			raw.n = 0;
		} else if (f[0][0] == 'Z' && z != NULL) {
			add_zone(z, f, nf);
		} else if (f[0][0] == 'T' && nf >= 7 && z != NULL) {
			run_test(z, f);
		}
	}
	dns_lookup_free(z);
	fclose(fp);
	return harness_end("spf_suite");
}
