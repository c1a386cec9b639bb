/* dkim_int.h - what dkim_verify.c and dkim_sign.c share; not for other
 * modules. */
#ifndef JAGA_ENGINE_DKIM_INT_H
#define JAGA_ENGINE_DKIM_INT_H

#include "engine/dkim.h"

#include <openssl/evp.h>

/* The header hash input (RFC 6376 §3.7): the fields named in h[], each
 * name taking the next instance from the bottom up (a name listed more
 * often than present adds nothing: over-signing), then the signature
 * field sf (b= already empty) canonicalized, without its final CRLF.
 * Returns a malloc'd buffer, its length in *outlen, or NULL. */
char *dkim_hdata(const struct dkim_msg *m, const char (*h)[80], size_t nh,
    enum dkim_canon c, const char *sf, size_t sflen, size_t *outlen);

/* The digest of a (sha256 or sha1), fetched once per process; NULL if
 * the provider has none. */
const EVP_MD *dkim_md(enum dkim_alg a);

/* The body hash (§3.7) of body under c, computed while canonicalizing
 * (no canonical copy; dkim_canon_body's result, hashed): the first l
 * canonical octets when l >= 0, else all.  *canonlen gets the length of
 * the whole canonical body, past l too.  Returns 0, or -1 (no memory, a
 * digest failure). */
int dkim_body_digest(enum dkim_canon c, const EVP_MD *md, const char *body,
    size_t len, int64_t l, unsigned char *out, unsigned int *outlen,
    size_t *canonlen);

/* A public key and a verify context of its own (dkim_pubkey.c), owned
 * by the holder until dkim_pub_done, which gives the context back to the
 * key's cache entry for the next message. */
struct dkim_pub {
	EVP_PKEY *pk;
	EVP_PKEY_CTX *vctx;	/* RSA; NULL: made when needed */
	EVP_MD_CTX *mctx;	/* Ed25519, initialized; NULL: when needed */
	size_t slot;		/* the cache entry, while gen matches */
	unsigned long gen;	/* 0: not from the cache */
};

/* The key of a parsed record, from the process-wide cache or decoded
 * (SubjectPublicKeyInfo or RSAPublicKey; 32 raw octets for Ed25519).
 * Returns 0, or -1 when p= is no usable key. */
int dkim_pub_get(const struct dkim_key *k, struct dkim_pub *out);
void dkim_pub_done(struct dkim_pub *p);

/* Whether sig is a good alg signature by p over data (the header hash
 * input).  rsa-sha1 never is. */
int dkim_pub_verify(struct dkim_pub *p, enum dkim_alg alg,
    const uint8_t *sig, size_t siglen, const char *data, size_t len);

#endif
