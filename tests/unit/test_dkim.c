/* test_dkim.c - DKIM (engine/dkim.h): the canonicalization vectors of RFC
 * 6376 and dkimpy, tag lists, signatures and key records, the RFC 8463
 * and dkimpy signed messages, RFC 8301 refusals, signing round trips
 * under every c=, over-signing, keygen.  Keys come from a TXT table
 * (dkim_dnsfile_new) written per test; the test data is in
 * ../shared/testdata/dkim (SOURCES.md). */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine/dkim.h"
#include "engine/dkim_int.h"
#include "harness.h"

#include "dkim_vectors.h"

static char tmpdir[] = "/tmp/test_dkim.XXXXXX";

/* A dns_lookup that counts the queries it passes on. */
struct counting {
	struct dns_lookup l;
	struct dns_lookup *inner;
	int n;
	char last[DNS_NAME_MAX + 1];
};

static int
counting_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct counting *c = (struct counting *)l;

	c->n++;
	snprintf(c->last, sizeof c->last, "%s", name);
	return dns_query(c->inner, name, type, out);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *d = malloc(1 << 20);

	*len = f && d ? fread(d, 1, (1 << 20) - 1, f) : 0;
	if (f)
		fclose(f);
	if (d)
		d[*len] = '\0';
	return d;
}

/* A TXT table from text lines "NAME VALUE". */
static struct dns_lookup *
table(const char *lines)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/dns.txt", tmpdir);
	f = fopen(path, "w");
	fputs(lines, f);
	fclose(f);
	return dkim_dnsfile_new(path);
}

/* "NAME " + the contents of a file, as one table line. */
static void
table_line_file(char *out, size_t cap, const char *name, const char *path)
{
	size_t len;
	char *d = slurp(path, &len);

	while (len > 0 && (d[len - 1] == '\n' || d[len - 1] == '\r'))
		d[--len] = '\0';
	snprintf(out + strlen(out), cap - strlen(out), "%s %s\n", name, d);
	free(d);
}

/* Verify a message (text) against a table: the n-th result. */
static struct dkim_res
verify_text(const char *text, size_t len, struct dns_lookup *dns, size_t nth,
    size_t *count)
{
	struct dkim_res res[DKIM_VERIFY_MAX];
	struct dkim_msg *m = dkim_msg_parse(text, len);
	size_t n = m ? dkim_verify(m, dns, time(NULL), res, DKIM_VERIFY_MAX) : 0;

	dkim_msg_free(m);
	if (count)
		*count = n;
	if (nth >= n) {
		memset(&res[0], 0, sizeof res[0]);
		return res[0];
	}
	return res[nth];
}

static struct dkim_res
verify_file(const char *path, struct dns_lookup *dns, size_t nth,
    size_t *count)
{
	size_t len;
	char *d = slurp(path, &len);
	struct dkim_res r = verify_text(d, len, dns, nth, count);

	free(d);
	return r;
}

static void
test_vectors(void)
{
	for (size_t i = 0; i < sizeof dkim_vecs / sizeof dkim_vecs[0]; i++) {
		const struct dkim_vec *v = &dkim_vecs[i];
		enum dkim_canon c = v->relaxed ? DKIM_RELAXED : DKIM_SIMPLE;
		char out[512] = "", *b;
		size_t n = 0, blen;

		if (v->header) {
			char msg[512];
			struct dkim_msg *m;

			snprintf(msg, sizeof msg, "%s\r\n", v->in);
			m = dkim_msg_parse(msg, strlen(msg));
			for (size_t f = 0; m && f < m->nf; f++) {
				long w = dkim_canon_header(c, m->data + m->f[f].off,
				    m->f[f].len, out + n, sizeof out - n - 1);
				n += w > 0 ? (size_t)w : 0;
			}
			out[n] = '\0';
			dkim_msg_free(m);
			CHECK_STR(out, v->want, "header %s (%s)", v->name,
			    v->relaxed ? "relaxed" : "simple");
			continue;
		}
		if (dkim_canon_body(c, v->in, strlen(v->in), &b, &blen) == 0) {
			snprintf(out, sizeof out, "%.*s", (int)blen, b);
			free(b);
		}
		CHECK_STR(out, v->want, "body %s (%s)", v->name,
		    v->relaxed ? "relaxed" : "simple");
	}
}

static void
test_empty_body_hash(void)
{
	static const char *const want[] = {
		"frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=",
		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
	};

	for (int c = 0; c < 2; c++) {
		unsigned char md[32];
		char b64[64];
		size_t blen;
		char *b;

		dkim_canon_body(c ? DKIM_RELAXED : DKIM_SIMPLE, "", 0, &b, &blen);
		EVP_Digest(b, blen, md, NULL, EVP_sha256(), NULL);
		EVP_EncodeBlock((unsigned char *)b64, md, 32);
		free(b);
		CHECK_STR(b64, want[c], "RFC 6376 3.4.5 empty body sha256 %d", c);
	}
}

