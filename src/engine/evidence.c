/* evidence.c - the evidence kept with a suspension (see evidence.h). */
#include "engine/evidence.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

void
evidence_rule(const struct limits_rule *r, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s=%u/%us action=%s",
	    limits_thing_name(r->thing), r->limit, r->window,
	    limits_action_name(r->action));
}

/* A JSON string (RFC 8259 §7), cut at max octets of input; control and
 * non-ASCII octets become '?' (the evidence is for reading; at most
 * doubles in size). */
static void
evidence_str(struct buf *b, const char *s, size_t max)
{
	buf_puts(b, "\"");
	for (size_t i = 0; s != NULL && s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			buf_puts(b, "?");
		else
			buf_append(b, &s[i], 1);
	}
	buf_puts(b, "\"");
}

/* Distinct domains (any case), at most EVIDENCE_DOMAINS_MAX. */
static void
evidence_domains(struct buf *b, const struct evidence *e)
{
	size_t kept = 0;

	buf_puts(b, ",\"rcpt_domains\":[");
	for (size_t i = 0; i < e->ndomains && kept < EVIDENCE_DOMAINS_MAX; i++) {
		size_t j;
		for (j = 0; j < i; j++)
			if (strcasecmp(e->domains[j], e->domains[i]) == 0)
				break;
		if (j < i)
			continue;
		if (kept++)
			buf_puts(b, ",");
		evidence_str(b, e->domains[i], EVIDENCE_TEXT_MAX);
	}
	buf_puts(b, "]");
}

int
evidence_json(const struct evidence *e, char *out, size_t outlen)
{
	const struct limits_rule *r = &e->v->rule;
	char rule[96];
	struct buf b;
	int rc = 0;

	evidence_rule(r, rule, sizeof rule);
	buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	buf_puts(&b, "{\"rule\":");
	evidence_str(&b, rule, sizeof rule);
	buf_printf(&b, ",\"window_start\":%lld,\"window_end\":%lld,"
	    "\"limit\":%u,\"count\":%u,\"counts\":{\"%us\":%u}",
	    (long long)(e->v->window_end - r->window),
	    (long long)e->v->window_end, r->limit, e->v->count, r->window,
	    e->v->count);
	buf_puts(&b, ",\"client_ips\":[");
	if (e->client_ip != NULL)
		evidence_str(&b, e->client_ip, EVIDENCE_TEXT_MAX);
	buf_puts(&b, "],\"helo\":");
	evidence_str(&b, e->helo, EVIDENCE_TEXT_MAX);
	buf_puts(&b, ",\"sender\":");
	evidence_str(&b, e->sender, EVIDENCE_TEXT_MAX);
	evidence_domains(&b, e);
	buf_printf(&b, ",\"first\":%lld,\"last\":%lld,\"subjects\":[",
	    (long long)e->first, (long long)e->last);
	if (e->subject != NULL && e->subject[0])
		evidence_str(&b, e->subject, EVIDENCE_SUBJECT_MAX);
	if (buf_puts(&b, "]}") < 0 || b.data == NULL)
		rc = -1;
	snprintf(out, outlen, "%s", rc == 0 ? b.data : "{}");
	buf_done(&b);
	return rc;
}

/* Append the rest of a header line starting at p (unfolding continuation
 * lines, RFC 5322 §2.2.3).  Returns where the next field begins. */
static size_t
evidence_unfold(const char *msg, size_t len, size_t p, char *out,
    size_t outlen, size_t *o)
{
	while (p < len) {
		if (msg[p] == '\r' || msg[p] == '\n') {
			p += msg[p] == '\r' && p + 1 < len && msg[p + 1] == '\n' ?
			    2 : 1;		/* one line end */
			if (p >= len || (msg[p] != ' ' && msg[p] != '\t'))
				return p;
			continue;
		}
		if (*o + 1 < outlen) {
			unsigned char ch = (unsigned char)msg[p];
			out[(*o)++] = ch < 0x20 || ch >= 0x7f ? (ch == '\t' ?
			    ' ' : '?') : (char)ch;
		}
		p++;
	}
	return p;
}

int
evidence_subject(const char *msg, size_t len, char *out, size_t outlen)
{
	size_t p = 0, o = 0;

	out[0] = '\0';
	while (p < len && msg[p] != '\r' && msg[p] != '\n') {
		if (len - p > 8 && strncasecmp(msg + p, "Subject:", 8) == 0) {
			p += 8;
			while (p < len && (msg[p] == ' ' || msg[p] == '\t'))
				p++;
			evidence_unfold(msg, len, p, out, outlen, &o);
			out[o] = '\0';
			return 1;
		}
		p = evidence_unfold(msg, len, p, NULL, 0, &o);
	}
	return 0;
}
