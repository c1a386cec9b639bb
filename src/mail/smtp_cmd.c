/* smtp_cmd.c - SMTP command line parser (RFC 5321 §4.1, RFC 1869 params).
 *
 * One handler per verb, reached through smtp_cmd_verbs[].  A cursor moves
 * over the caller's line against its length (the line is not
 * NUL-terminated); the result holds (pointer, length) views into it.
 */
#include "mail/smtp_cmd.h"
#include "util/utf8.h"

#include <assert.h>
#include <string.h>

struct smtp_cmd_cur {
	const unsigned char *s;
	size_t pos;		/* first byte after the verb and its space */
	size_t len;
	int smtputf8;
};

typedef enum smtp_cmd_err smtp_cmd_fn(struct smtp_cmd_cur *,
    struct smtp_cmd *);

static smtp_cmd_fn smtp_cmd_noarg, smtp_cmd_optarg, smtp_cmd_hello,
    smtp_cmd_mail, smtp_cmd_rcpt, smtp_cmd_auth, smtp_cmd_bdat;

static const struct smtp_cmd_verb {
	const char *name;
	enum smtp_verb verb;
	smtp_cmd_fn *parse;
} smtp_cmd_verbs[] = {
	{ "HELO", SMTP_HELO, smtp_cmd_hello },
	{ "EHLO", SMTP_EHLO, smtp_cmd_hello },
	{ "LHLO", SMTP_LHLO, smtp_cmd_hello },
	{ "MAIL", SMTP_MAIL, smtp_cmd_mail },
	{ "RCPT", SMTP_RCPT, smtp_cmd_rcpt },
	{ "DATA", SMTP_DATA, smtp_cmd_noarg },
	{ "RSET", SMTP_RSET, smtp_cmd_noarg },
	{ "NOOP", SMTP_NOOP, smtp_cmd_optarg },
	{ "QUIT", SMTP_QUIT, smtp_cmd_noarg },
	{ "HELP", SMTP_HELP, smtp_cmd_optarg },
	{ "VRFY", SMTP_VRFY, smtp_cmd_optarg },
	{ "EXPN", SMTP_EXPN, smtp_cmd_optarg },
	{ "STARTTLS", SMTP_STARTTLS, smtp_cmd_noarg },
	{ "AUTH", SMTP_AUTH, smtp_cmd_auth },
	{ "BDAT", SMTP_BDAT, smtp_cmd_bdat },
};

#define SMTP_CMD_NVERBS (sizeof smtp_cmd_verbs / sizeof smtp_cmd_verbs[0])

/* ASCII only: the parser must not depend on the locale. */
static int
smtp_cmd_upper(int ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
}

static int
smtp_cmd_is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* Does p[0..n) equal the upper-case word w, ignoring ASCII case? */
static int
smtp_cmd_word_eq(const unsigned char *p, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (smtp_cmd_upper(p[i]) != smtp_cmd_upper((unsigned char)w[i]))
			return 0;
	return 1;
}

/* Reject control bytes (NUL, CR, LF, HTAB, DEL: RFC 5321 §2.3.8 and §4.1.1
 * allow none inside a command) and, outside SMTPUTF8, 8-bit bytes.  The
 * first offending byte decides the error. */
static enum smtp_cmd_err
smtp_cmd_prescan(const unsigned char *s, size_t len, int smtputf8)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return CMD_ESYNTAX;
		if (s[i] >= 0x80 && !smtputf8)
			return CMD_ENONASCII;
	}
	return CMD_OK;
}

static int
smtp_cmd_has_8bit(const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 0x80)
			return 1;
	return 0;
}

/* The rest of the line with leading and trailing spaces removed. */
static void
smtp_cmd_rest(const struct smtp_cmd_cur *c, struct strview *v)
{
	size_t b = c->pos, e = c->len;

	while (b < e && c->s[b] == ' ')
		b++;
	while (e > b && c->s[e - 1] == ' ')
		e--;
	v->p = (const char *)c->s + b;
	v->len = e - b;
}

/* DATA, RSET, QUIT, STARTTLS: RFC 5321 §4.1.1.4, §4.1.1.5, §4.1.1.10 and
 * RFC 3207 §4 give them no argument.  Trailing spaces are forgiven. */
