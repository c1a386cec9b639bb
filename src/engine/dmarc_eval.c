/* dmarc_eval.c - policy discovery (RFC 7489 §6.6.3), identifier alignment
 * (§3.1) and the disposition (§6.3 p/sp/pct, §6.6.4) for one message.
 * One TXT query for _dmarc.FROM, one more for _dmarc.ORG when the first
 * finds no record, into one answer buffer on the heap (an answer is
 * about 36 KB: too much for a job-pool thread's stack). */
#include "engine/dmarc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum dmarc_fetch { FETCH_NONE, FETCH_FOUND, FETCH_TEMP, FETCH_PERM };

/* d lowercased, a trailing dot dropped, into out; 0, or -1 when empty or
 * too long. */
static int
dmarc_norm(const char *d, char out[DNS_NAME_MAX + 1])
{
	size_t n = d ? strlen(d) : 0, i;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[n] = '\0';
	return 0;
}

/* The Organizational Domain of d, or d itself when it has none. */
static void
dmarc_org_or_self(const struct dmarc_psl *psl, const char *d,
    char out[DNS_NAME_MAX + 1])
{
	if (dmarc_org_domain(psl, d, out) < 0)
		(void)dmarc_norm(d, out);
}

/* §3.1.1, §3.1.2: strict is the same name, relaxed the same
 * Organizational Domain. */
int
dmarc_aligned(const struct dmarc_psl *psl, const char *from,
    const char *id, int strict)
{
	char a[DNS_NAME_MAX + 1], b[DNS_NAME_MAX + 1];

	if (dmarc_norm(id, b) < 0)
		return 0;
	if (strict)
		return strcmp(from, b) == 0;
	dmarc_org_or_self(psl, from, a);
	dmarc_org_or_self(psl, b, b);
	return strcmp(a, b) == 0;
}

/* §6.6.3 step 5: a record without a valid p= but with a rua= is used as
 * p=none, so that reports still flow. */
static int
dmarc_usable(enum dmarc_parse_status st, struct dmarc_record *r)
{
	if (st == DMARC_PARSE_OK)
		return 1;
	if (st == DMARC_PARSE_NO_P && r->rua[0] != '\0') {
		r->p = r->sp = DMARC_P_NONE;
		return 1;
	}
	return 0;
}

/* The one DMARC record at _dmarc.domain (§6.6.3 steps 1-2): records not
 * starting with v=DMARC1 are discarded; none, several, or one that is
 * invalid is no record. */
static enum dmarc_fetch
dmarc_fetch(struct dns_lookup *dns, struct dns_result *res,
    const char *domain, struct dmarc_record *rec, char *problem, size_t plen)
{
	enum dmarc_parse_status st, keep = DMARC_PARSE_EMPTY;
	char name[DNS_NAME_MAX + 8];
	struct dmarc_record r;
	size_t i, found = 0;

	if ((size_t)snprintf(name, sizeof name, "_dmarc.%s", domain) >
	    DNS_NAME_MAX || dns_query(dns, name, DNS_T_TXT, res) < 0 ||
	    res->status == DNS_PERMFAIL) {
		snprintf(problem, plen, "cannot ask _dmarc.%s", domain);
		return FETCH_PERM;
	}
	if (res->status == DNS_TEMPFAIL) {
		snprintf(problem, plen, "DNS tempfail for %s", name);
		return FETCH_TEMP;
	}
	for (i = 0; res->status == DNS_OK && i < res->n; i++) {
		st = dmarc_parse(res->rr[i].txt, res->rr[i].txtlen, &r);
		if (st == DMARC_PARSE_EMPTY || st == DMARC_PARSE_BAD_VERSION)
			continue;
		if (found++ == 0) {
			*rec = r;
			keep = st;
		}
	}
	return found == 1 && dmarc_usable(keep, rec) ? FETCH_FOUND :
	    FETCH_NONE;
}

/* §6.6.3 step 3: the From domain, then its Organizational Domain, where
 * sp= applies (§6.3).  Returns
 * the outcome; *at_org tells which name answered. */
static enum dmarc_fetch
dmarc_lookup(struct dns_lookup *dns, struct dns_result *res,
    struct dmarc_result *out, int *at_org)
{
	enum dmarc_fetch f;

