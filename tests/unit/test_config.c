/* test_config.c - the generic parameter table (util/config.c) and jaga's
 * table with settings_load (gateway/params.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/params.h"
#include "util/config.h"
#include "harness.h"

static const char *
t_check(const char *v)
{
	return strcmp(v, "bad") == 0 ? "\"bad\" is refused here" : NULL;
}

/* A small table with one parameter of every type. */
static const struct param_def t_defs[] = {
	{ "i", P_INT, "5", -10, 100, NULL, "an int", NULL },
	{ "b", P_BOOL, "no", 0, 0, NULL, "a bool", NULL },
	{ "sz", P_SIZE, "10m", 1024, 2LL << 30, NULL, "a size", NULL },
	{ "t", P_TIME, "300s", 100, 3600000, NULL, "a time", NULL },
	{ "l", P_LIST, "", 0, 0, NULL, "a list", NULL },
	{ "e", P_ENUM, "reject", 0, 0, "reject|normalize", "an enum", NULL },
	{ "s", P_STR, "", 0, 0, NULL, "a string", t_check },
	{ "max_errors", P_INT, "10", 1, 1000, NULL, "for suggestions", NULL },
};
#define T_NDEFS (sizeof t_defs / sizeof t_defs[0])

static struct config *
t_new(void)
{
	struct config *c = config_new(t_defs, T_NDEFS);

	CHECK(c != NULL, "config_new");
	if (c == NULL)
		exit(1);
	return c;
}

/* Load text (len bytes) as if it were the file "jaga.conf". */
static int
t_load(struct config *c, const char *text, size_t len, struct buf *errs)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, len ? len : 1, "r");
	int rc;

	if (f == NULL)
		return -2;
	rc = len ? config_load_stream(c, f, "jaga.conf", errs) :
	    config_load_stream(c, stdin == f ? f : f, "jaga.conf", errs);
	fclose(f);
	return rc;
}

