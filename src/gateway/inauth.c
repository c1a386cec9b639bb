/* inauth.c - the shared state and the local DMARC policy of inbound
 * authentication (see inauth.h, docs/decisions.md). */
#include "gateway/inauth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dns.h"
#include "gateway/params.h"
#include "util/config.h"

struct inauth_priv {
	struct cidr *forwarders;
	char **allow;
	size_t nallow;
};

int
inauth_wanted(const struct settings *st)
{
	if (config_int(st->cfg, "inbound_auth") == 0)
		return 0;
	for (size_t i = 0; i < st->nlisteners; i++)
		if (st->listeners[i].role == ROLE_INBOUND)
			return 1;
	return 0;
}

static size_t
inauth_count(const char *const *w)
{
	size_t n = 0;

	while (w[n] != NULL)
		n++;
	return n;
}

/* The lists, checked by the parameter table when they were set. */
static int
inauth_lists(struct inauth *ia, const struct config *c, char *err,
    size_t errlen)
{
	const char *const *fw = config_list(c, "dmarc_trusted_forwarders");
	const char *const *al = config_list(c, "dmarc_allow_domains");
	size_t nfw = inauth_count(fw), nal = inauth_count(al);
	struct inauth_priv *p = ia->priv;

	p->forwarders = calloc(nfw ? nfw : 1, sizeof *p->forwarders);
	p->allow = calloc(nal ? nal : 1, sizeof *p->allow);
	if (p->forwarders == NULL || p->allow == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < nfw; i++)
		if (cidr_parse(fw[i], &p->forwarders[ia->pol.nforwarders++]) < 0)
			return snprintf(err, errlen, "dmarc_trusted_forwarders: "
			    "\"%.100s\" is not a network", fw[i]), -1;
	for (; p->nallow < nal; p->nallow++) {
		if ((p->allow[p->nallow] = strdup(al[p->nallow])) == NULL)
			return snprintf(err, errlen, "out of memory"), -1;
		/* domains compare without case (RFC 4343) */
		for (char *q = p->allow[p->nallow]; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	ia->pol.forwarders = p->forwarders;
	ia->pol.allow = (const char *const *)p->allow;
	ia->pol.nallow = p->nallow;
	return 0;
}

static void
inauth_policy_load(struct inauth *ia, const struct settings *st)
{
	const struct config *c = st->cfg;
	const char *id = config_str(c, "authserv_id");

	snprintf(ia->servid, sizeof ia->servid, "%s", id[0] ? id :
	    st->hostname);
	snprintf(ia->quarantine_dir, sizeof ia->quarantine_dir,
	    "%s/quarantine", st->state_dir);
	ia->pol.enforce = config_int(c, "dmarc_enforce") != 0;
	ia->pol.hold = strcmp(config_str(c, "dmarc_quarantine"), "hold") == 0;
	ia->pol.temperror_accept =
	    strcmp(config_str(c, "dmarc_temperror"), "accept") == 0;
}

/* libunbound with dns_timeout, behind an answer cache of dns_cache_size
 * entries (engine/dns.h: a hit skips libunbound's worker thread). */
static struct dns_lookup *
inauth_dns(const struct config *c, char *err, size_t errlen)
{
	long long size = config_int(c, "dns_cache_size");
	struct dns_lookup *l = dns_unbound_new(config_str(c, "resolver"), err,
	    errlen);

	if (l == NULL)
		return NULL;
	dns_unbound_timeout(l, (int)config_int(c, "dns_timeout"));
	if (size > 0 && (l = dns_cache_new(l, (size_t)size)) == NULL)
		snprintf(err, errlen, "out of memory");
	return l;
}

struct inauth *
inauth_new(const struct settings *st, char *err, size_t errlen)
{
	const char *psl = config_str(st->cfg, "public_suffix_list");
	struct inauth *ia = calloc(1, sizeof *ia);

	if (ia == NULL || (ia->priv = calloc(1,
	    sizeof(struct inauth_priv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		inauth_free(ia);
		return NULL;
	}
	inauth_policy_load(ia, st);
	if (inauth_lists(ia, st->cfg, err, errlen) < 0 ||
	    (ia->dns = inauth_dns(st->cfg, err, errlen)) == NULL ||
	    (ia->psl = dmarc_psl_load(psl[0] ? psl : NULL, err,
	    errlen)) == NULL) {
		inauth_free(ia);
		return NULL;
	}
	return ia;
}

void
inauth_free(struct inauth *ia)
{
	struct inauth_priv *p;

	if (ia == NULL)
		return;
	if ((p = ia->priv) != NULL) {
		for (size_t i = 0; i < p->nallow; i++)
			free(p->allow[i]);
		free(p->allow);
		free(p->forwarders);
		free(p);
	}
	dns_lookup_free(ia->dns);
	dmarc_psl_free(ia->psl);
	free(ia);
}

/* The From domain, or its Organizational Domain, is in the allow list. */
static int
inauth_allowed(const struct inauth_policy *p, const struct dmarc_result *d)
{
	for (size_t i = 0; i < p->nallow; i++)
		if (strcmp(p->allow[i], d->from_domain) == 0 ||
		    (d->org_domain[0] && strcmp(p->allow[i], d->org_domain) == 0))
			return 1;
	return 0;
}

static int
inauth_forwarder(const struct inauth_policy *p, const struct sockaddr *sa)
{
	for (size_t i = 0; i < p->nforwarders; i++)
		if (cidr_match(&p->forwarders[i], sa))
			return 1;
	return 0;
}

enum inauth_action
inauth_decide(const struct inauth_policy *p, const struct dmarc_result *d,
    int tempfail, const struct sockaddr *client, const char **override)
{
	enum inauth_action a = INAUTH_ACCEPT;

	*override = NULL;
	/* RFC 7489 §6.6.3, RFC 7208 §8.6: a DNS hiccup defers, unless the
	 * administrator prefers the message to go on with the temperror */
	if (tempfail && !p->temperror_accept)
		a = INAUTH_TEMPFAIL;
	else if (!tempfail && d->result == DMARC_FAIL &&
	    d->disposition == DMARC_D_REJECT)
		a = INAUTH_REJECT;
	else if (!tempfail && d->result == DMARC_FAIL &&
	    d->disposition == DMARC_D_QUARANTINE)
		a = p->hold ? INAUTH_HOLD : INAUTH_MARK;
	if (a == INAUTH_ACCEPT)
		return a;
	/* §7.2 overrides: the receiver's own knowledge wins */
	if (inauth_forwarder(p, client))
		*override = "trusted_forwarder";
	else if (inauth_allowed(p, d) || !p->enforce)
		*override = "local_policy";
	return *override != NULL ? INAUTH_ACCEPT : a;
}

const char *
inauth_action_name(enum inauth_action a)
{
	switch (a) {
	case INAUTH_ACCEPT:
		return "accept";
	case INAUTH_MARK:
		return "quarantine-header";
	case INAUTH_HOLD:
		return "hold";
	case INAUTH_REJECT:
		return "reject";
	case INAUTH_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}