/* One body: the streaming hash against the hash of the canonical copy,
 * whole and cut by l= at a few places.  Returns the failures. */
static int
body_stream_differs(enum dkim_canon c, const char *body, size_t len)
{
	unsigned char want[32], got[32];
	unsigned int glen;
	size_t clen, total;
	int64_t ls[4];
	int bad = 0;
	char *b;

	if (dkim_canon_body(c, body, len, &b, &clen) < 0)
		return 1;
	ls[0] = -1;
	ls[1] = (int64_t)clen;
	ls[2] = (int64_t)(clen / 3);
	ls[3] = clen > 0 ? (int64_t)clen - 1 : 0;
	for (int k = 0; k < 4; k++) {
		EVP_Digest(b, ls[k] < 0 ? clen : (size_t)ls[k], want, NULL,
		    EVP_sha256(), NULL);
		if (dkim_body_digest(c, dkim_md(DKIM_RSA_SHA256), body, len,
		    ls[k], got, &glen, &total) < 0 || total != clen ||
		    glen != 32 || memcmp(got, want, 32) != 0)
			bad++;
	}
	free(b);
	return bad;
}

/* The streaming body hash (dkim_body.c) equals the hash of
 * dkim_canon_body's copy: the vectors, then bodies drawn from SP, HTAB,
 * CR, LF and letters (runs of WSP across the 8-octet steps, bare CR and
 * LF, trailing empty lines), then lines longer than the staging buffer. */
static void
test_body_stream(void)
{
	static const char alphabet[] = "  \t\r\n\nab";
	unsigned int seed = 12345;
	char body[9000];
	int bad = 0;

	for (size_t i = 0; i < sizeof dkim_vecs / sizeof dkim_vecs[0]; i++)
		if (!dkim_vecs[i].header)
			bad += body_stream_differs(dkim_vecs[i].relaxed ?
			    DKIM_RELAXED : DKIM_SIMPLE, dkim_vecs[i].in,
			    strlen(dkim_vecs[i].in));
	CHECK_INT(bad, 0, "streaming body hash = vectors' canonical copy");
	for (int n = 0; n < 3000; n++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 255;

		for (size_t i = 0; i < len; i++)
			body[i] = alphabet[((seed = seed * 1103515245u +
			    12345u) >> 16) % (sizeof alphabet - 1)];
		bad += body_stream_differs(DKIM_SIMPLE, body, len);
		bad += body_stream_differs(DKIM_RELAXED, body, len);
	}
	CHECK_INT(bad, 0, "streaming body hash = canonical copy, random");
	for (int n = 0; n < 3000; n++) {	/* long lines: 16-octet steps */
		static const char sparse[] = "abcdefghijklmnopqrstuvw  \t\r\n";
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 511;

		for (size_t i = 0; i < len; i++)
			body[i] = sparse[((seed = seed * 1103515245u +
			    12345u) >> 16) % (sizeof sparse - 1)];
		bad += body_stream_differs(DKIM_RELAXED, body, len);
	}
	CHECK_INT(bad, 0, "streaming body hash = canonical copy, long lines");
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = i % 97 == 0 ? '\t' : i % 13 == 0 ? ' ' : 'x';
	memcpy(body + 8000, " \t \r\n\r\n  \r\n", 12);
	bad = body_stream_differs(DKIM_SIMPLE, body, 8012) +
	    body_stream_differs(DKIM_RELAXED, body, 8012) +
	    body_stream_differs(DKIM_RELAXED, body, 7000);
	CHECK_INT(bad, 0, "streaming body hash, lines over 4096 octets");
}

static int
sig_parses(const char *val, struct dkim_sig *s, char *why, size_t wl)
{
	return dkim_sig_parse(val, strlen(val), s, why, wl);
}

/* RFC 6376 §3.4.2 read literally, one octet at a time: the reference
 * for dkim_canon_header's relaxed form. */
