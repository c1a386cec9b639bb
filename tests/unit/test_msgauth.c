/* test_msgauth.c - one message's SPF, DKIM and DMARC over a dns_table
 * (engine/msgauth.h), the temporary-failure rule and the
 * Authentication-Results header, golden.  Signatures are made with the
 * RFC 8463 Ed25519 key (../shared/testdata/dkim/rfc8463): Ed25519 is
 * deterministic, so header.b is too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/msgauth.h"
#include "harness.h"
#include "mail/authres.h"

#define NOW	1700000000

static const char ed_key[] = "v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static const char body_from_football[] =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "\r\n"
    "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n";

static struct dns_lookup *
zone(void)
{
	static const struct {
		const char *name, *txt;
	} recs[] = {
		{ "football.example.com", "v=spf1 ip4:192.0.2.0/24 -all" },
		{ "mail.football.example.com", "v=spf1 ip4:192.0.2.10 -all" },
		{ "_dmarc.football.example.com", "v=DMARC1; p=reject" },
		{ "brisbane._domainkey.football.example.com", ed_key },
		{ "brisbane._domainkey.evil.example", ed_key },
		{ "evil.example", "v=spf1 ip4:198.51.100.0/24 -all" },
		{ "temp.example", "v=spf1 ip4:192.0.2.0/24 -all" },
		{ "nodmarc.example", "v=spf1 ip4:192.0.2.0/24 -all" },
		{ "_dmarc.tempspf.example", "v=DMARC1; p=quarantine" },
	};
	struct dns_lookup *l = dns_table_new();
	size_t i;

	for (i = 0; l && i < sizeof recs / sizeof recs[0]; i++)
		CHECK_INT(dns_table_add(l, recs[i].name, DNS_T_TXT,
		    recs[i].txt), 0, "zone %s", recs[i].name);
	dns_table_timeout(l, "_dmarc.temp.example");
	dns_table_timeout(l, "slow._domainkey.football.example.com");
	dns_table_timeout(l, "slow._domainkey.evil.example");
	dns_table_timeout(l, "tempspf.example");
	return l;
}

/* msg with a DKIM-Signature of d= domain, s= selector on top, or msg
 * itself when the key cannot be loaded (the CHECK says so).  Static. */
static const char *
sign(const char *msg, const char *domain, const char *selector)
{
	static char out[8192];
	struct dkim_signopt o = { domain, selector, DKIM_RELAXED,
	    DKIM_RELAXED, 0, 0 };
	char why[128] = "";
	struct dkim_signkey *k = dkim_signkey_load(
	    testdata("dkim/rfc8463/ed25519-brisbane.private.pem"), why,
	    sizeof why);
	struct dkim_msg *m = dkim_msg_parse(msg, strlen(msg));
	char *f = k && m ? dkim_sign(m, k, &o, why, sizeof why) : NULL;

	CHECK(f != NULL, "sign %s (%s)", domain, why);
	snprintf(out, sizeof out, "%s%s", f ? f : "", msg);
	free(f);
	dkim_msg_free(m);
	dkim_signkey_free(k);
	return out;
}

/* Run one message; the A-R header into ar (MSGAUTH_AR_MAX). */
static int
run(struct dns_lookup *l, const struct dmarc_psl *psl, const char *ip,
    const char *helo, const char *mfrom, const char *msg,
    struct msgauth_res *r, char *ar)
{
	struct msgauth_in in = { ip, helo, mfrom, msg, strlen(msg), NOW, 0 };
	int rc = msgauth_check(l, psl, &in, r);
	size_t n = msgauth_ar_header(r, "mx.jaga.example", ar, MSGAUTH_AR_MAX);
	struct authres parsed;

	CHECK_INT(n, strlen(ar), "A-R length %s", mfrom);
	/* what we write, our own parser reads: the id and every method */
	CHECK_INT(authres_parse(ar + 23, n - 23, &parsed), AUTHRES_OK,
	    "A-R parses: %s", ar);
	CHECK_STR(parsed.servid, "mx.jaga.example", "A-R id");
	return rc;
}

