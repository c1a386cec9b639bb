/* dkim_keytab.c - the key table the gateway signs with: lines
 * "DOMAIN SELECTOR KEYFILE" (dkim.h).  Only the text is read here; the
 * keys themselves are loaded by whoever signs (gateway/signer.c). */
#include "engine/dkim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEYTAB_WS " \t\r\n"

/* The next word of *p (moved past it) into out; 0, or -1 when there is
 * none or it does not fit cap - 1 octets. */
static int
keytab_word(char **p, char *out, size_t cap)
{
	size_t n;

	*p += strspn(*p, KEYTAB_WS);
	n = strcspn(*p, KEYTAB_WS);
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

/* A domain or a selector: dot-separated labels of letters, digits and
 * hyphens, 1-63 octets each (RFC 6376 §3.1, RFC 1035 §2.3.1); the
 * domain is lowercased. */
static int
keytab_name(char *s, int lower)
{
	size_t label = 0;

	for (char *c = s; *c; c++) {
		if (*c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			continue;
		}
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '-' && *c != '_')
			return -1;
		if (++label > 63)
			return -1;
		if (lower && *c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	}
	return label == 0 ? -1 : 0;
}

/* One line with a key into e; 0, or -1 with a reason. */
static int
keytab_line(char *p, struct dkim_keytab_entry *e, char *reason, size_t rlen)
{
	if (keytab_word(&p, e->domain, sizeof e->domain) < 0 ||
	    keytab_name(e->domain, 1) < 0)
		snprintf(reason, rlen, "DOMAIN missing or not a domain name");
	else if (keytab_word(&p, e->selector, sizeof e->selector) < 0 ||
	    keytab_name(e->selector, 0) < 0)
		snprintf(reason, rlen, "SELECTOR missing or malformed "
		    "(RFC 6376 section 3.1)");
	else if (keytab_word(&p, e->path, sizeof e->path) < 0)
		snprintf(reason, rlen, "KEYFILE missing or too long; want "
		    "DOMAIN SELECTOR KEYFILE");
	else if (e->path[0] != '/')
		snprintf(reason, rlen, "KEYFILE %s is not an absolute path",
		    e->path);
	else if (p[strspn(p, KEYTAB_WS)] != '\0')
		snprintf(reason, rlen, "text after KEYFILE");
	else
		return 0;
	return -1;
}

/* Against the lines before it: the same selector twice, or too many
 * keys for one domain.  0, or -1 with a reason. */
static int
keytab_dup(const struct dkim_keytab_entry *e, size_t n, char *reason,
    size_t rlen)
{
	const struct dkim_keytab_entry *x = NULL;
	size_t same = 0;

	while ((x = dkim_keytab_find_next(e, n, e[n].domain, x)) != NULL) {
		if (strcmp(x->selector, e[n].selector) == 0) {
			snprintf(reason, rlen, "%s %s repeats line %d",
			    e[n].domain, e[n].selector, x->line);
			return -1;
		}
		same++;
	}
	if (same < DKIM_KEYTAB_PER_DOMAIN)
		return 0;
	snprintf(reason, rlen, "more than %d keys for %s (one RSA and one "
	    "Ed25519 key, RFC 8463 section 4)", DKIM_KEYTAB_PER_DOMAIN,
	    e[n].domain);
	return -1;
}

/* Room for entry n; 0 or -1 (out of memory or over DKIM_KEYTAB_MAX). */
static int
keytab_grow(struct dkim_keytab_entry **e, size_t n, size_t *cap, char *reason,
    size_t rlen)
{
	struct dkim_keytab_entry *g;
	size_t want = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return 0;
	if (n >= DKIM_KEYTAB_MAX) {
		snprintf(reason, rlen, "more than %d keys", DKIM_KEYTAB_MAX);
		return -1;
	}
	if ((g = realloc(*e, want * sizeof *g)) == NULL) {
		snprintf(reason, rlen, "out of memory");
		return -1;
	}
	*e = g;
	*cap = want;
	return 0;
}

/* The lines of f; as dkim_keytab_read. */
static int
keytab_lines(FILE *f, struct dkim_keytab_entry **e, int *badline,
    char *reason, size_t rlen)
{
	char line[DKIM_KEYTAB_LINE_MAX];
	size_t n = 0, cap = 0;
	int lineno = 0;

	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line + strspn(line, KEYTAB_WS);

		*badline = ++lineno;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(reason, rlen, "line longer than %d octets",
			    DKIM_KEYTAB_LINE_MAX - 2);
			return -1;
		}
		if (*p == '#' || *p == '\0')
			continue;
		if (keytab_grow(e, n, &cap, reason, rlen) < 0 ||
		    keytab_line(p, &(*e)[n], reason, rlen) < 0 ||
		    keytab_dup(*e, n, reason, rlen) < 0)
			return -1;
		(*e)[n++].line = lineno;
	}
	*badline = 0;
	return (int)n;
}

int
dkim_keytab_read(const char *path, struct dkim_keytab_entry **out,
    int *badline, char *reason, size_t rlen)
{
	FILE *f = fopen(path, "r");
	int n, err;

	*out = NULL;
	*badline = 0;
	if (f == NULL) {
		snprintf(reason, rlen, "%s", strerror(errno));
		return -1;
	}
	n = keytab_lines(f, out, badline, reason, rlen);
	err = ferror(f);
	fclose(f);
	if (n >= 0 && err) {
		snprintf(reason, rlen, "read error");
		n = -1;
	}
	if (n < 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}

int
dkim_keytab_load(const char *path, struct dkim_keytab_entry *e, size_t max,
    int *badline)
{
	struct dkim_keytab_entry *all;
	char reason[DKIM_REASON_MAX];
	int n = dkim_keytab_read(path, &all, badline, reason, sizeof reason);

	if (n < 0)
		return -1;
	if ((size_t)n > max) {
		*badline = all[max].line;
		n = -1;
	} else if (n > 0) {
		memcpy(e, all, (size_t)n * sizeof *e);
	}
	free(all);
	return n;
}

const struct dkim_keytab_entry *
dkim_keytab_find_next(const struct dkim_keytab_entry *e, size_t n,
    const char *domain, const struct dkim_keytab_entry *prev)
{
	for (size_t i = prev ? (size_t)(prev - e) + 1 : 0; i < n; i++)
		if (strcasecmp(e[i].domain, domain) == 0)
			return &e[i];
	return NULL;
}

const struct dkim_keytab_entry *
dkim_keytab_find(const struct dkim_keytab_entry *e, size_t n,
    const char *domain)
{
	return dkim_keytab_find_next(e, n, domain, NULL);
}
