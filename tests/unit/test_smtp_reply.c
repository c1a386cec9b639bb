/* test_smtp_reply.c - the next hop reply parser, table-driven. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "mail/smtp_reply.h"

#define MAXL 8

struct reply_case {
	const char *name;
	const char *lines[MAXL];
	int ehlo;
	int want_rc;		/* state after the last line */
	int want_code;
	const char *want_enh;
	const char *want_text;
	int want_nlines;
	unsigned want_caps;
	unsigned long want_size;
};

static const struct reply_case reply_cases[] = {
	{ "plain", { "250 OK" }, 0, REPLY_DONE, 250, "", "OK", 1, 0, 0 },
	{ "enhanced", { "250 2.1.0 Sender ok" }, 0, REPLY_DONE, 250, "2.1.0",
	    "Sender ok", 1, 0, 0 },
	{ "enhanced 3 digits", { "550 5.123.999 no" }, 0, REPLY_DONE, 550,
	    "5.123.999", "no", 1, 0, 0 },
	{ "enhanced alone", { "451 4.4.1" }, 0, REPLY_DONE, 451, "4.4.1", "",
	    1, 0, 0 },
	{ "enhanced class mismatch", { "550 4.7.1 odd" }, 0, REPLY_DONE, 550,
	    "", "4.7.1 odd", 1, 0, 0 },
	{ "enhanced too many digits", { "550 5.1000.1 x" }, 0, REPLY_DONE,
	    550, "", "5.1000.1 x", 1, 0, 0 },
	{ "enhanced glued", { "250 2.0.0ok" }, 0, REPLY_DONE, 250, "",
	    "2.0.0ok", 1, 0, 0 },
	{ "bare code", { "354" }, 0, REPLY_DONE, 354, "", "", 1, 0, 0 },
	{ "empty text", { "220 " }, 0, REPLY_DONE, 220, "", "", 1, 0, 0 },
	{ "multi-line", { "250-first", "250-second", "250 last" }, 0,
	    REPLY_DONE, 250, "", "first", 3, 0, 0 },
	{ "multi-line unfinished", { "250-first", "250-second" }, 0,
	    REPLY_MORE, 250, "", "first", 2, 0, 0 },
	{ "bare continuation", { "250-", "250 x" }, 0, REPLY_DONE, 250, "",
	    "", 2, 0, 0 },
	{ "mixed codes", { "250-a", "251 b" }, 0, REPLY_EBAD, 0, NULL, NULL,
	    0, 0, 0 },
	{ "short", { "25" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0, 0 },
	{ "empty", { "" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0, 0 },
	{ "letters", { "abc def" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0, 0 },
	{ "1yz", { "150 go" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0, 0 },
	{ "6yz", { "650 no" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0, 0 },
	{ "bad separator", { "250_x" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0,
	    0 },
	{ "HTTP", { "HTTP/1.1 400 Bad" }, 0, REPLY_EBAD, 0, NULL, NULL, 0, 0,
	    0 },
	{ "control bytes", { "550 5.0.0 a\rb\x7f" "c" }, 0, REPLY_DONE, 550,
	    "5.0.0", "a?b?c", 1, 0, 0 },
	{ "ehlo full", { "250-mx.example.org Hello", "250-PIPELINING",
	    "250-SIZE 10240000", "250-8BITMIME", "250-STARTTLS",
	    "250-AUTH PLAIN LOGIN", "250-ENHANCEDSTATUSCODES",
	    "250 SMTPUTF8" }, 1, REPLY_DONE, 250, "", "mx.example.org Hello",
	    8, SMTP_CAP_PIPELINING | SMTP_CAP_SIZE | SMTP_CAP_8BITMIME |
	    SMTP_CAP_STARTTLS | SMTP_CAP_AUTH_PLAIN | SMTP_CAP_AUTH_LOGIN |
	    SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_SMTPUTF8, 10240000 },
	{ "ehlo lower, chunking, dsn", { "250-x", "250-chunking",
	    "250-dsn", "250 starttls" }, 1, REPLY_DONE, 250, "", "x", 4,
	    SMTP_CAP_CHUNKING | SMTP_CAP_DSN | SMTP_CAP_STARTTLS, 0 },
	{ "ehlo AUTH= form", { "250-x", "250-AUTH=LOGIN PLAIN", "250 AUTH "
	    "CRAM-MD5" }, 1, REPLY_DONE, 250, "", "x", 3,
	    SMTP_CAP_AUTH_LOGIN | SMTP_CAP_AUTH_PLAIN, 0 },
	{ "ehlo AUTH other", { "250-x", "250 AUTH CRAM-MD5 PLAINX" }, 1,
	    REPLY_DONE, 250, "", "x", 2, 0, 0 },
	{ "ehlo SIZE no value", { "250-x", "250 SIZE" }, 1, REPLY_DONE, 250,
	    "", "x", 2, SMTP_CAP_SIZE, 0 },
	{ "ehlo SIZE junk", { "250-x", "250 SIZE 12ab" }, 1, REPLY_DONE, 250,
	    "", "x", 2, SMTP_CAP_SIZE, 0 },
	{ "ehlo SIZE overflow", { "250-x",
	    "250 SIZE 999999999999999999999999999" }, 1, REPLY_DONE, 250, "",
	    "x", 2, SMTP_CAP_SIZE, 0 },
	{ "ehlo keyword prefix", { "250-x", "250-STARTTLSX", "250 SIZEX 5" },
	    1, REPLY_DONE, 250, "", "x", 3, 0, 0 },
	{ "ehlo greeting line not a keyword", { "250 STARTTLS" }, 1,
	    REPLY_DONE, 250, "", "STARTTLS", 1, 0, 0 },
	{ "keywords only for EHLO", { "250-x", "250 STARTTLS" }, 0,
	    REPLY_DONE, 250, "", "x", 2, 0, 0 },
	{ "ehlo refused", { "502-x", "502 STARTTLS" }, 1, REPLY_DONE, 502, "",
	    "x", 2, 0, 0 },
};

static void
run_reply_case(const struct reply_case *tc)
{
	struct smtp_reply r;
	int i, rc = REPLY_MORE;

	smtp_reply_init(&r);
	for (i = 0; i < MAXL && tc->lines[i] != NULL; i++) {
		rc = smtp_reply_feed(&r, tc->lines[i], strlen(tc->lines[i]),
		    tc->ehlo);
		if (rc == REPLY_EBAD)
			break;
	}
	CHECK_INT(rc, tc->want_rc, "%s: state", tc->name);
	if (tc->want_rc == REPLY_EBAD)
		return;
	CHECK_INT(r.code, tc->want_code, "%s: code", tc->name);
	CHECK_STR(r.enh, tc->want_enh, "%s: enh", tc->name);
	CHECK_STR(r.text, tc->want_text, "%s: text", tc->name);
	CHECK_INT(r.nlines, tc->want_nlines, "%s: nlines", tc->name);
	CHECK_INT(r.ehlo_caps, tc->want_caps, "%s: caps", tc->name);
	CHECK_INT(r.size_max, tc->want_size, "%s: size", tc->name);
}

/* RFC 5321 §4.5.3.1.5: 512 octets with CRLF, so 510 without. */
static void
test_line_length(void)
{
	char line[600];
	struct smtp_reply r;

	memset(line, 'x', sizeof line);
	memcpy(line, "250 ", 4);
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, 510, 0), REPLY_DONE, "510 ok");
	CHECK_INT(strlen(r.text), 506, "510: text kept whole");
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, 511, 0), REPLY_EBAD, "511 bad");
	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, line, 600, 0), REPLY_EBAD, "600 bad");
}