static void
test_values(void)
{
	static const struct {
		const char *name, *value;
		int rc;
		long long num;		/* P_INT/BOOL/SIZE/TIME */
		const char *want;	/* P_ENUM/P_STR text, or the error */
	} rows[] = {
		{ "i", "7", 0, 7, NULL },
		{ "i", " 42 ", 0, 42, NULL },
		{ "i", "-10", 0, -10, NULL },
		{ "i", "100", 0, 100, NULL },
		{ "i", "007", 0, 7, NULL },
		{ "i", "101", -1, 0, "-o: i: value 101 is out of range -10..100\n" },
		{ "i", "-11", -1, 0, "-o: i: value -11 is out of range -10..100\n" },
		{ "i", "12x", -1, 0, "-o: i: value 12x is not a whole number\n" },
		{ "i", "+5", -1, 0, "-o: i: value +5 is not a whole number\n" },
		{ "i", "0x10", -1, 0, "-o: i: value 0x10 is not a whole number\n" },
		{ "i", "", -1, 0, "-o: i: value \"\" is not a whole number\n" },
		{ "i", "99999999999999999999", -1, 0,
		  "-o: i: value 99999999999999999999 is out of range -10..100\n" },
		{ "b", "yes", 0, 1, NULL }, { "b", "no", 0, 0, NULL },
		{ "b", "true", 0, 1, NULL }, { "b", "false", 0, 0, NULL },
		{ "b", "on", 0, 1, NULL }, { "b", "off", 0, 0, NULL },
		{ "b", "1", 0, 1, NULL }, { "b", "0", 0, 0, NULL },
		{ "b", "YES", 0, 1, NULL },
		{ "b", "maybe", -1, 0,
		  "-o: b: value maybe is not a boolean (use yes or no)\n" },
		{ "sz", "10m", 0, 10485760, NULL },
		{ "sz", "512k", 0, 524288, NULL },
		{ "sz", "1g", 0, 1073741824, NULL },
		{ "sz", "2g", 0, 2147483648LL, NULL },
		{ "sz", "1K", 0, 1024, NULL },
		{ "sz", "1024", 0, 1024, NULL },
		{ "sz", "1023", -1, 0, "-o: sz: value 1023 is out of range 1k..2g\n" },
		{ "sz", "3g", -1, 0, "-o: sz: value 3g is out of range 1k..2g\n" },
		{ "sz", "12x", -1, 0, "-o: sz: value 12x is not a size "
		  "(use 10m, 512k or a byte count)\n" },
		{ "sz", "10mb", -1, 0, "-o: sz: value 10mb is not a size "
		  "(use 10m, 512k or a byte count)\n" },
		{ "sz", "10 m", -1, 0, "-o: sz: value 10 m is not a size "
		  "(use 10m, 512k or a byte count)\n" },
		{ "sz", "-1k", -1, 0, "-o: sz: value -1k is not a size "
		  "(use 10m, 512k or a byte count)\n" },
		{ "sz", "99999999999g", -1, 0,
		  "-o: sz: value 99999999999g is out of range 1k..2g\n" },
		{ "t", "300s", 0, 300000, NULL },
		{ "t", "5m", 0, 300000, NULL },
		{ "t", "1h", 0, 3600000, NULL },
		{ "t", "250ms", 0, 250, NULL },
		{ "t", "60", 0, 60000, NULL },
		{ "t", "100ms", 0, 100, NULL },
		{ "t", "99ms", -1, 0, "-o: t: value 99ms is out of range 100ms..1h\n" },
		{ "t", "1d", -1, 0, "-o: t: value 1d is out of range 100ms..1h\n" },
		{ "t", "1.5s", -1, 0, "-o: t: value 1.5s is not a time "
		  "(use 250ms, 300s, 5m, 1h, 1d or seconds)\n" },
		{ "t", "5 min", -1, 0, "-o: t: value 5 min is not a time "
		  "(use 250ms, 300s, 5m, 1h, 1d or seconds)\n" },
		{ "e", "normalize", 0, 0, "normalize" },
		{ "e", "NORMALIZE", 0, 0, "normalize" },
		{ "e", "maybe", -1, 0,
		  "-o: e: value maybe is not one of reject|normalize\n" },
		{ "e", "reject|normalize", -1, 0, "-o: e: value reject|normalize "
		  "is not one of reject|normalize\n" },
		{ "s", "  some text  ", 0, 0, "some text" },
		{ "s", "bad", -1, 0, "-o: s: \"bad\" is refused here\n" },
		{ "s", "a\x01z", -1, 0, "-o: s: value contains a control "
		  "character (byte 0x01)\n" },
		{ "s", "a\x7fz", -1, 0, "-o: s: value contains a control "
		  "character (byte 0x7f)\n" },
		{ "nope", "1", -1, 0, "-o: nope: unknown parameter\n" },
		{ "max_error", "1", -1, 0, "-o: max_error: unknown parameter "
		  "(did you mean max_errors?)\n" },
		{ "MAX_ERRORS", "1", -1, 0, "-o: MAX_ERRORS: unknown parameter "
		  "(did you mean max_errors?)\n" },
		{ "max_e", "1", -1, 0, "-o: max_e: unknown parameter "
		  "(did you mean max_errors?)\n" },
	};
	struct config *c = t_new();
	struct buf errs;
	size_t i;

	buf_init(&errs, 4096);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *n = rows[i].name;
		int rc;

		buf_reset(&errs);
		rc = config_set(c, n, rows[i].value, "-o", &errs);
		CHECK_INT(rc, rows[i].rc, "config_set %s = \"%s\"", n,
		    rows[i].value);
		if (rc != 0) {
			CHECK_STR(errs.data, rows[i].want, "error for %s = %s",
			    n, rows[i].value);
			continue;
		}
		CHECK_INT(errs.len, 0, "no error text for %s", n);
		if (strcmp(n, "e") == 0 || strcmp(n, "s") == 0)
			CHECK_STR(config_str(c, n), rows[i].want, "%s = %s", n,
			    rows[i].value);
		else
			CHECK_INT(config_int(c, n), rows[i].num, "%s = %s", n,
			    rows[i].value);
	}
	/* A refused value leaves the old one in place. */
	CHECK_INT(config_int(c, "i"), 7, "i after refused values");
	buf_done(&errs);
	config_free(c);
}

static void
test_lists(void)
{
	static const struct {
		const char *value;
		const char *words;	/* joined with '|' */
	} rows[] = {
		{ "", "" },
		{ "a", "a" },
		{ "a,b", "a|b" },
		{ " a, b  c,,d ", "a|b|c|d" },
		{ ",,, ,", "" },
		{ "a\tb", "a|b" },
	};
	struct config *c = t_new();
	char joined[256];
	size_t i, k;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *const *w;
		CHECK_INT(config_set(c, "l", rows[i].value, "-o", NULL), 0,
		    "list %s", rows[i].value);
		w = config_list(c, "l");
		joined[0] = '\0';
		for (k = 0; w[k] != NULL; k++)
			snprintf(joined + strlen(joined),
			    sizeof joined - strlen(joined), "%s%s",
			    k ? "|" : "", w[k]);
		CHECK_STR(joined, rows[i].words, "words of \"%s\"",
		    rows[i].value);
	}
	config_free(c);
}

