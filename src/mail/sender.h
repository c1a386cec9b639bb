/* sender.h - who may send as whom (issue 3 §2): allowed-sender lists and
 * the header From: of a message (RFC 5322 §3.6.2), parsed with GMime.
 *
 * A list is newline-separated text, one entry per line (engine/store.h):
 * "local@domain" allows that address, "@domain" every address of that
 * domain.  Domains compare case-insensitively (ASCII, RFC 5321 §2.4); the
 * local part compares exactly, since RFC 5321 §2.4 leaves its case to the
 * receiving host and we must not widen what the administrator wrote.
 * Subdomains are not covered by "@domain".
 */
#ifndef JAGA_MAIL_SENDER_H
#define JAGA_MAIL_SENDER_H

#include <stddef.h>

#define SENDER_HEADER_MAX (256 * 1024)	/* header block octets parsed */
#define SENDER_FROM_MAX 64		/* mailboxes checked in one From: */
#define SENDER_ADDR_MAX 320		/* octets of one address we keep */

enum sender_from {
	SENDER_FROM_OK,
	SENDER_FROM_MISSING,	/* no From: header */
	SENDER_FROM_MULTIPLE,	/* more than one From: (RFC 5322 §3.6) */
	SENDER_FROM_BAD,	/* unparsable, no mailbox, or over the limits */
	SENDER_FROM_DENIED,	/* a mailbox not in the list */
};

/* Initialise GMime once; thread-safe, cheap after the first call.  Every
 * function below calls it itself. */
void sender_init(void);
/* 1 when addr ("local@domain", NUL-terminated) is in list, else 0. */
int sender_allowed(const char *list, const char *addr);
/* The mailboxes of the one From: header in the header block of msg (len
 * octets; the body is ignored), groups flattened, as newline-separated
 * "local@domain" in out (truncated to outlen).  Returns SENDER_FROM_OK or
 * why not (never SENDER_FROM_DENIED). */
enum sender_from sender_from_extract(const char *msg, size_t len, char *out,
    size_t outlen);
/* Every mailbox of From: must be allowed by list (its UTF-8 or its IDNA
 * form).  SENDER_FROM_DENIED puts the first refused address in bad. */
enum sender_from sender_from_check(const char *msg, size_t len,
    const char *list, char *bad, size_t badlen);
/* Text for an SMTP reply or a log line. */
const char *sender_from_reason(enum sender_from r);

#endif
