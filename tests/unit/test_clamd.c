/* test_clamd.c - engine/clamd.c: the parsing of clamd's INSTREAM replies
 * (clamd(8)); tests/wire/test_clamd.py talks to a real clamd. */
#include <stdio.h>

#include "engine/clamd.h"
#include "harness.h"

static void
test_parse(void)
{
	static const struct {
		const char *reply;
		enum clamd_status want;
		const char *name, *why;
	} cases[] = {
		{ "stream: OK", CLAMD_CLEAN, "", "" },
		{ "stream: Eicar-Test-Signature FOUND", CLAMD_VIRUS,
		    "Eicar-Test-Signature", "" },
		{ "stream: Jaga.Test.Eicar.UNOFFICIAL FOUND", CLAMD_VIRUS,
		    "Jaga.Test.Eicar.UNOFFICIAL", "" },
		{ "INSTREAM size limit exceeded. ERROR", CLAMD_ERROR, "",
		    "INSTREAM size limit exceeded." },
		{ "stream: Can't allocate memory ERROR", CLAMD_ERROR, "",
		    "Can't allocate memory" },
		{ "stream: Bad\x1b[1mName FOUND", CLAMD_VIRUS,
		    "Bad?[1mName", "" },
		{ "", CLAMD_ERROR, "", "unexpected reply" },
		{ "stream: ", CLAMD_ERROR, "", "unexpected reply" },
		{ "stream: FOUND", CLAMD_ERROR, "", "unexpected reply" },
		{ "stream: OK ", CLAMD_ERROR, "", "unexpected reply" },
		{ "stream: ok", CLAMD_ERROR, "", "unexpected reply" },
		{ "PONG", CLAMD_ERROR, "", "unexpected reply" },
		{ "HTTP/1.0 200 OK", CLAMD_ERROR, "", "unexpected reply" },
		{ "ERROR", CLAMD_ERROR, "", "unexpected reply" },
	};
	struct clamd_result r;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_INT(clamd_parse(cases[i].reply, &r), cases[i].want,
		    "status of \"%s\"", cases[i].reply);
		CHECK_INT(r.status, cases[i].want, "r.status %zu", i);
		CHECK_STR(r.name, cases[i].name, "name of \"%s\"",
		    cases[i].reply);
		CHECK_STR(r.why, cases[i].why, "why of \"%s\"",
		    cases[i].reply);
	}
}

static void
test_limits(void)
{
	struct clamd_conf c = { .addr = "/nonexistent/clamd.sock",
	    .connect_ms = 100, .io_ms = 100, .max_stream = 4 };
	struct clamd_result r;

	CHECK_INT(clamd_scan(&c, "12345", 5, &r), CLAMD_ERROR, "too big");
	CHECK_STR(r.why, "INSTREAM size limit exceeded", "too big why");
	CHECK_INT(clamd_scan(&c, "1234", 4, &r), CLAMD_UNAVAILABLE,
	    "no socket");
	c.addr = "not an address";
	CHECK_INT(clamd_scan(&c, "1", 1, &r), CLAMD_UNAVAILABLE, "bad addr");
	CHECK_STR(clamd_status_name(CLAMD_VIRUS), "virus", "status name");
}

int
main(void)
{
	test_parse();
	test_limits();
	return harness_end("clamd");
}
