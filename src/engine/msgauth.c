/* msgauth.c - one message's SPF, DKIM and DMARC (engine/msgauth.h): the
 * engines chained through one struct dns_lookup. */
#include "engine/msgauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 7208 §2.3: the HELO identity is checked only for a domain name; an
 * address literal or a single label says nothing. */
static int
msgauth_helo_is_domain(const char *helo)
{
	return helo != NULL && helo[0] != '\0' && helo[0] != '[' &&
	    strchr(helo, '.') != NULL;
}

/* SPF for HELO (§2.3) and MAIL FROM (§2.4); for <> MAIL FROM is the HELO
 * identity (postmaster@helo), checked once. */
static void
msgauth_spf(struct dns_lookup *dns, const struct msgauth_in *in,
    struct msgauth_res *out)
{
	const char *mfrom = in->mail_from != NULL ? in->mail_from : "";
	const char *helo = in->helo != NULL ? in->helo : "";

	out->helo_checked = msgauth_helo_is_domain(helo);
	if (out->helo_checked)
		spf_check(dns, in->ip, "", helo, &out->spf_helo);
	if (mfrom[0] == '\0' && out->helo_checked)
		out->spf_mfrom = out->spf_helo;
	else
		spf_check(dns, in->ip, mfrom, helo, &out->spf_mfrom);
}

/* The first 8 characters of each verified signature's b= (FWS dropped),
 * for header.b (RFC 6008 §4): the signatures in dkim_verify's order. */
static void
msgauth_bvals(const struct dkim_msg *m, struct msgauth_res *out)
{
	struct dkim_tag tags[DKIM_TAG_MAX];
	size_t i, k = 0, j, o;
	int n;

	for (i = 0; i < m->nf && k < out->ndkim; i++) {
		const char *f = m->data + m->f[i].off;
		const char *colon = memchr(f, ':', m->f[i].len);

		if (m->f[i].namelen != 14 || strncasecmp(f, "DKIM-Signature",
		    14) != 0 || colon == NULL)
			continue;
		n = dkim_tags_parse(colon + 1, m->f[i].len - (size_t)(colon + 1
		    - f), tags, DKIM_TAG_MAX);
		for (j = 0; n > 0 && j < (size_t)n; j++)
			if (tags[j].namelen == 1 && tags[j].name[0] == 'b')
				break;
		o = 0;
		for (size_t c = 0; n > 0 && j < (size_t)n && c < tags[j].vallen &&
		    o < MSGAUTH_B_CHARS; c++)
			if (strchr(" \t\r\n", tags[j].val[c]) == NULL)
				out->dkim_b[k][o++] = tags[j].val[c];
		out->dkim_b[k++][o] = '\0';
	}
}

/* DKIM over the parsed message; -1 when it cannot be parsed. */
static int
msgauth_dkim(struct dns_lookup *dns, const struct msgauth_in *in,
    struct msgauth_res *out)
{
	struct dkim_msg *m = dkim_msg_parse(in->msg, in->len);

	if (m == NULL) {
		out->ndkim = 1;
		out->dkim[0].result = DKIM_PERMERROR;
		out->dkim[0].l = -1;
		snprintf(out->dkim[0].reason, sizeof out->dkim[0].reason,
		    "message cannot be parsed");
		return -1;
	}
	out->ndkim = dkim_verify(m, dns, in->now, out->dkim, DKIM_VERIFY_MAX);
	msgauth_bvals(m, out);
	dkim_msg_free(m);
	return 0;
}

/* Did an identifier that would have aligned give a temporary error?
 * Then a pass was possible (msgauth_dmarc_tempfail). */
static int
msgauth_temp_aligned(const struct dmarc_psl *psl, const struct msgauth_res *r)
{
	const struct dmarc_result *d = &r->dmarc;
	size_t i;

	if (r->spf_mfrom.result == SPF_TEMPERROR && dmarc_aligned(psl,
	    d->from_domain, r->spf_mfrom.domain, d->rec.aspf_strict))
		return 1;
	for (i = 0; i < r->ndkim; i++)
		if (r->dkim[i].result == DKIM_TEMPERROR && dmarc_aligned(psl,
		    d->from_domain, r->dkim[i].d, d->rec.adkim_strict))
			return 1;
	return 0;
}

/* DMARC on the From domain with the SPF result of MAIL FROM, which for
 * <> is the HELO identity's (RFC 7489 §4.1, RFC 7208 §2.4). */
static void
msgauth_dmarc(struct dns_lookup *dns, const struct dmarc_psl *psl,
    const struct msgauth_in *in, struct msgauth_res *out)
{
	struct dmarc_dkim k[DKIM_VERIFY_MAX];
	char from[DNS_NAME_MAX + 1];
	struct dmarc_input di;
	size_t i;

	out->from_ok = dmarc_from_domain(in->msg, in->len, from) == 0;
	if (!out->from_ok) {
		out->dmarc.result = DMARC_PERMERROR;
		out->dmarc.policy = DMARC_P_UNSET;
		snprintf(out->dmarc.problem, sizeof out->dmarc.problem,
		    "no single From: with a domain");
		return;
	}
	for (i = 0; i < out->ndkim; i++) {
		k[i].domain = out->dkim[i].d;
		k[i].pass = out->dkim[i].result == DKIM_PASS;
	}
	di = (struct dmarc_input){ from, out->spf_mfrom.result,
	    out->spf_mfrom.domain, k, out->ndkim, in->sample };
	dmarc_check(dns, psl, &di, &out->dmarc);
	out->temp_aligned = out->dmarc.result == DMARC_FAIL &&
	    msgauth_temp_aligned(psl, out);
}

int
msgauth_check(struct dns_lookup *dns, const struct dmarc_psl *psl,
    const struct msgauth_in *in, struct msgauth_res *out)
{
	memset(out, 0, sizeof *out);
	msgauth_spf(dns, in, out);
	if (msgauth_dkim(dns, in, out) < 0) {
		out->dmarc.result = DMARC_PERMERROR;
		out->dmarc.policy = DMARC_P_UNSET;
		snprintf(out->dmarc.problem, sizeof out->dmarc.problem,
		    "message cannot be parsed");
		return -1;
	}
	msgauth_dmarc(dns, psl, in, out);
	return 0;
}

int
msgauth_dmarc_tempfail(const struct msgauth_res *r)
{
	if (r->dmarc.result == DMARC_TEMPERROR)
		return 1;
	return r->dmarc.result == DMARC_FAIL &&
	    r->dmarc.disposition != DMARC_D_NONE && r->temp_aligned;
}
