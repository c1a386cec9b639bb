/* guard_keys.c - limit keys beyond the identity (issue 3 §3): the envelope
 * sender, its domain, the client IP and its network (see guard_int.h). */
#include "gateway/guard_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Parse one spec; suspend is for identities only. */
static int
guard_keyset_one(struct limits_spec *spec, const char *param,
    const char *text, char *err, size_t errlen)
{
	char why[160];

	if (limits_parse(spec, text ? text : "", why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", param, why);
		return -1;
	}
	for (size_t i = 0; i < spec->nrules; i++)
		if (spec->rule[i].action == LIMITS_SUSPEND) {
			snprintf(err, errlen, "%s: action=suspend suspends an "
			    "identity; use defer or reject here", param);
			return -1;
		}
	return 0;
}

int
guard_keyset_parse(struct guard_keyset *ks, const struct guard_keys *k,
    char *err, size_t errlen)
{
	memset(ks, 0, sizeof *ks);
	ks->prefix4 = k->prefix4;
	ks->prefix6 = k->prefix6;
	if (k->prefix4 > 32 || k->prefix6 > 128) {
		snprintf(err, errlen, "limits_net_prefix4: at most 32, "
		    "limits_net_prefix6: at most 128");
		return -1;
	}
	return guard_keyset_one(&ks->sender, "limits_sender", k->sender, err,
	    errlen) < 0 || guard_keyset_one(&ks->sender_domain,
	    "limits_sender_domain", k->sender_domain, err, errlen) < 0 ||
	    guard_keyset_one(&ks->ip, "limits_ip", k->ip, err, errlen) < 0 ||
	    guard_keyset_one(&ks->net, "limits_net", k->net, err, errlen) < 0 ?
	    -1 : 0;
}

int
guard_keyset_on(const struct guard_keyset *ks)
{
	return ks->sender.nrules || ks->sender_domain.nrules ||
	    ks->ip.nrules || ks->net.nrules;
}

static void
guard_key_add(struct guard_keybuf *kb, struct limits_key *keys, size_t *n,
    const struct limits_spec *spec)
{
	keys[*n] = (struct limits_key){ kb->text[*n], spec };
	(*n)++;
}

/* "snd:" and "sdom:" keys from the path "<local@domain>": the local part
 * as sent (RFC 5321 §2.4: it may be case-sensitive), the domain in lower
 * case.  Returns 0 when the path is null or has no domain. */
static int
guard_sender_keys(const char *path, char *snd, char *sdom)
{
	size_t len = strlen(path), at;
	const char *p = path;

	if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
		p++;
		len -= 2;
	}
	for (at = len; at > 0 && p[at - 1] != '@'; at--)
		;
	if (len == 0 || at == 0 || at == len || len + 5 >= LIMITS_KEY_MAX)
		return 0;
	snprintf(snd, LIMITS_KEY_MAX, "snd:%.*s", (int)len, p);
	snprintf(sdom, LIMITS_KEY_MAX, "sdom:%.*s", (int)(len - at), p + at);
	for (char *c = snd + 4 + at; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = sdom + 5; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return 1;
}

void
guard_keyset_keys(const struct guard_keyset *ks, const struct guard_msg *m,
    struct guard_keybuf *kb, struct limits_key *keys, size_t *n)
{
	char snd[LIMITS_KEY_MAX], sdom[LIMITS_KEY_MAX];
	int has = m->sender != NULL && guard_sender_keys(m->sender, snd, sdom);

	if (has && ks->sender.nrules) {
		snprintf(kb->text[*n], LIMITS_KEY_MAX, "%s", snd);
		guard_key_add(kb, keys, n, &ks->sender);
	}
	if (has && ks->sender_domain.nrules) {
		snprintf(kb->text[*n], LIMITS_KEY_MAX, "%s", sdom);
		guard_key_add(kb, keys, n, &ks->sender_domain);
	}
	if (m->client_ip == NULL || m->client_ip[0] == '\0')
		return;
	if (ks->ip.nrules) {
		snprintf(kb->text[*n], LIMITS_KEY_MAX, "ip:%s", m->client_ip);
		guard_key_add(kb, keys, n, &ks->ip);
	}
	if (ks->net.nrules && limits_net_key_len(m->client_ip, ks->prefix4,
	    ks->prefix6, kb->text[*n], LIMITS_KEY_MAX) == 0)
		guard_key_add(kb, keys, n, &ks->net);
}