static size_t
relaxed_ref(const char *f, size_t len, char *out)
{
	const char *colon = memchr(f, ':', len);
	size_t n = 0, ne = (size_t)(colon - f), vs = ne + 1, ve = len;
	int sp = 0;

	while (ne > 0 && (f[ne - 1] == ' ' || f[ne - 1] == '\t'))
		ne--;
	while (ve > vs && strchr(" \t\r\n", f[ve - 1]) != NULL)
		ve--;
	for (size_t i = 0; i < ne; i++)
		out[n++] = (char)tolower((unsigned char)f[i]);
	out[n++] = ':';
	for (size_t i = vs, start = n; i < ve; i++) {
		if (f[i] == '\r' || f[i] == '\n')
			continue;
		if (f[i] == ' ' || f[i] == '\t') {
			sp = 1;
			continue;
		}
		if (sp && n > start)
			out[n++] = ' ';
		sp = 0;
		out[n++] = f[i];
	}
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

/* Relaxed header canonicalization against the reference: random values
 * of letters, SP, HTAB, CR and LF, runs long and short (16-octet steps). */
static void
test_header_relaxed_random(void)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwXYZ;=  \t\r\n";
	unsigned int seed = 777;
	char f[700], want[800], got[800];
	int bad = 0;

	for (int n = 0; n < 5000; n++) {
		size_t len = 7 + ((seed = seed * 1103515245u + 12345u) >> 16) % 600;
		long w;

		memcpy(f, "Ab-C \t:", 7);
		for (size_t i = 7; i < len; i++)
			f[i] = alphabet[((seed = seed * 1103515245u +
			    12345u) >> 16) % (sizeof alphabet - 1)];
		w = dkim_canon_header(DKIM_RELAXED, f, len, got, sizeof got);
		if (w < 0 || (size_t)w != relaxed_ref(f, len, want) ||
		    memcmp(got, want, (size_t)w) != 0)
			bad++;
	}
	CHECK_INT(bad, 0, "relaxed header = the RFC's octet-by-octet reading");
}

static void
test_tags_and_c(void)
{
	struct dkim_tag t[DKIM_TAG_MAX];
	struct dkim_sig *s = malloc(sizeof *s);
	char v[512], why[DKIM_REASON_MAX];
	static const char base[] = "v=1; a=rsa-sha256; d=example.com; "
	    "s=sel; h=From:To; bh=AAAA; b=AAAA";

	CHECK_INT(dkim_tags_parse("a=1; b = 2 ;", 12, t, DKIM_TAG_MAX), 2,
	    "trailing ';'");
	CHECK(t[1].vallen == 1 && t[1].val[0] == '2', "FWS around value");
	CHECK_INT(dkim_tags_parse("a=1; a=2", 8, t, DKIM_TAG_MAX), -1,
	    "duplicate tag");
	CHECK_INT(dkim_tags_parse("1a=1", 4, t, DKIM_TAG_MAX), -1, "bad name");
	CHECK_INT(dkim_tags_parse("a", 1, t, DKIM_TAG_MAX), -1, "no '='");
	CHECK_INT(dkim_tags_parse("a=;b=", 5, t, DKIM_TAG_MAX), 2, "empty values");
	CHECK(sig_parses(base, s, why, sizeof why) == 0 &&
	    s->hcanon == DKIM_SIMPLE && s->bcanon == DKIM_SIMPLE &&
	    strcmp(s->i, "@example.com") == 0, "c= absent: simple/simple");
	for (size_t i = 0; i < sizeof dkim_c_valid / sizeof *dkim_c_valid; i++) {
		snprintf(v, sizeof v, "%s; c=%s", base, dkim_c_valid[i][0]);
		CHECK(sig_parses(v, s, why, sizeof why) == 0, "c=%s parses",
		    dkim_c_valid[i][0]);
		snprintf(why, sizeof why, "%s/%s", s->hcanon ? "relaxed" :
		    "simple", s->bcanon ? "relaxed" : "simple");
		CHECK_STR(why, dkim_c_valid[i][1], "c=%s", dkim_c_valid[i][0]);
	}
	for (size_t i = 0; i < sizeof dkim_c_invalid / sizeof *dkim_c_invalid;
	    i++) {
		snprintf(v, sizeof v, "%s; c=%s", base, dkim_c_invalid[i]);
		CHECK(sig_parses(v, s, why, sizeof why) < 0, "c=%s refused",
		    dkim_c_invalid[i]);
	}
	free(s);
}

