/* evidence.c - the evidence kept with a suspension (see evidence.h). */
#include "engine/evidence.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

/* Room to build one evidence object before it is measured against the
 * caller's size: above the largest the bounded lists can make (about
 * 9 KB: 20 domains and 5 subjects of 128 octets, each escaped to at most
 * twice that, 10 IPs). */
#define EVIDENCE_BUILD_MAX	32768

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

/* How much of each list one writing keeps; smaller on a retry. */
struct evidence_cut {
	size_t ips, domains, subjects;
};

static const struct evidence_cut evidence_cuts[] = {
	{ BURST_IPS_MAX, EVIDENCE_DOMAINS_MAX, BURST_SUBJECTS_MAX },
	{ 5, 5, 3 },
	{ 2, 2, 1 },
};

/* Is s among l[0..n) (any case)? */
static int
evidence_has(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* A JSON array of the distinct strings of a[0..na) then b[0..nb) (b's
 * stride w octets), at most max of them. */
static void
evidence_list(struct buf *bf, const char *const *a, size_t na,
    const char *b, size_t nb, size_t w, size_t max, size_t len)
{
	const char *kept[EVIDENCE_DOMAINS_MAX + BURST_IPS_MAX];
	size_t n = 0;

	buf_puts(bf, "[");
	for (size_t i = 0; i < na + nb && n < max && n < sizeof kept /
	    sizeof kept[0]; i++) {
		const char *s = i < na ? a[i] : b + (i - na) * w;
		if (s == NULL || s[0] == '\0' || evidence_has(kept, n, s))
			continue;
		if (n)
			buf_puts(bf, ",");
		kept[n++] = s;
		evidence_str(bf, s, len);
	}
	buf_puts(bf, "]");
}

/* "counts": the limit's window, or every burst measure. */
static void
evidence_counts(struct buf *b, const struct evidence *e)
{
	char w[16];

	if (e->v != NULL) {
		buf_printf(b, ",\"counts\":{\"%us\":%u}", e->v->rule.window,
		    e->v->count);
		return;
	}
	burst_window_text(e->bp->ip_window, w, sizeof w);
	buf_printf(b, ",\"counts\":{\"messages/1h\":%u,\"domains/1h\":%u,"
	    "\"ips/%s\":%u,\"nets/%s\":%u,\"baseline/1h\":%u}",
	    e->stats->msgs_hour, e->stats->domains_hour, w, e->stats->ips, w,
	    e->stats->nets, burst_baseline(e->stats->base_msgs,
	    e->stats->base_hours));
}

/* The head: rule, window, limit, count, counts. */
static void
evidence_head(struct buf *b, const struct evidence *e)
{
	char rule[96];
	int64_t end = e->v != NULL ? e->v->window_end : e->last;
	uint32_t win = e->v != NULL ? e->v->rule.window : e->burst->window;

	if (e->v != NULL)
		evidence_rule(&e->v->rule, rule, sizeof rule);
	else
		snprintf(rule, sizeof rule, "%s", e->burst->text);
	buf_puts(b, "{\"rule\":");
	evidence_str(b, rule, sizeof rule);
	buf_printf(b, ",\"window_start\":%lld,\"window_end\":%lld,"
	    "\"limit\":%u,\"count\":%u", (long long)(end - win), (long long)end,
	    e->v != NULL ? e->v->rule.limit : e->burst->threshold,
	    e->v != NULL ? e->v->count : e->burst->count);
	evidence_counts(b, e);
}

/* {"a.test":12,...} from the activity. */
static void
evidence_top(struct buf *b, const struct burst_activity *a, size_t max)
{
	buf_puts(b, ",\"top_domains\":{");
	for (size_t i = 0; i < a->ndomains && i < max; i++) {
		if (i)
			buf_puts(b, ",");
		evidence_str(b, a->domain[i], EVIDENCE_TEXT_MAX);
		buf_printf(b, ":%u", a->domain_n[i]);
	}
	buf_puts(b, "}");
}

/* The newest max - 1 subjects of the activity, oldest first, then this
 * message's (when it differs from the last). */
static void
evidence_subjects(struct buf *b, const struct burst_activity *a,
    const char *subj, size_t max)
{
	const char *l[BURST_SUBJECTS_MAX + 1];
	size_t n = 0, from = 0;

	if (a != NULL && a->nsubjects + 1 > max)
		from = a->nsubjects + 1 - max;
	for (size_t i = from; a != NULL && i < a->nsubjects; i++)
		l[n++] = a->subject[i];
	if (subj != NULL && subj[0] != '\0' && (n == 0 ||
	    strcmp(l[n - 1], subj) != 0))
		l[n++] = subj;
	evidence_list(b, l, n, NULL, 0, 0, max, EVIDENCE_SUBJECT_MAX);
}

static void
evidence_write(struct buf *b, const struct evidence *e,
    const struct evidence_cut *c)
{
	const struct burst_activity *a = e->act;
	const char *subj = e->subject;
	int64_t first = a != NULL && a->msgs > 0 && a->first < e->first ?
	    a->first : e->first;

	evidence_head(b, e);
	buf_puts(b, ",\"client_ips\":");
	evidence_list(b, &e->client_ip, 1, a ? a->ip[0] : NULL, a ? a->nips : 0,
	    sizeof a->ip[0], c->ips, EVIDENCE_TEXT_MAX);
	buf_puts(b, ",\"helo\":");
	evidence_str(b, e->helo, EVIDENCE_TEXT_MAX);
	buf_puts(b, ",\"sender\":");
	evidence_str(b, e->sender, EVIDENCE_TEXT_MAX);
	buf_puts(b, ",\"rcpt_domains\":");
	evidence_list(b, e->domains, e->ndomains, a ? a->domain[0] : NULL,
	    a ? a->ndomains : 0, sizeof a->domain[0], c->domains,
	    EVIDENCE_TEXT_MAX);
	if (a != NULL) {
		evidence_top(b, a, c->domains);
		buf_printf(b, ",\"messages\":%u", a->msgs);
	}
	buf_printf(b, ",\"first\":%lld,\"last\":%lld,\"subjects\":",
	    (long long)first, (long long)e->last);
	evidence_subjects(b, a, subj, c->subjects);
	buf_puts(b, "}");
}

int
evidence_json(const struct evidence *e, char *out, size_t outlen)
{
	struct buf b;
	int rc = -1;

	for (size_t i = 0; rc < 0 && i < sizeof evidence_cuts /
	    sizeof evidence_cuts[0]; i++) {
		buf_init(&b, EVIDENCE_BUILD_MAX);
		evidence_write(&b, e, &evidence_cuts[i]);
		if (b.data != NULL && b.len < outlen) {
			snprintf(out, outlen, "%s", b.data);
			rc = 0;
		}
		buf_done(&b);
	}
	if (rc < 0 && outlen > 0)
		snprintf(out, outlen, "{}");
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
