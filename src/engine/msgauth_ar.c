/* msgauth_ar.c - the Authentication-Results header field jaga writes
 * (RFC 8601 §2.2): one resinfo per line, folded (RFC 5322 §2.2.3) at
 * MSGAUTH_AR_COLS where possible.  Every word is bounded (a domain, an
 * address of RFC 5321 size, a reason of DKIM_REASON_MAX or 128), so no
 * line comes near the 998 of RFC 5322 §2.1.1. */
#include "engine/msgauth.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSGAUTH_WORD_MAX 1024	/* one word: "smtp.mailfrom=" and an
				 * address of 2 * DNS_NAME_MAX + 1 */
#define MSGAUTH_TAB	8	/* columns of the TAB starting a line */

struct msgauth_w {
	char *out;
	size_t outlen;
	size_t len;		/* octets needed so far */
	size_t col;		/* on the current line, the TAB as 8 */
};

/* Append n octets (truncated to fit, always NUL-terminated). */
static void
msgauth_put(struct msgauth_w *w, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, w->len++)
		if (w->len + 1 < w->outlen)
			w->out[w->len] = s[i];
	if (w->outlen > 0)
		w->out[w->len < w->outlen ? w->len : w->outlen - 1] = '\0';
	w->col += n;
}

/* A new line: "\tresinfo" starts one, "\t  " continues one. */
static void
msgauth_newline(struct msgauth_w *w, int cont)
{
	msgauth_put(w, cont ? "\r\n\t  " : "\r\n\t", cont ? 5 : 3);
	w->col = MSGAUTH_TAB + (cont ? 2 : 0);
}

/* A word after a space, or on a continuation line when it would pass
 * MSGAUTH_AR_COLS. */
static void
msgauth_word(struct msgauth_w *w, const char *s, size_t n)
{
	if (w->col + 1 + n > MSGAUTH_AR_COLS && w->col > MSGAUTH_TAB + 2)
		msgauth_newline(w, 1);
	else
		msgauth_put(w, " ", 1);
	msgauth_put(w, s, n);
}

