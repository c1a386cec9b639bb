/* dkim_tag.c - tag lists (RFC 6376 §3.2), DKIM-Signature (§3.5) and key
 * records (§3.6.1): bounded parsers, every value copied with its limit. */
#include "engine/dkim.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static int
dkim_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
dkim_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
dkim_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* One tag-spec: [FWS] name [FWS] "=" [FWS] value [FWS]; end is the ';'
 * or the end of the list. */
static int
dkim_tag_one(const char *s, size_t pos, size_t end, struct dkim_tag *t)
{
	size_t i = pos, e;

	while (i < end && dkim_wsp((unsigned char)s[i]))
		i++;
	if (i == end || !dkim_alpha((unsigned char)s[i]))
		return -1;
	t->name = s + i;
	while (i < end && (dkim_alpha((unsigned char)s[i]) ||
	    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
		i++;
	t->namelen = (size_t)(s + i - t->name);
	while (i < end && dkim_wsp((unsigned char)s[i]))
		i++;
	if (i == end || s[i] != '=')
		return -1;
	t->vstart = ++i;
	t->vend = end;
	while (i < end && dkim_wsp((unsigned char)s[i]))
		i++;
	e = end;
	while (e > i && dkim_wsp((unsigned char)s[e - 1]))
		e--;
	t->val = s + i;
	t->vallen = e - i;
	return 0;
}

static int
dkim_tag_dup(const struct dkim_tag *tags, size_t n, const struct dkim_tag *t)
{
	for (size_t i = 0; i < n; i++)
		if (tags[i].namelen == t->namelen &&
		    memcmp(tags[i].name, t->name, t->namelen) == 0)
			return 1;
	return 0;
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags, size_t max)
{
	size_t pos = 0, n = 0, end;

	while (pos < len) {
		const char *semi = memchr(s + pos, ';', len - pos);

		end = semi ? (size_t)(semi - s) : len;
		if (!semi) {	/* a trailing ';' may end the list */
			size_t k = pos;

			while (k < len && dkim_wsp((unsigned char)s[k]))
				k++;
			if (k == len && n > 0)
				break;
		}
		if (n == max || dkim_tag_one(s, pos, end, &tags[n]) < 0 ||
		    dkim_tag_dup(tags, n, &tags[n]))
			return -1;
		n++;
		pos = semi ? end + 1 : len;
	}
	return (int)n;
}

static const struct dkim_tag *
dkim_tag_get(const struct dkim_tag *tags, int n, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++)
		if (tags[i].namelen == len && memcmp(tags[i].name, name, len) == 0)
			return &tags[i];
	return NULL;
}

static int
dkim_tag_is(const struct dkim_tag *t, const char *v)
{
	return t->vallen == strlen(v) && memcmp(t->val, v, t->vallen) == 0;
}

/* Base64 with FWS anywhere (§2.4) into out; -1 if bad or too long. */
static long
dkim_b64(const struct dkim_tag *t, uint8_t *out, size_t cap)
{
	char buf[2 * DKIM_SIGB_MAX];
	size_t n = 0, i;
	int len;

	for (i = 0; i < t->vallen; i++) {
		if (dkim_wsp((unsigned char)t->val[i]))
			continue;
		if (n + 1 >= sizeof buf)
			return -1;
		buf[n++] = t->val[i];
	}
	if (n == 0)
		return 0;
	if (n % 4 != 0 || (n / 4) * 3 > cap)
		return -1;
	len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)n);
	if (len < 0)
		return -1;
	if (buf[n - 1] == '=')
		len--;
	if (buf[n - 2] == '=')
		len--;
	return len;
}

/* A decimal of at most 12 digits (§3.5: l=, t=, x= are 76 bits at most,
 * far past any real time or length). */
static int64_t
dkim_num(const struct dkim_tag *t)
{
	int64_t v = 0;

	if (t->vallen == 0 || t->vallen > 12)
		return -2;
	for (size_t i = 0; i < t->vallen; i++) {
		if (t->val[i] < '0' || t->val[i] > '9')
			return -2;
		v = v * 10 + (t->val[i] - '0');
	}
	return v;
}

/* A copy, lowercased, NUL-terminated; -1 if it does not fit. */
static int
dkim_copy_lower(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return -1;
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)dkim_lower((unsigned char)s[i]);
	dst[len] = '\0';
	return 0;
}

/* A domain or selector: dot-separated labels of letters, digits, '-' and
 * '_' (selectors), none empty.  Nothing else ever reaches DNS. */
static int
dkim_name_ok(const char *s)
{
	size_t lab = 0;

	if (*s == '\0' || strlen(s) > DNS_NAME_MAX)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!(dkim_alpha((unsigned char)*s) || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_') || ++lab > 63)
			return 0;
	}
	return lab > 0;
}

static int
dkim_fail(char *reason, size_t rlen, const char *why)
{
	snprintf(reason, rlen, "%s", why);
	return -1;
}

