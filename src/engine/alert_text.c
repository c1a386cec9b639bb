/* alert_text.c - what an alert says: its JSON, the mail's subject and
 * body, and the retry schedule (see alert.h).  No I/O. */
#include "engine/alert.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/utf8.h"

const char *
alert_kind_name(enum alert_kind k)
{
	switch (k) {
	case ALERT_SUSPENSION:
		return "suspension";
	case ALERT_ACCOUNT_LOCKOUT:
		return "account_lockout";
	case ALERT_IP_LOCKOUT:
		return "ip_lockout";
	case ALERT_CREDENTIAL_AGE:
		return "credential_age";
	case ALERT_CREDENTIAL_EXPIRY:
		return "credential_expiry";
	}
	return "?";
}

/* Unix seconds as 2026-11-23T06:30:00Z. */
static void
alert_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A JSON string (RFC 8259 §7): well-formed UTF-8 kept, other control
 * and stray octets as '?' (at most 6x the input). */
static void
alert_json_str(struct buf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, k;

	buf_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\u%04x", ch);
		else if (ch < 0x80)
			buf_append(b, &s[i], 1);
		else if ((k = utf8_seq((const unsigned char *)s + i, n - i)) > 0)
			buf_append(b, &s[i], k), i += k - 1;
		else
			buf_puts(b, "?");
	}
	buf_puts(b, "\"");
}

static int
alert_copy_out(struct buf *b, char *out, size_t outlen)
{
	int ok = b->data != NULL && b->len < outlen;

	if (outlen > 0)
		snprintf(out, outlen, "%s", ok ? b->data : "");
	buf_done(b);
	return ok ? 0 : -1;
}

int
alert_json(const struct alert *al, const char *hostname, char *out,
    size_t outlen)
{
	const char *ev = al->evidence;
	char when[32];
	struct buf b;

	buf_init(&b, ALERT_JSON_MAX);
	alert_time(al->time, when, sizeof when);
	buf_puts(&b, "{\"kind\":");
	alert_json_str(&b, alert_kind_name(al->kind));
	buf_puts(&b, ",\"name\":");
	alert_json_str(&b, al->name);
	buf_printf(&b, ",\"time\":\"%s\",\"host\":", when);
	alert_json_str(&b, hostname);
	buf_puts(&b, ",\"rule\":");
	alert_json_str(&b, al->rule);
	/* our own evidence_json output: an object, embedded as it is */
	buf_printf(&b, ",\"evidence\":%s", ev != NULL && ev[0] == '{' ? ev :
	    "{}");
	if (al->until > 0) {
		alert_time(al->until, when, sizeof when);
		buf_printf(&b, ",\"until\":\"%s\"", when);
	}
	buf_puts(&b, ",\"lift\":");
	alert_json_str(&b, al->lift);
	if (buf_puts(&b, "}") < 0)
		buf_reset(&b);
	return alert_copy_out(&b, out, outlen);
}

/* Text for a mail header or body: printable ASCII only, so nothing can
 * start a header line or need RFC 2047 encoding. */
static void
alert_text_str(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; s != NULL && i < len && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf_append(b, ch >= 0x20 && ch < 0x7f ? &s[i] : "?", 1);
	}
}

/* The subject's words before and after the name, by kind. */
static void
alert_subject_words(enum alert_kind k, const char **pre, const char **post)
{
	static const char *const words[][2] = {
		[ALERT_SUSPENSION] = { "jaga: ", " suspended (" },
		[ALERT_ACCOUNT_LOCKOUT] = { "jaga: account ", " locked out (" },
		[ALERT_IP_LOCKOUT] = { "jaga: IP ", " locked out (" },
		[ALERT_CREDENTIAL_AGE] = { "jaga: credential ",
		    " is due for rotation (" },
		[ALERT_CREDENTIAL_EXPIRY] = { "jaga: credential ",
		    " expires (" },
	};

	*pre = words[k][0];
	*post = words[k][1];
}

