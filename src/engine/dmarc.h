/* dmarc.h - DMARC, RFC 7489 (issue 5 §4).
 *
 * Three pieces, each usable alone:
 *   - dmarc_parse: one TXT record to struct dmarc_record (§6.3, §6.4),
 *     bounded by DNS_TXT_MAX, nothing allocated;
 *   - dmarc_psl_*: the Organizational Domain (§3.2) from the Public Suffix
 *     List through libpsl (Debian's publicsuffix list by default);
 *   - dmarc_check: policy discovery (§6.6.3), identifier alignment (§3.1)
 *     and the disposition (§6.6.4, §6.3 pct) for one message, through
 *     struct dns_lookup (engine/dns.h).
 * dmarc_check takes the SPF result with the domain it was evaluated for and
 * a list of DKIM (d=, pass?) pairs, so it depends on neither engine's code.
 */
#ifndef JAGA_ENGINE_DMARC_H
#define JAGA_ENGINE_DMARC_H

#include <stddef.h>

#include "engine/dns.h"
#include "engine/spf.h"

#define DMARC_URI_MAX	512	/* rua=/ruf= text kept; longer: truncated */
#define DMARC_DKIM_MAX	16	/* DKIM results looked at; ours */

enum dmarc_policy {
	DMARC_P_UNSET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT,
};

/* Why dmarc_parse refused a record; any but DMARC_PARSE_OK means the
 * record is ignored (§6.6.3). */
enum dmarc_parse_status {
	DMARC_PARSE_OK,
	DMARC_PARSE_EMPTY,		/* no text */
	DMARC_PARSE_BAD_VERSION,	/* v=DMARC1 not the first tag */
	DMARC_PARSE_BAD_VALUE,		/* a known tag with a bad value */
	DMARC_PARSE_SYNTAX,		/* not a tag-list, a repeated tag */
	DMARC_PARSE_NO_P,		/* p= absent (§6.3 "REQUIRED") */
	DMARC_PARSE_TOO_LONG,		/* over DNS_TXT_MAX octets */
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;		/* p when absent (§6.3) */
	int pct;			/* 0..100, default 100 */
	int adkim_strict;		/* adkim=s; default relaxed */
	int aspf_strict;		/* aspf=s; default relaxed */
	unsigned long ri;		/* seconds, default 86400 */
	char fo[16];			/* "0" by default; checked, kept */
	char rf[32];			/* "afrf" by default */
	char rua[DMARC_URI_MAX];	/* as written, "" if absent */
	char ruf[DMARC_URI_MAX];
};

/* Parse len octets of txt (one TXT record, strings joined).  Fills *out
 * with the defaults first, then the tags found; unknown tags are ignored
 * (§6.3).  Strict where OpenDMARC is lenient: "p=n" is a bad value, only
 * none/quarantine/reject (case-insensitive) are policies. */
enum dmarc_parse_status dmarc_parse(const char *txt, size_t len,
    struct dmarc_record *out);
/* "ok", "empty", "bad-version", ... for logs and tests. */
const char *dmarc_parse_name(enum dmarc_parse_status s);
/* "none", "quarantine", "reject"; "unset" for DMARC_P_UNSET. */
const char *dmarc_policy_name(enum dmarc_policy p);

/* ---- the Organizational Domain (dmarc_psl.c), RFC 7489 §3.2 ---- */
struct dmarc_psl;
/* The Public Suffix List from file, or with file NULL the newest of
 * libpsl's built-in list and Debian's (psl_latest: /usr/share/publicsuffix).
 * NULL with a message in err when it cannot be loaded.  Read-only once
 * loaded: one list serves every thread. */
struct dmarc_psl *dmarc_psl_load(const char *file, char *err, size_t errlen);
void dmarc_psl_free(struct dmarc_psl *psl);
/* The Organizational Domain of domain (ASCII or UTF-8, any case) into out,
 * lowercase: the public suffix plus one label (§3.2 steps 1-3).  Returns
 * 0, or -1 when domain has none (it is a public suffix itself, empty, has
 * an empty label) or does not fit. */
