/* addr.h - RFC 5321 §4.1.2 mailbox and path parser.
 *
 * Parses Reverse-path / Forward-path, including quoted local parts, address
 * literals, source routes (accepted and dropped, RFC 5321 §3.6.1 and
 * Appendix C) and SMTPUTF8 (RFC 6531 §3.3: UTF-8 in local part and domain).
 * The parser never allocates; the result holds copies bounded by the RFC
 * limits in mail/limits.h.
 */
#ifndef JAGA_MAIL_ADDR_H
#define JAGA_MAIL_ADDR_H

#include <stddef.h>

#include "mail/limits.h"

enum addr_err {
	ADDR_OK = 0,
	ADDR_ESYNTAX,		/* not a path at all */
	ADDR_ELOCAL_LONG,	/* local part over 64 octets */
	ADDR_EDOMAIN_LONG,	/* domain over 255 octets */
	ADDR_EPATH_LONG,	/* path over 256 octets */
	ADDR_EUTF8,		/* non-ASCII without SMTPUTF8, or invalid UTF-8 */
};

enum addr_flags {
	ADDR_F_NULL = 1 << 0,		/* "<>" (reverse path only) */
	ADDR_F_QUOTED = 1 << 1,		/* local part was a quoted string */
	ADDR_F_LITERAL = 1 << 2,	/* domain is an address literal [..] */
	ADDR_F_ROUTE = 1 << 3,		/* a source route was present (dropped) */
	ADDR_F_UTF8 = 1 << 4,		/* local part or domain holds non-ASCII */
	ADDR_F_TRAILDOT = 1 << 5,	/* domain had a trailing dot (removed) */
	ADDR_F_NODOMAIN = 1 << 6,	/* bare "<Postmaster>" (RFC 5321 §4.1.1.3) */
};

struct addr {
	unsigned flags;
	/* local part as it must be sent on: quoted form kept verbatim */
	char local[SMTP_LOCALPART_MAX + 1];
	/* local part with quotes and backslash escapes removed: what a
	 * mail system will route on; relay decisions look at this */
	char local_decoded[SMTP_LOCALPART_MAX + 1];
	/* domain, lowercased for ASCII letters; address literals keep the
	 * brackets, e.g. "[192.0.2.1]" or "[ipv6:2001:db8::1]" */
	char domain[SMTP_DOMAIN_MAX + 1];
};

enum addr_mode {
	ADDR_REVERSE = 1 << 0,	/* MAIL FROM: "<>" allowed */
	ADDR_SMTPUTF8 = 1 << 1,	/* UTF-8 allowed (client sent SMTPUTF8) */
	ADDR_LENIENT = 1 << 2,	/* accept a missing "<>" around the path */
};

/* Parse the path that starts at s (len bytes, e.g. after "MAIL FROM:").
 * On success fills *a and sets *used to the bytes consumed (the path only;
 * ESMTP parameters after it are the caller's).  mode is enum addr_mode bits. */
enum addr_err addr_parse(const char *s, size_t len, unsigned mode,
    struct addr *a, size_t *used);

/* Write "<local@domain>" (or "<>") into out; returns length, or -1 when
 * out is too small.  Source routes are never written back. */
int addr_format(const struct addr *a, char *out, size_t outlen);

/* Human-readable text for an error, for SMTP reply texts and logs. */
const char *addr_strerror(enum addr_err e);

#endif
