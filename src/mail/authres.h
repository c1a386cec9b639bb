/* authres.h - the Authentication-Results header field (RFC 8601 §2.2).
 *
 * A receiver adds one such field with its own authserv-id and must remove
 * any incoming field that claims that id (RFC 8601 §5), since a forger
 * would write one to look authenticated.  authres_parse reads one field
 * value bounded and without allocating (CFWS, quoted strings and nested
 * comments as RFC 5322 §3.2.2 has them); authres_strip removes the
 * claiming fields from a message's header block in place.
 */
#ifndef JAGA_MAIL_AUTHRES_H
#define JAGA_MAIL_AUTHRES_H

#include <stddef.h>

#define AUTHRES_VALUE_MAX	8192	/* octets of one field value parsed */
#define AUTHRES_ID_MAX		255	/* authserv-id octets kept */
#define AUTHRES_RES_MAX		16	/* resinfos kept */
#define AUTHRES_PROP_MAX	8	/* properties kept per resinfo */
#define AUTHRES_TOKEN_MAX	128	/* octets of a method, result, value */

struct authres_prop {
	char ptype[16];			/* "smtp", "header", "body", "policy" */
	char property[32];		/* "mailfrom", "d", ... */
	char value[AUTHRES_TOKEN_MAX];	/* unquoted */
};

struct authres_info {
	char method[32];		/* "spf", "dkim", "dmarc", ... (lowercase) */
	char result[32];		/* "pass", "fail", ... (lowercase) */
	char reason[AUTHRES_TOKEN_MAX];	/* reason= value, "" if none */
	struct authres_prop prop[AUTHRES_PROP_MAX];
	size_t nprop;
};

struct authres {
	char servid[AUTHRES_ID_MAX + 1];	/* as written, unquoted */
	int version;				/* 1 unless given */
	int none;				/* "SERVID; none" */
	struct authres_info res[AUTHRES_RES_MAX];
	size_t nres;				/* resinfos kept */
	size_t nres_seen;			/* resinfos in the value */
};

enum authres_status {
	AUTHRES_OK,
	AUTHRES_EMPTY,		/* no authserv-id */
	AUTHRES_SYNTAX,		/* bad grammar; servid may still be set */
	AUTHRES_TOO_LONG,	/* over AUTHRES_VALUE_MAX */
};

/* Parse len octets of one field value (after "Authentication-Results:",
 * folding included).  Fills *out; on AUTHRES_SYNTAX, out->servid holds
 * the authserv-id when that much parsed, for authres_strip. */
enum authres_status authres_parse(const char *val, size_t len,
    struct authres *out);
/* "ok", "empty", "syntax", "too-long". */
const char *authres_status_name(enum authres_status s);

/* Remove from the header block of msg (len octets, CRLF lines; the body
 * after the first empty line is left alone) every Authentication-Results
 * field whose authserv-id equals servid (ASCII case-insensitively, RFC
 * 8601 §2.5), and every one whose value does not parse far enough to
 * name its authserv-id.  Works in place; returns the new length and the
 * number of fields removed in *removed (may be NULL). */
size_t authres_strip(char *msg, size_t len, const char *servid,
    size_t *removed);

#endif
