/* dmarc_psl.c - the Organizational Domain (RFC 7489 §3.2) from the Public
 * Suffix List, through libpsl: its registrable domain is exactly §3.2's
 * "public suffix plus one label", wildcards and exceptions included. */
#include "engine/dmarc.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dmarc_psl {
	psl_ctx_t *ctx;
};

struct dmarc_psl *
dmarc_psl_load(const char *file, char *err, size_t errlen)
{
	struct dmarc_psl *p = calloc(1, sizeof *p);

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->ctx = file ? psl_load_file(file) : psl_latest(NULL);
	if (p->ctx == NULL) {
		snprintf(err, errlen, "cannot load the public suffix list %s",
		    file ? file : "(libpsl's or Debian's)");
		free(p);
		return NULL;
	}
	return p;
}

void
dmarc_psl_free(struct dmarc_psl *psl)
{
	if (psl == NULL)
		return;
	psl_free(psl->ctx);
	free(psl);
}

int
dmarc_org_domain(const struct dmarc_psl *psl, const char *domain,
    char out[DNS_NAME_MAX + 1])
{
	const char *reg;
	char *lower = NULL;
	size_t n;
	int rc = -1;

	if (domain == NULL || domain[0] == '\0' || domain[0] == '.' ||
	    psl_str_to_utf8lower(domain, "utf-8", NULL, &lower) !=
	    PSL_SUCCESS)
		return -1;
	reg = psl_registrable_domain(psl->ctx, lower);
	if (reg != NULL && strstr(reg, "..") == NULL &&
	    (n = strlen(reg)) <= DNS_NAME_MAX) {
		memcpy(out, reg, n + 1);
		rc = 0;
	}
	psl_free_string(lower);
	return rc;
}