static void
test_sig_fields(void)
{
	static const struct { const char *v, *why; } bad[] = {
		{ "v=2; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA; b=AAAA",
		    "v= is not 1" },
		{ "v=1; a=rsa-sha256; d=e.com; s=s; h=to; bh=AAAA; b=AAAA",
		    "From" },
		{ "v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA", "lacks b=" },
		{ "v=1; a=rsa-md5; d=e.com; s=s; h=from; bh=AAAA; b=AAAA",
		    "a=" },
		{ "v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA; b=AAAA; "
		    "t=200; x=100", "x=" },
		{ "v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA; b=AAAA; "
		    "i=a@evil.com", "i=" },
		{ "v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=s; "
		    "h=from; bh=AAAA; b=AAAA", "d=" },
		{ "v=1; a=rsa-sha256; d=e.com; s=a/b; h=from; bh=AAAA; b=AAAA",
		    "s=" },
		{ "v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AA!A; b=AAAA",
		    "bh=" },
	};
	struct dkim_sig *s = malloc(sizeof *s);
	char why[DKIM_REASON_MAX];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		CHECK(sig_parses(bad[i].v, s, why, sizeof why) < 0 &&
		    strstr(why, bad[i].why) != NULL, "refused: %s (%s)",
		    bad[i].v, why);
	}
	CHECK(sig_parses("v=1; a=rsa-sha256; d=E.com; s=s; h=from; bh=AAAA; "
	    "b=AA AA; i=x@sub.e.com; l=10", s, why, sizeof why) == 0 &&
	    s->l == 10 && strcmp(s->d, "e.com") == 0 && s->blen == 3,
	    "i= in a subdomain, l=, FWS in b=");
	free(s);
}

/* OpenDKIM's key table (keyfile.txt): what each record must give. */
static void
test_key_records(void)
{
	static const struct { const char *sel; int ok, revoked; } want[] = {
		{ "test", 1, 0 }, { "sha256only", 1, 0 }, { "nok", 1, 0 },
		{ "badv", 0, 0 }, { "badh", 0, 0 }, { "badk", 0, 0 },
		{ "nop", 0, 0 }, { "emptyp", 1, 1 },
	};
	size_t len;
	char *d = slurp(testdata("dkim/opendkim/keyfile.txt"), &len), *line, *save = NULL;
	struct dkim_key k;
	char why[DKIM_REASON_MAX];
	int seen = 0;

	for (line = strtok_r(d, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		for (size_t i = 0; sp && i < sizeof want / sizeof *want; i++) {
			size_t sl = strlen(want[i].sel);
			int rc;

			if (strncmp(line, want[i].sel, sl) != 0 || line[sl] != '.')
				continue;
			rc = dkim_key_parse(sp + 1, strlen(sp + 1), &k, why,
			    sizeof why);
			CHECK(want[i].ok ? rc == 0 && k.revoked == want[i].revoked
			    : rc < 0, "key %s (%s)", want[i].sel, rc ? why : "ok");
			seen++;
		}
	}
	CHECK_INT(seen, 9, "opendkim key records seen");
	free(d);
	CHECK(dkim_key_parse("k=rsa; s=tlsrpt; p=AAAA", 23, &k, why,
	    sizeof why) < 0, "s=tlsrpt refused");
	CHECK(dkim_key_parse("p=AAAA; v=DKIM1", 15, &k, why, sizeof why) < 0,
	    "v= not first");
	CHECK(dkim_key_parse("v=DKIM1; t=y; p=AAAA", 20, &k, why,
	    sizeof why) == 0 && k.testing && !k.strict, "t=y");
}

static void
test_rfc8463(void)
{
	struct dns_lookup *dns = dkim_dnsfile_new(testdata("dkim/rfc8463/dns-records.txt"));
	size_t n;
	struct dkim_res r;

	r = verify_file(testdata("dkim/rfc8463/signed-message.eml"), dns, 0, &n);
	CHECK_INT(n, 2, "RFC 8463 A.3: two signatures");
	CHECK(r.result == DKIM_PASS && r.alg == DKIM_ED25519_SHA256,
	    "RFC 8463 ed25519-sha256 pass (%s)", r.reason);
	r = verify_file(testdata("dkim/rfc8463/signed-message.eml"), dns, 1, NULL);
	CHECK(r.result == DKIM_PASS && r.alg == DKIM_RSA_SHA256,
	    "RFC 8463 rsa-sha256 pass (%s)", r.reason);
	CHECK_STR(r.d, "football.example.com", "d=");
	CHECK_STR(r.s, "test", "s=");
	dns->free(dns);
}

static void
test_dkimpy_vectors(void)
{
	char lines[16384] = "";
	struct dns_lookup *dns;
	struct counting cnt = { .l.query = counting_query };
	struct dkim_res r;
	size_t len, n;
	char *gm = slurp(testdata("dkim/dkimpy/EXPECTATIONS-gmail-key.txt"), &len);

	snprintf(lines, sizeof lines, "%.*s\n", (int)strcspn(gm, "\n"), gm);
	free(gm);
	table_line_file(lines, sizeof lines, "test._domainkey.football.example.com",
	    testdata("dkim/dkimpy/data/test.txt"));
	table_line_file(lines, sizeof lines, "sed._domainkey.test.ex",
	    testdata("dkim/dkimpy/data/eximtest.dns"));
	strncat(lines, "brisbane._domainkey.football.example.com v=DKIM1; "
	    "k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n",
	    sizeof lines - strlen(lines) - 1);
	dns = table(lines);
	r = verify_file(testdata("dkim/dkimpy/data/test2.message"), dns, 0, NULL);
	CHECK(r.result == DKIM_PASS, "gmail test2.message pass (%s)", r.reason);
	r = verify_file(testdata("dkim/dkimpy/data/rfc6376.signed.msg"), dns, 0, &n);
	CHECK(n == 2 && r.result == DKIM_PASS, "rfc6376.signed ed25519 (%s)",
	    r.reason);
	r = verify_file(testdata("dkim/dkimpy/data/rfc6376.signed.msg"), dns, 1, NULL);
	CHECK(r.result == DKIM_PASS, "rfc6376.signed rsa (%s)", r.reason);
	r = verify_file(testdata("dkim/dkimpy/data/rfc6376.signed.rsa.msg"), dns, 0, NULL);
	CHECK(r.result == DKIM_PASS, "rfc6376.signed.rsa (%s)", r.reason);
	r = verify_file(testdata("dkim/dkimpy/data/ed25519test2.msg"), dns, 0, NULL);
	CHECK(r.result == DKIM_PASS, "exim ed25519test2 (%s)", r.reason);
	cnt.inner = dns;
	r = verify_file(testdata("dkim/dkimpy/data/test.message.baddomain"), &cnt.l, 0, &n);
	CHECK(n == 1 && r.result != DKIM_PASS && cnt.n == 0,
	    "baddomain refused without a query (%s; %d queries)", r.reason,
	    cnt.n);
	dns->free(dns);
	/* the same message with a corrupted key, and the broken records */
	static const char *const broken[] = { "test_bad.txt", "badk.txt",
	    "badversion.txt", "test_tlsrpt.txt" };
	for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
		char path[256];

		lines[0] = '\0';
		snprintf(path, sizeof path, "%s%s", testdata("dkim/dkimpy/data/"), broken[i]);
		table_line_file(lines, sizeof lines,
		    "test._domainkey.football.example.com", path);
		dns = table(lines);
		r = verify_file(testdata("dkim/dkimpy/data/rfc6376.signed.rsa.msg"), dns, 0,
		    NULL);
		CHECK(r.result == DKIM_FAIL || r.result == DKIM_PERMERROR,
		    "key %s: no pass (%s)", broken[i], r.reason);
		dns->free(dns);
	}
}

