/* dmarc_msg.c - the message side of DMARC: the RFC5322.From domain
 * (RFC 7489 §6.6.1) and the Authentication-Results resinfo (RFC 8601). */
#include "engine/dmarc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/sender.h"

#define DMARC_FROM_MAX	2048	/* octets of a From: value scanned */

/* The domain after at (an '@' or NULL) up to a delimiter, lowercase. */
static int
dmarc_domain_at(const char *at, char out[DNS_NAME_MAX + 1])
{
	size_t n = 0;

	if (at == NULL)
		return -1;
	for (at++; at[n] != '\0' && strchr("<>,; \t\"()", at[n]) == NULL; n++)
		if (n == DNS_NAME_MAX)
			return -1;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)at[i]);
	out[n] = '\0';
	return 0;
}

/* The unfolded value of the first From: field of the header block, into
 * out (size octets, truncated); 0, or -1 when there is none. */
static int
dmarc_from_value(const char *msg, size_t len, char *out, size_t size)
{
	const char *p = msg, *end = msg + len;
	size_t o = 0;

	while (p + 5 <= end && !(strncasecmp(p, "From:", 5) == 0)) {
		if (*p == '\r' || *p == '\n')
			return -1;	/* the empty line: end of header */
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return -1;
		p++;
	}
	if (p + 5 > end)
		return -1;
	for (p += 5; p < end && o + 1 < size; p++) {
		if (*p == '\n' && (p + 1 >= end || (p[1] != ' ' && p[1] != '\t')))
			break;
		if (*p != '\r' && *p != '\n')
			out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

/* OpenDMARC's leniency for a From: value GMime refuses: quoted strings and
 * comments dropped, the first address (up to a top-level ',') kept. */
static int
dmarc_from_lenient(const char *v, char out[DNS_NAME_MAX + 1])
{
	char clean[DMARC_FROM_MAX];
	size_t o = 0;
	int depth = 0, quoted = 0;

	for (; *v != '\0' && o + 1 < sizeof clean; v++) {
		if (quoted) {
			if (*v == '\\' && v[1] != '\0')
				v++;
			else if (*v == '"')
				quoted = 0;
		} else if (*v == '"' && depth == 0) {
			quoted = 1;
		} else if (*v == '(') {
			depth++;
		} else if (*v == ')' && depth > 0) {
			depth--;
		} else if (depth == 0) {
			if (*v == ',')
				break;
			clean[o++] = *v;
		}
	}
	clean[o] = '\0';
	return dmarc_domain_at(strchr(clean, '@'), out);
}

int
dmarc_from_domain(const char *msg, size_t len, char out[DNS_NAME_MAX + 1])
{
	char list[2 * SENDER_ADDR_MAX + 2], value[DMARC_FROM_MAX];
	enum sender_from st;
	char *nl;

	st = sender_from_extract(msg, len, list, sizeof list);
	if (st == SENDER_FROM_MISSING || st == SENDER_FROM_MULTIPLE)
		return -1;
	if (st == SENDER_FROM_OK) {
		if ((nl = strchr(list, '\n')) != NULL)
			*nl = '\0';
		else if (strlen(list) + 1 >= sizeof list)
			return -1;	/* the first mailbox was cut */
		return dmarc_domain_at(strrchr(list, '@'), out);
	}
	if (dmarc_from_value(msg, len, value, sizeof value) < 0)
		return -1;
	return dmarc_from_lenient(value, out);
}

size_t
dmarc_ar_resinfo(const struct dmarc_result *r, char *out, size_t outlen)
{
	int n;

	if (r->policy == DMARC_P_UNSET)
		n = snprintf(out, outlen, "dmarc=%s header.from=%s",
		    dmarc_res_name(r->result), r->from_domain);
	else
		n = snprintf(out, outlen, "dmarc=%s (p=%s sp=%s dis=%s) "
		    "header.from=%s", dmarc_res_name(r->result),
		    dmarc_policy_name(r->rec.p), dmarc_policy_name(r->rec.sp),
		    dmarc_disp_name(r->disposition), r->from_domain);
	return n < 0 ? 0 : (size_t)n;
}
