/* test_smtp_cmd.c - table-driven tests for mail/smtp_cmd.c. */
#include "mail/smtp_cmd.h"

#include "../../tests/unit/harness.h"

struct cmd_row {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	int smtputf8;
	enum smtp_cmd_err err;
	enum smtp_verb verb;
	const char *arg;	/* expected arg (NULL: don't check) */
	const char *path;	/* MAIL/RCPT: addr_format() of the path */
	int nparams;
	enum addr_err aerr;	/* with CMD_EADDR */
};

static const struct cmd_row cmd_rows[] = {
	/* verbs, any case (RFC 5321 §2.4) */
	{ "EHLO client.example", 0, 0, CMD_OK, SMTP_EHLO, "client.example",
	    0, 0, 0 },
	{ "ehlo client.example", 0, 0, CMD_OK, SMTP_EHLO, "client.example",
	    0, 0, 0 },
	{ "HeLo [192.0.2.1]", 0, 0, CMD_OK, SMTP_HELO, "[192.0.2.1]",
	    0, 0, 0 },
	{ "LHLO x", 0, 0, CMD_OK, SMTP_LHLO, "x", 0, 0, 0 },
	{ "EHLO   spaced.example  ", 0, 0, CMD_OK, SMTP_EHLO, "spaced.example",
	    0, 0, 0 },
	{ "EHLO weird_name!", 0, 0, CMD_OK, SMTP_EHLO, "weird_name!",
	    0, 0, 0 },
	{ "EHLO", 0, 0, CMD_ESYNTAX, SMTP_EHLO, 0, 0, 0, 0 },
	{ "HELO ", 0, 0, CMD_ESYNTAX, SMTP_HELO, 0, 0, 0, 0 },
	{ "LHLO    ", 0, 0, CMD_ESYNTAX, SMTP_LHLO, 0, 0, 0, 0 },
	{ "DATA", 0, 0, CMD_OK, SMTP_DATA, "", 0, 0, 0 },
	{ "data ", 0, 0, CMD_OK, SMTP_DATA, "", 0, 0, 0 },
	{ "DATA now", 0, 0, CMD_ESYNTAX, SMTP_DATA, 0, 0, 0, 0 },
	{ "RSET", 0, 0, CMD_OK, SMTP_RSET, "", 0, 0, 0 },
	{ "RSET x", 0, 0, CMD_ESYNTAX, SMTP_RSET, 0, 0, 0, 0 },
	{ "QUIT", 0, 0, CMD_OK, SMTP_QUIT, "", 0, 0, 0 },
	{ "quit now", 0, 0, CMD_ESYNTAX, SMTP_QUIT, 0, 0, 0, 0 },
	{ "STARTTLS", 0, 0, CMD_OK, SMTP_STARTTLS, "", 0, 0, 0 },
	{ "StartTLS x", 0, 0, CMD_ESYNTAX, SMTP_STARTTLS, 0, 0, 0, 0 },
	{ "NOOP", 0, 0, CMD_OK, SMTP_NOOP, "", 0, 0, 0 },
	{ "NOOP anything at all", 0, 0, CMD_OK, SMTP_NOOP,
	    "anything at all", 0, 0, 0 },
	{ "HELP", 0, 0, CMD_OK, SMTP_HELP, "", 0, 0, 0 },
	{ "HELP MAIL", 0, 0, CMD_OK, SMTP_HELP, "MAIL", 0, 0, 0 },
	{ "VRFY <user@x.y>", 0, 0, CMD_OK, SMTP_VRFY, "<user@x.y>", 0, 0, 0 },
	{ "EXPN list", 0, 0, CMD_OK, SMTP_EXPN, "list", 0, 0, 0 },
	/* AUTH, RFC 4954 §4 */
	{ "AUTH PLAIN", 0, 0, CMD_OK, SMTP_AUTH, "PLAIN", 0, 0, 0 },
	{ "AUTH PLAIN AHVzZXIAcGFzcw==", 0, 0, CMD_OK, SMTP_AUTH,
	    "PLAIN AHVzZXIAcGFzcw==", 0, 0, 0 },
	{ "AUTH LOGIN =", 0, 0, CMD_OK, SMTP_AUTH, "LOGIN =", 0, 0, 0 },
	{ "auth cram-md5", 0, 0, CMD_OK, SMTP_AUTH, "cram-md5", 0, 0, 0 },
	{ "AUTH SCRAM-SHA-256-PLUS", 0, 0, CMD_OK, SMTP_AUTH,
	    "SCRAM-SHA-256-PLUS", 0, 0, 0 },
	{ "AUTH", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	{ "AUTH ", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	{ "AUTH PL@IN", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	{ "AUTH ABCDEFGHIJKLMNOPQRSTU", 0, 0, CMD_ESYNTAX, SMTP_AUTH,
	    0, 0, 0, 0 },
	{ "AUTH PLAIN a b", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	{ "AUTH PLAIN  abc", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	{ "AUTH PLAIN ab*c", 0, 0, CMD_ESYNTAX, SMTP_AUTH, 0, 0, 0, 0 },
	/* BDAT, RFC 3030 §2 */
	{ "BDAT 1000", 0, 0, CMD_OK, SMTP_BDAT, "1000", 0, 0, 0 },
	{ "BDAT 0 LAST", 0, 0, CMD_OK, SMTP_BDAT, "0 LAST", 0, 0, 0 },
	{ "bdat 12 last", 0, 0, CMD_OK, SMTP_BDAT, "12 last", 0, 0, 0 },
	{ "BDAT", 0, 0, CMD_ESYNTAX, SMTP_BDAT, 0, 0, 0, 0 },
	{ "BDAT -1", 0, 0, CMD_ESYNTAX, SMTP_BDAT, 0, 0, 0, 0 },
	{ "BDAT 12 FIRST", 0, 0, CMD_ESYNTAX, SMTP_BDAT, 0, 0, 0, 0 },
	{ "BDAT 12 LAST x", 0, 0, CMD_ESYNTAX, SMTP_BDAT, 0, 0, 0, 0 },
	{ "BDAT 12x", 0, 0, CMD_ESYNTAX, SMTP_BDAT, 0, 0, 0, 0 },
	{ "BDAT 1234567890123456789", 0, 0, CMD_ESYNTAX, SMTP_BDAT,
	    0, 0, 0, 0 },
	/* unknown verbs */
	{ "", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ " EHLO x", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "EHLOX x", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "EHL", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "GET / HTTP/1.1", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "XCLIENT ADDR=1.2.3.4", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN,
	    0, 0, 0, 0 },
	{ "STARTTLSX", 0, 0, CMD_EUNKNOWN, SMTP_UNKNOWN, 0, 0, 0, 0 },
	/* control bytes and 8-bit bytes */
	{ "EHLO a\tb", 0, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "EHLO\tx", 0, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "NOOP\x00x", 6, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "DATA\r", 0, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "QUIT\n", 0, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "NOOP \x7f", 0, 0, CMD_ESYNTAX, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "EHLO b\xc3\xbc" "cher.example", 0, 0, CMD_ENONASCII,
	    SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "EHLO b\xc3\xbc" "cher.example", 0, 1, CMD_ENONASCII,
	    SMTP_EHLO, 0, 0, 0, 0 },
	{ "\xc3\x89HLO x", 0, 1, CMD_ENONASCII, SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "NOOP \xff", 0, 1, CMD_ENONASCII, SMTP_NOOP, 0, 0, 0, 0 },
	{ "AUTH PLAIN \xc3\xa4", 0, 1, CMD_ENONASCII, SMTP_AUTH, 0, 0, 0, 0 },
	{ "MAIL FROM:<j\xc3\xb6rg@x.y>", 0, 0, CMD_ENONASCII, SMTP_UNKNOWN,
	    0, 0, 0, 0 },
	/* MAIL, RFC 5321 §4.1.1.2 */
	{ "MAIL FROM:<user@example.com>", 0, 0, CMD_OK, SMTP_MAIL, 0,
	    "<user@example.com>", 0, 0 },
	{ "mail from:<>", 0, 0, CMD_OK, SMTP_MAIL, 0, "<>", 0, 0 },
	{ "MAIL FROM: <user@example.com>", 0, 0, CMD_OK, SMTP_MAIL, 0,
	    "<user@example.com>", 0, 0 },
	{ "MAIL FROM:   <>  ", 0, 0, CMD_OK, SMTP_MAIL, 0, "<>", 0, 0 },
	{ "MAIL FROM:user@Example.com", 0, 0, CMD_OK, SMTP_MAIL, 0,
	    "<user@example.com>", 0, 0 },
	{ "MAIL FROM:<u@x.y> SIZE=1000 BODY=8BITMIME", 0, 0, CMD_OK,
	    SMTP_MAIL, 0, "<u@x.y>", 2, 0 },
	{ "MAIL FROM:<u@x.y>  SIZE=1000   SMTPUTF8 ", 0, 0, CMD_OK,
	    SMTP_MAIL, 0, "<u@x.y>", 2, 0 },
	{ "MAIL FROM:<u@x.y> AUTH=<>", 0, 0, CMD_OK, SMTP_MAIL, 0,
	    "<u@x.y>", 1, 0 },
	{ "MAIL FROM:<u@x.y> ENVID=QQ314159+2B", 0, 0, CMD_OK, SMTP_MAIL, 0,
	    "<u@x.y>", 1, 0 },
	{ "MAIL FROM:<j\xc3\xb6rg@x.y> SMTPUTF8", 0, 1, CMD_OK, SMTP_MAIL, 0,
	    "<j\xc3\xb6rg@x.y>", 1, 0 },
	{ "MAIL FROM:<u@x.y> X-V=\xc3\xa4", 0, 1, CMD_OK, SMTP_MAIL, 0,
	    "<u@x.y>", 1, 0 },
	{ "MAIL", 0, 0, CMD_ESYNTAX, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL FROM", 0, 0, CMD_ESYNTAX, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL TO:<u@x.y>", 0, 0, CMD_ESYNTAX, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL FROM :<u@x.y>", 0, 0, CMD_ESYNTAX, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL  FROM:<u@x.y>", 0, 0, CMD_ESYNTAX, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL FROM:", 0, 0, CMD_EADDR, SMTP_MAIL, 0, 0, 0, ADDR_ESYNTAX },
	{ "MAIL FROM:<u@x.y", 0, 0, CMD_EADDR, SMTP_MAIL, 0, 0, 0,
	    ADDR_ESYNTAX },
	{ "MAIL FROM:<Postmaster>", 0, 0, CMD_EADDR, SMTP_MAIL, 0, 0, 0,
	    ADDR_ESYNTAX },
	{ "MAIL FROM:<j\xc3\xb6rg@x.y>", 0, 1, CMD_OK, SMTP_MAIL, 0,
	    "<j\xc3\xb6rg@x.y>", 0, 0 },
	{ "MAIL FROM:<j\xc3\x28rg@x.y>", 0, 1, CMD_EADDR, SMTP_MAIL, 0, 0, 0,
	    ADDR_EUTF8 },
	/* parameters, RFC 5321 §4.1.2 */
	{ "MAIL FROM:<u@x.y>SIZE=1", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0,
	    0 },
	{ "MAIL FROM:<u@x.y> SIZE=", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0,
	    0 },
	{ "MAIL FROM:<u@x.y> =1", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> -X=1", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0,
	    0 },
	{ "MAIL FROM:<u@x.y> X_Y=1", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0,
	    0 },
	{ "MAIL FROM:<u@x.y> X=a=b", 0, 0, CMD_EPARAMS, SMTP_MAIL, 0, 0, 0,
	    0 },
	{ "MAIL FROM:<u@x.y> X-V=\xc3\xa4", 0, 0, CMD_ENONASCII,
	    SMTP_UNKNOWN, 0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> X-V=\xc3(", 0, 1, CMD_EPARAMS, SMTP_MAIL,
	    0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> \xc3\xa4=1", 0, 1, CMD_ENONASCII, SMTP_MAIL,
	    0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> A=\xe4\xbe\x8b B=\xf0\x9f\x98\x80", 0, 1, CMD_OK,
	    SMTP_MAIL, 0, "<u@x.y>", 2, 0 },
	{ "MAIL FROM:<u@x.y> A=\xf4\x90\x80\x80", 0, 1, CMD_EPARAMS,
	    SMTP_MAIL, 0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> A=\xe4\xbe(", 0, 1, CMD_EPARAMS, SMTP_MAIL,
	    0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> A=\xc2\x85", 0, 1, CMD_EPARAMS, SMTP_MAIL,
	    0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> A=\xed\xa0\x80", 0, 1, CMD_EPARAMS, SMTP_MAIL,
	    0, 0, 0, 0 },
	{ "MAIL FROM:<u@x.y> A B C D E F G H I J K L M N O P", 0, 0, CMD_OK,
	    SMTP_MAIL, 0, "<u@x.y>", 16, 0 },
	{ "MAIL FROM:<u@x.y> A B C D E F G H I J K L M N O P Q", 0, 0,
	    CMD_EPARAMS, SMTP_MAIL, 0, 0, 0, 0 },
	/* RCPT, RFC 5321 §4.1.1.3 */
	{ "RCPT TO:<user@local.test>", 0, 0, CMD_OK, SMTP_RCPT, 0,
	    "<user@local.test>", 0, 0 },
	{ "rcpt to: <User@LOCAL.test> NOTIFY=SUCCESS,FAILURE", 0, 0, CMD_OK,
	    SMTP_RCPT, 0, "<User@local.test>", 1, 0 },
	{ "RCPT TO:<Postmaster>", 0, 0, CMD_OK, SMTP_RCPT, 0,
	    "<Postmaster>", 0, 0 },
	{ "RCPT TO:postmaster", 0, 0, CMD_OK, SMTP_RCPT, 0,
	    "<postmaster>", 0, 0 },
	{ "RCPT TO:<@a.example:u@b.example>", 0, 0, CMD_OK, SMTP_RCPT, 0,
	    "<u@b.example>", 0, 0 },
	{ "RCPT TO:user@local.test ORCPT=rfc822;user@local.test", 0, 0, CMD_OK,
	    SMTP_RCPT, 0, "<user@local.test>", 1, 0 },
	{ "RCPT TO:<>", 0, 0, CMD_EADDR, SMTP_RCPT, 0, 0, 0, ADDR_ESYNTAX },
	{ "RCPT TO:<user@evil.test@local.test>", 0, 0, CMD_EADDR, SMTP_RCPT,
	    0, 0, 0, ADDR_ESYNTAX },
	{ "RCPT TO:<\xe7\x94\xa8@x.y>", 0, 1, CMD_OK, SMTP_RCPT, 0,
	    "<\xe7\x94\xa8@x.y>", 0, 0 },
	{ "RCPT FROM:<u@x.y>", 0, 0, CMD_ESYNTAX, SMTP_RCPT, 0, 0, 0, 0 },
	{ "RCPT TO <u@x.y>", 0, 0, CMD_ESYNTAX, SMTP_RCPT, 0, 0, 0, 0 },
	{ "RCPT TO:<u@x.y> extra junk", 0, 0, CMD_OK, SMTP_RCPT, 0,
	    "<u@x.y>", 2, 0 },
	{ "RCPT TO:<u@x.y> \"junk\"", 0, 0, CMD_EPARAMS, SMTP_RCPT, 0, 0,
	    0, 0 },
};

static int
cmd_view_eq(struct strview v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

static void
cmd_test_row(const struct cmd_row *r, int i)
{
	size_t len = r->len ? r->len : strlen(r->line);
	char path[SMTP_PATH_MAX + 1];
	struct smtp_cmd cmd;
	enum smtp_cmd_err e;

	e = smtp_cmd_parse(r->line, len, r->smtputf8, &cmd);
	CHECK_INT(e, r->err, "row %d \"%s\": error", i, r->line);
	CHECK_INT(cmd.verb, r->verb, "row %d \"%s\": verb", i, r->line);
	if (e == CMD_EADDR)
		CHECK_INT(cmd.addr_err, r->aerr, "row %d \"%s\": addr_err",
		    i, r->line);
	if (e != CMD_OK || r->err != CMD_OK)
		return;
	if (r->arg != NULL)
		CHECK(cmd_view_eq(cmd.arg, r->arg), "row %d \"%s\": arg "
		    "\"%.*s\"", i, r->line, (int)cmd.arg.len, cmd.arg.p);
	if (r->path != NULL) {
		CHECK(addr_format(&cmd.addr, path, sizeof path) > 0,
		    "row %d: format", i);
		CHECK_STR(path, r->path, "row %d \"%s\": path", i, r->line);
	}
	CHECK_INT(cmd.nparams, r->nparams, "row %d \"%s\": nparams", i,
	    r->line);
}

/* Keys and values are views into the line; lookups ignore case. */
static void
cmd_test_params(void)
{
	const char *line = "MAIL FROM:<u@x.y> SIZE=1000 body=8BITMIME "
	    "SMTPUTF8 AUTH=<>";
	const struct smtp_param *p;
	struct smtp_cmd cmd;

	CHECK_INT(smtp_cmd_parse(line, strlen(line), 0, &cmd), CMD_OK,
	    "params parse");
	CHECK_INT(cmd.nparams, 4, "params count");
	p = smtp_cmd_param(&cmd, "size");
	CHECK(p != NULL && cmd_view_eq(p->value, "1000"), "SIZE value");
	p = smtp_cmd_param(&cmd, "BODY");
	CHECK(p != NULL && cmd_view_eq(p->key, "body") &&
	    cmd_view_eq(p->value, "8BITMIME"), "BODY value");
	p = smtp_cmd_param(&cmd, "SmtpUtf8");
	CHECK(p != NULL && p->value.len == 0, "SMTPUTF8 no value");
	p = smtp_cmd_param(&cmd, "AUTH");
	CHECK(p != NULL && cmd_view_eq(p->value, "<>"), "AUTH=<>");
	CHECK(smtp_cmd_param(&cmd, "SIZ") == NULL, "prefix key");
	CHECK(smtp_cmd_param(&cmd, "SIZE=1000") == NULL, "key with value");
	CHECK(smtp_cmd_param(&cmd, "RET") == NULL, "absent key");
	CHECK(cmd.params[0].key.p == line + 18, "key points into the line");
}

struct utf8_row {
	const char *line;
	int want;
};

static const struct utf8_row utf8_rows[] = {
	{ "MAIL FROM:<u@x.y> SMTPUTF8", 1 },
	{ "mail from:<u@x.y> smtputf8", 1 },
	{ "MAIL FROM: <j\xc3\xb6rg@x.y> BODY=8BITMIME SMTPUTF8 ", 1 },
	{ "MAIL FROM:j\xc3\xb6rg@x.y SMTPUTF8", 1 },
	{ "MAIL FROM:<> SIZE=1 SMTPUTF8", 1 },
	{ "MAIL FROM:<u@x.y>", 0 },
	{ "MAIL FROM:<u@x.y> SMTPUTF8=yes", 0 },
	{ "MAIL FROM:<u@x.y> XSMTPUTF8", 0 },
	{ "MAIL FROM:<u@x.y> SMTPUTF", 0 },
	{ "MAIL FROM:<u@x.y> X=SMTPUTF8", 0 },
	{ "MAIL FROM:<\"a SMTPUTF8\"@x.y>", 0 },
	{ "MAIL FROM:<\"a SMTPUTF8 b\"@x.y> BODY=7BIT", 0 },
	{ "MAIL FROM:<@SMTPUTF8:u@x.y>", 0 },
	{ "RCPT TO:<u@x.y> SMTPUTF8", 0 },
	{ "NOOP SMTPUTF8", 0 },
	{ "MAIL SMTPUTF8", 0 },
	{ "MAIL", 0 },
	{ "", 0 },
	{ "MAIL FROM:<u@x.y SMTPUTF8", 0 },
};

static void
cmd_test_has_smtputf8(void)
{
	size_t i;

	for (i = 0; i < sizeof utf8_rows / sizeof utf8_rows[0]; i++)
		CHECK_INT(smtp_cmd_has_smtputf8(utf8_rows[i].line,
		    strlen(utf8_rows[i].line)), utf8_rows[i].want,
		    "has_smtputf8 \"%s\"", utf8_rows[i].line);
}

static void
cmd_test_verb_names(void)
{
	static const struct {
		enum smtp_verb v;
		const char *name;
	} rows[] = {
		{ SMTP_UNKNOWN, "?" }, { SMTP_HELO, "HELO" },
		{ SMTP_EHLO, "EHLO" }, { SMTP_LHLO, "LHLO" },
		{ SMTP_MAIL, "MAIL" }, { SMTP_RCPT, "RCPT" },
		{ SMTP_DATA, "DATA" }, { SMTP_RSET, "RSET" },
		{ SMTP_NOOP, "NOOP" }, { SMTP_QUIT, "QUIT" },
		{ SMTP_HELP, "HELP" }, { SMTP_VRFY, "VRFY" },
		{ SMTP_EXPN, "EXPN" }, { SMTP_STARTTLS, "STARTTLS" },
		{ SMTP_AUTH, "AUTH" }, { SMTP_BDAT, "BDAT" },
		{ SMTP_VERB_COUNT, "?" },
	};
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		CHECK_STR(smtp_verb_name(rows[i].v), rows[i].name,
		    "verb name %d", (int)rows[i].v);
}

/* The parser must honour len: nothing after it is looked at. */
static void
cmd_test_len(void)
{
	const char *line = "RCPT TO:<u@x.y> SIZE=1\r\nQUIT";
	struct smtp_cmd cmd;

	CHECK_INT(smtp_cmd_parse(line, 15, 0, &cmd), CMD_OK, "len: path only");
	CHECK_INT(cmd.nparams, 0, "len: no params");
	CHECK_INT(smtp_cmd_parse(line, 22, 0, &cmd), CMD_OK, "len: params");
	CHECK_INT(cmd.nparams, 1, "len: one param");
	CHECK_INT(smtp_cmd_parse(line, 23, 0, &cmd), CMD_ESYNTAX, "len: CR");
	CHECK_INT(smtp_cmd_parse("DATAX", 4, 0, &cmd), CMD_OK, "len: DATA");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof cmd_rows / sizeof cmd_rows[0]; i++)
		cmd_test_row(&cmd_rows[i], (int)i);
	cmd_test_params();
	cmd_test_has_smtputf8();
	cmd_test_verb_names();
	cmd_test_len();
	return harness_end("smtp_cmd");
}
