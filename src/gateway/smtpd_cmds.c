/* smtpd_cmds.c - one handler per SMTP verb, reached through cmd_table
 * (RFC 5321 §4.1; extensions RFC 1870, 2920, 3207, 4954, 6152, 6531). */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/relay.h"
#include "gateway/session_int.h"
#include "util/log.h"

typedef void cmd_fn(struct session *s, struct smtp_cmd *cmd);

struct cmd_def {
	enum smtp_verb verb;
	cmd_fn *fn;
	int last_in_group;	/* RFC 2920 §3.1: must end a pipelined group */
};

static void
cmd_hello(struct session *s, struct smtp_cmd *cmd, int esmtp)
{
	const struct settings *st = s->w->st;
	const char *lines[12];
	char size[48];
	int n = 0;
	struct logline l;

	smtpd_tx_reset(s);
	snprintf(s->helo, sizeof s->helo, "%.*s", (int)cmd->arg.len, cmd->arg.p);
	s->esmtp = esmtp;
	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "helo");
	logline_str(&l, "verb", esmtp ? "EHLO" : "HELO");
	logline_str(&l, "name", s->helo);
	logline_end(&l);
	if (!esmtp) {
		smtpd_reply(s, 250, NULL, "%s", st->hostname);
		return;
	}
	snprintf(size, sizeof size, "SIZE %zu", st->message_size_limit);
	lines[n++] = st->hostname;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	if (!s->tls && s->w->ssl)
		lines[n++] = "STARTTLS";
	if (s->tls && smtpd_is_submission(s))
		lines[n++] = "AUTH PLAIN LOGIN";
	if (st->smtputf8)
		lines[n++] = "SMTPUTF8";
	for (int i = 0; i < n; i++) {
		char line[SMTP_REPLYLINE_MAX];
		snprintf(line, sizeof line, "250%c%s\r\n", i + 1 < n ? '-' : ' ',
		    lines[i]);
		smtpd_reply_raw(s, line);
	}
}

static void cmd_helo(struct session *s, struct smtp_cmd *c) { cmd_hello(s, c, 0); }
static void cmd_ehlo(struct session *s, struct smtp_cmd *c) { cmd_hello(s, c, 1); }

static void
cmd_noop(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_reply(s, 250, "2.0.0", "Ok");
}

static void
cmd_help(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA "
	    "RSET NOOP QUIT HELP VRFY STARTTLS AUTH; see RFC 5321");
}

/* RFC 5321 §3.5.3: 252 when we will not verify; never reveal users. */
static void
cmd_vrfy(struct session *s, struct smtp_cmd *cmd)
{
	if (cmd->arg.len == 0) {
		smtpd_client_error(s, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	smtpd_reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept "
	    "message and attempt delivery");
}

static void
cmd_not_offered(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_client_error(s, 502, "5.5.1", "Error: command not implemented");
}

static void
cmd_quit(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_close(s, 221, "2.0.0", "closing connection");
}

static void
rset_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;

	s->nh_tx = 0;
	if (r->code / 100 != 2) {	/* a broken next hop: start anew */
		nh_conn_free(s->nh);
		s->nh = NULL;
	}
	smtpd_reply(s, 250, "2.0.0", "Ok");
	smtpd_resume(s);
}

static void
cmd_rset(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_tx_reset(s);
	if (!s->nh_tx || s->nh == NULL) {
		s->nh_tx = 0;
		smtpd_reply(s, 250, "2.0.0", "Ok");
		return;
	}
	s->state = S_WAIT;
	nh_rset(s->nh, rset_done, s);
}

/* RFC 3207 §4.2: forget everything learned before TLS; EHLO again. */
static void
cmd_starttls(struct session *s, struct smtp_cmd *cmd)
{
	if (s->tls || s->w->ssl == NULL) {
		smtpd_client_error(s, 503, "5.5.1", s->tls ?
		    "Error: TLS already active" : "Error: TLS not available");
		return;
	}
	smtpd_reply(s, 220, "2.0.0", "Ready to start TLS");
	smtpd_tx_reset(s);
	s->helo[0] = '\0';
	s->esmtp = 0;
	if (smtpd_starttls(s) < 0)
		smtpd_close(s, 454, "4.7.0", "TLS not available");
}

static void
cmd_auth(struct session *s, struct smtp_cmd *cmd)
{
	smtpd_auth_start(s, cmd);
}

