/* dkim_sign.c - DKIM signing (RFC 6376 §5) with rsa-sha256 or
 * ed25519-sha256 (RFC 8463); never rsa-sha1, never RSA under 1024 bits
 * (RFC 8301). */
#include "engine/dkim.h"
#include "engine/dkim_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

/* Ed25519 signing contexts ready for EVP_DigestSign: EVP_DigestSignInit
 * fetches the algorithm and sets up the provider's context, a tenth of an
 * Ed25519 signature, and a context signs again after a one-shot sign.
 * Each signing thread takes one and gives it back; at most
 * DKIM_SIGNCTX_IDLE are kept (as many as threads sign at once). */
#define DKIM_SIGNCTX_IDLE 16

struct dkim_signpool {
	pthread_mutex_t mu;
	EVP_MD_CTX *idle[DKIM_SIGNCTX_IDLE];
	size_t n;
};

struct dkim_signkey {
	EVP_PKEY *pk;
	int ed25519;
	struct dkim_signpool *pool;	/* Ed25519 only; mutable behind const */
};

/* Signed, and over-signed: each listed once more than present, so that
 * none can be added after signing (RFC 6376 §8.15). */
static const char *const dkim_sign_names[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "message-id",
	"in-reply-to", "references", "sender", "mime-version",
	"content-type", "content-transfer-encoding",
};

struct dkim_signkey *
dkim_signkey_load(const char *path, char *reason, size_t rlen)
{
	struct dkim_signkey *k;
	EVP_PKEY *pk;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(reason, rlen, "cannot read key file");
		return NULL;
	}
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL) {
		snprintf(reason, rlen, "not a PEM private key");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 &&
	    (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pk) < 1024)) {
		snprintf(reason, rlen, "key refused: only RSA of 1024 bits or "
		    "more, or Ed25519 (RFC 8301)");
		EVP_PKEY_free(pk);
		return NULL;
	}
	if ((k = calloc(1, sizeof *k)) == NULL) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	k->pk = pk;
	k->ed25519 = EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519;
	if (k->ed25519 && (k->pool = calloc(1, sizeof *k->pool)) != NULL)
		pthread_mutex_init(&k->pool->mu, NULL);
	return k;
}

void
dkim_signkey_free(struct dkim_signkey *k)
{
	if (k == NULL)
		return;
	if (k->pool != NULL) {
		while (k->pool->n > 0)
			EVP_MD_CTX_free(k->pool->idle[--k->pool->n]);
		pthread_mutex_destroy(&k->pool->mu);
		free(k->pool);
	}
	EVP_PKEY_free(k->pk);
	free(k);
}

/* An Ed25519 context ready to sign with k: a kept one, else a new one;
 * NULL when out of memory or the provider refuses the key. */