static int
dkim_sig_alg(const struct dkim_tag *a, const struct dkim_tag *c,
    struct dkim_sig *sig)
{
	if (dkim_tag_is(a, "rsa-sha256"))
		sig->alg = DKIM_RSA_SHA256;
	else if (dkim_tag_is(a, "ed25519-sha256"))
		sig->alg = DKIM_ED25519_SHA256;
	else if (dkim_tag_is(a, "rsa-sha1"))
		sig->alg = DKIM_RSA_SHA1;
	else
		return -1;
	sig->hcanon = sig->bcanon = DKIM_SIMPLE;
	if (c == NULL || dkim_tag_is(c, "simple") ||
	    dkim_tag_is(c, "simple/simple"))
		return 0;
	if (dkim_tag_is(c, "relaxed") || dkim_tag_is(c, "relaxed/simple")) {
		sig->hcanon = DKIM_RELAXED;
		return 0;
	}
	if (dkim_tag_is(c, "simple/relaxed")) {
		sig->bcanon = DKIM_RELAXED;
		return 0;
	}
	if (dkim_tag_is(c, "relaxed/relaxed")) {
		sig->hcanon = sig->bcanon = DKIM_RELAXED;
		return 0;
	}
	return -1;
}

/* h=: colon-separated names, FWS around them; must name From. */
static int
dkim_sig_h(const struct dkim_tag *t, struct dkim_sig *sig)
{
	size_t i = 0, start, e;
	int from = 0;

	sig->nh = 0;
	while (i <= t->vallen) {
		start = i;
		while (i < t->vallen && t->val[i] != ':')
			i++;
		e = i;
		while (start < e && dkim_wsp((unsigned char)t->val[start]))
			start++;
		while (e > start && dkim_wsp((unsigned char)t->val[e - 1]))
			e--;
		if (e == start || sig->nh == DKIM_H_MAX ||
		    dkim_copy_lower(sig->h[sig->nh], sizeof sig->h[0],
		    t->val + start, e - start) < 0)
			return -1;
		if (strcmp(sig->h[sig->nh++], "from") == 0)
			from = 1;
		i++;
	}
	return from ? 0 : -1;
}

/* i= must be in d= or a subdomain of it (§3.5). */
static int
dkim_sig_auid(const struct dkim_tag *t, struct dkim_sig *sig)
{
	const char *at, *dom;
	size_t dl, sl;

	if (t == NULL) {
		snprintf(sig->i, sizeof sig->i, "@%s", sig->d);
		return 0;
	}
	if (dkim_copy_lower(sig->i, sizeof sig->i, t->val, t->vallen) < 0 ||
	    (at = strrchr(sig->i, '@')) == NULL)
		return -1;
	dom = at + 1;
	dl = strlen(dom);
	sl = strlen(sig->d);
	if (dl == sl)
		return strcmp(dom, sig->d) == 0 ? 0 : -1;
	return dl > sl && dom[dl - sl - 1] == '.' &&
	    strcmp(dom + dl - sl, sig->d) == 0 ? 0 : -1;
}

static int
dkim_sig_times(const struct dkim_tag *tags, int n, struct dkim_sig *sig)
{
	const struct dkim_tag *t;

	sig->l = sig->t = sig->x = -1;
	if ((t = dkim_tag_get(tags, n, "l")) && (sig->l = dkim_num(t)) < 0)
		return -1;
	if ((t = dkim_tag_get(tags, n, "t")) && (sig->t = dkim_num(t)) < 0)
		return -1;
	if ((t = dkim_tag_get(tags, n, "x")) && (sig->x = dkim_num(t)) < 0)
		return -1;
	return sig->x >= 0 && sig->t >= 0 && sig->x < sig->t ? -1 : 0;
}

static int
dkim_sig_names(const struct dkim_tag *tags, int n, struct dkim_sig *sig,
    char *reason, size_t rlen)
{
	const struct dkim_tag *d = dkim_tag_get(tags, n, "d");
	const struct dkim_tag *s = dkim_tag_get(tags, n, "s");
	const struct dkim_tag *q = dkim_tag_get(tags, n, "q");

	if (dkim_copy_lower(sig->d, sizeof sig->d, d->val, d->vallen) < 0 ||
	    !dkim_name_ok(sig->d))
		return dkim_fail(reason, rlen, "bad d= domain");
	if (dkim_copy_lower(sig->s, sizeof sig->s, s->val, s->vallen) < 0 ||
	    !dkim_name_ok(sig->s))
		return dkim_fail(reason, rlen, "bad s= selector");
	if (q != NULL && !dkim_tag_is(q, "dns/txt") && !dkim_tag_is(q, "dns"))
		return dkim_fail(reason, rlen, "unknown q= method");
	if (dkim_sig_auid(dkim_tag_get(tags, n, "i"), sig) < 0)
		return dkim_fail(reason, rlen, "i= not within d=");
	return 0;
}

