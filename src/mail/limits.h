/* limits.h - every protocol limit jaga enforces, with its source.
 * Configurable limits (message size, recipients, sessions, timeouts) live in
 * the parameter table (gateway/params.c); these are the fixed ones. */
#ifndef JAGA_MAIL_LIMITS_H
#define JAGA_MAIL_LIMITS_H

#define SMTP_LOCALPART_MAX	64	/* RFC 5321 §4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* RFC 5321 §4.5.3.1.2 */
#define SMTP_PATH_MAX		256	/* RFC 5321 §4.5.3.1.3, incl. "<>" */
#define SMTP_CMDLINE_MAX	512	/* RFC 5321 §4.5.3.1.4, incl. CRLF */
#define SMTP_REPLYLINE_MAX	512	/* RFC 5321 §4.5.3.1.5, incl. CRLF */
#define SMTP_TEXTLINE_MAX	1000	/* RFC 5321 §4.5.3.1.6, incl. CRLF */
#define SMTP_RCPT_MIN		100	/* RFC 5321 §4.5.3.1.8: must accept >= 100 */
#define SMTP_ESMTP_PARAMS_MAX	16	/* parameters on one MAIL/RCPT; ours */
#define SMTP_AUTH_LINE_MAX	12288	/* RFC 4954 §4: AUTH lines may exceed 512 */
#define SMTP_REPLY_LINES_MAX	64	/* multi-line reply from a next hop; ours */

#endif
