/* dns_table.c - a dns_lookup answering from records added in memory, for
 * the tests of SPF, DKIM and DMARC (see dns.h for the semantics). */
#include "engine/dns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_CNAME_HOPS 8	/* like BIND's and pyspf's chain limits */

struct table_rec {
	char name[DNS_NAME_MAX + 1];
	int type;		/* enum dns_type, or 0: the name exists */
	int timeout;		/* every query TEMPFAIL (dns_table_timeout) */
	uint8_t addr[16];
	uint16_t pref;
	char target[DNS_NAME_MAX + 1];
	char *txt;		/* owned; NULL for no text */
	size_t txtlen;
};

struct dns_table {
	struct dns_lookup l;	/* first: the lookup is the table */
	struct table_rec *rec;
	size_t n, cap;
};

/* A new record for name at the end of the table, or NULL. */
static struct table_rec *
table_rec_new(struct dns_lookup *l, const char *name, int type)
{
	struct dns_table *t = (struct dns_table *)l;
	struct table_rec *r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		if (t->n >= DNS_TABLE_MAX)
			return NULL;
		r = realloc(t->rec, cap * sizeof *r);
		if (r == NULL)
			return NULL;
		t->rec = r;
		t->cap = cap;
	}
	r = &t->rec[t->n];
	memset(r, 0, sizeof *r);
	if (dns_name_norm(name, r->name) != 0)
		return NULL;
	r->type = type;
	t->n++;
	return r;
}

/* Undo the last table_rec_new after its data turned out bad. */
static int
table_rec_undo(struct dns_lookup *l)
{
	struct dns_table *t = (struct dns_table *)l;

	t->n--;
	free(t->rec[t->n].txt);
	return -1;
}

/* A target name: a host name, or "." / "" for the root (RFC 7505 null
 * MX), stored as "". */
static int
table_target(const char *s, char out[DNS_NAME_MAX + 1])
{
	if (strcmp(s, ".") == 0 || s[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	return dns_name_norm(s, out);
}

/* MX data "PREF HOST" or "HOST" (preference 0). */
static int
table_mx(struct table_rec *r, const char *data)
{
	const char *host = data;
	char *end;
	unsigned long pref;

	if (data[0] >= '0' && data[0] <= '9') {
		errno = 0;
		pref = strtoul(data, &end, 10);
		if (errno != 0 || pref > 65535 || *end != ' ')
			return -1;
		r->pref = (uint16_t)pref;
		host = end + strspn(end, " ");
	}
	return table_target(host, r->target);
}

int
dns_table_add(struct dns_lookup *l, const char *name, enum dns_type type,
    const char *data)
{
	struct table_rec *r;
	int rc = -1;

	if (type == DNS_T_TXT || type == DNS_T_SPF)
		return dns_table_add_txt(l, name, type, &data, 1);
	if ((r = table_rec_new(l, name, type)) == NULL)
		return -1;
	switch (type) {
	case DNS_T_A:
		rc = inet_pton(AF_INET, data, r->addr) == 1 ? 0 : -1;
		break;
	case DNS_T_AAAA:
		rc = inet_pton(AF_INET6, data, r->addr) == 1 ? 0 : -1;
		break;
	case DNS_T_MX:
		rc = table_mx(r, data);
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		rc = table_target(data, r->target);
		break;
	default:
		break;
	}
	return rc == 0 ? 0 : table_rec_undo(l);
}

int
dns_table_add_txt(struct dns_lookup *l, const char *name,
    enum dns_type type, const char *const *strs, size_t n)
{
	struct table_rec *r;
	size_t i, len = 0;

	if (type != DNS_T_TXT && type != DNS_T_SPF)
		return -1;
	for (i = 0; i < n; i++)
		len += strlen(strs[i]);
	if (len > DNS_TXT_MAX || (r = table_rec_new(l, name, type)) == NULL)
		return -1;
	if ((r->txt = malloc(len + 1)) == NULL)
		return table_rec_undo(l);
	for (i = 0; i < n; i++) {
		size_t sl = strlen(strs[i]);

		memcpy(r->txt + r->txtlen, strs[i], sl);
		r->txtlen += sl;
	}
	r->txt[r->txtlen] = '\0';
	return 0;
}

int
dns_table_add_name(struct dns_lookup *l, const char *name)
{
	return table_rec_new(l, name, 0) ? 0 : -1;
}

int
dns_table_timeout(struct dns_lookup *l, const char *name)
{
	struct table_rec *r = table_rec_new(l, name, 0);

	if (r == NULL)
		return -1;
	r->timeout = 1;
	return 0;
}

/* Copy one stored record of the type asked into out. */
static void
table_copy(struct dns_result *out, const struct table_rec *r)
{
	struct dns_rr *rr = dns_result_push(out, r->type, DNS_TABLE_TTL);

	if (rr == NULL)
		return;
	memcpy(rr->addr, r->addr, sizeof rr->addr);
	rr->pref = r->pref;
	memcpy(rr->name, r->target, sizeof rr->name);
	if (r->txt != NULL && dns_result_txt(out, rr, r->txt, r->txtlen) != 0)
		dns_result_drop(out);
}

/* Answer name (normalized) without following a CNAME.  Returns the
 * status, or DNS_OK with out->n == 0 and *cname set to follow it. */
static enum dns_status
table_answer(const struct dns_table *t, const char *name, enum dns_type type,
    struct dns_result *out, const char **cname)
{
	int exists = 0, timeout = 0;
	size_t i;

	*cname = NULL;
	for (i = 0; i < t->n; i++) {
		const struct table_rec *r = &t->rec[i];

		if (strcmp(r->name, name) != 0)
			continue;
		exists = 1;
		timeout |= r->timeout;
		if (r->type == (int)type)
			table_copy(out, r);
		else if (r->type == DNS_T_CNAME)
			*cname = r->target;
	}
	if (out->n > 0 || out->truncated > 0)
		return DNS_OK;
	if (timeout)
		return DNS_TEMPFAIL;
	if (*cname != NULL && (*cname)[0] != '\0')
		return DNS_OK;
	*cname = NULL;
	return exists ? DNS_NODATA : DNS_NXDOMAIN;
}

static int
table_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	const struct dns_table *t = (const struct dns_table *)l;
	char cur[DNS_NAME_MAX + 1];
	const char *cname;
	int hop;

	if (name == NULL)
		return -1;
	dns_result_init(out, DNS_PERMFAIL);
	if (dns_name_norm(name, cur) != 0)
		return 0;
	/* RFC 1034 §3.6.2: the answer to a name with a CNAME is the
	 * target's, unless the CNAME itself is asked for */
	for (hop = 0; hop <= TABLE_CNAME_HOPS; hop++) {
		out->status = table_answer(t, cur, type, out, &cname);
		if (cname == NULL) {
			if (out->status != DNS_TEMPFAIL)
				out->ttl = DNS_TABLE_TTL;
			return 0;
		}
		memmove(cur, cname, strlen(cname) + 1);
	}
	out->status = DNS_TEMPFAIL;	/* a loop: a resolver's SERVFAIL */
	return 0;
}

static void
table_free(struct dns_lookup *l)
{
	struct dns_table *t = (struct dns_table *)l;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rec[i].txt);
	free(t->rec);
	free(t);
}

struct dns_lookup *
dns_table_new(void)
{
	struct dns_table *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	t->l.query = table_query;
	t->l.free = table_free;
	return &t->l;
}
