/* dkim_pubkey.c - the public keys of key records (RFC 6376 §3.6.1),
 * decoded once per process, with a verify context prepared for each, and
 * the signature check itself (RFC 8301, RFC 8463 §3). */
#include "engine/dkim_int.h"

#include <pthread.h>
#include <string.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Decoded public keys by their p= octets: decoding a key through
 * OpenSSL 3's decoders costs more than verifying with it, and setting up
 * a verify context (provider fetches) costs a fifth of an RSA-2048
 * verification; the same few keys sign most mail.  Entries are replaced
 * round robin, never freed (at most DKIM_KEYCACHE keys); a hit takes a
 * reference to the key and a verify context ready for it: one a former
 * message gave back (DKIM_VCTX_IDLE kept per key, about one per thread
 * verifying at once), else a copy of the entry's prepared RSA context
 * (Ed25519: made at the first use).  gen tells a context given back
 * whether its entry still holds the same key. */
#define DKIM_KEYCACHE 64
#define DKIM_VCTX_IDLE 8

static struct dkim_cached {
	uint8_t p[DKIM_PKEY_MAX];
	size_t plen;
	int ed25519;
	EVP_PKEY *pk;
	EVP_PKEY_CTX *vctx;	/* RSA: verify, PKCS#1 v1.5, SHA-256 */
	unsigned long gen;
	EVP_PKEY_CTX *vidle[DKIM_VCTX_IDLE];	/* RSA, given back */
	EVP_MD_CTX *midle[DKIM_VCTX_IDLE];	/* Ed25519, given back */
	size_t nv, nm;
} dkim_cache[DKIM_KEYCACHE];
static size_t dkim_cache_next;
static unsigned long dkim_cache_gen;
static pthread_mutex_t dkim_cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* A verify context for an RSA key over a SHA-256 digest computed by the
 * caller (EVP_PKEY_verify: the DigestInfo of RFC 8017 §9.2), or NULL. */
static EVP_PKEY_CTX *
dkim_vctx_new(EVP_PKEY *pk)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);

	if (c != NULL && (EVP_PKEY_verify_init(c) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c,
	    dkim_md(DKIM_RSA_SHA256)) != 1)) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

/* Entry i's key and a context for it into out (the lock held). */
static void
dkim_cache_take(size_t i, struct dkim_pub *out)
{
	struct dkim_cached *c = &dkim_cache[i];

	out->pk = c->pk;
	out->slot = i;
	out->gen = c->gen;
	if (c->nm > 0)
		out->mctx = c->midle[--c->nm];
	if (c->nv > 0)
		out->vctx = c->vidle[--c->nv];
	else if (c->vctx != NULL)
		out->vctx = EVP_PKEY_CTX_dup(c->vctx);
}

static int
dkim_cache_get(const struct dkim_key *k, struct dkim_pub *out)
{
	int hit = 0;

	pthread_mutex_lock(&dkim_cache_mu);
	for (size_t i = 0; i < DKIM_KEYCACHE && !hit; i++) {
		struct dkim_cached *c = &dkim_cache[i];

		if (c->pk == NULL || c->plen != k->plen ||
		    c->ed25519 != k->ed25519 || memcmp(c->p, k->p, k->plen) != 0 ||
		    EVP_PKEY_up_ref(c->pk) != 1)
			continue;
		dkim_cache_take(i, out);
		hit = 1;
	}
	pthread_mutex_unlock(&dkim_cache_mu);
	return hit;
}

/* Free an entry's contexts (the lock held). */
static void
dkim_cache_clear(struct dkim_cached *c)
{
	EVP_PKEY_free(c->pk);
	EVP_PKEY_CTX_free(c->vctx);
	while (c->nv > 0)
		EVP_PKEY_CTX_free(c->vidle[--c->nv]);
	while (c->nm > 0)
		EVP_MD_CTX_free(c->midle[--c->nm]);
}