static enum smtp_cmd_err
smtp_cmd_noarg(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	smtp_cmd_rest(c, &cmd->arg);
	return cmd->arg.len == 0 ? CMD_OK : CMD_ESYNTAX;
}

/* NOOP, HELP, VRFY, EXPN: an optional string (RFC 5321 §4.1.1.6-9). */
static enum smtp_cmd_err
smtp_cmd_optarg(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	smtp_cmd_rest(c, &cmd->arg);
	if (smtp_cmd_has_8bit((const unsigned char *)cmd->arg.p, cmd->arg.len))
		return CMD_ENONASCII;
	return CMD_OK;
}

/* HELO/EHLO (RFC 5321 §4.1.1.1) and LHLO (RFC 2033 §4.1) need a domain or
 * an address literal; anything printable is tolerated, but not nothing. */
static enum smtp_cmd_err
smtp_cmd_hello(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	enum smtp_cmd_err e = smtp_cmd_optarg(c, cmd);

	if (e != CMD_OK)
		return e;
	return cmd->arg.len > 0 ? CMD_OK : CMD_ESYNTAX;
}

/* Scan a run of bytes accepted by ok() from c->pos; returns its length. */
static size_t
smtp_cmd_span(struct smtp_cmd_cur *c, int (*ok)(int))
{
	size_t start = c->pos;

	while (c->pos < c->len && ok(c->s[c->pos]))
		c->pos++;
	return c->pos - start;
}

/* sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_"), RFC 4422 §3.1
 * (any case here); the initial response is base64 or "=" (RFC 4954 §4). */
static int
smtp_cmd_is_mech(int ch)
{
	return smtp_cmd_is_alnum(ch) || ch == '-' || ch == '_';
}

static int
smtp_cmd_is_b64(int ch)
{
	return smtp_cmd_is_alnum(ch) || ch == '+' || ch == '/' || ch == '=';
}

/* Take the rest of the line as cmd->arg and set t to scan it; -1 when it
 * holds an 8-bit byte (AUTH and BDAT arguments are ASCII). */
static int
smtp_cmd_arg_cursor(struct smtp_cmd_cur *c, struct smtp_cmd *cmd,
    struct smtp_cmd_cur *t)
{
	smtp_cmd_rest(c, &cmd->arg);
	if (smtp_cmd_has_8bit((const unsigned char *)cmd->arg.p, cmd->arg.len))
		return -1;
	t->s = (const unsigned char *)cmd->arg.p;
	t->pos = 0;
	t->len = cmd->arg.len;
	t->smtputf8 = 0;
	return 0;
}

/* AUTH mechanism [initial-response], RFC 4954 §4. */
static enum smtp_cmd_err
smtp_cmd_auth(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	struct smtp_cmd_cur t;
	size_t n;

	if (smtp_cmd_arg_cursor(c, cmd, &t) < 0)
		return CMD_ENONASCII;
	n = smtp_cmd_span(&t, smtp_cmd_is_mech);
	if (n == 0 || n > 20)
		return CMD_ESYNTAX;
	if (t.pos == t.len)
		return CMD_OK;
	if (t.s[t.pos++] != ' ' || smtp_cmd_span(&t, smtp_cmd_is_b64) == 0)
		return CMD_ESYNTAX;
	return t.pos == t.len ? CMD_OK : CMD_ESYNTAX;
}

static int
smtp_cmd_is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* BDAT chunk-size [SP end-marker], RFC 3030 §2: "size [LAST]". */
static enum smtp_cmd_err
smtp_cmd_bdat(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	struct smtp_cmd_cur t;
	size_t n;

	if (smtp_cmd_arg_cursor(c, cmd, &t) < 0)
		return CMD_ENONASCII;
	/* 1*DIGIT; more than 18 digits cannot be a size anyone accepts and
	 * could overflow the caller's conversion. */
	n = smtp_cmd_span(&t, smtp_cmd_is_digit);
	if (n == 0 || n > 18)
		return CMD_ESYNTAX;
	if (t.pos == t.len)
		return CMD_OK;
	if (t.s[t.pos++] != ' ')
		return CMD_ESYNTAX;
	return smtp_cmd_word_eq(t.s + t.pos, t.len - t.pos, "LAST") ?
	    CMD_OK : CMD_ESYNTAX;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), RFC 5321
 * §4.1.2. */