int
alert_subject(const struct alert *al, char *out, size_t outlen)
{
	const char *rule = al->rule != NULL ? al->rule : "", *pre, *post;
	struct buf b;

	buf_init(&b, 512);
	alert_subject_words(al->kind, &pre, &post);
	buf_puts(&b, pre);
	alert_text_str(&b, al->name, ALERT_TEXT_MAX);
	buf_puts(&b, post);
	/* "messages=30/60s action=suspend" reads "messages=30/60s" here */
	alert_text_str(&b, rule, al->kind == ALERT_SUSPENSION ?
	    strcspn(rule, " ") : ALERT_TEXT_MAX);
	buf_puts(&b, ")");
	return alert_copy_out(&b, out, outlen);
}

/* The end of the JSON value at p: a string, a number or word, or a
 * balanced object or array (strings inside skipped). */
static const char *
alert_json_skip(const char *p)
{
	int depth = 0, str = 0;

	for (; *p != '\0'; p++) {
		if (str) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"' && (str = 0) == 0 && depth == 0)
				return p + 1;
		} else if (*p == '"') {
			str = 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)		/* the end of the object */
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && *p == ',') {
			return p;
		}
	}
	return p;
}

/* The evidence object as "  key: value" lines (strings unquoted). */
static void
alert_evidence_text(struct buf *b, const char *ev)
{
	const char *p = ev, *k, *v;

	if (p == NULL || *p++ != '{')
		return;
	for (;;) {
		p += strspn(p, " \t\r\n,");
		if (*p != '"')
			return;
		k = p;
		if ((p = alert_json_skip(p)) - k < 2)
			return;
		buf_puts(b, "  ");
		alert_text_str(b, k + 1, (size_t)(p - k) - 2);
		p += strspn(p, " \t\r\n:");
		v = p;
		p = alert_json_skip(p);
		buf_puts(b, ": ");
		if (*v == '"' && p - v >= 2)
			alert_text_str(b, v + 1, (size_t)(p - v) - 2);
		else
			alert_text_str(b, v, (size_t)(p - v));
		buf_puts(b, "\n");
	}
}

/* What ends it: a suspension's command, a lockout's time; what a
 * credential alert asks for. */
static void
alert_body_lift(struct buf *b, const struct alert *al)
{
	char until[32];

	if (al->until > 0) {
		alert_time(al->until, until, sizeof until);
		buf_printf(b, "\nIt ends by itself at %s.\n", until);
	}
	buf_puts(b, al->kind == ALERT_CREDENTIAL_AGE || al->kind ==
	    ALERT_CREDENTIAL_EXPIRY ? "\nWhat to do: " : "\nTo lift it: ");
	alert_text_str(b, al->lift, ALERT_TEXT_MAX);
	buf_puts(b, "\n");
}

int
alert_body(const struct alert *al, const char *hostname, char *out,
    size_t outlen)
{
	static const char *const what[] = {
		[ALERT_SUSPENSION] = "suspended the identity",
		[ALERT_ACCOUNT_LOCKOUT] = "locked out the account",
		[ALERT_IP_LOCKOUT] = "locked out the client IP",
		[ALERT_CREDENTIAL_AGE] = "found past its maximum age the "
		    "credential",
		[ALERT_CREDENTIAL_EXPIRY] = "found near or past its expiry the "
		    "credential",
	};
	char when[32];
	struct buf b;

	buf_init(&b, ALERT_JSON_MAX);
	alert_time(al->time, when, sizeof when);
	buf_puts(&b, "jaga on ");
	alert_text_str(&b, hostname, ALERT_TEXT_MAX);
	buf_printf(&b, " %s ", what[al->kind]);
	alert_text_str(&b, al->name, ALERT_TEXT_MAX);
	buf_printf(&b, " at %s.\n\nRule: ", when);
	alert_text_str(&b, al->rule, ALERT_TEXT_MAX);
	buf_puts(&b, "\n\nEvidence:\n");
	alert_evidence_text(&b, al->evidence);
	alert_body_lift(&b, al);
	if (b.len > 0 && b.data != NULL && b.data[b.len - 1] != '\n')
		buf_reset(&b);		/* cut short: say nothing half */
	return alert_copy_out(&b, out, outlen);
}

int64_t
alert_retry_delay(int attempt, int64_t min_ms, int64_t max_ms)
{
	int64_t d = min_ms > 0 ? min_ms : 1;

	for (int i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

int
alert_retry_ok(int64_t created_ms, int64_t next_ms, int64_t retry_time_ms)
{
	return next_ms - created_ms <= retry_time_ms;
}
