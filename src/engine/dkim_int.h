/* dkim_int.h - what dkim_verify.c and dkim_sign.c share; not for other
 * modules. */
#ifndef JAGA_ENGINE_DKIM_INT_H
#define JAGA_ENGINE_DKIM_INT_H

#include "engine/dkim.h"

/* The header hash input (RFC 6376 §3.7): the fields named in h[], each
 * name taking the next instance from the bottom up (a name listed more
 * often than present adds nothing: over-signing), then the signature
 * field sf (b= already empty) canonicalized, without its final CRLF.
 * Returns a malloc'd buffer, its length in *outlen, or NULL. */
char *dkim_hdata(const struct dkim_msg *m, const char (*h)[80], size_t nh,
    enum dkim_canon c, const char *sf, size_t sflen, size_t *outlen);

#endif
