/* test_buf.c - the bounded buffer and the log line quoting. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/buf.h"
#include "util/log.h"

static void
test_limits(void)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_INT(buf_puts(&b, "0123456789"), 0, "fill to the limit");
	CHECK_INT(buf_puts(&b, "x"), -1, "one past the limit");
	CHECK_INT(b.len, 10, "unchanged after a refused append");
	CHECK_STR(b.data, "0123456789", "content kept");
	buf_consume(&b, 4);
	CHECK_STR(b.data, "456789", "consume 4");
	CHECK_INT(buf_printf(&b, "%d", 1234), 0, "printf fits");
	CHECK_INT(buf_printf(&b, "%s", "long"), -1, "printf over the limit");
	CHECK_STR(b.data, "4567891234", "printf result");
	buf_reset(&b);
	CHECK_INT(b.len, 0, "reset");
	CHECK_STR(b.data, "", "reset is NUL-terminated");
	buf_done(&b);
	CHECK(b.data == NULL && b.len == 0, "done frees");
	buf_init(&b, 0);
	CHECK_INT(buf_append(&b, "", 0), 0, "empty append to a zero buffer");
	CHECK_INT(buf_append(&b, "a", 1), -1, "zero limit holds nothing");
	buf_done(&b);
}

static void
test_growth(void)
{
	struct buf b;
	char chunk[1000];
	char *p;

	memset(chunk, 'a', sizeof chunk);
	buf_init(&b, 1000000);
	for (int i = 0; i < 1000; i++)
		if (buf_append(&b, chunk, sizeof chunk) < 0)
			break;
	CHECK_INT(b.len, 1000000, "grows to exactly the limit");
	CHECK(b.cap <= 1000001, "capacity never exceeds limit + 1 (%zu)", b.cap);
	CHECK_INT(buf_append(&b, "a", 1), -1, "full");
	p = buf_steal(&b);
	CHECK(p != NULL && strlen(p) == 1000000, "steal hands over the data");
	CHECK(b.data == NULL && b.len == 0, "steal empties");
	free(p);
	p = buf_steal(&b);
	CHECK_STR(p, "", "steal of an empty buffer");
	free(p);
}

static const struct {
	const char *val;
	const char *want;
} kv_rows[] = {
	{ "plain", " k=plain" },
	{ "", " k=\"\"" },
	{ "two words", " k=\"two words\"" },
	{ "a=b", " k=\"a=b\"" },
	{ "q\"uote", " k=\"q\\\"uote\"" },
	{ "back\\slash", " k=\"back\\\\slash\"" },
	{ "cr\rlf\n", " k=\"cr\\x0dlf\\x0a\"" },
	{ "tab\there", " k=\"tab\\x09here\"" },
	{ "<a@b.example>", " k=<a@b.example>" },
	{ "caf\xc3\xa9", " k=\"caf\xc3\xa9\"" },
	{ "del\x7f", " k=\"del\\x7f\"" },
};

static void
test_log_quoting(void)
{
	for (size_t i = 0; i < sizeof kv_rows / sizeof kv_rows[0]; i++) {
		struct buf b;
		buf_init(&b, 256);
		log_kv(&b, "k", kv_rows[i].val, strlen(kv_rows[i].val));
		CHECK_STR(b.data, kv_rows[i].want, "log_kv row %zu", i);
		CHECK(strchr(b.data, '\n') == NULL && strchr(b.data, '\r') == NULL,
		    "one line, row %zu", i);
		buf_done(&b);
	}
}

int
main(void)
{
	test_limits();
	test_growth();
	test_log_quoting();
	return harness_end("buf");
}