	*at_org = 0;
	f = dmarc_fetch(dns, res, out->from_domain, &out->rec, out->problem,
	    sizeof out->problem);
	if (f != FETCH_NONE || strcmp(out->org_domain, out->from_domain) == 0)
		return f;
	*at_org = 1;
	return dmarc_fetch(dns, res, out->org_domain, &out->rec, out->problem,
	    sizeof out->problem);
}

static int
dmarc_discover(struct dns_lookup *dns, struct dmarc_result *out)
{
	struct dns_result *res = malloc(sizeof *res);
	enum dmarc_fetch f = FETCH_TEMP;
	int at_org = 0;

	if (res == NULL)
		snprintf(out->problem, sizeof out->problem, "out of memory");
	else
		f = dmarc_lookup(dns, res, out, &at_org);
	free(res);
	if (f == FETCH_FOUND) {
		memcpy(out->record_domain, at_org ? out->org_domain :
		    out->from_domain, sizeof out->record_domain);
		out->policy = at_org ? out->rec.sp : out->rec.p;
		return 0;
	}
	out->result = f == FETCH_TEMP ? DMARC_TEMPERROR :
	    f == FETCH_PERM ? DMARC_PERMERROR : DMARC_NONE;
	return -1;
}

/* §3.1: SPF must pass for an aligned domain; any passing DKIM signature
 * with an aligned d= will do. */
static void
dmarc_align(const struct dmarc_psl *psl, const struct dmarc_input *in,
    struct dmarc_result *out)
{
	size_t i, n = in->ndkim < DMARC_DKIM_MAX ? in->ndkim : DMARC_DKIM_MAX;

	out->spf_aligned = in->spf == SPF_PASS && dmarc_aligned(psl,
	    out->from_domain, in->spf_domain, out->rec.aspf_strict);
	for (i = 0; in->dkim && i < n && !out->dkim_aligned; i++) {
		if (!in->dkim[i].pass || !dmarc_aligned(psl, out->from_domain,
		    in->dkim[i].domain, out->rec.adkim_strict))
			continue;
		out->dkim_aligned = 1;
		(void)dmarc_norm(in->dkim[i].domain, out->dkim_domain);
	}
}

/* §6.6.4 and pct (§6.3): a message outside the sample gets the next milder
 * policy. */
static void
dmarc_dispose(const struct dmarc_input *in, struct dmarc_result *out)
{
	enum dmarc_disp d = DMARC_D_NONE;

	if (out->policy == DMARC_P_QUARANTINE)
		d = DMARC_D_QUARANTINE;
	else if (out->policy == DMARC_P_REJECT)
		d = DMARC_D_REJECT;
	if (d != DMARC_D_NONE && in->sample % 100 >= (unsigned)out->rec.pct) {
		d = d == DMARC_D_REJECT ? DMARC_D_QUARANTINE : DMARC_D_NONE;
		out->sampled_out = 1;
	}
	out->disposition = d;
}

int
dmarc_check(struct dns_lookup *dns, const struct dmarc_psl *psl,
    const struct dmarc_input *in, struct dmarc_result *out)
{
	if (dns == NULL || psl == NULL || in == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof *out);
	out->policy = DMARC_P_UNSET;
	if (dmarc_norm(in->from_domain, out->from_domain) < 0) {
		out->result = DMARC_PERMERROR;
		snprintf(out->problem, sizeof out->problem,
		    "no usable From domain");
		return 0;
	}
	dmarc_org_or_self(psl, out->from_domain, out->org_domain);
	if (dmarc_discover(dns, out) < 0)
		return 0;
	dmarc_align(psl, in, out);
	out->result = out->spf_aligned || out->dkim_aligned ? DMARC_PASS :
	    DMARC_FAIL;
	if (out->result == DMARC_FAIL)
		dmarc_dispose(in, out);
	return 0;
}

const char *
dmarc_res_name(enum dmarc_res r)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "temperror", "permerror" };

	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *
dmarc_disp_name(enum dmarc_disp d)
{
	static const char *const names[] = { "none", "quarantine", "reject" };

	return (unsigned)d < sizeof names / sizeof names[0] ? names[d] : "?";
}