static void
dkim_cache_put(const struct dkim_key *k, EVP_PKEY *pk)
{
	EVP_PKEY_CTX *vctx = k->ed25519 ? NULL : dkim_vctx_new(pk);
	struct dkim_cached *c;

	if (EVP_PKEY_up_ref(pk) != 1) {
		EVP_PKEY_CTX_free(vctx);
		return;
	}
	pthread_mutex_lock(&dkim_cache_mu);
	c = &dkim_cache[dkim_cache_next++ % DKIM_KEYCACHE];
	dkim_cache_clear(c);
	memcpy(c->p, k->p, k->plen);
	c->plen = k->plen;
	c->ed25519 = k->ed25519;
	c->pk = pk;
	c->vctx = vctx;
	c->gen = ++dkim_cache_gen;
	pthread_mutex_unlock(&dkim_cache_mu);
}

static EVP_PKEY *
dkim_pubkey_decode(const struct dkim_key *k)
{
	const unsigned char *q = k->p;
	EVP_PKEY *pk;

	if (k->ed25519)
		return k->plen == 32 ? EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, k->p, 32) : NULL;
	/* SubjectPublicKeyInfo (§3.6.1), or a bare RSAPublicKey, which
	 * some publish and dkimpy accepts. */
	if ((pk = d2i_PUBKEY(NULL, &q, (long)k->plen)) != NULL)
		return EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? pk :
		    (EVP_PKEY_free(pk), NULL);
	q = k->p;
	return d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)k->plen);
}

int
dkim_pub_get(const struct dkim_key *k, struct dkim_pub *out)
{
	memset(out, 0, sizeof *out);
	if (dkim_cache_get(k, out))
		return 0;
	if ((out->pk = dkim_pubkey_decode(k)) == NULL)
		return -1;
	dkim_cache_put(k, out->pk);
	return 0;
}

/* Give p's contexts back to its entry when it still holds the same key
 * and has room (the lock held); what is not kept stays in p. */
static void
dkim_cache_give(struct dkim_pub *p)
{
	struct dkim_cached *c = &dkim_cache[p->slot];

	if (p->gen == 0 || c->gen != p->gen)
		return;
	if (p->vctx != NULL && c->nv < DKIM_VCTX_IDLE) {
		c->vidle[c->nv++] = p->vctx;
		p->vctx = NULL;
	}
	if (p->mctx != NULL && c->nm < DKIM_VCTX_IDLE) {
		c->midle[c->nm++] = p->mctx;
		p->mctx = NULL;
	}
}

void
dkim_pub_done(struct dkim_pub *p)
{
	if (p->gen != 0 && (p->vctx != NULL || p->mctx != NULL)) {
		pthread_mutex_lock(&dkim_cache_mu);
		dkim_cache_give(p);
		pthread_mutex_unlock(&dkim_cache_mu);
	}
	EVP_PKEY_CTX_free(p->vctx);
	EVP_MD_CTX_free(p->mctx);
	EVP_PKEY_free(p->pk);
	memset(p, 0, sizeof *p);
}

/* Ed25519 signs the SHA-256 of the data (RFC 8463 §3); RSA the
 * DigestInfo of its SHA-256.  Both through p's context, made here when p
 * has none; a context that saw anything but a good signature is dropped
 * (its state is then unknown), so only good ones go back to the cache. */
int
dkim_pub_verify(struct dkim_pub *p, enum dkim_alg alg,
    const uint8_t *sig, size_t siglen, const char *data, size_t len)
{
	unsigned char h[32];
	int ok;

	if (alg == DKIM_RSA_SHA1 || EVP_Digest(data, len, h, NULL,
	    dkim_md(DKIM_RSA_SHA256), NULL) != 1)
		return 0;
	if (alg == DKIM_RSA_SHA256) {
		if (p->vctx == NULL && (p->vctx = dkim_vctx_new(p->pk)) == NULL)
			return 0;
		if (!(ok = EVP_PKEY_verify(p->vctx, sig, siglen, h,
		    sizeof h) == 1)) {
			EVP_PKEY_CTX_free(p->vctx);
			p->vctx = NULL;
		}
		return ok;
	}
	if (p->mctx == NULL && ((p->mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(p->mctx, NULL, NULL, NULL, p->pk) != 1)) {
		EVP_MD_CTX_free(p->mctx);
		p->mctx = NULL;
		return 0;
	}
	if (!(ok = EVP_DigestVerify(p->mctx, sig, siglen, h, sizeof h) == 1)) {
		EVP_MD_CTX_free(p->mctx);
		p->mctx = NULL;
	}
	return ok;
}