static int
smtp_cmd_is_keychar(int ch)
{
	return smtp_cmd_is_alnum(ch) || ch == '-';
}

/* esmtp-value = 1*(%d33-60 / %d62-126), RFC 5321 §4.1.2, plus
 * UTF8-non-ascii in SMTPUTF8 transactions (RFC 6531 §3.3). */
static enum smtp_cmd_err
smtp_cmd_scan_value(struct smtp_cmd_cur *c, struct strview *v)
{
	size_t start = c->pos, n;
	int ch;

	while (c->pos < c->len && (ch = c->s[c->pos]) != ' ') {
		if (ch >= 0x80) {
			n = c->smtputf8 ? utf8_seq(c->s + c->pos,
			    c->len - c->pos) : 0;
			if (n == 0)
				return CMD_EPARAMS;
			c->pos += n;
			continue;
		}
		if (ch < 33 || ch == '=' || ch > 126)
			return CMD_EPARAMS;
		c->pos++;
	}
	v->p = (const char *)c->s + start;
	v->len = c->pos - start;
	return v->len > 0 ? CMD_OK : CMD_EPARAMS;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value], RFC 5321 §4.1.2. */
static enum smtp_cmd_err
smtp_cmd_scan_param(struct smtp_cmd_cur *c, struct smtp_param *p)
{
	size_t start = c->pos;

	memset(p, 0, sizeof *p);
	if (c->pos < c->len && c->s[c->pos] == '-')
		return CMD_EPARAMS;
	smtp_cmd_span(c, smtp_cmd_is_keychar);
	p->key.p = (const char *)c->s + start;
	p->key.len = c->pos - start;
	if (c->pos < c->len && c->s[c->pos] >= 0x80)
		return CMD_ENONASCII;
	if (p->key.len == 0)
		return CMD_EPARAMS;
	if (c->pos == c->len || c->s[c->pos] == ' ')
		return CMD_OK;
	if (c->s[c->pos] != '=')
		return CMD_EPARAMS;
	c->pos++;
	return smtp_cmd_scan_value(c, &p->value);
}

/* Mail-parameters = esmtp-param *(SP esmtp-param), RFC 5321 §4.1.2; more
 * spaces than one are tolerated, so are trailing spaces. */
static enum smtp_cmd_err
smtp_cmd_params(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	enum smtp_cmd_err e;

	for (;;) {
		if (c->pos == c->len)
			return CMD_OK;
		if (c->s[c->pos] != ' ')
			return CMD_EPARAMS;
		while (c->pos < c->len && c->s[c->pos] == ' ')
			c->pos++;
		if (c->pos == c->len)
			return CMD_OK;
		if (cmd->nparams == SMTP_ESMTP_PARAMS_MAX)
			return CMD_EPARAMS;
		e = smtp_cmd_scan_param(c, &cmd->params[cmd->nparams]);
		if (e != CMD_OK)
			return e;
		cmd->nparams++;
	}
}

/* Step over "FROM:" or "TO:" (any case, RFC 5321 §2.4) and the spaces after
 * the colon that many clients send. */
static enum smtp_cmd_err
smtp_cmd_keyword(struct smtp_cmd_cur *c, const char *kw)
{
	size_t n = strlen(kw);

	if (c->len - c->pos < n)
		return CMD_ESYNTAX;
	if (!smtp_cmd_word_eq(c->s + c->pos, n, kw))
		return smtp_cmd_has_8bit(c->s + c->pos, n) ?
		    CMD_ENONASCII : CMD_ESYNTAX;
	c->pos += n;
	while (c->pos < c->len && c->s[c->pos] == ' ')
		c->pos++;
	return CMD_OK;
}

/* MAIL FROM:<path> [params] / RCPT TO:<path> [params], RFC 5321 §4.1.1.2
 * and §4.1.1.3. */
