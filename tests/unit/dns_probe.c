/* dns_probe.c - a helper of tests/wire/test_dns.py, not a test itself:
 * "dns_probe RESOLVER THREADS ROUNDS[/PAUSE_MS] TYPE NAME..." asks every
 * NAME from THREADS threads at once, ROUNDS times each (pausing PAUSE_MS
 * after each round), through one dns_unbound lookup (the daemon's way),
 * and prints one line per NAME: "NAME ok=N other=N" (other: any status
 * but ok).  Exit 0 when every answer was ok.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/dns.h"

#define PROBE_THREADS_MAX 32

struct probe {
	struct dns_lookup *l;
	enum dns_type type;
	char **names;
	int nnames, rounds;
	long pause_ms;
	int *ok, *other;	/* per name, under mu */
	pthread_mutex_t mu;
};

static void *
probe_run(void *arg)
{
	struct probe *p = arg;
	struct dns_result *r = malloc(sizeof *r);
	int i, k;

	for (k = 0; r != NULL && k < p->rounds; k++) {
		struct timespec ts = { p->pause_ms / 1000,
		    p->pause_ms % 1000 * 1000000 };

		for (i = 0; i < p->nnames; i++) {
			int good;

			dns_query(p->l, p->names[i], p->type, r);
			good = r->status == DNS_OK && r->n >= 1;
			pthread_mutex_lock(&p->mu);
			(good ? p->ok : p->other)[i]++;
			pthread_mutex_unlock(&p->mu);
		}
		nanosleep(&ts, NULL);
	}
	free(r);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct probe p = { .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[PROBE_THREADS_MAX];
	int nth, i, bad = 0;
	char err[256], *end;

	if (argc < 6 || (nth = (int)strtol(argv[2], NULL, 10)) < 1 ||
	    nth > PROBE_THREADS_MAX || dns_type_parse(argv[4], &p.type) != 0) {
		fputs("usage: dns_probe RESOLVER THREADS ROUNDS TYPE NAME...\n",
		    stderr);
		return 2;
	}
	if ((p.l = dns_unbound_new(argv[1], err, sizeof err)) == NULL) {
		fprintf(stderr, "dns_probe: %s\n", err);
		return 1;
	}
	p.rounds = (int)strtol(argv[3], &end, 10);
	p.pause_ms = *end == '/' ? strtol(end + 1, NULL, 10) : 0;
	p.names = argv + 5;
	p.nnames = argc - 5;
	p.ok = calloc((size_t)p.nnames, sizeof *p.ok);
	p.other = calloc((size_t)p.nnames, sizeof *p.other);
	for (i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, probe_run, &p);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < p.nnames; i++) {
		printf("%s ok=%d other=%d\n", p.names[i], p.ok[i], p.other[i]);
		bad |= p.other[i] != 0;
	}
	free(p.ok);
	free(p.other);
	dns_lookup_free(p.l);
	return bad;
}
