/* test_signer.c - gateway/signer.h: the key table with its keys, looked
 * up by domain; what stops the start, naming the table's file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/signer.h"
#include "harness.h"

static char tmpdir[] = "/tmp/test_signer.XXXXXX";

/* A new key tmpdir/NAME of type; the path in out. */
static void
key(const char *name, const char *type, char *out, size_t outlen)
{
	char txt[2048], why[128];

	snprintf(out, outlen, "%s/%s", tmpdir, name);
	CHECK(dkim_keygen(type, 1024, out, txt, sizeof txt, why,
	    sizeof why) == 0, "keygen %s: %s", name, why);
}

/* tmpdir/NAME with text; its path in out. */
static void
table(const char *name, const char *text, char *out, size_t outlen)
{
	FILE *f;

	snprintf(out, outlen, "%s/%s", tmpdir, name);
	f = fopen(out, "w");
	fputs(text, f);
	fclose(f);
}

static char rsa[256], ed[256], rsa2[256], open_key[256];

static void
test_find(void)
{
	struct signer_key k[DKIM_KEYTAB_PER_DOMAIN];
	char text[2048], path[256], err[1024] = "";
	struct signer *sg;

	snprintf(text, sizeof text, "# keys\nexample.org r1 %s\nb.org r2 %s\n"
	    "Example.ORG e1 %s\n", rsa, rsa2, ed);
	table("good", text, path, sizeof path);
	sg = signer_new(path, err, sizeof err);
	CHECK(sg != NULL, "good table: %s", err);
	if (sg == NULL)
		return;
	CHECK_INT(signer_count(sg), 3, "keys loaded");
	CHECK_INT(signer_find(sg, "EXAMPLE.org", k), 2, "two keys, any case");
	CHECK(strcmp(k[0].selector, "r1") == 0 && !k[0].ed25519 &&
	    strcmp(k[1].selector, "e1") == 0 && k[1].ed25519 &&
	    strcmp(k[1].domain, "example.org") == 0, "in the table's order");
	CHECK_INT(signer_find(sg, "b.org", k), 1, "one key");
	CHECK_INT(signer_find(sg, "sub.example.org", k), 0, "not the parent's");
	CHECK_INT(signer_find(sg, "a.org", k), 0, "before the first");
	CHECK_INT(signer_find(sg, "z.org", k), 0, "after the last");
	signer_free(sg);
	signer_free(NULL);
}

/* A table that must stop the start, with want in the message. */
static void
refused(const char *name, const char *text, const char *want)
{
	char path[256], err[1024] = "";

	table(name, text, path, sizeof path);
	CHECK(signer_new(path, err, sizeof err) == NULL &&
	    strstr(err, want) != NULL && strstr(err, "BEGIN") == NULL,
	    "%s: got \"%s\"", name, err);
}

static void
test_refused(void)
{
	char text[2048], err[1024];

	snprintf(text, sizeof text, "\na.org s %s/none.key\n", tmpdir);
	refused("missing", text, "missing:2: key file ");
	snprintf(text, sizeof text, "a.org s %s\n", open_key);
	refused("open", text, "open:1: key file ");
	refused("open", text, "may be read or written by group or others "
	    "(mode 0640)");
	snprintf(text, sizeof text, "a.org s1 %s\na.org s2 %s\n", rsa, rsa2);
	refused("tworsa", text, "tworsa:2: a.org has an RSA key already "
	    "(line 1)");
	refused("syntax", "a.org s1\n", "syntax:1: KEYFILE missing");
	CHECK(signer_new("/nonexistent/table", err, sizeof err) == NULL &&
	    strcmp(err, "/nonexistent/table: No such file or directory") == 0,
	    "no table: %s", err);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	key("rsa.key", "rsa", rsa, sizeof rsa);
	key("rsa2.key", "rsa", rsa2, sizeof rsa2);
	key("ed.key", "ed25519", ed, sizeof ed);
	key("open.key", "ed25519", open_key, sizeof open_key);
	chmod(open_key, 0640);
	test_find();
	test_refused();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
	}
	return harness_end("signer");
}
