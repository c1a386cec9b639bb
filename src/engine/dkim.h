/* dkim.h - DKIM signatures: verify and sign (RFC 6376, RFC 8301, RFC 8463).
 *
 * DKIM works on the raw octets of a message (no MIME parsing): a message is
 * cut into header fields and a body (dkim_msg_parse), each signature's
 * tag list and each key record are parsed by bounded parsers, and the
 * hashes are computed over the canonical forms of §3.4.
 *
 * Choices (docs/decisions.md):
 *   - rsa-sha1 signatures and RSA keys under 1024 bits are refused
 *     (RFC 8301 §3.1, §3.2): result DKIM_POLICY, the reason says why.
 *     jaga never signs with either.
 *   - l= is honoured (RFC 6376 §3.5) but reported: a pass whose l= covers
 *     less than the body says so in its reason, and dkim_res.body_unsigned
 *     counts the octets no signature covers.
 *   - at most DKIM_VERIFY_MAX signatures of a message are verified.
 */
#ifndef JAGA_ENGINE_DKIM_H
#define JAGA_ENGINE_DKIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/dns.h"

#define DKIM_VERIFY_MAX	10	/* signatures verified per message */
#define DKIM_HDR_MAX	1000	/* header fields of a message */
#define DKIM_H_MAX	64	/* names in h= */
#define DKIM_TAG_MAX	32	/* tags in one tag list */
#define DKIM_SELECTOR_MAX 63
#define DKIM_SIGB_MAX	1024	/* decoded b= (RSA-8192) */
#define DKIM_PKEY_MAX	1100	/* decoded p= (SPKI of RSA-8192) */
#define DKIM_REASON_MAX	96
#define DKIM_FUTURE_SLACK 300	/* t= this far ahead is still accepted */

enum dkim_result {
	DKIM_NONE,		/* no signature */
	DKIM_PASS,
	DKIM_FAIL,		/* the signature or body hash does not match */
	DKIM_NEUTRAL,
	DKIM_TEMPERROR,		/* the key could not be fetched now */
	DKIM_PERMERROR,		/* syntax, missing or unusable key */
	DKIM_POLICY,		/* refused: rsa-sha1, a short key (RFC 8301) */
};

enum dkim_alg { DKIM_RSA_SHA256, DKIM_ED25519_SHA256, DKIM_RSA_SHA1 };
enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };

/* One tag=value of a tag list (§3.2); pointers into the parsed text.
 * vstart/vend is the raw span after '=' up to ';' (b= removal, §3.5). */
struct dkim_tag {
	const char *name, *val;
	size_t namelen, vallen;
	size_t vstart, vend;
};

/* Parse a tag list of len octets: at most max tags, no duplicates.
 * Returns the number of tags, or -1 on a syntax error. */
int dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags,
    size_t max);

/* A parsed DKIM-Signature (§3.5). */
struct dkim_sig {
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char d[DNS_NAME_MAX + 1];		/* lowercase */
	char s[DNS_NAME_MAX + 1];
	char i[DNS_NAME_MAX + 66];		/* AUID, may be empty */
	char h[DKIM_H_MAX][80];			/* signed names, lowercase */
	size_t nh;
	uint8_t b[DKIM_SIGB_MAX];
	size_t blen;
	uint8_t bh[64];
	size_t bhlen;
	int64_t l, t, x;			/* -1 when absent */
	size_t bstart, bend;			/* b= value in the field value */
};

/* Parse the value of a DKIM-Signature field (after the colon).  Returns
 * 0, or -1 with a reason (permerror: syntax, a required tag missing, v=
 * not 1, an unknown a= or c=, h= without From, i= outside d=, x= < t=). */
int dkim_sig_parse(const char *val, size_t len, struct dkim_sig *sig,
    char *reason, size_t rlen);

/* A parsed key record (§3.6.1). */
struct dkim_key {
	int ed25519;			/* k=ed25519, else rsa */
	int revoked;			/* p= empty */
	int testing;			/* t=y */
	int strict;			/* t=s: i= domain must equal d= */
	uint8_t p[DKIM_PKEY_MAX];
	size_t plen;
};

/* Parse a key record.  Returns 0, or -1 with a reason (syntax, v= not
 * DKIM1, k= unknown, h= without sha256, s= not email). */
int dkim_key_parse(const char *txt, size_t len, struct dkim_key *key,
    char *reason, size_t rlen);

/* A message: header fields and body, as offsets into data.  Bare LF line
 * ends are turned into CRLF (as dkimpy does) in a copy the message owns. */
struct dkim_field {
	size_t off, len;	/* the whole field, CRLF included */
	size_t namelen;		/* the name, without spaces before ':' */
};

struct dkim_msg {
	char *data;
	size_t len;
	struct dkim_field f[DKIM_HDR_MAX];
	size_t nf;
	size_t body;		/* offset of the body (after the empty line) */
	int owned;		/* data is a copy, freed with the message */
};

/* Returns a message, or NULL (out of memory, too many header fields). */
struct dkim_msg *dkim_msg_parse(const char *raw, size_t len);
/* The same without a copy when raw has CRLF line ends only (what SMTP
 * delivers; otherwise as dkim_msg_parse): data then points into raw,
 * which the caller keeps unchanged until dkim_msg_free. */