static void
test_files(void)
{
	static const struct {
		const char *text;
		size_t len;		/* 0 = strlen */
		int problems;
		const char *errs;
		const char *check_name;	/* then config_int(name) == num */
		long long num;
	} rows[] = {
		{ "", 0, 0, "", "i", 5 },
		{ "i = 7\n# comment\n\n   # indented comment\nsz = 1m\n", 0, 0,
		  "", "sz", 1048576 },
		{ "i=8", 0, 0, "", "i", 8 },
		{ "i = 9\r\n", 0, 0, "", "i", 9 },
		{ "i =\n 11\n", 0, 0, "", "i", 11 },
		{ "i =\n# comment between\n\t12\n", 0, 0, "", "i", 12 },
		{ "i = 7\ni = 8\n", 0, 1,
		  "jaga.conf:2: i: duplicate setting, overrides line 1\n", "i", 8 },
		{ "  i = 7\n", 0, 1,
		  "jaga.conf:1: continuation line with nothing before it\n",
		  "i", 5 },
		{ "bogus = 1\n", 0, 1, "jaga.conf:1: bogus: unknown parameter\n",
		  NULL, 0 },
		{ "max-errors = 1\n", 0, 1, "jaga.conf:1: max-errors: unknown "
		  "parameter (did you mean max_errors?)\n", NULL, 0 },
		{ "i 7\n", 0, 1, "jaga.conf:1: i: missing '=' after the "
		  "parameter name (want \"name = value\")\n", "i", 5 },
		{ "= 7\n", 0, 1, "jaga.conf:1: missing parameter name before "
		  "'='\n", NULL, 0 },
		{ "i = 7\n\nsz = 12x\n", 0, 1, "jaga.conf:3: sz: value 12x is "
		  "not a size (use 10m, 512k or a byte count)\n", "i", 7 },
		{ "l = a\n b\nsz =\n 12x\ni = 3\n", 0, 1, "jaga.conf:3: sz: value "
		  "12x is not a size (use 10m, 512k or a byte count)\n", "i", 3 },
		{ "i = 7\0x\ni = 6\n", 12, 1,
		  "jaga.conf:1: i: line contains a NUL byte\n", "i", 6 },
		{ "s = a\x01z\n", 0, 1, "jaga.conf:1: s: value contains a "
		  "control character (byte 0x01)\n", NULL, 0 },
		{ "\xff\xfe = 1\n", 0, 1,
		  "jaga.conf:1: \\xff\\xfe: unknown parameter\n", NULL, 0 },
		{ "# \xff\x01 binary in a comment\ni = 4", 0, 0, "", "i", 4 },
		{ "i = 3 # not a comment\n", 0, 1, "jaga.conf:1: i: value 3 # not "
		  "a comment is not a whole number\n", "i", 5 },
		{ "x = 1\ny = 2\ni = 200\n", 0, 3,
		  "jaga.conf:1: x: unknown parameter\n"
		  "jaga.conf:2: y: unknown parameter\n"
		  "jaga.conf:3: i: value 200 is out of range -10..100\n", "i", 5 },
	};
	struct buf errs;
	size_t i;

	buf_init(&errs, 4096);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct config *c = t_new();
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].text);

		buf_reset(&errs);
		CHECK_INT(t_load(c, rows[i].text, len, &errs), rows[i].problems,
		    "problems in file row %zu", i);
		CHECK_STR(errs.data ? errs.data : "", rows[i].errs,
		    "errors of file row %zu", i);
		if (rows[i].check_name != NULL)
			CHECK_INT(config_int(c, rows[i].check_name), rows[i].num,
			    "%s after file row %zu", rows[i].check_name, i);
		config_free(c);
	}
	buf_done(&errs);
}

/* Lines longer than the 64 KiB bound, and a long name. */
static void
test_long_lines(void)
{
	struct config *c = t_new();
	struct buf text, errs;
	char want[512];
	size_t i;

	buf_init(&text, 1 << 20);
	buf_init(&errs, 4096);
	buf_puts(&text, "s = ");
	for (i = 0; i < 70000; i++)
		buf_puts(&text, i % 7 ? "a" : "\xff");
	buf_puts(&text, "\ni = 4\ns = x\n ");
	for (i = 0; i < 70000; i++)
		buf_puts(&text, "b");
	buf_puts(&text, "\n");
	for (i = 0; i < 100; i++)
		buf_puts(&text, "n");
	buf_puts(&text, " = 1\n");
	CHECK_INT(t_load(c, text.data, text.len, &errs), 3, "long lines");
	snprintf(want, sizeof want,
	    "jaga.conf:1: s: line longer than 65536 bytes\n"
	    "jaga.conf:3: s: line longer than 65536 bytes\n"
	    "jaga.conf:5: %.64s...: unknown parameter\n", text.data +
	    text.len - 105);
	CHECK_STR(errs.data, want, "long line errors");
	CHECK_INT(config_int(c, "i"), 4, "line after a long line");
	CHECK_STR(config_str(c, "s"), "", "long value not taken");
	buf_done(&text);
	buf_done(&errs);
	config_free(c);
}

