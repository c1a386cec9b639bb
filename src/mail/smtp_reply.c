/* smtp_reply.c - incremental parser for SMTP replies from a next hop.
 *
 * RFC 5321 §4.2.1: every line is "NNN-text" (more follow) or "NNN text" /
 * "NNN" (the last); all lines carry the same code.  RFC 2034 §4 / RFC 3463
 * §2: the text of each line may start with "class.subject.detail ", class
 * equal to the first digit of the code.  Lines are bounded by RFC 5321
 * §4.5.3.1.5 (512 octets with CRLF) and the count by SMTP_REPLY_LINES_MAX.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/smtp_reply.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof *r);
}

void
smtp_reply_set(struct smtp_reply *r, int code, const char *enh,
    const char *text)
{
	smtp_reply_init(r);
	r->code = code;
	snprintf(r->enh, sizeof r->enh, "%s", enh != NULL ? enh : "");
	snprintf(r->text, sizeof r->text, "%s", text != NULL ? text : "");
	r->nlines = 1;
}

/* Up to three digits (RFC 3463 §2: subject and detail are 1-3 digits);
 * returns how many were read. */
static size_t
smtp_reply_digits(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 4 && isdigit((unsigned char)s[i]))
		i++;
	return i >= 1 && i <= 3 ? i : 0;
}

/* RFC 3463 §2 "class.subject.detail" at s; class must match the reply's
 * first digit (RFC 2034 §4).  Returns its length, or 0 when absent. */
static size_t
smtp_reply_enh_len(const char *s, size_t len, char cls)
{
	size_t i, n;

	if (len < 5 || s[0] != cls || s[1] != '.')
		return 0;
	i = 2;
	if ((n = smtp_reply_digits(s + i, len - i)) == 0)
		return 0;
	i += n;
	if (i >= len || s[i] != '.')
		return 0;
	i++;
	if ((n = smtp_reply_digits(s + i, len - i)) == 0)
		return 0;
	i += n;
	if (i < len && s[i] != ' ')
		return 0;
	return i;
}

/* Copy text, turning control bytes into '?' so that a reply text passed on
 * to our client can never smuggle a line break (RFC 5321 §4.2: text is
 * printable US-ASCII, SP and HT). */
static void
smtp_reply_copy_text(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i;

	if (len >= dstlen)
		len = dstlen - 1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[i] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' :
		    (char)ch;
	}
	dst[len] = '\0';
}

static void
smtp_reply_first_line(struct smtp_reply *r, const char *text, size_t len)
{
	size_t n = smtp_reply_enh_len(text, len, (char)('0' + r->code / 100));

	if (n > 0) {
		memcpy(r->enh, text, n);
		r->enh[n] = '\0';
		text += n;
		len -= n;
		while (len > 0 && *text == ' ') {
			text++;
			len--;
		}
	}
	smtp_reply_copy_text(r->text, sizeof r->text, text, len);
}

/* SIZE value (RFC 1870 §4): digits, bounded so it cannot overflow. */
static unsigned long
smtp_reply_size_value(const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < len && isdigit((unsigned char)s[i]); i++) {
		if (v > (~0UL - 9) / 10)
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return i == len ? v : 0;
}

/* AUTH mechanisms (RFC 4954 §3), also the old "AUTH=..." form. */
static unsigned
smtp_reply_auth_mechs(const char *s, size_t len)
{
	unsigned caps = 0;
	size_t i = 0, n;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '='))
			i++;
		for (n = 0; i + n < len && s[i + n] != ' '; n++)
			;
		if (n == 5 && strncasecmp(s + i, "PLAIN", 5) == 0)
			caps |= SMTP_CAP_AUTH_PLAIN;
		else if (n == 5 && strncasecmp(s + i, "LOGIN", 5) == 0)
			caps |= SMTP_CAP_AUTH_LOGIN;
		i += n;
	}
	return caps;
}

static const struct {
	const char *kw;
	unsigned cap;
} smtp_reply_kwtab[] = {
	{ "PIPELINING", SMTP_CAP_PIPELINING },
	{ "SIZE", SMTP_CAP_SIZE },
	{ "8BITMIME", SMTP_CAP_8BITMIME },
	{ "STARTTLS", SMTP_CAP_STARTTLS },
	{ "SMTPUTF8", SMTP_CAP_SMTPUTF8 },
	{ "ENHANCEDSTATUSCODES", SMTP_CAP_ENHANCEDSTATUSCODES },
	{ "CHUNKING", SMTP_CAP_CHUNKING },
	{ "DSN", SMTP_CAP_DSN },
};

/* One EHLO keyword line (RFC 5321 §4.1.1.1: ehlo-keyword *(SP param)). */
static void
smtp_reply_ehlo_line(struct smtp_reply *r, const char *s, size_t len)
{
	size_t kwlen, i;

	for (kwlen = 0; kwlen < len && s[kwlen] != ' ' && s[kwlen] != '=';
	    kwlen++)
		;
	if (kwlen == 4 && strncasecmp(s, "AUTH", 4) == 0) {
		r->ehlo_caps |= smtp_reply_auth_mechs(s + 4, len - 4);
		return;
	}
	for (i = 0; i < sizeof smtp_reply_kwtab / sizeof smtp_reply_kwtab[0];
	    i++) {
		if (strlen(smtp_reply_kwtab[i].kw) == kwlen &&
		    strncasecmp(s, smtp_reply_kwtab[i].kw, kwlen) == 0)
			r->ehlo_caps |= smtp_reply_kwtab[i].cap;
	}
	if (kwlen == 4 && strncasecmp(s, "SIZE", 4) == 0 && len > 5 &&
	    s[4] == ' ')
		r->size_max = smtp_reply_size_value(s + 5, len - 5);
}

/* "NNN" with N a digit and the first in 2..5 (RFC 5321 §4.2). */
static int
smtp_reply_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

enum smtp_reply_state
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len, int ehlo)
{
	int code = smtp_reply_code(line, len);
	int last;

	/* RFC 5321 §4.5.3.1.5: 512 octets including CRLF. */
	if (len > SMTP_REPLYLINE_MAX - 2 || code < 0)
		return REPLY_EBAD;
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return REPLY_EBAD;
	if ((r->nlines > 0 && code != r->code) ||
	    r->nlines >= SMTP_REPLY_LINES_MAX)
		return REPLY_EBAD;
	last = len == 3 || line[3] == ' ';
	line += len > 3 ? 4 : 3;
	len -= len > 3 ? 4 : 3;
	if (r->nlines == 0) {
		r->code = code;
		smtp_reply_first_line(r, line, len);
	} else if (ehlo && code == 250) {
		/* The first line of an EHLO reply is the greeting, the
		 * following ones are keywords (RFC 5321 §4.1.1.1). */
		smtp_reply_ehlo_line(r, line, len);
	}
	r->nlines++;
	return last ? REPLY_DONE : REPLY_MORE;
}