int
dkim_sig_parse(const char *val, size_t len, struct dkim_sig *sig,
    char *reason, size_t rlen)
{
	struct dkim_tag tags[DKIM_TAG_MAX];
	const struct dkim_tag *b, *bh, *v;
	static const char *const req[] = { "v", "a", "b", "bh", "d", "h", "s" };
	long k;
	int n = dkim_tags_parse(val, len, tags, DKIM_TAG_MAX);

	memset(sig, 0, sizeof *sig);
	if (n < 0)
		return dkim_fail(reason, rlen, "signature syntax error");
	for (size_t r = 0; r < sizeof req / sizeof req[0]; r++)
		if (dkim_tag_get(tags, n, req[r]) == NULL) {
			snprintf(reason, rlen, "signature lacks %s=", req[r]);
			return -1;
		}
	v = dkim_tag_get(tags, n, "v");
	if (!dkim_tag_is(v, "1"))
		return dkim_fail(reason, rlen, "signature v= is not 1");
	if (dkim_sig_alg(dkim_tag_get(tags, n, "a"), dkim_tag_get(tags, n, "c"),
	    sig) < 0)
		return dkim_fail(reason, rlen, "unknown a= or c=");
	if (dkim_sig_h(dkim_tag_get(tags, n, "h"), sig) < 0)
		return dkim_fail(reason, rlen, "h= bad or does not sign From");
	if (dkim_sig_names(tags, n, sig, reason, rlen) < 0)
		return -1;
	if (dkim_sig_times(tags, n, sig) < 0)
		return dkim_fail(reason, rlen, "bad l=, t= or x=");
	b = dkim_tag_get(tags, n, "b");
	bh = dkim_tag_get(tags, n, "bh");
	if ((k = dkim_b64(b, sig->b, sizeof sig->b)) <= 0)
		return dkim_fail(reason, rlen, "bad b=");
	sig->blen = (size_t)k;
	if ((k = dkim_b64(bh, sig->bh, sizeof sig->bh)) <= 0)
		return dkim_fail(reason, rlen, "bad bh=");
	sig->bhlen = (size_t)k;
	sig->bstart = b->vstart;
	sig->bend = b->vend;
	return 0;
}

/* A colon-separated list (k= h= s= of a key) holds word? */
static int
dkim_list_has(const struct dkim_tag *t, const char *word)
{
	size_t i = 0, wl = strlen(word), s, e;

	while (i <= t->vallen) {
		s = i;
		while (i < t->vallen && t->val[i] != ':')
			i++;
		e = i++;
		while (s < e && dkim_wsp((unsigned char)t->val[s]))
			s++;
		while (e > s && dkim_wsp((unsigned char)t->val[e - 1]))
			e--;
		if (e - s == wl && memcmp(t->val + s, word, wl) == 0)
			return 1;
	}
	return 0;
}

static int
dkim_key_flags(const struct dkim_tag *tags, int n, struct dkim_key *key,
    char *reason, size_t rlen)
{
	const struct dkim_tag *t;

	if ((t = dkim_tag_get(tags, n, "k")) != NULL) {
		if (dkim_tag_is(t, "ed25519"))
			key->ed25519 = 1;
		else if (!dkim_tag_is(t, "rsa"))
			return dkim_fail(reason, rlen, "key k= unknown");
	}
	if ((t = dkim_tag_get(tags, n, "h")) && !dkim_list_has(t, "sha256"))
		return dkim_fail(reason, rlen, "key h= excludes sha256");
	if ((t = dkim_tag_get(tags, n, "s")) && !dkim_list_has(t, "*") &&
	    !dkim_list_has(t, "email"))
		return dkim_fail(reason, rlen, "key s= not for email");
	if ((t = dkim_tag_get(tags, n, "t")) != NULL) {
		key->testing = dkim_list_has(t, "y");
		key->strict = dkim_list_has(t, "s");
	}
	return 0;
}

int
dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
    char *reason, size_t rlen)
{
	struct dkim_tag tags[DKIM_TAG_MAX];
	const struct dkim_tag *p;
	long k;
	int n = dkim_tags_parse(txt, len, tags, DKIM_TAG_MAX);

	memset(key, 0, sizeof *key);
	if (n <= 0)
		return dkim_fail(reason, rlen, "key record syntax error");
	/* v= is optional, but when present it is first and DKIM1. */
	p = dkim_tag_get(tags, n, "v");
	if (p != NULL && (p != &tags[0] || !dkim_tag_is(p, "DKIM1")))
		return dkim_fail(reason, rlen, "key v= is not DKIM1");
	if (dkim_key_flags(tags, n, key, reason, rlen) < 0)
		return -1;
	if ((p = dkim_tag_get(tags, n, "p")) == NULL)
		return dkim_fail(reason, rlen, "key record lacks p=");
	if ((k = dkim_b64(p, key->p, sizeof key->p)) < 0)
		return dkim_fail(reason, rlen, "key p= is not base64");
	key->plen = (size_t)k;
	key->revoked = k == 0;
	return 0;
}
