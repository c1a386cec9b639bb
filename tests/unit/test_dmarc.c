/* test_dmarc.c - the DMARC record (RFC 7489 §6.3), the Organizational
 * Domain (§3.2, the PSL's own test vectors) and the evaluation (§3.1,
 * §6.6.3, §6.6.4) over a dns_table. */
#include <stdio.h>
#include <string.h>

#include "engine/dmarc.h"
#include "engine/dns.h"
#include "harness.h"

/* OpenDMARC's record_parse table (../shared/testdata/dmarc/opendmarc/,
 * libopendmarc-unit-cases.shared.json), n = its case number.  One answer
 * differs on purpose: case 5 "p=n" is OpenDMARC's leniency; RFC 7489
 * §6.3 names only none/quarantine/reject, so jaga ignores the record. */
static const struct {
	int n;
	const char *rec;
	enum dmarc_parse_status want;
} parse_cases[] = {
	{ 1, "v=DMARC1; p=none; rf=afrf; rua=mailto:dmarc-a@abuse.net; "
	    "ruf=mailto:dmarc-f@abuse.net", DMARC_PARSE_OK },
	{ 2, "v=DMARC1; p=none;", DMARC_PARSE_OK },
	{ 3, "v=DMARC1; p=reject;", DMARC_PARSE_OK },
	{ 4, "v=DMARC1; p=quarantine;", DMARC_PARSE_OK },
	{ 5, "v=DMARC1; p=n;", DMARC_PARSE_BAD_VALUE },
	{ 6, "", DMARC_PARSE_EMPTY },
	{ 7, "V=BOB", DMARC_PARSE_BAD_VERSION },
	{ 8, "v=DMARC1; p=bob;", DMARC_PARSE_BAD_VALUE },
	{ 9, "v=DMARC1; p=none; sp=bob;", DMARC_PARSE_BAD_VALUE },
	{ 10, "v=DMARC1; p=none; adkim=bob;", DMARC_PARSE_BAD_VALUE },
	{ 11, "v=DMARC1; p=none; aspf=bob;", DMARC_PARSE_BAD_VALUE },
	{ 12, "v=DMARC1; p=none; rf=bob;", DMARC_PARSE_BAD_VALUE },
	{ 13, "v=DMARC1; p=none; ri=bob;", DMARC_PARSE_BAD_VALUE },
	{ 14, "v=DMARC1; p=none; pct=500;", DMARC_PARSE_BAD_VALUE },
	{ 15, "v=DMARC1; pct=100;", DMARC_PARSE_NO_P },
	{ 16, "v=DMARC1; p=none; rua=ftp://abuse.com", DMARC_PARSE_OK },
	{ 17, "v=DMARC1; p=none; ruf=mailto://abuse.com", DMARC_PARSE_OK },
	{ 18, "v=DMARC1; p=none; ruf=mailto://abuse.com; foo=bar; "
	    "buzz=happy;", DMARC_PARSE_OK },
	{ 19, "v=DMARC1; p=none; rf=000000000000000000000000000000000",
	    DMARC_PARSE_BAD_VALUE },
	/* jaga's own: §6.4 ABNF */
	{ 101, "p=none; v=DMARC1", DMARC_PARSE_BAD_VERSION },
	{ 102, "v=dmarc1; p=none", DMARC_PARSE_BAD_VERSION },
	{ 103, "v = DMARC1 ;P = Reject", DMARC_PARSE_OK },
	{ 104, "v=DMARC1; p=none; p=reject", DMARC_PARSE_SYNTAX },
	{ 105, "v=DMARC1; p=none; junk", DMARC_PARSE_SYNTAX },
	{ 106, "v=DMARC1; p=none; 9x=1", DMARC_PARSE_SYNTAX },
	{ 107, "v=DMARC1; p=none; pct=", DMARC_PARSE_BAD_VALUE },
	{ 108, "v=DMARC1; p=none; pct=-1", DMARC_PARSE_BAD_VALUE },
	{ 109, "v=DMARC1; p=none; fo=0:1:d:s", DMARC_PARSE_OK },
	{ 110, "v=DMARC1; p=none; fo=2", DMARC_PARSE_BAD_VALUE },
	{ 111, "v=DMARC1; p=none; ri=99999999999", DMARC_PARSE_BAD_VALUE },
	{ 112, "   ", DMARC_PARSE_EMPTY },
	{ 113, "v=DMARC1", DMARC_PARSE_NO_P },
	{ 114, "v=DMARC1; p=none; fo=", DMARC_PARSE_BAD_VALUE },
};