static struct dkim_signkey *
key(const char *path)
{
	char why[128];
	struct dkim_signkey *k = dkim_signkey_load(path, why, sizeof why);

	CHECK(k != NULL, "load %s (%s)", path, k ? "" : why);
	return k;
}

/* signature field + message, as a new message text */
static char *
signed_text(const char *msg, size_t len, const struct dkim_signkey *k,
    const struct dkim_signopt *o, size_t *outlen)
{
	struct dkim_msg *m = dkim_msg_parse(msg, len);
	char why[128], *f = m ? dkim_sign(m, k, o, why, sizeof why) : NULL;
	char *out;

	dkim_msg_free(m);
	if (f == NULL)
		return NULL;
	*outlen = strlen(f) + len;
	out = malloc(*outlen + 1);
	memcpy(out, f, strlen(f));
	memcpy(out + strlen(f), msg, len + 1);
	free(f);
	return out;
}

static void
test_roundtrip(void)
{
	struct dns_lookup *dns = dkim_dnsfile_new(testdata("dkim/rfc8463/dns-records.txt"));
	struct dkim_signkey *ks[2] = {
		key(testdata("dkim/rfc8463/rsa-test.private.pem")),
		key(testdata("dkim/rfc8463/ed25519-brisbane.private.pem")),
	};
	size_t len, slen;
	char *msg = slurp(testdata("dkim/rfc8463/unsigned-message.eml"), &len);
	struct dkim_res r;

	for (int k = 0; k < 2 && ks[0] && ks[1]; k++)
		for (int c = 0; c < 4; c++) {
			struct dkim_signopt o = { "football.example.com",
			    k ? "brisbane" : "test", c & 1, c >> 1,
			    time(NULL), 0 };
			char *s = signed_text(msg, len, ks[k], &o, &slen), *p;

			r = verify_text(s, slen, dns, 0, NULL);
			CHECK(r.result == DKIM_PASS && r.alg == (k ?
			    DKIM_ED25519_SHA256 : DKIM_RSA_SHA256),
			    "sign/verify key %d c=%d (%s)", k, c, r.reason);
			CHECK(strstr(s, "h=from:from:") != NULL,
			    "From over-signed");
			p = strstr(s, "Joe.");	/* a body byte */
			if (p)
				*p = 'j';
			r = verify_text(s, slen, dns, 0, NULL);
			CHECK(r.result == DKIM_FAIL, "changed body fails (%s)",
			    r.reason);
			free(s);
		}
	/* an extra From fails, an unrelated header passes */
	{
		struct dkim_signopt o = { "football.example.com", "test",
		    DKIM_RELAXED, DKIM_RELAXED, time(NULL), 0 };
		char *s = signed_text(msg, len, ks[0], &o, &slen);
		char *t = malloc(slen + 64);

		snprintf(t, slen + 64, "From: evil@example.net\r\n%s", s);
		r = verify_text(t, strlen(t), dns, 0, NULL);
		CHECK(r.result == DKIM_FAIL, "added From fails (%s)", r.reason);
		snprintf(t, slen + 64, "X-Foo: bar\r\n%s", s);
		r = verify_text(t, strlen(t), dns, 0, NULL);
		CHECK(r.result == DKIM_PASS, "added X-Foo passes (%s)", r.reason);
		free(t);
		free(s);
	}
	/* expired and future signatures */
	{
		struct dkim_signopt o = { "football.example.com", "test",
		    DKIM_RELAXED, DKIM_RELAXED, time(NULL) - 1000, time(NULL) - 10 };
		char *s = signed_text(msg, len, ks[0], &o, &slen);

		r = verify_text(s, slen, dns, 0, NULL);
		CHECK(r.result == DKIM_PERMERROR && strstr(r.reason, "expired"),
		    "x= past: expired (%s)", r.reason);
		free(s);
		o.t = time(NULL) + 86400;
		o.x = 0;
		s = signed_text(msg, len, ks[0], &o, &slen);
		r = verify_text(s, slen, dns, 0, NULL);
		CHECK(r.result == DKIM_PERMERROR && strstr(r.reason, "future"),
		    "t= ahead: refused (%s)", r.reason);
		free(s);
	}
	dns->free(dns);
	dkim_signkey_free(ks[0]);
	dkim_signkey_free(ks[1]);
	free(msg);
}