static void
test_spf_and_dmarc(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	struct msgauth_res r;
	char ar[MSGAUTH_AR_MAX];

	run(l, psl, "192.0.2.10", "mail.football.example.com",
	    "joe@football.example.com", body_from_football, &r, ar);
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "pass", "mfrom pass");
	CHECK_STR(spf_res_name(r.spf_helo.result), "pass", "helo pass");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "pass", "dmarc via spf");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "pass: no tempfail");
	CHECK_STR(ar, "Authentication-Results: mx.jaga.example;\r\n"
	    "\tspf=pass smtp.mailfrom=joe@football.example.com;\r\n"
	    "\tspf=pass smtp.helo=mail.football.example.com;\r\n"
	    "\tdkim=none;\r\n"
	    "\tdmarc=pass (p=reject sp=reject dis=none)\r\n"
	    "\t  header.from=football.example.com\r\n", "A-R spf pass");

	run(l, psl, "203.0.113.5", "mail.football.example.com",
	    "joe@football.example.com", body_from_football, &r, ar);
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "fail", "mfrom fail");
	CHECK_STR(spf_res_name(r.spf_helo.result), "fail", "helo fail");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "fail", "dmarc fail");
	CHECK_STR(dmarc_disp_name(r.dmarc.disposition), "reject", "reject");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "a real fail: no tempfail");

	/* a HELO name that is not a domain is not checked (RFC 7208 §2.3) */
	run(l, psl, "192.0.2.10", "[192.0.2.10]", "joe@football.example.com",
	    body_from_football, &r, ar);
	CHECK_INT(r.helo_checked, 0, "literal HELO not checked");
	CHECK(strstr(ar, "smtp.helo") == NULL, "no helo resinfo: %s", ar);

	/* <>: the HELO identity is MAIL FROM's, for DMARC too */
	run(l, psl, "192.0.2.10", "mail.football.example.com", "",
	    body_from_football, &r, ar);
	CHECK_INT(r.spf_mfrom.helo_identity, 1, "null sender: helo identity");
	CHECK_STR(r.spf_mfrom.sender, "postmaster@mail.football.example.com",
	    "postmaster@helo");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "pass",
	    "dmarc pass via the HELO identity");
	CHECK_STR(ar, "Authentication-Results: mx.jaga.example;\r\n"
	    "\tspf=pass smtp.helo=mail.football.example.com;\r\n"
	    "\tdkim=none;\r\n"
	    "\tdmarc=pass (p=reject sp=reject dis=none)\r\n"
	    "\t  header.from=football.example.com\r\n", "A-R null sender");
	run(l, psl, "203.0.113.5", "mail.football.example.com", "",
	    body_from_football, &r, ar);
	CHECK_STR(dmarc_res_name(r.dmarc.result), "fail",
	    "null sender, HELO fails: dmarc fail");
}

