/* dkim_bench.c - DKIM signatures and verifications per second, in process
 * (engine/dkim.h): bench/dkim.sh runs it beside openssl speed and dkimpy.
 *
 * usage: dkim_bench KEYFILE DNSFILE DOMAIN SELECTOR BODYBYTES SECONDS [verify]
 * prints "sign N/s verify N/s" for a message of BODYBYTES of body; with
 * "verify" the signing loop runs once only (for a profiler). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/dkim.h"

/* CPU time of the process, as "openssl speed" divides by CPU time too
 * (unless -elapsed): on a shared machine, wall time would count the
 * others' work. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

int
main(int argc, char **argv)
{
	struct dkim_signopt o = { NULL, NULL, DKIM_RELAXED, DKIM_RELAXED, 0, 0 };
	struct dkim_res res[DKIM_VERIFY_MAX];
	struct dkim_signkey *k;
	struct dns_lookup *dns;
	struct dkim_msg *m;
	char why[128], *msg, *f, *signed_msg;
	size_t len, flen, ns = 0, nv = 0;
	double t0, secs;

	if (argc != 7 && argc != 8)
		return 2;
	o.domain = argv[3];
	o.selector = argv[4];
	secs = strtod(argv[6], NULL);
	if ((k = dkim_signkey_load(argv[1], why, sizeof why)) == NULL ||
	    (dns = dkim_dnsfile_new(argv[2])) == NULL) {
		fprintf(stderr, "dkim_bench: %s\n", k ? "dns file" : why);
		return 1;
	}
	msg = make_msg(strtoul(argv[5], NULL, 10), &len);
	t0 = now_s();
	do {	/* as the gateway would: parse, sign */
		m = dkim_msg_view(msg, len);
		f = dkim_sign(m, k, &o, why, sizeof why);
		dkim_msg_free(m);
		if (f == NULL)
			return 1;
		ns++;
		if (argc == 7 && now_s() - t0 < secs)
			free(f);
		else
			break;
	} while (1);
	printf("sign %.0f/s ", (double)ns / (now_s() - t0));
	flen = strlen(f);
	signed_msg = malloc(flen + len);
	memcpy(signed_msg, f, flen);
	memcpy(signed_msg + flen, msg, len);
	t0 = now_s();
	do {
		m = dkim_msg_view(signed_msg, flen + len);
		if (dkim_verify(m, dns, time(NULL), res, 1) != 1 ||
		    res[0].result != DKIM_PASS)
			return 1;
		dkim_msg_free(m);
		nv++;	/* the CPU clock is a system call: read it every 16 */
	} while (nv % 16 != 0 || now_s() - t0 < secs);
	printf("verify %.0f/s\n", (double)nv / (now_s() - t0));
	free(f);
	free(signed_msg);
	free(msg);
	dkim_signkey_free(k);
	dns_lookup_free(dns);
	return 0;
}
