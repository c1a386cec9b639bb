/* signer.h - the DKIM keys the gateway signs submissions with (issue 5
 * §5): every key of dkim_key_table, loaded once at start, looked up by the
 * From: domain.  Read-only after signer_new, so every worker thread uses
 * the same one (struct worker's signer) without a lock.
 *
 * A key is refused at load, naming the table's file and line, when its
 * file is missing or unreadable, when group or others may read or write it
 * (as ssh refuses such a private key: docs/decisions.md), when it is not
 * RSA of 1024 bits or more nor Ed25519 (RFC 8301 §3.2), or when its
 * domain already has a key of that type.  Keys are secrets: never logged.
 */
#ifndef JAGA_GATEWAY_SIGNER_H
#define JAGA_GATEWAY_SIGNER_H

#include <stddef.h>

#include "engine/dkim.h"

struct signer;

/* One key of a domain. */
struct signer_key {
	const char *domain;		/* lowercase, as in the table */
	const char *selector;
	const struct dkim_signkey *key;
	int ed25519;
};

/* Load the table at path and every key it names.  Returns the signer, or
 * NULL with "PATH:LINE: problem" (or "PATH: problem") in err. */
struct signer *signer_new(const char *path, char *err, size_t errlen);
/* Takes NULL.  No signing may be running. */
void signer_free(struct signer *sg);
/* The keys of domain (any case; a subdomain is not its parent), at most
 * DKIM_KEYTAB_PER_DOMAIN, in the table's order, into keys.  Returns how
 * many (0: none). */
size_t signer_find(const struct signer *sg, const char *domain,
    struct signer_key *keys);
/* Keys loaded (for the start log line). */
size_t signer_count(const struct signer *sg);

/* The parameter dkim_key_table of st's configuration: a signer in *out
 * (NULL when the parameter is empty: nothing is signed).  Returns 0, or
 * -1 with "dkim_key_table: PATH:LINE: problem" in err. */
struct settings;
int signer_from_settings(const struct settings *st, struct signer **out,
    char *err, size_t errlen);

#endif
