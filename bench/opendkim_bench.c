/* opendkim_bench.c - DKIM signatures and verifications per second with
 * libopendkim, the peer of bench/dkim_bench.c: the same message (a few
 * headers, body lines of 75 octets), the same key file and key table,
 * relaxed/relaxed, one thread, CPU time.  bench/dkim.sh builds it with cc
 * and pkg-config (libopendkim-dev) and runs it beside jaga's driver.
 *
 * The key for verifying comes from the table through dkim_set_key_lookup,
 * in memory as jaga's dkim_dnsfile_new table is, so no DNS and no file
 * read per message (DKIM_QUERY_FILE would open the file for every key).
 *
 * usage: opendkim_bench KEYFILE DNSFILE DOMAIN SELECTOR BODYBYTES SECONDS
 * prints "sign N/s verify N/s" for a message of BODYBYTES of body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dkim.h>

#define TABLE_MAX 16

static struct { char name[256], *txt; } table[TABLE_MAX];
static size_t ntable;

/* CPU time of the process, as dkim_bench and "openssl speed" count. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *d = calloc(1, 1 << 16);

	if (f == NULL || d == NULL || fread(d, 1, (1 << 16) - 1, f) == 0) {
		if (f)
			fclose(f);
		free(d);
		return NULL;
	}
	fclose(f);
	return d;
}

/* Lines "NAME VALUE" as in bench/dkim.sh's dns.txt. */
static int
table_load(const char *path)
{
	char *d = slurp(path), *line, *nl, *sp;

	if (d == NULL)
		return -1;
	for (line = d; *line != '\0' && ntable < TABLE_MAX; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		if ((sp = strchr(line, ' ')) == NULL ||
		    (size_t)(sp - line) >= sizeof table[0].name)
			continue;
		memcpy(table[ntable].name, line, (size_t)(sp - line));
		table[ntable++].txt = sp + 1;
	}
	return 0;
}

static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	char name[256];

	(void)dkim;
	snprintf(name, sizeof name, "%s._domainkey.%s",
	    dkim_sig_getselector(sig), dkim_sig_getdomain(sig));
	for (size_t i = 0; i < ntable; i++)
		if (strcmp(table[i].name, name) == 0 &&
		    strlen(table[i].txt) < buflen) {
			memcpy(buf, table[i].txt, strlen(table[i].txt) + 1);
			return DKIM_CBSTAT_CONTINUE;
		}
	return DKIM_CBSTAT_NOTFOUND;
}

/* A plain message: a few headers and body lines of 75 octets (the line
 * of bench/dkim.sh's dkimpy part). */
static char *
make_msg(size_t body, size_t *len)
{
	static const char line[] = "The quick brown fox jumps over the lazy "
	    "dog, again and again and again.  \r\n";
	static const char head[] = "From: Bench <bench@example.org>\r\n"
	    "To: someone@example.net\r\nSubject: a benchmark message\r\n"
	    "Date: Mon, 23 Nov 2026 08:00:00 +0000\r\n"
	    "Message-ID: <bench@example.org>\r\n\r\n";
	char *m = malloc(sizeof head + body + 80);
	size_t n = sizeof head - 1;

	memcpy(m, head, n);
	while (n < sizeof head - 1 + body) {
		memcpy(m + n, line, sizeof line - 1);
		n += sizeof line - 1;
	}
	*len = n;
	return m;
}

/* Sign msg: the whole "DKIM-Signature: ...\r\n" field, malloc'd. */
static char *
sign_one(DKIM_LIB *lib, const char *key, const char *sel, const char *dom,
    int ed, char *msg, size_t len)
{
	DKIM_STAT st;
	DKIM *d = dkim_sign(lib, (const u_char *)"bench", NULL,
	    (dkim_sigkey_t)key, (const u_char *)sel, (const u_char *)dom,
	    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    ed ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
	u_char *hdr;
	size_t hlen;
	char *out = NULL;

	if (d == NULL)
		return NULL;
	if (dkim_chunk(d, (u_char *)msg, len) == DKIM_STAT_OK &&
	    dkim_chunk(d, NULL, 0) == DKIM_STAT_OK &&
	    dkim_eom(d, NULL) == DKIM_STAT_OK &&
	    dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER ": "), &hdr,
	    &hlen) == DKIM_STAT_OK && (out = malloc(hlen + 40)) != NULL)
		snprintf(out, hlen + 40, DKIM_SIGNHEADER ": %.*s\r\n",
		    (int)hlen, hdr);
	dkim_free(d);
	return out;
}

static int
verify_one(DKIM_LIB *lib, char *msg, size_t len)
{
	DKIM_STAT st;
	DKIM *d = dkim_verify(lib, (const u_char *)"bench", NULL, &st);
	int ok;

	if (d == NULL)
		return 0;
	ok = dkim_chunk(d, (u_char *)msg, len) == DKIM_STAT_OK &&
	    dkim_chunk(d, NULL, 0) == DKIM_STAT_OK &&
	    dkim_eom(d, NULL) == DKIM_STAT_OK;
	dkim_free(d);
	return ok;
}

int
main(int argc, char **argv)
{
	DKIM_LIB *lib;
	char *key, *msg, *f = NULL, *signed_msg;
	size_t len, flen, ns = 0, nv = 0;
	double t0, secs;
	int ed;

	if (argc != 7)
		return 2;
	secs = strtod(argv[6], NULL);
	if ((key = slurp(argv[1])) == NULL || table_load(argv[2]) < 0 ||
	    (lib = dkim_init(NULL, NULL)) == NULL) {
		fprintf(stderr, "opendkim_bench: cannot read the key or table\n");
		return 1;
	}
	dkim_set_key_lookup(lib, key_lookup);
	ed = strlen(key) < 200;	/* an Ed25519 PKCS#8 PEM is 119 octets */
	msg = make_msg(strtoul(argv[5], NULL, 10), &len);
	t0 = now_s();
	do {
		free(f);
		if ((f = sign_one(lib, key, argv[4], argv[3], ed, msg,
		    len)) == NULL) {
			fprintf(stderr, "opendkim_bench: signing failed\n");
			return 1;
		}
		ns++;
	} while (now_s() - t0 < secs);
	printf("sign %.0f/s ", (double)ns / (now_s() - t0));
	flen = strlen(f);
	signed_msg = malloc(flen + len);
	memcpy(signed_msg, f, flen);
	memcpy(signed_msg + flen, msg, len);
	t0 = now_s();
	do {
		if (!verify_one(lib, signed_msg, flen + len)) {
			fprintf(stderr, "opendkim_bench: verification failed\n");
			return 1;
		}
		nv++;	/* the CPU clock is a system call: read it every 16 */
	} while (nv % 16 != 0 || now_s() - t0 < secs);
	printf("verify %.0f/s\n", (double)nv / (now_s() - t0));
	free(f);
	free(signed_msg);
	free(msg);
	free(key);
	dkim_close(lib);
	return 0;
}