static void
msgauth_wordf(struct msgauth_w *w, const char *fmt, ...)
{
	char buf[MSGAUTH_WORD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		msgauth_word(w, buf, (size_t)n < sizeof buf ? (size_t)n :
		    sizeof buf - 1);
}

/* A comment (RFC 5322 §3.2.2), '(' ')' '\' escaped, control octets
 * dropped, folded at its spaces. */
static void
msgauth_comment(struct msgauth_w *w, const char *text)
{
	char buf[MSGAUTH_WORD_MAX];
	size_t o = 0, start = 0, i;

	buf[o++] = '(';
	for (; *text != '\0' && o + 3 < sizeof buf; text++) {
		if ((unsigned char)*text < 32 || *text == 127)
			continue;
		if (strchr("()\\", *text) != NULL)
			buf[o++] = '\\';
		buf[o++] = *text;
	}
	buf[o++] = ')';
	for (i = 0; i <= o; i++)
		if (i == o || buf[i] == ' ') {
			if (i > start)
				msgauth_word(w, buf + start, i - start);
			start = i + 1;
		}
}

/* An octet authres_parse takes in an unquoted pvalue (RFC 8601 §2.2). */
static int
msgauth_pchar(int ch)
{
	return ch >= 128 ||
	    (ch > 32 && ch < 127 && strchr("()<>,;\\\"[]", ch) == NULL);
}

/* "ptype.property=value", the value quoted when it needs to be. */
static void
msgauth_prop(struct msgauth_w *w, const char *name, const char *value)
{
	char q[MSGAUTH_WORD_MAX / 2];
	size_t i, o = 0;
	int plain = value[0] != '\0';

	for (i = 0; value[i] != '\0'; i++)
		plain = plain && msgauth_pchar((unsigned char)value[i]);
	if (plain) {
		msgauth_wordf(w, "%s=%s", name, value);
		return;
	}
	for (i = 0; value[i] != '\0' && o + 2 < sizeof q; i++) {
		if ((unsigned char)value[i] < 32 || value[i] == 127)
			continue;
		if (value[i] == '"' || value[i] == '\\')
			q[o++] = '\\';
		q[o++] = value[i];
	}
	q[o] = '\0';
	msgauth_wordf(w, "%s=\"%s\"", name, q);
}

/* One resinfo starts: ";" ends the previous line. */
static void
msgauth_resinfo(struct msgauth_w *w, const char *method, const char *result)
{
	msgauth_put(w, ";", 1);
	msgauth_newline(w, 0);
	msgauth_put(w, method, strlen(method));
	msgauth_put(w, "=", 1);
	msgauth_put(w, result, strlen(result));
}

/* spf: MAIL FROM (smtp.mailfrom) and the HELO identity (smtp.helo); for
 * <> one resinfo, the HELO identity's (RFC 7208 §2.4). */
static void
msgauth_ar_spf(struct msgauth_w *w, const struct msgauth_res *r)
{
	const struct spf_result *s = &r->spf_mfrom;

	msgauth_resinfo(w, "spf", spf_res_name(s->result));
	if (s->problem[0] != '\0')
		msgauth_comment(w, s->problem);
	if (s->helo_identity) {
		if (s->helo[0] != '\0')
			msgauth_prop(w, "smtp.helo", s->helo);
		return;
	}
	msgauth_prop(w, "smtp.mailfrom", s->sender);
	if (!r->helo_checked)
		return;
	s = &r->spf_helo;
	msgauth_resinfo(w, "spf", spf_res_name(s->result));
	if (s->problem[0] != '\0')
		msgauth_comment(w, s->problem);
	msgauth_prop(w, "smtp.helo", s->helo);
}

/* dkim: one resinfo per signature (RFC 8601 §2.7.1, RFC 6008 §4). */
static void
msgauth_ar_dkim(struct msgauth_w *w, const struct msgauth_res *r)
{
	size_t i;

	if (r->ndkim == 0)
		msgauth_resinfo(w, "dkim", "none");
	for (i = 0; i < r->ndkim; i++) {
		const struct dkim_res *d = &r->dkim[i];

		msgauth_resinfo(w, "dkim", dkim_result_name(d->result));
		if (d->reason[0] != '\0')
			msgauth_comment(w, d->reason);
		if (d->d[0] == '\0')
			continue;	/* the signature did not parse */
		msgauth_prop(w, "header.d", d->d);
		msgauth_prop(w, "header.s", d->s);
		msgauth_prop(w, "header.a", dkim_alg_name(d->alg));
		if (r->dkim_b[i][0] != '\0')
			msgauth_prop(w, "header.b", r->dkim_b[i]);
	}
}

/* dmarc: as dmarc_ar_resinfo writes it, folded, with the problem of a
 * temperror or permerror as a comment. */
static void
msgauth_ar_dmarc(struct msgauth_w *w, const struct dmarc_result *d)
{
	char c[128];

	msgauth_resinfo(w, "dmarc", dmarc_res_name(d->result));
	if (d->policy != DMARC_P_UNSET) {
		snprintf(c, sizeof c, "p=%s sp=%s dis=%s",
		    dmarc_policy_name(d->rec.p), dmarc_policy_name(d->rec.sp),
		    dmarc_disp_name(d->disposition));
		msgauth_comment(w, c);
	} else if (d->problem[0] != '\0') {
		msgauth_comment(w, d->problem);
	}
	if (d->from_domain[0] != '\0')
		msgauth_prop(w, "header.from", d->from_domain);
}

size_t
msgauth_ar_header(const struct msgauth_res *r, const char *servid,
    char *out, size_t outlen)
{
	struct msgauth_w w = { out, outlen, 0, 0 };
	int plain = servid[0] != '\0';

	for (size_t i = 0; servid[i] != '\0'; i++)
		plain = plain && strchr("()<>@,;:\\\"/[]?= ", servid[i]) ==
		    NULL && (unsigned char)servid[i] > 32;
	msgauth_put(&w, "Authentication-Results:", 23);
	msgauth_wordf(&w, plain ? "%s" : "\"%s\"", servid);
	msgauth_ar_spf(&w, r);
	msgauth_ar_dkim(&w, r);
	msgauth_ar_dmarc(&w, &r->dmarc);
	msgauth_put(&w, "\r\n", 2);
	return w.len;
}
