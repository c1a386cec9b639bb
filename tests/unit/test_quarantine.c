/* test_quarantine.c - engine/quarantine.h: a held message is its octets in
 * ID.eml and its envelope in ID.env, both complete, nothing else left. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/quarantine.h"
#include "harness.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = calloc(1, 1 << 16);

	*len = f != NULL && p != NULL ? fread(p, 1, (1 << 16) - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	return p;
}

/* The names in dir, other than . and .., counted; a ".tmp-" one too. */
static int
count_files(const char *dir, int *tmp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	*tmp = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
			(*tmp)++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static void
test_store(const char *dir)
{
	static const char msg[] = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
	const char *rcpts[] = { "<b@example.org>", "<c@example.org>" };
	struct quarantine_env e = {
		.session = "S1", .client_ip = "192.0.2.1", .helo = "mx.example",
		.mail_from = "<a@example.com>", .rcpts = rcpts, .nrcpts = 2,
		.reason = "dmarc=fail policy=quarantine header.from=example.com\r\n"
		    "rcpt=<forged@x>", .now = 1795392000,
	};
	char id[QUARANTINE_ID_MAX + 1], id2[QUARANTINE_ID_MAX + 1], err[256];
	char path[512], *got;
	size_t len;
	int tmp;

	CHECK_INT(quarantine_store(dir, &e, msg, sizeof msg - 1, id, sizeof id,
	    err, sizeof err), 0, "store: %s", err);
	CHECK(quarantine_id_ok(id), "id form: %s", id);
	CHECK(strncmp(id, "20261123T", 9) == 0, "id starts with the UTC date: %s",
	    id);
	snprintf(path, sizeof path, "%s/%s.eml", dir, id);
	got = slurp(path, &len);
	CHECK(len == sizeof msg - 1 && memcmp(got, msg, len) == 0,
	    "message kept octet for octet");
	free(got);
	snprintf(path, sizeof path, "%s/%s.env", dir, id);
	got = slurp(path, &len);
	CHECK(strstr(got, "\nclient=192.0.2.1\n") != NULL, "client in: %s", got);
	CHECK(strstr(got, "\nrcpt=<b@example.org>\nrcpt=<c@example.org>\n") !=
	    NULL, "both rcpts in: %s", got);
	CHECK(strstr(got, "\nfrom=<a@example.com>\n") != NULL, "from in: %s", got);
	CHECK(strstr(got, "\nsize=41\n") != NULL, "size in: %s", got);
	CHECK(strstr(got, "header.from=example.com??rcpt=<forged@x>\n") != NULL,
	    "CRLF in a value cannot start a line: %s", got);
	CHECK(strstr(got, "\nrcpt=<forged@x>") == NULL, "no forged line");
	CHECK(strstr(got, "time=2026-11-23T00:00:00Z\n") != NULL, "time: %s", got);
	free(got);
	CHECK_INT(quarantine_store(dir, &e, msg, sizeof msg - 1, id2, sizeof id2,
	    err, sizeof err), 0, "second store: %s", err);
	CHECK(strcmp(id, id2) != 0, "two messages, two IDs (%s %s)", id, id2);
	CHECK_INT(count_files(dir, &tmp), 4, "two .eml and two .env");
	CHECK_INT(tmp, 0, "no temporary file left");
}

static void
test_errors(const char *dir)
{
	struct quarantine_env e = { .now = 1795392000 };
	char id[QUARANTINE_ID_MAX + 1], err[256] = "", path[512];

	snprintf(path, sizeof path, "%s/no/such/dir", dir);
	CHECK_INT(quarantine_store(path, &e, "x", 1, id, sizeof id, err,
	    sizeof err), -1, "a missing parent fails");
	CHECK(strstr(err, "no/such/dir") != NULL, "err names it: %s", err);
	CHECK_INT(quarantine_store(dir, &e, "x", 1, id, 8, err, sizeof err), -1,
	    "id buffer too small");
	CHECK(!quarantine_id_ok("../../etc/passwd"), "path is no id");
	CHECK(!quarantine_id_ok("20261123T000000-abc"), "short id");
	CHECK(!quarantine_id_ok("20261123T000000-abcdef/hijkl"), "slash");
	CHECK(quarantine_id_ok("20261123T000000-abcdefGHIJ01"), "good id");
}

int
main(void)
{
	char base[] = "/tmp/jaga-quarantine-XXXXXX", dir[64];

	if (mkdtemp(base) == NULL)
		return 1;
	snprintf(dir, sizeof dir, "%s/quarantine", base);
	test_store(dir);
	{
		struct stat st;
		CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
		    "directory made 0700");
	}
	test_errors(base);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", base);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", base);
	}
	return harness_end("quarantine");
}
