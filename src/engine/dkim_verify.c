/* dkim_verify.c - verify every DKIM-Signature of a message (RFC 6376 §6,
 * RFC 8301, RFC 8463 §3: Ed25519 signs the SHA-256 of the header data). */
#include "engine/dkim.h"
#include "engine/dkim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define DKIM_RSA_MIN_BITS 1024	/* RFC 8301 §3.2 */

static int
dkim_set(struct dkim_res *r, enum dkim_result res, const char *why)
{
	r->result = res;
	snprintf(r->reason, sizeof r->reason, "%s", why);
	return -1;
}

static int
dkim_name_is(const struct dkim_msg *m, size_t i, const char *name)
{
	return m->f[i].namelen == strlen(name) &&
	    strncasecmp(m->data + m->f[i].off, name, m->f[i].namelen) == 0;
}

char *
dkim_hdata(const struct dkim_msg *m, const char (*h)[80], size_t nh,
    enum dkim_canon c, const char *sf, size_t sflen, size_t *outlen)
{
	/* relaxed adds at most a CRLF to a field; each field counts once */
	size_t cap = m->body + sflen + 2 * (nh + 2) + 16, n = 0, i, k;
	unsigned char *used = calloc(m->nf + 1, 1);
	char *d = malloc(cap);
	long w;

	if (d == NULL || used == NULL) {
		free(d);
		free(used);
		return NULL;
	}
	for (k = 0; k < nh; k++)
		for (i = m->nf; i-- > 0;) {
			if (used[i] || !dkim_name_is(m, i, h[k]))
				continue;
			used[i] = 1;
			w = dkim_canon_header(c, m->data + m->f[i].off,
			    m->f[i].len, d + n, cap - n);
			n += w > 0 ? (size_t)w : 0;
			break;
		}
	w = dkim_canon_header(c, sf, sflen, d + n, cap - n);
	n += w > 0 ? (size_t)w : 0;
	while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == '\r'))
		n--;
	free(used);
	*outlen = n;
	return d;
}

/* The signature field with the b= value (and the FWS around it) taken
 * out (§3.5 b=), then the header hash input. */
static char *
dkim_verify_hdata(const struct dkim_msg *m, size_t fi,
    const struct dkim_sig *sig, size_t voff, size_t *outlen)
{
	const struct dkim_field *f = &m->f[fi];
	size_t cut = sig->bend - sig->bstart;
	char *sf = malloc(f->len), *d;

	if (sf == NULL)
		return NULL;
	memcpy(sf, m->data + f->off, voff + sig->bstart);
	memcpy(sf + voff + sig->bstart, m->data + f->off + voff + sig->bend,
	    f->len - voff - sig->bend);
	d = dkim_hdata(m, (const char (*)[80])sig->h, sig->nh, sig->hcanon,
	    sf, f->len - cut, outlen);
	free(sf);
	return d;
}

/* The body hash with l= (§3.4.5): never more than l octets, and the
 * octets past l reported. */
static int
dkim_body_hash(const struct dkim_msg *m, const struct dkim_sig *sig,
    struct dkim_res *r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t blen;

	if (dkim_body_digest(sig->bcanon, dkim_md(sig->alg), m->data + m->body,
	    m->len - m->body, sig->l, md, &mdlen, &blen) < 0)
		return dkim_set(r, DKIM_TEMPERROR, "body hash failed");
	if (sig->l >= 0) {
		if ((uint64_t)sig->l > blen)
			return dkim_set(r, DKIM_PERMERROR, "l= longer than body");
		r->body_unsigned = blen - (size_t)sig->l;
	}
	if (mdlen != sig->bhlen || memcmp(md, sig->bh, mdlen) != 0)
		return dkim_set(r, DKIM_FAIL, "body hash mismatch");
	return 0;
}

/* The last good key record this thread parsed, with its text: the same
 * few keys sign most mail, and decoding p= (base64, with FWS) was most
 * of a key record's parse.  Per thread, so no lock; records longer than
 * DKIM_KEYREC_MAX are parsed every time. */