static void
test_dkim(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	struct msgauth_res r;
	char ar[MSGAUTH_AR_MAX], needle[16];
	const char *msg = sign(body_from_football, "football.example.com",
	    "brisbane");

	run(l, psl, "203.0.113.5", "mail.football.example.com",
	    "joe@football.example.com", msg, &r, ar);
	CHECK_INT(r.ndkim, 1, "one signature");
	CHECK_STR(dkim_result_name(r.dkim[0].result), "pass", "dkim pass");
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "fail", "spf fails");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "pass", "dmarc via dkim");
	CHECK_INT(r.dmarc.dkim_aligned, 1, "dkim aligned");
	snprintf(needle, sizeof needle, "b=%s", r.dkim_b[0]);
	CHECK(strlen(r.dkim_b[0]) == 8 && strstr(msg, needle) != NULL,
	    "header.b is the start of b=: %s", needle);
	CHECK_STR(ar, "Authentication-Results: mx.jaga.example;\r\n"
	    "\tspf=fail smtp.mailfrom=joe@football.example.com;\r\n"
	    "\tspf=fail smtp.helo=mail.football.example.com;\r\n"
	    "\tdkim=pass (good signature) header.d=football.example.com\r\n"
	    "\t  header.s=brisbane header.a=ed25519-sha256 header.b=WfbsuAak;\r\n"
	    "\tdmarc=pass (p=reject sp=reject dis=none)\r\n"
	    "\t  header.from=football.example.com\r\n", "A-R dkim pass");

	/* signed by the forger's own domain, From: forged */
	msg = sign(body_from_football, "evil.example", "brisbane");
	run(l, psl, "198.51.100.7", "mx.evil.example", "bob@evil.example",
	    msg, &r, ar);
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "pass", "forger spf");
	CHECK_STR(dkim_result_name(r.dkim[0].result), "pass", "forger dkim");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "fail", "forged From");
	CHECK_STR(dmarc_policy_name(r.dmarc.policy), "reject", "p=reject");
	CHECK_STR(dmarc_disp_name(r.dmarc.disposition), "reject",
	    "disposition reject");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "forged: no tempfail");
}

static void
test_tempfail(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	struct msgauth_res r;
	char ar[MSGAUTH_AR_MAX];
	const char *msg = "From: a@temp.example\r\nSubject: t\r\n\r\nb\r\n";

	run(l, psl, "192.0.2.10", "", "a@temp.example", msg, &r, ar);
	CHECK_STR(dmarc_res_name(r.dmarc.result), "temperror",
	    "_dmarc timeout");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 1, "discovery timeout");
	CHECK(strstr(ar, "\tdmarc=temperror (") != NULL,
	    "temperror with its reason: %s", ar);

	/* the key of the aligned d= times out, SPF fails, p=reject */
	msg = sign(body_from_football, "football.example.com", "slow");
	run(l, psl, "203.0.113.5", "", "joe@football.example.com", msg, &r,
	    ar);
	CHECK_STR(dkim_result_name(r.dkim[0].result), "temperror",
	    "key timeout");
	CHECK_STR(dmarc_disp_name(r.dmarc.disposition), "reject",
	    "would reject");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 1, "aligned key timeout");
	/* the same for a d= that would not have aligned: a real fail */
	msg = sign(body_from_football, "evil.example", "slow");
	run(l, psl, "203.0.113.5", "", "joe@football.example.com", msg, &r,
	    ar);
	CHECK_STR(dkim_result_name(r.dkim[0].result), "temperror",
	    "unaligned key timeout");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "unaligned key timeout");
	/* SPF of an aligned MAIL FROM times out, p=quarantine */
	msg = "From: a@tempspf.example\r\n\r\nb\r\n";
	run(l, psl, "192.0.2.10", "", "a@tempspf.example", msg, &r, ar);
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "temperror", "spf temp");
	CHECK_STR(dmarc_disp_name(r.dmarc.disposition), "quarantine",
	    "would quarantine");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 1, "aligned spf timeout");
	/* and with no policy to apply, nothing to wait for */
	msg = "From: a@nodmarc.example\r\n\r\nb\r\n";
	run(l, psl, "203.0.113.5", "", "a@nodmarc.example", msg, &r, ar);
	CHECK_STR(dmarc_res_name(r.dmarc.result), "none", "no record");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "no record: no tempfail");
}

static void
test_no_from(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	struct msgauth_res r;
	char ar[MSGAUTH_AR_MAX];

	run(l, psl, "192.0.2.10", "mail.football.example.com",
	    "joe@football.example.com", "Subject: no from\r\n\r\nb\r\n", &r,
	    ar);
	CHECK_INT(r.from_ok, 0, "no From");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "permerror", "permerror");
	CHECK_INT(msgauth_dmarc_tempfail(&r), 0, "permerror: no tempfail");
	CHECK_STR(ar, "Authentication-Results: mx.jaga.example;\r\n"
	    "\tspf=pass smtp.mailfrom=joe@football.example.com;\r\n"
	    "\tspf=pass smtp.helo=mail.football.example.com;\r\n"
	    "\tdkim=none;\r\n"
	    "\tdmarc=permerror (no single From: with a domain)\r\n",
	    "A-R no From");
}