static void
test_real_files(void)
{
	char path[] = "/tmp/jaga-test-config-XXXXXX", want[256];
	struct config *c = t_new();
	struct buf errs;
	FILE *f;
	int fd;

	buf_init(&errs, 4096);
	CHECK_INT(config_load_file(c, "/nonexistent/jaga.conf", &errs), -1,
	    "missing file");
	CHECK_STR(errs.data, "/nonexistent/jaga.conf: cannot open: No such "
	    "file or directory\n", "missing file message");
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	CHECK(f != NULL, "temp file");
	if (f == NULL)
		return;
	fputs("i = 7\nb = yes\ni = 9\n", f);
	fclose(f);
	buf_reset(&errs);
	CHECK_INT(config_load_file(c, path, &errs), 1, "real file");
	snprintf(want, sizeof want, "%s:3: i: duplicate setting, overrides "
	    "line 1\n", path);
	CHECK_STR(errs.data, want, "real file errors");
	snprintf(want, sizeof want, "%s:3", path);
	CHECK_STR(config_origin(c, "i"), want, "origin from the file");
	CHECK_STR(config_origin(c, "sz"), NULL, "origin of a default");
	/* -o after the file overrides it and is no duplicate; loading the
	 * file again is not a duplicate either. */
	buf_reset(&errs);
	CHECK_INT(config_set(c, "i", "11", "-o", &errs), 0, "-o i");
	CHECK_INT(config_int(c, "i"), 11, "-o overrides the file");
	CHECK_STR(config_origin(c, "i"), "-o", "origin of -o");
	CHECK_INT(config_int(c, "b"), 1, "b from the file");
	unlink(path);
	buf_done(&errs);
	config_free(c);
}

static void
test_print(void)
{
	struct config *c = config_new(jaga_params, jaga_nparams);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	CHECK(c != NULL, "jaga config_new");
	f = open_memstream(&out, &outlen);
	config_print(c, f, 0, 0);
	fclose(f);
	CHECK(strstr(out, "\nmessage_size_limit = 10m\n") != NULL, "defaults");
	CHECK(strncmp(out, "myhostname =\n", 13) == 0, "empty default");
	CHECK(strstr(out, "\ncommand_timeout = 300s\n") != NULL, "time");
	free(out);
	config_set(c, "max_errors", "5", "-o", NULL);
	config_set(c, "message_size_limit", "10240k", "-o", NULL);
	f = open_memstream(&out, &outlen);
	config_print(c, f, 1, 0);
	fclose(f);
	CHECK_STR(out, "max_errors = 5\n", "only changed values");
	free(out);
	f = open_memstream(&out, &outlen);
	config_print(c, f, 0, 1);
	fclose(f);
	CHECK(strstr(out, "# type: size, 1k..2g\nmessage_size_limit = 10240k"
	    "\n") != NULL, "help and range");
	CHECK(strstr(out, "# type: enum, one of reject|normalize\n") != NULL,
	    "enum help");
	free(out);
	config_free(c);
}

/* Every default of jaga's table passes its own check. */
static void
test_jaga_table(void)
{
	size_t i, j;

	for (i = 0; i < jaga_nparams; i++) {
		const struct param_def *d = &jaga_params[i];
		CHECK(d->help != NULL && d->help[0] != '\0', "help of %s",
		    d->name);
		if (d->check != NULL && d->def[0] != '\0')
			CHECK(d->check(d->def) == NULL, "default of %s", d->name);
		for (j = 0; j < i; j++)
			CHECK(strcmp(d->name, jaga_params[j].name) != 0,
			    "%s twice", d->name);
	}
	CHECK_INT(jaga_nparams, 31, "number of parameters");
}

/* Load -o settings (NULL-terminated name, value pairs) over the defaults,
 * then settings_load; returns its problems, errors in errs. */
static int
t_settings(struct settings *s, struct config **cp, const char *const *kv,
    struct buf *errs)
{
	struct config *c = config_new(jaga_params, jaga_nparams);
	int n = 0;

	*cp = c;
	buf_reset(errs);
	for (; kv[0] != NULL; kv += 2)
		n += config_set(c, kv[0], kv[1], "-o", errs) < 0;
	return n + settings_load(s, c, errs);
}
