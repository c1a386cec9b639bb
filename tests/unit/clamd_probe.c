/* clamd_probe.c - a helper of tests/wire/test_clamd.py, not a test itself:
 * "clamd_probe ADDR [CONNECT_MS IO_MS MAX_STREAM]" scans its standard input
 * through engine/clamd.c and prints one line:
 * "status=STATUS name=NAME why=WHY".  Exit 0 when the scan ran (whatever
 * its status), 2 on a usage or input error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clamd.h"

#define PROBE_INPUT_MAX (64 * 1024 * 1024)

static long
probe_num(const char *s, long dflt)
{
	char *end;
	long v;

	if (s == NULL)
		return dflt;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "clamd_probe: bad number %s\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct clamd_conf c;
	struct clamd_result r;
	unsigned char *buf = malloc(PROBE_INPUT_MAX);
	size_t len = 0, k;

	if (argc != 2 && argc != 5) {
		fprintf(stderr, "usage: clamd_probe ADDR "
		    "[CONNECT_MS IO_MS MAX_STREAM] < data\n");
		return 2;
	}
	if (buf == NULL)
		return 2;
	while ((k = fread(buf + len, 1, PROBE_INPUT_MAX - len, stdin)) > 0)
		len += k;
	c.addr = argv[1];
	c.connect_ms = (int)probe_num(argc == 5 ? argv[2] : NULL, 2000);
	c.io_ms = (int)probe_num(argc == 5 ? argv[3] : NULL, 5000);
	c.max_stream = (size_t)probe_num(argc == 5 ? argv[4] : NULL, 0);
	clamd_scan(&c, buf, len, &r);
	printf("status=%s name=%s why=%s\n", clamd_status_name(r.status),
	    r.name, r.why);
	free(buf);
	return 0;
}