/* SMTP_REPLY_LINES_MAX lines are fine, one more is not. */
static void
test_line_count(void)
{
	struct smtp_reply r;
	int i, rc = REPLY_MORE;

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX - 1; i++)
		rc = smtp_reply_feed(&r, "250-x", 5, 1);
	CHECK_INT(rc, REPLY_MORE, "63 continuation lines");
	CHECK_INT(smtp_reply_feed(&r, "250 x", 5, 1), REPLY_DONE, "64 lines");
	smtp_reply_init(&r);
	for (i = 0; i < SMTP_REPLY_LINES_MAX; i++)
		rc = smtp_reply_feed(&r, "250-x", 5, 1);
	CHECK_INT(rc, REPLY_MORE, "64 continuation lines");
	CHECK_INT(smtp_reply_feed(&r, "250 x", 5, 1), REPLY_EBAD, "65 lines");
}

static void
test_embedded_nul(void)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	CHECK_INT(smtp_reply_feed(&r, "250 a\0b", 7, 0), REPLY_DONE, "nul");
	CHECK_STR(r.text, "a?b", "nul shown as ?");
}

static void
test_set(void)
{
	struct smtp_reply r;
	char big[700];

	smtp_reply_set(&r, 451, "4.4.1", "next hop unavailable");
	CHECK_INT(r.code, 451, "set code");
	CHECK_STR(r.enh, "4.4.1", "set enh");
	CHECK_STR(r.text, "next hop unavailable", "set text");
	CHECK_INT(r.nlines, 1, "set nlines");
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	smtp_reply_set(&r, 250, NULL, big);
	CHECK_INT(strlen(r.text), SMTP_REPLYLINE_MAX - 1, "set text cut");
	CHECK_STR(r.enh, "", "set NULL enh");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof reply_cases / sizeof reply_cases[0]; i++)
		run_reply_case(&reply_cases[i]);
	test_line_length();
	test_line_count();
	test_embedded_nul();
	test_set();
	return harness_end("smtp_reply");
}