#define DKIM_KEYREC_MAX 1024

static _Thread_local struct dkim_lastkey {
	char txt[DKIM_KEYREC_MAX];
	size_t len;		/* 0: empty */
	struct dkim_key key;
} dkim_lastkey;

/* dkim_key_parse, or the copy of its result for the same text. */
static int
dkim_key_parse_cached(const char *txt, size_t len, struct dkim_key *key,
    char *reason, size_t rlen)
{
	struct dkim_lastkey *c = &dkim_lastkey;

	if (len > 0 && len == c->len && memcmp(txt, c->txt, len) == 0) {
		*key = c->key;
		return 0;
	}
	if (dkim_key_parse(txt, len, key, reason, rlen) < 0)
		return -1;
	if (len > 0 && len <= sizeof c->txt) {
		memcpy(c->txt, txt, len);
		c->len = len;
		c->key = *key;
	}
	return 0;
}

/* Fetch and parse SELECTOR._domainkey.DOMAIN (§3.6.2.2): the first TXT
 * record that parses is the key. */
static int
dkim_fetch_key(struct dns_lookup *dns, const struct dkim_sig *sig,
    struct dkim_key *key, struct dkim_res *r)
{
	char name[2 * DNS_NAME_MAX], why[DKIM_REASON_MAX] = "no key record";
	struct dns_result *res;
	int rc = -1;

	if ((size_t)snprintf(name, sizeof name, "%s._domainkey.%s", sig->s,
	    sig->d) > DNS_NAME_MAX)
		return dkim_set(r, DKIM_PERMERROR, "key name too long");
	if ((res = malloc(sizeof *res)) == NULL)
		return dkim_set(r, DKIM_TEMPERROR, "out of memory");
	dns_query(dns, name, DNS_T_TXT, res);
	if (res->status == DNS_TEMPFAIL) {
		free(res);
		return dkim_set(r, DKIM_TEMPERROR, "key lookup failed");
	}
	for (size_t i = 0; res->status == DNS_OK && i < res->n && rc < 0; i++)
		if (res->rr[i].type == DNS_T_TXT)
			rc = dkim_key_parse_cached(res->rr[i].txt,
			    res->rr[i].txtlen, key, why, sizeof why);
	free(res);
	if (rc < 0)
		return dkim_set(r, DKIM_PERMERROR, why);
	return 0;
}

static int
dkim_key_usable(const struct dkim_key *key, const struct dkim_sig *sig,
    struct dkim_res *r)
{
	const char *at = strrchr(sig->i, '@');

	r->testing = key->testing;
	if (key->revoked)
		return dkim_set(r, DKIM_PERMERROR, "key revoked");
	if (key->ed25519 != (sig->alg == DKIM_ED25519_SHA256))
		return dkim_set(r, DKIM_PERMERROR, "key type does not match a=");
	if (key->strict && (at == NULL || strcmp(at + 1, sig->d) != 0))
		return dkim_set(r, DKIM_PERMERROR, "key t=s and i= not d=");
	return 0;
}

static int
dkim_sig_time(const struct dkim_sig *sig, time_t now, struct dkim_res *r)
{
	if (sig->x >= 0 && sig->x < (int64_t)now)
		return dkim_set(r, DKIM_PERMERROR, "signature expired");
	if (sig->t > (int64_t)now + DKIM_FUTURE_SLACK)
		return dkim_set(r, DKIM_PERMERROR, "signature in the future");
	return 0;
}

/* The key's public half, RSA of at least 1024 bits (RFC 8301 §3.2). */
static int
dkim_key_load(const struct dkim_key *key, struct dkim_pub *pub,
    struct dkim_res *r)
{
	if (dkim_pub_get(key, pub) < 0)
		return dkim_set(r, DKIM_PERMERROR, "key p= unusable");
	if (!key->ed25519 && EVP_PKEY_get_bits(pub->pk) < DKIM_RSA_MIN_BITS) {
		snprintf(r->reason, sizeof r->reason, "rsa key of %d bits "
		    "refused (RFC 8301 3.2)", EVP_PKEY_get_bits(pub->pk));
		r->result = DKIM_POLICY;
		dkim_pub_done(pub);
		return -1;
	}
	return 0;
}