/* Folding: lines within MSGAUTH_AR_COLS where a word allows it, never
 * over 998; values quoted where they must be; truncation. */
static void
test_folding(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	char ar[MSGAUTH_AR_MAX], mfrom[300], small[40];
	struct msgauth_res r;
	const char *p, *e;
	size_t n, longest = 0;

	snprintf(mfrom, sizeof mfrom, "%0200d@nodmarc.example", 7);
	run(l, psl, "192.0.2.10", "a.very.long.helo.name.that.goes.on."
	    "nodmarc.example", mfrom, "From: a@nodmarc.example\r\n\r\nb\r\n",
	    &r, ar);
	for (p = ar; (e = strstr(p, "\r\n")) != NULL; p = e + 2) {
		n = (size_t)(e - p) + (*p == '\t' ? 7 : 0);
		longest = n > longest ? n : longest;
		CHECK(n <= 78 || memchr(p, ' ', (size_t)(e - p)) == NULL ||
		    strncmp(p, "\t  smtp.mailfrom=", 17) == 0,
		    "a foldable line over 78: %.*s", (int)(e - p), p);
	}
	CHECK(longest > 78 && longest < 998, "the long address: %zu", longest);
	CHECK_STR(p, "", "ends in CRLF");
	r.spf_mfrom.helo_identity = 0;
	snprintf(r.spf_mfrom.sender, sizeof r.spf_mfrom.sender,
	    "\"a b\"@x.example");
	msgauth_ar_header(&r, "mx.jaga.example", ar, sizeof ar);
	CHECK(strstr(ar, "smtp.mailfrom=\"\\\"a b\\\"@x.example\"") != NULL,
	    "quoted: %s", ar);
	n = msgauth_ar_header(&r, "mx.jaga.example", small, sizeof small);
	CHECK_INT(n, strlen(ar), "needed length");
	CHECK_INT(strlen(small), sizeof small - 1, "truncated");
}

/* More header fields than DKIM_HDR_MAX: SPF filled, DKIM and DMARC
 * permerror, -1. */
static void
test_unparsable(struct dns_lookup *l, const struct dmarc_psl *psl)
{
	size_t cap = (DKIM_HDR_MAX + 10) * 8 + 64, o = 0;
	char *msg = malloc(cap);
	struct msgauth_res r;
	char ar[MSGAUTH_AR_MAX];

	o += (size_t)snprintf(msg, cap, "From: a@football.example.com\r\n");
	for (int i = 0; i < DKIM_HDR_MAX + 10; i++)
		o += (size_t)snprintf(msg + o, cap - o, "X: %03d\r\n", i % 1000);
	snprintf(msg + o, cap - o, "\r\nb\r\n");
	CHECK_INT(run(l, psl, "192.0.2.10", "", "a@football.example.com", msg,
	    &r, ar), -1, "too many fields");
	CHECK_STR(spf_res_name(r.spf_mfrom.result), "pass", "spf still done");
	CHECK_STR(dkim_result_name(r.dkim[0].result), "permerror", "dkim");
	CHECK_STR(dmarc_res_name(r.dmarc.result), "permerror", "dmarc");
	free(msg);
}

int
main(void)
{
	char err[256];
	struct dmarc_psl *psl = dmarc_psl_load(NULL, err, sizeof err);
	struct dns_lookup *l = zone();

	CHECK(psl != NULL && l != NULL, "PSL and zone (%s)", err);
	if (psl != NULL && l != NULL) {
		test_spf_and_dmarc(l, psl);
		test_dkim(l, psl);
		test_tempfail(l, psl);
		test_no_from(l, psl);
		test_folding(l, psl);
		test_unparsable(l, psl);
	}
	dns_lookup_free(l);
	dmarc_psl_free(psl);
	return harness_end("msgauth");
}
