/* spf_bench.c - SPF checks per second with a warm cache: spf_check
 * (engine/spf.h) through dns_cache (10000 entries, the dns_cache_size
 * default; none when SPF_BENCH_NOCACHE is set) and dns_unbound forwarding
 * to RESOLVER, as the daemon does; bench/spf.sh runs it against
 * tests/wire/dnsserver.py serving its zone, beside pyspf.
 *
 * usage: spf_bench RESOLVER SECONDS IP SENDER WANT [IP SENDER WANT]...
 * One pass over the cases fills libunbound's cache (its time is printed
 * as "cold"), then the cases repeat for SECONDS of wall time (the checks
 * wait on a socket only on a cache miss).  Every result is checked
 * against WANT ("pass", "fail", ...).  Prints "cold N ms warm N checks/s". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/dns.h"
#include "engine/spf.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over the cases; -1 when a result is not the wanted one. */
static int
pass(struct dns_lookup *dns, char **cases, int n)
{
	struct spf_result r;

	for (int i = 0; i + 2 < n; i += 3) {
		spf_check(dns, cases[i], cases[i + 1], "mail.example.net", &r);
		if (strcmp(spf_res_name(r.result), cases[i + 2]) != 0) {
			fprintf(stderr, "spf_bench: %s %s: %s (%s), want %s\n",
			    cases[i], cases[i + 1], spf_res_name(r.result),
			    r.problem, cases[i + 2]);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct dns_lookup *dns;
	char err[256];
	double t0, cold, secs;
	long checks = 0;
	int n = argc - 3;

	if (argc < 6 || n % 3 != 0) {
		fprintf(stderr, "usage: spf_bench RESOLVER SECONDS IP SENDER "
		    "WANT...\n");
		return 2;
	}
	secs = strtod(argv[2], NULL);
	if ((dns = dns_unbound_new(argv[1], err, sizeof err)) == NULL) {
		fprintf(stderr, "spf_bench: %s\n", err);
		return 1;
	}
	if (getenv("SPF_BENCH_NOCACHE") == NULL &&
	    (dns = dns_cache_new(dns, 10000)) == NULL) {
		fprintf(stderr, "spf_bench: out of memory\n");
		return 1;
	}
	t0 = now_s();
	if (pass(dns, argv + 3, n) < 0)
		return 1;
	cold = now_s() - t0;
	t0 = now_s();
	do {
		if (pass(dns, argv + 3, n) < 0)
			return 1;
		checks += n / 3;
	} while (now_s() - t0 < secs);
	printf("cold %.1f ms warm %.0f checks/s\n", cold * 1e3,
	    (double)checks / (now_s() - t0));
	dns_lookup_free(dns);
	return 0;
}