int dmarc_org_domain(const struct dmarc_psl *psl, const char *domain,
    char out[DNS_NAME_MAX + 1]);

/* ---- the evaluation (dmarc_eval.c), RFC 7489 §3.1, §6.6 ---- */
enum dmarc_res {
	DMARC_NONE,		/* no policy record: DMARC not applied */
	DMARC_PASS,		/* an aligned SPF or DKIM pass (§4.2) */
	DMARC_FAIL,
	DMARC_TEMPERROR,	/* DNS TEMPFAIL during discovery (§6.6.3) */
	DMARC_PERMERROR,	/* the From domain cannot be asked */
};

/* What the Mail Receiver does (§6.3 p/sp after pct, §6.6.4). */
enum dmarc_disp {
	DMARC_D_NONE, DMARC_D_QUARANTINE, DMARC_D_REJECT,
};

/* One verified DKIM signature: its d= and whether it passed. */
struct dmarc_dkim {
	const char *domain;
	int pass;
};

struct dmarc_input {
	const char *from_domain;	/* RFC5322.From domain (§6.6.1) */
	enum spf_res spf;		/* SPF result ... */
	const char *spf_domain;		/* ... and the domain it was for:
					 * MAIL FROM's, or HELO's (§4.1) */
	const struct dmarc_dkim *dkim;	/* the first DMARC_DKIM_MAX used */
	size_t ndkim;
	unsigned sample;		/* caller's random 0..99 for pct */
};

struct dmarc_result {
	enum dmarc_res result;
	enum dmarc_disp disposition;	/* after pct; NONE unless FAIL */
	enum dmarc_policy policy;	/* p or sp as published, UNSET if no
					 * record */
	int sampled_out;		/* pct made the disposition milder */
	int spf_aligned;		/* SPF passed and aligned */
	int dkim_aligned;		/* some DKIM pass aligned */
	char from_domain[DNS_NAME_MAX + 1];	/* lowercase */
	char org_domain[DNS_NAME_MAX + 1];	/* of from_domain */
	char record_domain[DNS_NAME_MAX + 1];	/* where the record was */
	char dkim_domain[DNS_NAME_MAX + 1];	/* the aligned d=, or "" */
	struct dmarc_record rec;
	char problem[128];		/* temperror/permerror: why */
};

/* Evaluate one message.  Fills *out completely; returns 0, -1 only for
 * NULL arguments. */
int dmarc_check(struct dns_lookup *dns, const struct dmarc_psl *psl,
    const struct dmarc_input *in, struct dmarc_result *out);
/* 1 when domain id aligns with from (lowercase, as dmarc_result has it):
 * strict the same name, relaxed the same Organizational Domain (§3.1.1,
 * §3.1.2).  msgauth asks it for identifiers that gave a temporary error. */
int dmarc_aligned(const struct dmarc_psl *psl, const char *from,
    const char *id, int strict);
/* "none", "pass", "fail", "temperror", "permerror" (RFC 8601 §2.7.1). */
const char *dmarc_res_name(enum dmarc_res r);
/* "none", "quarantine", "reject". */
const char *dmarc_disp_name(enum dmarc_disp d);

/* ---- the message side (dmarc_msg.c) ---- */
/* The RFC5322.From domain (§6.6.1) of the header block of msg (len octets,
 * parsed with GMime through mail/sender.h): the domain of the first
 * mailbox of the one From: header, lowercase.  A value GMime refuses is
 * read as OpenDMARC does (quoted strings and comments dropped, the first
 * address's domain).  Returns 0, or -1 when there is no From:, several, or
 * no domain at all (§6.6.1: such a message gets no DMARC pass). */
int dmarc_from_domain(const char *msg, size_t len,
    char out[DNS_NAME_MAX + 1]);
/* The dmarc resinfo of an Authentication-Results header (RFC 8601 §2.7.1,
 * RFC 7489 §11.2), "dmarc=fail (p=reject sp=quarantine dis=reject)
 * header.from=example.com", into out (outlen octets, NUL-terminated,
 * truncated to fit).  Returns the length it needed. */
size_t dmarc_ar_resinfo(const struct dmarc_result *r, char *out,
    size_t outlen);

#endif
