/* msgauth.h - one message's authentication, as a receiver does it:
 * SPF for the HELO name and for MAIL FROM (RFC 7208 §2.3, §2.4), every
 * DKIM signature (RFC 6376), DMARC on the RFC5322.From domain (RFC 7489),
 * and the one Authentication-Results header that reports them (RFC 8601).
 *
 * msgauth_check only chains the engines (engine/spf.h, engine/dkim.h,
 * engine/dmarc.h) through one struct dns_lookup: synchronous, so the
 * daemon calls it from a job-pool thread, "jaga dmarc check" directly.
 * Nothing here decides what to do with the message: the caller applies
 * the disposition and its local overrides (docs/decisions.md).
 */
#ifndef JAGA_ENGINE_MSGAUTH_H
#define JAGA_ENGINE_MSGAUTH_H

#include <stddef.h>
#include <time.h>

#include "engine/dkim.h"
#include "engine/dmarc.h"
#include "engine/dns.h"
#include "engine/spf.h"

#define MSGAUTH_AR_MAX	4096	/* octets of the Authentication-Results
				 * header we write, CRLFs included */
#define MSGAUTH_B_CHARS	8	/* of b= in header.b (RFC 6008 §4) */
#define MSGAUTH_AR_COLS	78	/* a folded line, where possible (RFC
				 * 5322 §2.1.1) */

struct msgauth_in {
	const char *ip;		/* client address, IPv4 or IPv6 text */
	const char *helo;	/* HELO/EHLO name as given, "" if none */
	const char *mail_from;	/* MAIL FROM address without <>, "" = <> */
	const char *msg;	/* header and body as received, CRLF lines,
				 * without the trace header we added */
	size_t len;
	time_t now;		/* for DKIM t=/x= */
	unsigned sample;	/* random 0..99 for DMARC pct= */
};

struct msgauth_res {
	struct spf_result spf_helo;	/* the HELO identity (§2.3) */
	int helo_checked;		/* 0: no HELO name, or not a domain */
	struct spf_result spf_mfrom;	/* MAIL FROM; for <> the HELO
					 * identity as postmaster@helo (§2.4) */
	struct dkim_res dkim[DKIM_VERIFY_MAX];
	size_t ndkim;			/* 0: the message has no signature */
	int from_ok;			/* 1: one From: with a domain */
	struct dmarc_result dmarc;	/* DMARC_PERMERROR when !from_ok */
	char dkim_b[DKIM_VERIFY_MAX][MSGAUTH_B_CHARS + 1];
					/* b= of dkim[i], its first chars */
	int temp_aligned;		/* DMARC fail, and an identifier that
					 * would have aligned gave a
					 * temporary error */
};

/* Evaluate one message.  Fills *out completely.  Returns 0, or -1 when
 * the message cannot be parsed at all (out of memory, more header fields
 * than DKIM_HDR_MAX): SPF is still filled in, DKIM and DMARC say
 * permerror.  DNS trouble is never an error here: it is in the results
 * (SPF_TEMPERROR, DKIM_TEMPERROR, DMARC_TEMPERROR). */
int msgauth_check(struct dns_lookup *dns, const struct dmarc_psl *psl,
    const struct msgauth_in *in, struct msgauth_res *out);

/* 1 when a temporary DNS error may have changed a DMARC outcome that
 * matters: the policy discovery failed (DMARC_TEMPERROR), or DMARC failed
 * with a disposition other than none while SPF of MAIL FROM or a
 * signature whose d= would have aligned gave a temporary error.  The
 * gateway answers such a message 451 4.4.3 (RFC 7208 §8.6, RFC 7489
 * §6.6.3) instead of rejecting or quarantining it on a DNS hiccup. */
int msgauth_dmarc_tempfail(const struct msgauth_res *r);

/* The whole header field, "Authentication-Results: SERVID;" then one
 * resinfo per line (RFC 8601 §2.2, §2.7): spf (smtp.mailfrom, and for
 * the HELO identity smtp.helo), one dkim per signature (header.d,
 * header.s, header.a, header.b with the first 8 characters of b=, as
 * large receivers write it), dmarc (dmarc_ar_resinfo), each reason as
 * a comment; "none" for a method with nothing to report.  Folded lines
 * ending in CRLF, the last one too.  Writes at most outlen octets
 * (NUL-terminated, truncated to fit); returns the length it needed. */
size_t msgauth_ar_header(const struct msgauth_res *r, const char *servid,
    char *out, size_t outlen);

#endif
