/* dns_int.h - what the dns_lookup implementations (dns_table.c,
 * dns_unbound.c) and the fuzz target share: names, building a result,
 * parsing rdata.  Not for the protocol engines: they use dns.h only.
 */
#ifndef JAGA_ENGINE_DNS_INT_H
#define JAGA_ENGINE_DNS_INT_H

#include "engine/dns.h"

/* name lowercased, one trailing dot removed, into out.  Refuses (-1) an
 * empty name or label, a label over 63 octets or a name over 253 (RFC 1035
 * §2.3.4), and any octet that is a control character or space. */
int dns_name_norm(const char *name, char out[DNS_NAME_MAX + 1]);

/* Empty *r with status st. */
void dns_result_init(struct dns_result *r, enum dns_status st);
/* A new zeroed record of type t at the end of r, or NULL when r holds
 * DNS_RR_MAX already (then r->truncated is counted). */
struct dns_rr *dns_result_push(struct dns_result *r, enum dns_type t,
    uint32_t ttl);
/* Append len octets to the text of rr, the last record pushed, keeping it
 * NUL-terminated in r->txtbuf.  -1 when the record would pass DNS_TXT_MAX
 * or txtbuf is full: the caller drops the record (dns_result_drop). */
int dns_result_txt(struct dns_result *r, struct dns_rr *rr,
    const void *s, size_t len);
/* Remove the last record pushed (and its text), counting it truncated. */
void dns_result_drop(struct dns_result *r);

/* One uncompressed wire-format name (RFC 1035 §3.1) at p[0..len) into
 * out in presentation form, lowercase, no trailing dot, octets other than
 * letters, digits, '-' and '_' escaped as \DDD (RFC 1035 §5.1).  *used is
 * the octets it took.  A compression pointer, a label past len, or a name
 * over DNS_NAME_MAX in presentation form is -1. */
int dns_wire_name(const uint8_t *p, size_t len, size_t *used,
    char out[DNS_NAME_MAX + 1]);
/* The rdata of one record of type t (RFC 1035 §3.3, RFC 3596) added to r;
 * a TXT's strings are joined.  Returns 0, 1 when r was full (counted in
 * truncated), -1 when the rdata is malformed (nothing added). */
int dns_rdata_add(struct dns_result *r, enum dns_type t, uint32_t ttl,
    const uint8_t *p, size_t len);

/* ---- an answer as a compact blob, for the cache (dns_blob.c) ----
 * status, secure, ttl, truncated, then per record its type, ttl, pref,
 * the used octets of addr, name and text (length-prefixed; text may hold
 * NULs), a few hundred octets where struct dns_result is ~35 KB. */
/* The octets dns_blob_put writes for r (at most about 35 KB). */
size_t dns_blob_len(const struct dns_result *r);
/* r into p, which has dns_blob_len(r) octets. */
void dns_blob_put(const struct dns_result *r, uint8_t *p);
/* The blob p[0..len) into *out, rebuilt with dns_result_push and
 * dns_result_txt; -1 (out then PERMFAIL) when it is malformed or does not
 * fit a dns_result: every length is checked against len. */
int dns_blob_get(const uint8_t *p, size_t len, struct dns_result *out);

#endif