/* RFC 8301: rsa-sha1 and a 512-bit key are refused with a reason; a
 * DNS failure is a temperror; a revoked key is a permerror. */
/* Threads sharing one signing key and the key cache, as the gateway's
 * job pool does: prepared contexts are taken and given back (dkim_sign.c,
 * dkim_pubkey.c), and one that saw a bad signature is dropped, so a
 * tampered message in between changes nothing for the next. */
struct mt_arg {
	const char *msg;
	size_t len;
	const struct dkim_signkey *k;
	const char *selector;
	struct dns_lookup *dns;
	int bad;
};

static void *
mt_worker(void *p)
{
	struct mt_arg *a = p;
	struct dkim_signopt o = { "football.example.com", a->selector,
	    DKIM_RELAXED, DKIM_RELAXED, 0, 0 };

	for (int i = 0; i < 40; i++) {
		size_t slen;
		char *s = signed_text(a->msg, a->len, a->k, &o, &slen), *q;

		if (s == NULL || verify_text(s, slen, a->dns, 0, NULL).result !=
		    DKIM_PASS)
			a->bad++;
		if (s != NULL && (q = strstr(s, "b=")) != NULL) {
			q[3] = q[3] == 'A' ? 'B' : 'A';	/* in the signature */
			if (verify_text(s, slen, a->dns, 0, NULL).result !=
			    DKIM_FAIL)
				a->bad++;
		}
		free(s);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct dns_lookup *dns = dkim_dnsfile_new(testdata("dkim/rfc8463/dns-records.txt"));
	struct dkim_signkey *ks[2] = {
		key(testdata("dkim/rfc8463/rsa-test.private.pem")),
		key(testdata("dkim/rfc8463/ed25519-brisbane.private.pem")),
	};
	size_t len;
	char *msg = slurp(testdata("dkim/rfc8463/unsigned-message.eml"), &len);
	struct mt_arg a[4];
	pthread_t t[4];
	int bad = 0;

	for (int i = 0; i < 4 && ks[0] && ks[1]; i++) {
		a[i] = (struct mt_arg){ msg, len, ks[i & 1],
		    i & 1 ? "brisbane" : "test", dns, 0 };
		pthread_create(&t[i], NULL, mt_worker, &a[i]);
	}
	for (int i = 0; i < 4 && ks[0] && ks[1]; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	CHECK(ks[0] && ks[1] && bad == 0, "4 threads sign and verify, "
	    "good and tampered, with shared keys (%d wrong)", bad);
	dns->free(dns);
	dkim_signkey_free(ks[0]);
	dkim_signkey_free(ks[1]);
	free(msg);
}

static void
test_refusals(void)
{
	struct dns_lookup *dns = table(
	    "test._domainkey.football.example.com v=DKIM1; k=rsa; p=\n"
	    "brisbane._domainkey.football.example.com SERVFAIL\n"
	    "example._domainkey.canonical.com k=rsa; s=email; p=MFwwDQYJKo"
	    "ZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0"
	    "QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ==\n");
	static const char sha1[] = "DKIM-Signature: v=1; a=rsa-sha1; "
	    "d=canonical.com; s=example; h=from; bh=AAAA; b=AAAA\r\n"
	    "From: a@canonical.com\r\n\r\nbody\r\n";
	static const char short_key[] = "DKIM-Signature: v=1; a=rsa-sha256; "
	    "d=canonical.com; s=example; h=from; "
	    "bh=AAAA; b=AAAA\r\n"
	    "From: a@canonical.com\r\n\r\nbody\r\n";
	static const char revoked[] = "DKIM-Signature: v=1; a=rsa-sha256; "
	    "d=football.example.com; s=test; h=from; bh=AAAA; b=AAAA\r\n"
	    "From: a@canonical.com\r\n\r\nbody\r\n";
	static const char tempfail[] = "DKIM-Signature: v=1; a=ed25519-sha256; "
	    "d=football.example.com; s=brisbane; h=from; bh=AAAA; b=AAAA\r\n"
	    "From: a@canonical.com\r\n\r\nbody\r\n";
	struct dkim_res r;
	char why[128], path[256];

	r = verify_text(sha1, strlen(sha1), dns, 0, NULL);
	CHECK(r.result == DKIM_POLICY && strstr(r.reason, "rsa-sha1"),
	    "rsa-sha1 refused (%s)", r.reason);
	r = verify_text(short_key, strlen(short_key), dns, 0, NULL);
	CHECK(r.result == DKIM_POLICY && strstr(r.reason, "512 bits"),
	    "512-bit key refused (%s)", r.reason);
	r = verify_text(revoked, strlen(revoked), dns, 0, NULL);
	CHECK(r.result == DKIM_PERMERROR && strstr(r.reason, "revoked"),
	    "empty p=: revoked (%s)", r.reason);
	r = verify_text(tempfail, strlen(tempfail), dns, 0, NULL);
	CHECK(r.result == DKIM_TEMPERROR, "SERVFAIL: temperror (%s)", r.reason);
	r = verify_text("From: a\r\n\r\nx\r\n", 14, dns, 0, NULL);
	CHECK(r.result == DKIM_NONE, "no signature");
	dns->free(dns);
	/* never sign with a short key; never without From */
	snprintf(path, sizeof path, "%s/short.pem", tmpdir);
	{
		EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
		FILE *f = fopen(path, "w");

		PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
		fclose(f);
		EVP_PKEY_free(pk);
	}
	CHECK(dkim_signkey_load(path, why, sizeof why) == NULL &&
	    strstr(why, "RFC 8301"), "512-bit key not used to sign (%s)", why);
	{
		struct dkim_signkey *k = key(testdata("dkim/rfc8463/rsa-test.private.pem"));
		struct dkim_signopt o = { "e.com", "s", DKIM_RELAXED,
		    DKIM_RELAXED, 0, 0 };
		struct dkim_msg *m = dkim_msg_parse("To: a@b\r\n\r\nhi\r\n", 15);
		char *f = dkim_sign(m, k, &o, why, sizeof why);

		CHECK(f == NULL && strstr(why, "From"), "no From: no signature");
		dkim_msg_free(m);
		dkim_signkey_free(k);
	}
}

static void
test_keygen(void)
{
	char path[256], txt[2048], why[128];
	struct dkim_key k;
	struct stat st;

	snprintf(path, sizeof path, "%s/ed.key", tmpdir);
	CHECK(dkim_keygen("ed25519", 0, path, txt, sizeof txt, why,
	    sizeof why) == 0, "ed25519 keygen (%s)", why);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	CHECK(dkim_key_parse(txt, strlen(txt), &k, why, sizeof why) == 0 &&
	    k.ed25519 && k.plen == 32, "ed25519 record: %s", txt);
	CHECK(dkim_keygen("ed25519", 0, path, txt, sizeof txt, why,
	    sizeof why) < 0, "never over an existing key");
	snprintf(path, sizeof path, "%s/rsa.key", tmpdir);
	CHECK(dkim_keygen("rsa", 1024, path, txt, sizeof txt, why,
	    sizeof why) == 0 && dkim_key_parse(txt, strlen(txt), &k, why,
	    sizeof why) == 0 && !k.ed25519, "rsa-1024 keygen");
	snprintf(path, sizeof path, "%s/rsa512.key", tmpdir);
	CHECK(dkim_keygen("rsa", 512, path, txt, sizeof txt, why,
	    sizeof why) < 0 && access(path, F_OK) != 0, "rsa-512 refused");
}

static void
test_keytab(void)
{
	struct dkim_keytab_entry e[4];
	const struct dkim_keytab_entry *f;
	char path[256];
	int bad, n;
	FILE *fp;

	snprintf(path, sizeof path, "%s/keytab", tmpdir);
	fp = fopen(path, "w");
	fputs("# domain selector key\n\nexample.org s2026 /etc/jaga/dkim/"
	    "example.org.key\n  Example.NET ed1 /k/ed.key\n", fp);
	fclose(fp);
	n = dkim_keytab_load(path, e, 4, &bad);
	CHECK_INT(n, 2, "key table entries");
	f = dkim_keytab_find(e, 2, "example.net");
	CHECK(f != NULL && strcmp(f->selector, "ed1") == 0 &&
	    strcmp(f->path, "/k/ed.key") == 0, "domain any case");
	CHECK(dkim_keytab_find(e, 2, "sub.example.org") == NULL,
	    "a subdomain is not its parent");
	fp = fopen(path, "a");
	fputs("broken-line-without-key\n", fp);
	fclose(fp);
	CHECK(dkim_keytab_load(path, e, 4, &bad) < 0 && bad == 5,
	    "bad line reported (%d)", bad);
}

/* One table's text: the entries or the refused line and its reason. */
static int
keytab_try(const char *text, struct dkim_keytab_entry **e, int *bad,
    char *why, size_t whylen)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/keytab2", tmpdir);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	return dkim_keytab_read(path, e, bad, why, whylen);
}

/* Several keys per domain (RFC 8463 §4), and what the table refuses. */
static void
test_keytab_read(void)
{
	static const struct {
		const char *text;
		int line;
		const char *why;
	} bad[] = {
		{ "a.org s1 /k1\na.org s1 /k2\n", 2, "repeats line 1" },
		{ "a.org s1 /k1\nA.ORG s2 /k2\na.org s3 /k3\n", 3,
		  "more than 2 keys" },
		{ "a.org s1 k1\n", 1, "not an absolute path" },
		{ "a.org s1 /k1 extra\n", 1, "text after KEYFILE" },
		{ "a..org s1 /k1\n", 1, "DOMAIN" },
		{ "a.org s/1 /k1\n", 1, "SELECTOR" },
	};
	struct dkim_keytab_entry *e;
	const struct dkim_keytab_entry *f;
	char why[128];
	int n, line;

	n = keytab_try("# t\nExample.ORG rsa1 /k/r.key\nb.org s /k/b\n"
	    "example.org ed1 /k/e.key\n", &e, &line, why, sizeof why);
	CHECK_INT(n, 3, "entries");
	f = dkim_keytab_find_next(e, 3, "EXAMPLE.org", NULL);
	CHECK(f != NULL && strcmp(f->selector, "rsa1") == 0 && f->line == 2 &&
	    strcmp(f->domain, "example.org") == 0, "first key, lowercased");
	f = dkim_keytab_find_next(e, 3, "example.org", f);
	CHECK(f != NULL && strcmp(f->selector, "ed1") == 0 && f->line == 4,
	    "second key");
	CHECK(dkim_keytab_find_next(e, 3, "example.org", f) == NULL, "no third");
	free(e);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		n = keytab_try(bad[i].text, &e, &line, why, sizeof why);
		CHECK(n < 0 && e == NULL && line == bad[i].line &&
		    strstr(why, bad[i].why) != NULL, "table %zu: got line %d "
		    "\"%s\", want line %d \"%s\"", i, line, n < 0 ? why : "",
		    bad[i].line, bad[i].why);
	}
}

int
main(void)
{
	if (access(testdata("dkim/rfc8463/dns-records.txt"), R_OK) != 0) {
		fprintf(stderr, "test_dkim: no DKIM test data at %s (set "
		    "JAGA_TESTDATA to the testdata folder)\n", testdata("dkim/"));
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_vectors();
	test_empty_body_hash();
	test_body_stream();
	test_header_relaxed_random();
	test_tags_and_c();
	test_sig_fields();
	test_key_records();
	test_rfc8463();
	test_dkimpy_vectors();
	test_roundtrip();
	test_threads();
	test_refusals();
	test_keygen();
	test_keytab();
	test_keytab_read();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return harness_end("dkim");
}
