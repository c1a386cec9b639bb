/* dkim_dnsfile.c - a struct dns_lookup answering TXT queries from a file,
 * for tests and for "jaga dkim verify --dns-file" before a resolver is at
 * hand.  One record a line, as in the test suites' zone extracts:
 *
 *   brisbane._domainkey.example.com. IN TXT "v=DKIM1; k=ed25519; p=..."
 *   name "string" "string"       (strings joined, RFC 7208 §3.3)
 *   name IN TXT ( "string" "string" )
 *   name bare text to the end of the line
 *   name SERVFAIL                 (the query fails: DNS_TEMPFAIL)
 *
 * ';' and '#' start comments.  A name without TXT lines is NXDOMAIN. */
#include "engine/dkim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DNSFILE_MAX 256

struct dnsfile_rec {
	char name[DNS_NAME_MAX + 1];
	char txt[DNS_TXT_MAX + 1];
	size_t len;
	int servfail;
};

struct dnsfile {
	struct dns_lookup l;
	struct dnsfile_rec *rec;
	size_t n;
};

/* "a" "b" joined, or the bare rest of the line. */
static size_t
dnsfile_value(const char *p, char *out, size_t cap)
{
	size_t n = 0, e;

	if (*p != '"') {
		e = strcspn(p, "\r\n");
		while (e > 0 && isspace((unsigned char)p[e - 1]))
			e--;
		n = e < cap ? e : cap - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return n;
	}
	while (*p == '"') {
		for (p++; *p && *p != '"' && n + 1 < cap; p++) {
			if (*p == '\\' && p[1])
				p++;
			out[n++] = *p;
		}
		if (*p == '"')
			p++;
		p += strspn(p, " \t");
	}
	out[n] = '\0';
	return n;
}

static int
dnsfile_line(char *line, struct dnsfile_rec *r)
{
	char *p = line + strspn(line, " \t"), *tok;
	size_t nl;

	if (*p == ';' || *p == '#' || *p == '\n' || *p == '\0')
		return 0;
	nl = strcspn(p, " \t\r\n");
	if (nl == 0 || nl > DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < nl; i++)
		r->name[i] = (char)tolower((unsigned char)p[i]);
	r->name[nl - (p[nl - 1] == '.')] = '\0';
	for (p += nl;;) {	/* skip TTL, IN, TXT */
		p += strspn(p, " \t");
		tok = p;
		nl = strcspn(p, " \t\r\n");
		if ((nl == 2 && strncasecmp(tok, "IN", 2) == 0) ||
		    (nl == 3 && strncasecmp(tok, "TXT", 3) == 0) ||
		    (nl > 0 && strspn(tok, "0123456789") == nl))
			p += nl;
		else
			break;
	}
	if (*p == '(')		/* ( "a" "b" ) as keygen prints it */
		p += 1 + strspn(p + 1, " \t");
	r->servfail = strncmp(p, "SERVFAIL", 8) == 0;
	r->len = dnsfile_value(p, r->txt, sizeof r->txt);
	return 1;
}

static int
dnsfile_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct dnsfile *t = (struct dnsfile *)l;

	if (name == NULL)
		return -1;
	memset(out, 0, offsetof(struct dns_result, rr));
	out->txtused = 0;
	out->status = DNS_NXDOMAIN;
	for (size_t i = 0; i < t->n; i++) {
		struct dnsfile_rec *r = &t->rec[i];
		struct dns_rr *rr = &out->rr[out->n];

		if (strcasecmp(r->name, name) != 0)
			continue;
		if (r->servfail) {
			out->status = DNS_TEMPFAIL;
			out->n = 0;
			return 0;
		}
		if (type != DNS_T_TXT || out->n == DNS_RR_MAX ||
		    out->txtused + r->len + 1 > sizeof out->txtbuf) {
			out->status = out->n ? DNS_OK : DNS_NODATA;
			continue;
		}
		memset(rr, 0, sizeof *rr);
		rr->type = DNS_T_TXT;
		rr->txt = out->txtbuf + out->txtused;
		memcpy(rr->txt, r->txt, r->len + 1);
		rr->txtlen = r->len;
		out->txtused += r->len + 1;
		out->n++;
		out->status = DNS_OK;
	}
	return 0;
}

static void
dnsfile_free(struct dns_lookup *l)
{
	struct dnsfile *t = (struct dnsfile *)l;

	free(t->rec);
	free(t);
}

struct dns_lookup *
dkim_dnsfile_new(const char *path)
{
	struct dnsfile *t = calloc(1, sizeof *t);
	char line[2 * DNS_TXT_MAX];
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (t == NULL || f == NULL ||
	    (t->rec = calloc(DNSFILE_MAX, sizeof *t->rec)) == NULL) {
		if (f != NULL)
			fclose(f);
		free(t);
		return NULL;
	}
	t->l.query = dnsfile_query;
	t->l.free = dnsfile_free;
	while (rc >= 0 && t->n < DNSFILE_MAX && fgets(line, sizeof line, f))
		if ((rc = dnsfile_line(line, &t->rec[t->n])) > 0)
			t->n++;
	fclose(f);
	if (rc < 0) {
		dnsfile_free(&t->l);
		return NULL;
	}
	return &t->l;
}
