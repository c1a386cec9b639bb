/* signer.c - dkim_key_table loaded once: the table's lines sorted by
 * domain (then line), each with its key, found by binary search. */
#include "gateway/signer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "gateway/params.h"

struct signer {
	struct dkim_keytab_entry *e;	/* sorted by domain, then line */
	struct dkim_signkey **k;	/* k[i] is the key of e[i] */
	size_t n;
};

static int
signer_cmp(const void *a, const void *b)
{
	const struct dkim_keytab_entry *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* The key file of e: there, private to its owner (ssh's rule: no bit of
 * group or others, since anyone who reads it can sign as the domain),
 * a key dkim_signkey_load accepts.  NULL with err. */
static struct dkim_signkey *
signer_key_load(const char *tab, const struct dkim_keytab_entry *e,
    char *err, size_t errlen)
{
	char why[DKIM_REASON_MAX];
	struct dkim_signkey *k;
	struct stat sb;

	if (stat(e->path, &sb) < 0) {
		snprintf(err, errlen, "%s:%d: key file %s: %s", tab, e->line,
		    e->path, strerror(errno));
		return NULL;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s:%d: key file %s may be read or "
		    "written by group or others (mode %04o); chmod 600 it",
		    tab, e->line, e->path, (unsigned)(sb.st_mode & 0777));
		return NULL;
	}
	if ((k = dkim_signkey_load(e->path, why, sizeof why)) == NULL)
		snprintf(err, errlen, "%s:%d: key file %s: %s", tab, e->line,
		    e->path, why);
	return k;
}

/* One key of each type per domain: two RSA keys would be a mistake in
 * the table (RFC 8463 §4 pairs one RSA with one Ed25519 key). */
static int
signer_types(const struct signer *sg, const char *tab, char *err,
    size_t errlen)
{
	for (size_t i = 1; i < sg->n; i++) {
		if (strcmp(sg->e[i].domain, sg->e[i - 1].domain) != 0 ||
		    dkim_signkey_is_ed25519(sg->k[i]) !=
		    dkim_signkey_is_ed25519(sg->k[i - 1]))
			continue;
		snprintf(err, errlen, "%s:%d: %s has an %s key already (line "
		    "%d); give it one RSA and one Ed25519 key", tab,
		    sg->e[i].line, sg->e[i].domain,
		    dkim_signkey_is_ed25519(sg->k[i]) ? "Ed25519" : "RSA",
		    sg->e[i - 1].line);
		return -1;
	}
	return 0;
}

static int
signer_keys(struct signer *sg, const char *path, char *err, size_t errlen)
{
	if ((sg->k = calloc(sg->n ? sg->n : 1, sizeof *sg->k)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (size_t i = 0; i < sg->n; i++)
		if ((sg->k[i] = signer_key_load(path, &sg->e[i], err,
		    errlen)) == NULL)
			return -1;
	return signer_types(sg, path, err, errlen);
}

struct signer *
signer_new(const char *path, char *err, size_t errlen)
{
	struct signer *sg = calloc(1, sizeof *sg);
	char why[256];
	int n, line;

	if (sg == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if ((n = dkim_keytab_read(path, &sg->e, &line, why, sizeof why)) < 0) {
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, line, why);
		else
			snprintf(err, errlen, "%s: %s", path, why);
		signer_free(sg);
		return NULL;
	}
	sg->n = (size_t)n;
	if (sg->n > 0)
		qsort(sg->e, sg->n, sizeof *sg->e, signer_cmp);
	if (signer_keys(sg, path, err, errlen) < 0) {
		signer_free(sg);
		return NULL;
	}
	return sg;
}

void
signer_free(struct signer *sg)
{
	if (sg == NULL)
		return;
	for (size_t i = 0; sg->k != NULL && i < sg->n; i++)
		dkim_signkey_free(sg->k[i]);
	free(sg->k);
	free(sg->e);
	free(sg);
}

/* The first entry of domain (lowercase) in the sorted table, or n. */
static size_t
signer_first(const struct signer *sg, const char *domain)
{
	size_t lo = 0, hi = sg->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(sg->e[mid].domain, domain) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
signer_find(const struct signer *sg, const char *domain,
    struct signer_key *keys)
{
	char low[DNS_NAME_MAX + 1];
	size_t i, n = 0, len = strlen(domain);

	if (len >= sizeof low)
		return 0;
	for (i = 0; i <= len; i++)
		low[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ?
		    domain[i] - 'A' + 'a' : domain[i]);
	for (i = signer_first(sg, low); i < sg->n && n <
	    DKIM_KEYTAB_PER_DOMAIN && strcmp(sg->e[i].domain, low) == 0; i++)
		keys[n++] = (struct signer_key){ .domain = sg->e[i].domain,
		    .selector = sg->e[i].selector, .key = sg->k[i],
		    .ed25519 = dkim_signkey_is_ed25519(sg->k[i]) };
	return n;
}

size_t
signer_count(const struct signer *sg)
{
	return sg ? sg->n : 0;
}

int
signer_from_settings(const struct settings *st, struct signer **out,
    char *err, size_t errlen)
{
	const char *path = config_str(st->cfg, "dkim_key_table");
	char why[1024];

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return 0;
	if ((*out = signer_new(path, why, sizeof why)) != NULL)
		return 0;
	snprintf(err, errlen, "dkim_key_table: %s", why);
	return -1;
}
