/* smtp_cmd.h - SMTP command line parser (RFC 5321 §4.1, RFC 1869 params).
 *
 * Input is one command line WITHOUT its CRLF.  The parser never allocates:
 * the result points into the caller's line.  It checks the verb, the
 * argument syntax and the ESMTP parameter list; it does not know the
 * session state (the session does that).
 */
#ifndef JAGA_MAIL_SMTP_CMD_H
#define JAGA_MAIL_SMTP_CMD_H

#include <stddef.h>

#include "mail/addr.h"
#include "mail/limits.h"

enum smtp_verb {
	SMTP_UNKNOWN = 0,
	SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_RSET,
	SMTP_NOOP, SMTP_QUIT, SMTP_HELP, SMTP_VRFY, SMTP_EXPN, SMTP_STARTTLS,
	SMTP_AUTH, SMTP_BDAT, SMTP_LHLO,
	SMTP_VERB_COUNT
};

/* A (pointer, length) view into the caller's line. */
struct strview {
	const char *p;
	size_t len;
};

struct smtp_param {
	struct strview key;	/* e.g. "SIZE" */
	struct strview value;	/* empty when the parameter has no '=' */
};

enum smtp_cmd_err {
	CMD_OK = 0,
	CMD_EUNKNOWN,		/* unrecognised verb: 500 5.5.2 */
	CMD_ESYNTAX,		/* bad arguments: 501 5.5.4 */
	CMD_EADDR,		/* bad path: 501 5.1.3 (MAIL: 5.1.7); see addr_err */
	CMD_EPARAMS,		/* too many or malformed parameters: 501 5.5.4 */
	CMD_ENONASCII,		/* 8-bit byte outside a path: 500 5.5.2 */
};

struct smtp_cmd {
	enum smtp_verb verb;
	struct strview arg;	/* text after the verb and one space, trimmed:
				 * HELO/EHLO domain, AUTH mechanism + initial
				 * response, VRFY/HELP/NOOP argument, BDAT size */
	struct addr addr;	/* MAIL/RCPT: the parsed path */
	enum addr_err addr_err;	/* with CMD_EADDR */
	int nparams;
	struct smtp_param params[SMTP_ESMTP_PARAMS_MAX];
};

/* Parse one command line (no CRLF).  smtputf8 says whether UTF-8 is allowed
 * in a MAIL path (the caller pre-scans for the SMTPUTF8 parameter, see
 * smtp_cmd_has_smtputf8); RCPT uses the transaction's setting.
 * Verbs are case-insensitive (RFC 5321 §2.4).  MAIL/RCPT accept
 * "FROM:<path>" with optional space after the colon. */
enum smtp_cmd_err smtp_cmd_parse(const char *line, size_t len, int smtputf8,
    struct smtp_cmd *cmd);

/* Does this MAIL line carry the SMTPUTF8 parameter? (RFC 6531 §3.4) */
int smtp_cmd_has_smtputf8(const char *line, size_t len);

/* Find a parameter by case-insensitive key; NULL when absent. */
const struct smtp_param *smtp_cmd_param(const struct smtp_cmd *cmd,
    const char *key);

/* The verb's canonical upper-case name ("MAIL"), "?" for unknown. */
const char *smtp_verb_name(enum smtp_verb v);

#endif