static EVP_MD_CTX *
dkim_signctx_take(const struct dkim_signkey *k)
{
	EVP_MD_CTX *c = NULL;

	if (k->pool != NULL) {
		pthread_mutex_lock(&k->pool->mu);
		if (k->pool->n > 0)
			c = k->pool->idle[--k->pool->n];
		pthread_mutex_unlock(&k->pool->mu);
	}
	if (c != NULL)
		return c;
	if ((c = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(c, NULL, NULL, NULL, k->pk) != 1) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return c;
}

/* Give c back after a good signature (kept while there is room); after
 * a failure it is freed, as its state is then unknown. */
static void
dkim_signctx_give(const struct dkim_signkey *k, EVP_MD_CTX *c, int ok)
{
	if (ok && k->pool != NULL) {
		pthread_mutex_lock(&k->pool->mu);
		if (k->pool->n < DKIM_SIGNCTX_IDLE) {
			k->pool->idle[k->pool->n++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&k->pool->mu);
	}
	EVP_MD_CTX_free(c);
}

int
dkim_signkey_is_ed25519(const struct dkim_signkey *k)
{
	return k->ed25519;
}

static size_t
dkim_count(const struct dkim_msg *m, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nf; i++)
		if (m->f[i].namelen == strlen(name) &&
		    strncasecmp(m->data + m->f[i].off, name, m->f[i].namelen) == 0)
			n++;
	return n;
}

/* h[]: every name once more than the message has it. */
static size_t
dkim_sign_h(const struct dkim_msg *m, char (*h)[80])
{
	size_t nh = 0, c;

	for (size_t i = 0; i < sizeof dkim_sign_names / sizeof *dkim_sign_names;
	    i++) {
		c = dkim_count(m, dkim_sign_names[i]) + 1;
		while (c-- > 0 && nh < DKIM_H_MAX)	/* names < 80 octets */
			memcpy(h[nh++], dkim_sign_names[i],
			    strlen(dkim_sign_names[i]) + 1);
	}
	return nh;
}

static int
dkim_b64enc(const unsigned char *in, size_t len, char *out, size_t cap)
{
	if (4 * ((len + 2) / 3) + 1 > cap)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int
dkim_sign_bh(const struct dkim_msg *m, enum dkim_canon c, char *out,
    size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t blen;

	if (dkim_body_digest(c, dkim_md(DKIM_RSA_SHA256), m->data + m->body,
	    m->len - m->body, -1, md, &mdlen, &blen) < 0)
		return -1;
	return dkim_b64enc(md, mdlen, out, cap) > 0 ? 0 : -1;
}

/* Append len octets of s at out + *n, keeping room for a final NUL:
 * without snprintf's format parsing, which was a twentieth of an Ed25519
 * signing.  -1 if they do not fit. */
static int
dkim_put(char *out, size_t *n, size_t cap, const char *s, size_t len)
{
	if (len >= cap - *n)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	return 0;
}

/* The field up to "b=", folded at about 78 columns. */
static int
dkim_sign_head(const struct dkim_msg *m, const struct dkim_signkey *k,
    const struct dkim_signopt *o, char (*h)[80], size_t nh, char *out,
    size_t cap)
{
	char bh[64], tx[64] = "";
	size_t n, col;
	int w;

	if (dkim_sign_bh(m, o->bcanon, bh, sizeof bh) < 0)
		return -1;
	if (o->t > 0)
		snprintf(tx, sizeof tx, " t=%lld;", (long long)o->t);
	if (o->x > 0)
		snprintf(tx + strlen(tx), sizeof tx - strlen(tx), " x=%lld;",
		    (long long)o->x);
	w = snprintf(out, cap, "DKIM-Signature: v=1; a=%s; c=%s/%s;\r\n"
	    "\td=%s; s=%s;%s\r\n\th=", k->ed25519 ? "ed25519-sha256" :
	    "rsa-sha256", o->hcanon == DKIM_RELAXED ? "relaxed" : "simple",
	    o->bcanon == DKIM_RELAXED ? "relaxed" : "simple", o->domain,
	    o->selector, tx);
	if (w < 0 || (size_t)w >= cap)
		return -1;
	n = (size_t)w;
	col = 3;
	for (size_t i = 0; i < nh; i++) {
		size_t hl = strlen(h[i]);
		int fold = col + hl > 76;

		if ((i > 0 && dkim_put(out, &n, cap, ":", 1) < 0) ||
		    (fold && dkim_put(out, &n, cap, "\r\n\t", 3) < 0) ||
		    dkim_put(out, &n, cap, h[i], hl) < 0)
			return -1;
		col = fold ? hl + 1 : col + hl + 1;
	}
	w = snprintf(out + n, cap - n, ";\r\n\tbh=%s;\r\n\tb=", bh);
	return w < 0 || (size_t)w >= cap - n ? -1 : (int)(n + (size_t)w);
}

static int
dkim_sign_raw(const struct dkim_signkey *k, const char *data, size_t len,
    unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx;
	unsigned char hash[32];
	int ok;

	if (k->ed25519) {	/* RFC 8463 §3: Ed25519 over the SHA-256 */
		if (EVP_Digest(data, len, hash, NULL, dkim_md(DKIM_RSA_SHA256),
		    NULL) != 1 || (ctx = dkim_signctx_take(k)) == NULL)
			return -1;
		ok = EVP_DigestSign(ctx, sig, siglen, hash, sizeof hash) == 1;
		dkim_signctx_give(k, ctx, ok);
		return ok ? 0 : -1;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, dkim_md(DKIM_RSA_SHA256), NULL,
	    k->pk) == 1 && EVP_DigestSign(ctx, sig, siglen,
	    (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Append the base64 signature, folded, and the final CRLF. */
static char *
dkim_sign_finish(char *head, size_t n, size_t cap, const unsigned char *sig,
    size_t siglen)
{
	char b64[2 * DKIM_SIGB_MAX];
	int len = dkim_b64enc(sig, siglen, b64, sizeof b64);

	if (len < 0)
		return NULL;
	for (int i = 0; i < len; i += 72)
		if ((i > 0 && dkim_put(head, &n, cap, "\r\n\t  ", 5) < 0) ||
		    dkim_put(head, &n, cap, b64 + i,
		    (size_t)(len - i < 72 ? len - i : 72)) < 0)
			return NULL;
	if (n + 3 > cap)
		return NULL;
	memcpy(head + n, "\r\n", 3);
	return head;
}

char *
dkim_sign(const struct dkim_msg *m, const struct dkim_signkey *k,
    const struct dkim_signopt *o, char *reason, size_t rlen)
{
	char (*h)[80];
	unsigned char sig[DKIM_SIGB_MAX];
	size_t nh, hlen, siglen = sizeof sig, cap = 8192;
	char *head, *hd, *out = NULL;
	int n;

	if (dkim_count(m, "from") == 0) {
		snprintf(reason, rlen, "message has no From: field");
		return NULL;
	}
	if ((h = calloc(DKIM_H_MAX, sizeof *h)) == NULL)
		return NULL;
	nh = dkim_sign_h(m, h);
	if ((head = malloc(cap)) == NULL ||
	    (n = dkim_sign_head(m, k, o, h, nh, head, cap)) < 0) {
		snprintf(reason, rlen, "cannot build the signature field");
		free(head);
		free(h);
		return NULL;
	}
	hd = dkim_hdata(m, (const char (*)[80])h, nh, o->hcanon, head,
	    (size_t)n, &hlen);
	if (hd != NULL && dkim_sign_raw(k, hd, hlen, sig, &siglen) == 0)
		out = dkim_sign_finish(head, (size_t)n, cap, sig, siglen);
	free(hd);
	free(h);
	if (out == NULL) {
		snprintf(reason, rlen, "signing failed");
		free(head);
	}
	return out;
}
