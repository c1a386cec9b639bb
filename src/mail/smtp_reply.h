/* smtp_reply.h - SMTP reply parser for the client side (next hops).
 *
 * Parses a possibly multi-line reply (RFC 5321 §4.2.1) incrementally, line
 * by line, and the RFC 3463/2034 enhanced status code of its first line.
 * Also the EHLO keyword list (RFC 5321 §4.1.1.1).
 */
#ifndef JAGA_MAIL_SMTP_REPLY_H
#define JAGA_MAIL_SMTP_REPLY_H

#include <stddef.h>

#include "mail/limits.h"

struct smtp_reply {
	int code;		/* 200..599, 0 when none */
	char enh[16];		/* "2.1.0", or "" when the server sent none */
	char text[SMTP_REPLYLINE_MAX];	/* text of the first line, without
				 * the code and the enhanced code */
	int nlines;
	unsigned ehlo_caps;	/* after an EHLO/LHLO reply: SMTP_CAP_* bits */
	unsigned long size_max;	/* after EHLO: SIZE value, 0 if none */
};

enum smtp_cap {
	SMTP_CAP_PIPELINING = 1 << 0,
	SMTP_CAP_SIZE = 1 << 1,
	SMTP_CAP_8BITMIME = 1 << 2,
	SMTP_CAP_STARTTLS = 1 << 3,
	SMTP_CAP_SMTPUTF8 = 1 << 4,
	SMTP_CAP_ENHANCEDSTATUSCODES = 1 << 5,
	SMTP_CAP_AUTH_PLAIN = 1 << 6,
	SMTP_CAP_AUTH_LOGIN = 1 << 7,
	SMTP_CAP_CHUNKING = 1 << 8,
	SMTP_CAP_DSN = 1 << 9,
};

enum smtp_reply_state {
	REPLY_MORE = 0,		/* feed the next line */
	REPLY_DONE = 1,		/* the reply is complete */
	REPLY_EBAD = -1,	/* not an SMTP reply (wrong code, mixed codes,
				 * too many lines): treat the peer as broken */
};

/* Start parsing a new reply. */
void smtp_reply_init(struct smtp_reply *r);
/* Feed one line without CRLF.  ehlo says whether to collect EHLO keywords. */
enum smtp_reply_state smtp_reply_feed(struct smtp_reply *r, const char *line,
    size_t len, int ehlo);
/* Fill r with a reply jaga makes itself (e.g. when a next hop is down). */
void smtp_reply_set(struct smtp_reply *r, int code, const char *enh,
    const char *text);

#endif