struct dkim_msg *dkim_msg_view(const char *raw, size_t len);
void dkim_msg_free(struct dkim_msg *m);

/* Canonical forms (§3.4).  Header: one field, appended to out (at most
 * cap octets); returns the length written, or -1 if it does not fit.
 * Body: a malloc'd buffer in *out, its length in *outlen; 0 or -1. */
long dkim_canon_header(enum dkim_canon c, const char *field, size_t len,
    char *out, size_t cap);
int dkim_canon_body(enum dkim_canon c, const char *body, size_t len,
    char **out, size_t *outlen);

/* The result of one signature. */
struct dkim_res {
	enum dkim_result result;
	enum dkim_alg alg;
	char d[DNS_NAME_MAX + 1];
	char s[DNS_NAME_MAX + 1];
	char reason[DKIM_REASON_MAX];
	int testing;			/* the key said t=y */
	int64_t l;			/* l= or -1 */
	size_t body_unsigned;		/* canonical body octets past l= */
};

/* Verify every signature (the first DKIM_VERIFY_MAX from the top).
 * Returns how many results were written to res (0: no signature). */
size_t dkim_verify(const struct dkim_msg *m, struct dns_lookup *dns,
    time_t now, struct dkim_res *res, size_t max);

const char *dkim_result_name(enum dkim_result r);
const char *dkim_alg_name(enum dkim_alg a);

/* Signing. */
struct dkim_signkey;		/* a private key, RSA >= 1024 or Ed25519 */

/* Load a PEM private key (PKCS#8 or PKCS#1).  NULL with a reason when the
 * file cannot be read or the key is RSA under 1024 bits or another type. */
struct dkim_signkey *dkim_signkey_load(const char *path, char *reason,
    size_t rlen);
void dkim_signkey_free(struct dkim_signkey *k);
int dkim_signkey_is_ed25519(const struct dkim_signkey *k);

struct dkim_signopt {
	const char *domain, *selector;
	enum dkim_canon hcanon, bcanon;	/* relaxed/relaxed by default */
	time_t t;			/* t=; 0 leaves it out */
	time_t x;			/* x=; 0 leaves it out */
};

/* Sign m: returns the whole "DKIM-Signature: ...\r\n" field (malloc'd)
 * to put on top of the message, or NULL with a reason (no From:, ...).
 * From, To, Cc, Subject, Date, Message-ID, Reply-To and the like are
 * over-signed: h= names each once more than the message has it. */
char *dkim_sign(const struct dkim_msg *m, const struct dkim_signkey *k,
    const struct dkim_signopt *o, char *reason, size_t rlen);

/* A new key: type "rsa" (bits >= 1024, default 2048) or "ed25519".
 * Writes the PEM (PKCS#8) to path with mode 0600 (never over an existing
 * file) and the TXT record value ("v=DKIM1; k=...; p=...") to txt.
 * Returns 0, or -1 with a reason. */
int dkim_keygen(const char *type, int bits, const char *path, char *txt,
    size_t txtlen, char *reason, size_t rlen);

/* A key table for the gateway: lines "DOMAIN SELECTOR KEYFILE", '#'
 * comments.  A domain may have up to DKIM_KEYTAB_PER_DOMAIN lines (an RSA
 * and an Ed25519 key, signed with both: RFC 8463 §4); KEYFILE is an
 * absolute path.  DOMAIN is kept in lowercase. */
#define DKIM_KEYTAB_MAX		4096	/* lines with a key */
#define DKIM_KEYTAB_PER_DOMAIN	2
#define DKIM_KEYTAB_LINE_MAX	1024

struct dkim_keytab_entry {
	char domain[DNS_NAME_MAX + 1];
	char selector[DKIM_SELECTOR_MAX + 1];
	char path[512];
	int line;			/* in the file, for messages */
};

/* Read the whole table into *out (malloc'd, the caller frees it).  Returns
 * the number of entries, or -1 with the line in *badline (0: the file
 * itself, see errno) and why in reason: a field missing or malformed,
 * text after KEYFILE, a line too long, a repeated DOMAIN SELECTOR, more
 * than DKIM_KEYTAB_PER_DOMAIN lines for a domain, over DKIM_KEYTAB_MAX. */
int dkim_keytab_read(const char *path, struct dkim_keytab_entry **out,
    int *badline, char *reason, size_t rlen);
/* As dkim_keytab_read into e (at most max entries; more is an error at
 * the first line that does not fit). */
int dkim_keytab_load(const char *path, struct dkim_keytab_entry *e,
    size_t max, int *badline);
/* The first line of domain (any case), or NULL. */
const struct dkim_keytab_entry *dkim_keytab_find(
    const struct dkim_keytab_entry *e, size_t n, const char *domain);
/* The line of domain after prev (NULL: the first), or NULL: every key of
 * a domain, in the order of the file. */
const struct dkim_keytab_entry *dkim_keytab_find_next(
    const struct dkim_keytab_entry *e, size_t n, const char *domain,
    const struct dkim_keytab_entry *prev);

/* TXT records from a file (dkim_dnsfile.c describes the lines): a
 * struct dns_lookup for tests and "--dns-file".  NULL if unreadable. */
struct dns_lookup *dkim_dnsfile_new(const char *path);

#endif
