/* test_passwd.c - engine/passwd.c: Argon2id, imported crypt(3) hashes.
 *
 * The crypt vectors are made at test time with other people's tools:
 * "openssl passwd -6|-5 -salt ..." and "mkpasswd -m yescrypt|bcrypt"
 * (Debian's whois package).  A tool that is missing skips its rows. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "engine/passwd.h"
#include "harness.h"

/* The first line printed by cmd (which reads no input) into out. */
static int
t_run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	int ok;

	if (p == NULL)
		return -1;
	ok = fgets(out, (int)outlen, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void
test_tools(void)
{
	static const struct {
		const char *cmd, *prefix, *pass;
	} rows[] = {
		{ "openssl passwd -6 -salt abcdefgh 'Sekr3t pw'", "$6$", "Sekr3t pw" },
		{ "openssl passwd -5 -salt saltsalt 'x'", "$5$", "x" },
		{ "mkpasswd -m yescrypt 'y-pass-1'", "$y$", "y-pass-1" },
		{ "mkpasswd -m bcrypt 'b-pass-2'", "$2b$", "b-pass-2" },
	};
	char h[PASSWD_HASH_MAX], in[PASSWD_HASH_MAX + 32], out[PASSWD_HASH_MAX];
	const char *why;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (t_run(rows[i].cmd, h, sizeof h) < 0) {
			fprintf(stderr, "skip: %s\n", rows[i].cmd);
			continue;
		}
		CHECK(strncmp(h, rows[i].prefix, strlen(rows[i].prefix)) == 0,
		    "%s: prefix of %s", rows[i].cmd, h);
		CHECK(passwd_verify(h, rows[i].pass, strlen(rows[i].pass)) == 1,
		    "%s: right password", rows[i].cmd);
		CHECK(passwd_verify(h, "wrong", 5) == 0, "%s: wrong", rows[i].cmd);
		CHECK(passwd_verify(h, rows[i].pass, strlen(rows[i].pass) - 1)
		    == 0, "%s: prefix of the password", rows[i].cmd);
		snprintf(in, sizeof in, "{CRYPT}%s", h);
		CHECK(passwd_normalize(in, out, sizeof out, &why) == 0,
		    "%s: {CRYPT}", rows[i].cmd);
		CHECK_STR(out, h, "%s: {CRYPT} stripped", rows[i].cmd);
	}
}

static void
test_normalize(void)
{
	static const struct {
		const char *in, *want;	/* want NULL = refused */
	} rows[] = {
		{ "{SHA512-CRYPT}$6$abcdefgh$BOw/nV5aU2HJ8o7otKMCN5S.MoSoxPoAUY"
		  "ewKjq5oSqs8UMghGB3x4G4HaPK7NZqL54npGT9hs/qRSokU.4Qt/",
		  "$6$abcdefgh$BOw/nV5aU2HJ8o7otKMCN5S.MoSoxPoAUYewKjq5oSqs8UMgh"
		  "GB3x4G4HaPK7NZqL54npGT9hs/qRSokU.4Qt/" },
		{ "{SHA512-CRYPT}$5$saltsalt$abc", NULL },	/* mismatch */
		{ "{MD5}abc", NULL },
		{ "{PLAIN}secret", NULL },
		{ "$1$abc$def", NULL },		/* MD5-crypt: too weak */
		{ "plaintext", NULL },
		{ "$6$", NULL },
		{ "$6$abc def", NULL },
		{ "", NULL },
	};
	char out[PASSWD_HASH_MAX];
	const char *why;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int r = passwd_normalize(rows[i].in, out, sizeof out, &why);
		CHECK_INT(r, rows[i].want ? 0 : -1, "normalize %s", rows[i].in);
		if (r == 0 && rows[i].want)
			CHECK_STR(out, rows[i].want, "normalize %s", rows[i].in);
		if (r < 0)
			CHECK(why != NULL && why[0], "a reason for %s", rows[i].in);
	}
	CHECK(passwd_verify(rows[0].want, "pw1", 3) == 1, "openssl -6 pw1");
}

static void
test_argon2(void)
{
	char h[PASSWD_HASH_MAX], out[PASSWD_HASH_MAX], in[PASSWD_HASH_MAX + 16];
	const char *why;

	CHECK(passwd_hash("pa\0ss", 5, h, sizeof h) == 0, "hash");
	CHECK(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0,
	    "parameters %s", h);
	CHECK(passwd_verify(h, "pa\0ss", 5) == 1, "NUL inside");
	CHECK(passwd_verify(h, "pa", 2) == 0, "cut at NUL");
	snprintf(in, sizeof in, "{ARGON2ID}%s", h);
	CHECK(passwd_normalize(in, out, sizeof out, &why) == 0, "{ARGON2ID}");
	CHECK_STR(out, h, "{ARGON2ID} stripped");
	CHECK(passwd_verify("$unknown$x", "x", 1) == 0, "unknown format");
	CHECK(passwd_verify("", "", 0) == 0, "empty hash");
}

static void
test_generate(void)
{
	char a[PASSWD_GEN_LEN + 1], b[PASSWD_GEN_LEN + 1];

	passwd_generate(a, sizeof a);
	passwd_generate(b, sizeof b);
	CHECK_INT(strlen(a), PASSWD_GEN_LEN, "length");
	CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789") == PASSWD_GEN_LEN, "alphabet %s", a);
	CHECK(strcmp(a, b) != 0, "two differ");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_tools();
	test_normalize();
	test_argon2();
	test_generate();
	return harness_end("passwd");
}