static void
test_parse_table(void)
{
	struct dmarc_record r;
	size_t i;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++)
		CHECK_STR(dmarc_parse_name(dmarc_parse(parse_cases[i].rec,
		    strlen(parse_cases[i].rec), &r)),
		    dmarc_parse_name(parse_cases[i].want), "parse case %d",
		    parse_cases[i].n);
}

/* OpenDMARC's record_fetch case, and the defaults of §6.3. */
static void
test_parse_values(void)
{
	const char *rec = "v=DMARC1; p=none; sp=none; adkim=s; aspf=s; "
	    "pct=50; ri=300; rf=afrf; rua=mailto:dmarc-a@abuse.net; "
	    "ruf=mailto:dmarc-f@abuse.net";
	struct dmarc_record r;

	CHECK_INT(dmarc_parse(rec, strlen(rec), &r), DMARC_PARSE_OK, "fetch");
	CHECK_INT(r.pct, 50, "pct");
	CHECK_INT(r.adkim_strict, 1, "adkim=s");
	CHECK_INT(r.aspf_strict, 1, "aspf=s");
	CHECK_INT(r.ri, 300, "ri");
	CHECK_STR(r.rua, "mailto:dmarc-a@abuse.net", "rua kept");
	CHECK_STR(r.ruf, "mailto:dmarc-f@abuse.net", "ruf kept");
	rec = "v=DMARC1; p=quarantine";
	CHECK_INT(dmarc_parse(rec, strlen(rec), &r), DMARC_PARSE_OK, "min");
	CHECK_STR(dmarc_policy_name(r.sp), "quarantine", "sp defaults to p");
	CHECK_INT(r.pct, 100, "pct default");
	CHECK_INT(r.adkim_strict + r.aspf_strict, 0, "relaxed default");
	CHECK_INT(r.ri, 86400, "ri default");
	CHECK_STR(r.fo, "0", "fo default");
	CHECK_STR(r.rf, "afrf", "rf default");
	CHECK_INT(dmarc_parse("v=DMARC1; p=none\0", 17, &r),
	    DMARC_PARSE_SYNTAX, "a NUL in the record");
}

#define PSL_DIR	"../shared/testdata/dmarc/publicsuffix/"

/* One argument of checkPublicSuffix(): null or '...'; NULL for null,
 * "" when the line is not understood. */
static const char *
psl_arg(char **p, char *buf, size_t size)
{
	char *q = *p + strspn(*p, " ,("), *e;

	if (strncmp(q, "null", 4) == 0) {
		*p = q + 4;
		return NULL;
	}
	if (*q != '\'' || (e = strchr(q + 1, '\'')) == NULL ||
	    (size_t)(e - q) > size) {
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, q + 1, (size_t)(e - q - 1));
	buf[e - q - 1] = '\0';
	*p = e + 1;
	return buf;
}

/* The PSL's own vectors, against the list of the same folder (the vectors'
 * answers are that list's). */
static void
test_psl_vectors(void)
{
	char line[512], in[256], want[256], got[DNS_NAME_MAX + 1];
	FILE *f = fopen(PSL_DIR "test_psl.txt", "r");
	struct dmarc_psl *psl;
	const char *a, *b;
	int n = 0;
	char *p;

	psl = dmarc_psl_load(PSL_DIR "public_suffix_list.dat", line,
	    sizeof line);
	CHECK(f != NULL && psl != NULL, "PSL test material loads");
	while (f && psl && fgets(line, sizeof line, f)) {
		if (strncmp(line, "checkPublicSuffix(", 18) != 0)
			continue;
		p = line + 17;
		a = psl_arg(&p, in, sizeof in);
		b = psl_arg(&p, want, sizeof want);
		n++;
		if (dmarc_org_domain(psl, a, got) < 0)
			CHECK_STR(NULL, b, "psl %s", a ? a : "null");
		else
			CHECK_STR(got, b, "psl %s", a);
	}
	CHECK_INT(n, 78, "every PSL vector read (4 are commented out)");
	if (f)
		fclose(f);
	dmarc_psl_free(psl);
	psl = dmarc_psl_load(NULL, line, sizeof line);
	CHECK(psl != NULL, "the system list loads");
	CHECK_INT(psl ? dmarc_org_domain(psl, "a.B.example.co.uk", got) : -1,
	    0, "system list");
	CHECK_STR(got, "example.co.uk", "system list org domain");
	dmarc_psl_free(psl);
}

int
main(void)
{
	test_parse_table();
	test_parse_values();
	test_psl_vectors();
	return harness_end("dmarc");
}