static enum smtp_cmd_err
smtp_cmd_path(struct smtp_cmd_cur *c, struct smtp_cmd *cmd, const char *kw,
    unsigned mode)
{
	enum smtp_cmd_err e;
	size_t used;

	if ((e = smtp_cmd_keyword(c, kw)) != CMD_OK)
		return e;
	if (c->smtputf8)
		mode |= ADDR_SMTPUTF8;
	cmd->addr_err = addr_parse((const char *)c->s + c->pos,
	    c->len - c->pos, mode, &cmd->addr, &used);
	if (cmd->addr_err != ADDR_OK)
		return CMD_EADDR;
	c->pos += used;
	return smtp_cmd_params(c, cmd);
}

static enum smtp_cmd_err
smtp_cmd_mail(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	return smtp_cmd_path(c, cmd, "FROM:", ADDR_REVERSE | ADDR_LENIENT);
}

static enum smtp_cmd_err
smtp_cmd_rcpt(struct smtp_cmd_cur *c, struct smtp_cmd *cmd)
{
	return smtp_cmd_path(c, cmd, "TO:", ADDR_LENIENT);
}

/* Find the verb at the start of the line; *end is set past it. */
static const struct smtp_cmd_verb *
smtp_cmd_lookup(const unsigned char *s, size_t len, size_t *end)
{
	size_t i, n = 0;

	while (n < len && s[n] != ' ')
		n++;
	*end = n;
	for (i = 0; i < SMTP_CMD_NVERBS; i++)
		if (smtp_cmd_word_eq(s, n, smtp_cmd_verbs[i].name))
			return &smtp_cmd_verbs[i];
	return NULL;
}

enum smtp_cmd_err
smtp_cmd_parse(const char *line, size_t len, int smtputf8,
    struct smtp_cmd *cmd)
{
	const unsigned char *s = (const unsigned char *)line;
	const struct smtp_cmd_verb *v;
	struct smtp_cmd_cur c;
	enum smtp_cmd_err e;
	size_t end;

	assert(cmd != NULL && (line != NULL || len == 0));
	memset(cmd, 0, sizeof *cmd);
	if ((e = smtp_cmd_prescan(s, len, smtputf8)) != CMD_OK)
		return e;
	v = smtp_cmd_lookup(s, len, &end);
	if (v == NULL)
		return smtp_cmd_has_8bit(s, end) ? CMD_ENONASCII : CMD_EUNKNOWN;
	cmd->verb = v->verb;
	c.s = s;
	c.pos = end < len ? end + 1 : len;	/* the one SP after the verb */
	c.len = len;
	c.smtputf8 = smtputf8;
	return v->parse(&c, cmd);
}

int
smtp_cmd_has_smtputf8(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	struct smtp_cmd_cur c = { s, 0, len, 1 };
	const struct smtp_cmd_verb *v;
	struct addr a;
	size_t end, start;

	v = smtp_cmd_lookup(s, len, &end);
	if (v == NULL || v->verb != SMTP_MAIL || end == len)
		return 0;
	c.pos = end + 1;
	/* Find the end of the path the way the parser will, so that a
	 * quoted local part cannot smuggle the word in. */
	if (smtp_cmd_keyword(&c, "FROM:") != CMD_OK ||
	    addr_parse(line + c.pos, len - c.pos, ADDR_REVERSE | ADDR_LENIENT |
	    ADDR_SMTPUTF8, &a, &end) != ADDR_OK)
		return 0;
	for (c.pos += end; c.pos < len; c.pos++) {
		start = c.pos;
		while (c.pos < len && s[c.pos] != ' ')
			c.pos++;
		if (smtp_cmd_word_eq(s + start, c.pos - start, "SMTPUTF8"))
			return 1;
	}
	return 0;
}

const struct smtp_param *
smtp_cmd_param(const struct smtp_cmd *cmd, const char *key)
{
	int i;

	for (i = 0; i < cmd->nparams; i++)
		if (smtp_cmd_word_eq((const unsigned char *)
		    cmd->params[i].key.p, cmd->params[i].key.len, key))
			return &cmd->params[i];
	return NULL;
}

const char *
smtp_verb_name(enum smtp_verb v)
{
	size_t i;

	for (i = 0; i < SMTP_CMD_NVERBS; i++)
		if (smtp_cmd_verbs[i].verb == v)
			return smtp_cmd_verbs[i].name;
	return "?";
}