static int
dkim_crypto(const struct dkim_msg *m, size_t fi, size_t voff,
    const struct dkim_sig *sig, struct dkim_pub *pub,
    struct dkim_res *r)
{
	size_t hlen;
	char *hd;
	int ok;

	if ((hd = dkim_verify_hdata(m, fi, sig, voff, &hlen)) == NULL)
		return dkim_set(r, DKIM_TEMPERROR, "out of memory");
	ok = dkim_pub_verify(pub, sig->alg, sig->b, sig->blen, hd, hlen);
	free(hd);
	return ok ? 0 : dkim_set(r, DKIM_FAIL, "signature did not verify");
}

static void
dkim_pass(struct dkim_res *r)
{
	r->result = DKIM_PASS;
	if (r->body_unsigned > 0)
		snprintf(r->reason, sizeof r->reason, "l= leaves %zu body "
		    "octets unsigned", r->body_unsigned);
	else
		snprintf(r->reason, sizeof r->reason, "good signature");
}

/* One signature, field fi: the checks in the order of §6.1. */
static void
dkim_verify_one(const struct dkim_msg *m, size_t fi, struct dns_lookup *dns,
    time_t now, struct dkim_res *r)
{
	const struct dkim_field *f = &m->f[fi];
	const char *colon = memchr(m->data + f->off, ':', f->len);
	size_t voff = (size_t)(colon - (m->data + f->off)) + 1;
	struct dkim_sig *sig = malloc(sizeof *sig);
	struct dkim_key key;
	struct dkim_pub pub;

	memset(r, 0, sizeof *r);
	r->l = -1;
	if (sig == NULL) {
		dkim_set(r, DKIM_TEMPERROR, "out of memory");
		return;
	}
	if (dkim_sig_parse(m->data + f->off + voff, f->len - voff, sig,
	    r->reason, sizeof r->reason) < 0) {
		r->result = DKIM_PERMERROR;
		free(sig);
		return;
	}
	snprintf(r->d, sizeof r->d, "%s", sig->d);
	snprintf(r->s, sizeof r->s, "%s", sig->s);
	r->alg = sig->alg;
	r->l = sig->l;
	if (sig->alg == DKIM_RSA_SHA1)
		dkim_set(r, DKIM_POLICY, "rsa-sha1 refused (RFC 8301 3.1)");
	else if (dkim_sig_time(sig, now, r) == 0 &&
	    dkim_fetch_key(dns, sig, &key, r) == 0 &&
	    dkim_key_usable(&key, sig, r) == 0 &&
	    dkim_key_load(&key, &pub, r) == 0) {
		if (dkim_body_hash(m, sig, r) == 0 &&
		    dkim_crypto(m, fi, voff, sig, &pub, r) == 0)
			dkim_pass(r);
		dkim_pub_done(&pub);
	}
	free(sig);
}

size_t
dkim_verify(const struct dkim_msg *m, struct dns_lookup *dns, time_t now,
    struct dkim_res *res, size_t max)
{
	size_t n = 0;

	if (max > DKIM_VERIFY_MAX)
		max = DKIM_VERIFY_MAX;
	for (size_t i = 0; i < m->nf && n < max; i++)
		if (dkim_name_is(m, i, "dkim-signature"))
			dkim_verify_one(m, i, dns, now, &res[n++]);
	return n;
}

const char *
dkim_result_name(enum dkim_result r)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "neutral", "temperror", "permerror", "policy" };

	return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *
dkim_alg_name(enum dkim_alg a)
{
	return a == DKIM_RSA_SHA256 ? "rsa-sha256" :
	    a == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha1";
}