static void
cmd_data(struct session *s, struct smtp_cmd *cmd)
{
	if (!s->in_tx) {
		smtpd_client_error(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->nrcpts == 0) {
		smtpd_client_error(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	smtpd_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	smtpd_data_begin(s);
}

void smtpd_cmd_mail(struct session *s, struct smtp_cmd *cmd);
void smtpd_cmd_rcpt(struct session *s, struct smtp_cmd *cmd);

static const struct cmd_def cmd_table[] = {
	{ SMTP_HELO, cmd_helo, 1 },
	{ SMTP_EHLO, cmd_ehlo, 1 },
	{ SMTP_MAIL, smtpd_cmd_mail, 0 },
	{ SMTP_RCPT, smtpd_cmd_rcpt, 0 },
	{ SMTP_DATA, cmd_data, 1 },
	{ SMTP_RSET, cmd_rset, 0 },
	{ SMTP_NOOP, cmd_noop, 1 },
	{ SMTP_QUIT, cmd_quit, 0 },
	{ SMTP_HELP, cmd_help, 1 },
	{ SMTP_VRFY, cmd_vrfy, 1 },
	{ SMTP_EXPN, cmd_not_offered, 1 },
	{ SMTP_STARTTLS, cmd_starttls, 1 },
	{ SMTP_AUTH, cmd_auth, 1 },
	{ SMTP_BDAT, cmd_not_offered, 1 },
};

static const struct cmd_def *
cmd_lookup(enum smtp_verb v)
{
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		if (cmd_table[i].verb == v)
			return &cmd_table[i];
	return NULL;
}

/* Bad input from the client becomes a reply (DESIGN.md: three kinds of
 * error); the enhanced codes follow RFC 3463 and Postfix's choices. */
static void
cmd_parse_error(struct session *s, const struct smtp_cmd *cmd,
    enum smtp_cmd_err e)
{
	char why[160];

	switch (e) {
	case CMD_EUNKNOWN:
		smtpd_client_error(s, 500, "5.5.2", "Error: command not recognized");
		return;
	case CMD_ENONASCII:
		smtpd_client_error(s, 500, "5.5.2",
		    "Error: 8-bit characters in a command (use SMTPUTF8)");
		return;
	case CMD_EADDR:
		snprintf(why, sizeof why, "Error: bad %s address syntax: %s",
		    cmd->verb == SMTP_MAIL ? "sender" : "recipient",
		    addr_strerror(cmd->addr_err));
		if (cmd->addr_err == ADDR_EUTF8)
			smtpd_client_error(s, 553, "5.6.7", why);
		else
			smtpd_client_error(s, 501, cmd->verb == SMTP_MAIL ?
			    "5.1.7" : "5.1.3", why);
		return;
	default:
		smtpd_client_error(s, 501, "5.5.4",
		    "Error: syntax error in parameters or arguments");
		return;
	}
}

/* RFC 2920 §3.1: a command that must end a group, followed by more input,
 * or any pipelining without EHLO: refuse and disconnect (this also stops
 * plaintext injection after STARTTLS, CVE-2011-0411). */
static int
cmd_sync_error(struct session *s, const struct cmd_def *def)
{
	if (!s->more_input || def->verb == SMTP_QUIT)
		return 0;
	if (!def->last_in_group && s->esmtp)
		return 0;
	smtpd_log_error(s, smtp_verb_name(def->verb), 554, "5.5.0",
	    "improper command pipelining");
	smtpd_close(s, 554, "5.5.0", "Error: SMTP protocol synchronization");
	return 1;
}

void
smtpd_dispatch(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd cmd;
	const struct cmd_def *def;
	enum smtp_cmd_err e;
	int utf8;

	utf8 = s->in_tx ? s->smtputf8 :
	    (s->w->st->smtputf8 && smtp_cmd_has_smtputf8(line, len));
	e = smtp_cmd_parse(line, len, utf8, &cmd);
	def = e == CMD_EUNKNOWN ? NULL : cmd_lookup(cmd.verb);
	if (def == NULL) {
		cmd_parse_error(s, &cmd, CMD_EUNKNOWN);
		return;
	}
	if (cmd_sync_error(s, def))
		return;
	if (e != CMD_OK) {
		cmd_parse_error(s, &cmd, e);
		return;
	}
	def->fn(s, &cmd);
}
