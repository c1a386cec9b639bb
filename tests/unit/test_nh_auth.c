/* test_nh_auth.c - the AUTH lines made from a vault credential.
 *
 * Got the bytes that would go to the next hop, want RFC 4616 §2 PLAIN
 * ("\0user\0secret", base64, RFC 4954 §4 initial response) and the two
 * LOGIN answers; a secret holding a NUL cannot be sent with PLAIN.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "gateway/nh_auth.h"
#include "harness.h"

/* The line in out as a string (CRLF kept), out drained. */
static char *
take(struct evbuffer *out)
{
	size_t n = evbuffer_get_length(out);
	char *s = calloc(1, n + 1);

	evbuffer_remove(out, s, n);
	return s;
}

static void
cred_set(struct vault_secret *c, const char *user, const char *secret,
    size_t len)
{
	memset(c, 0, sizeof *c);
	snprintf(c->user, sizeof c->user, "%s", user);
	c->secret = sodium_malloc(len + 1);
	memcpy(c->secret, secret, len);
	c->secret[len] = '\0';
	c->len = len;
}

static void
test_plain(void)
{
	static const struct { const char *user, *secret, *want; } cases[] = {
		/* RFC 4616 §4 example without authzid: "\0tim\0tanstaaftanstaaf" */
		{ "tim", "tanstaaftanstaaf",
		  "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n" },
		{ "AKIAEXAMPLE", "Up+Stream/S3cret=",
		  "AUTH PLAIN AEFLSUFFWEFNUExFAFVwK1N0cmVhbS9TM2NyZXQ9\r\n" },
	};
	struct evbuffer *out = evbuffer_new();
	struct vault_secret c;
	char *got;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cred_set(&c, cases[i].user, cases[i].secret,
		    strlen(cases[i].secret));
		CHECK_INT(nh_auth_put_plain(out, &c), 0, "plain %zu", i);
		got = take(out);
		CHECK_STR(got, cases[i].want, "plain %zu", i);
		free(got);
		sodium_free(c.secret);
	}
	cred_set(&c, "u", "a\0b", 3);
	CHECK_INT(nh_auth_put_plain(out, &c), -1, "NUL in the secret");
	CHECK_INT(evbuffer_get_length(out), 0, "nothing written");
	sodium_free(c.secret);
	evbuffer_free(out);
}

static void
test_login(void)
{
	struct evbuffer *out = evbuffer_new();
	char *got;

	CHECK_INT(nh_auth_put_b64(out, "tim", 3), 0, "login user");
	got = take(out);
	CHECK_STR(got, "dGlt\r\n", "login user");
	free(got);
	CHECK_INT(nh_auth_put_b64(out, "tanstaaftanstaaf", 16), 0, "login pw");
	got = take(out);
	CHECK_STR(got, "dGFuc3RhYWZ0YW5zdGFhZg==\r\n", "login pw");
	free(got);
	evbuffer_free(out);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_plain();
	test_login();
	return harness_end("nh_auth");
}
