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
	FILE *f = len > 0 ? fmemopen((void *)(uintptr_t)text, len, "r") :
	    fopen("/dev/null", "r");
	int rc;

	CHECK(f != NULL, "fmemopen");
	if (f == NULL)
		return -2;
	rc = config_load_stream(c, f, "jaga.conf", errs);
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
		{ "i = 7\0x\ni = 6\n", 14, 1,
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
	static const char *const names[] = {
		"myhostname", "listen", "local_domains", "trusted_networks",
		"next_hop", "state_dir", "tls_cert_file", "tls_key_file",
		"store",
		"user_table", "dkim_key_table", "message_size_limit", "max_recipients",
		"max_sessions", "max_sessions_per_ip", "max_errors", "workers",
		"bare_newline", "smtputf8", "greet_pause", "command_timeout",
		"data_timeout", "next_hop_connect_timeout",
		"next_hop_greeting_timeout", "next_hop_command_timeout",
		"next_hop_data_init_timeout", "next_hop_data_block_timeout",
		"next_hop_data_done_timeout", "next_hop_tls",
		"next_hop_tls_ca_file", "next_hop_auth", "log", "log_level", "shutdown_timeout", "run_as", "next_hop_cache",
		"next_hop_cache_time", "next_hop_pipelining", "auth_ip_failures", "auth_window",
		"auth_ip_lockout", "auth_ip_lockout_max", "auth_spray_accounts",
		"auth_account_ips", "auth_account_failures",
		"auth_account_lockout", "auth_fail_delay", "auth_lockout_entries",
		"limits_default", "limits_sender", "limits_sender_domain",
		"limits_ip", "limits_net", "limits_net_prefix4",
		"limits_net_prefix6", "burst_action", "burst_floor",
		"burst_factor", "burst_baseline_days", "burst_ips", "burst_nets",
		"burst_ip_window", "burst_domains_floor",
		"alert_webhook", "alert_mail_to", "alert_mail_from",
		"alert_syslog", "alert_command", "alert_timeout",
		"alert_retry_delay", "alert_retry_delay_max", "alert_retry_time",
		"credential_max_age", "credential_expiry_warning",
		"vault_file", "vault_key", "vault_max_age",
		"resolver", "dns_timeout", "dns_cache_size",
		"inbound_auth", "authserv_id", "dns_threads",
		"public_suffix_list", "dmarc_enforce", "dmarc_quarantine",
		"dmarc_temperror", "dmarc_trusted_forwarders",
		"dmarc_allow_domains",
		NULL,
	};
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
	for (i = 0; names[i] != NULL; i++) {
		for (j = 0; j < jaga_nparams; j++)
			if (strcmp(jaga_params[j].name, names[i]) == 0)
				break;
		CHECK(j < jaga_nparams, "parameter %s is in the table", names[i]);
	}
	CHECK_INT(jaga_nparams, i, "number of parameters");
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

static void
test_settings_defaults(void)
{
	static const char *const none[] = { NULL };
	struct burst_params bp;
	struct settings s;
	struct config *c;
	struct buf errs;
	char addr[64];

	buf_init(&errs, 8192);
	CHECK_INT(t_settings(&s, &c, none, &errs), 0, "defaults load");
	CHECK_STR(errs.data ? errs.data : "", "", "no errors for defaults");
	CHECK(s.hostname[0] != '\0', "system host name");
	CHECK_STR(s.nh_tls.helo_name, s.hostname, "helo_name = hostname");
	CHECK_INT(s.nlisteners, 2, "two listeners");
	if (s.nlisteners == 2) {
		CHECK_INT(s.listeners[0].role, ROLE_INBOUND, "inbound");
		CHECK_INT(s.listeners[1].role, ROLE_SUBMISSION, "submission");
		sockaddr_ntop((struct sockaddr *)&s.listeners[0].addr, addr,
		    sizeof addr);
		CHECK_STR(addr, "127.0.0.1", "inbound address");
		CHECK_INT(sockaddr_port((struct sockaddr *)&s.listeners[1].addr),
		    5870, "submission port");
		CHECK_INT(s.listeners[0].next_hop.kind, NH_MAILDIR, "maildir");
		CHECK_STR(s.listeners[0].next_hop.path, "/var/lib/jaga/Maildir",
		    "maildir under state_dir");
		CHECK_STR(s.listeners[0].text, "inbound=127.0.0.1:2525", "text");
	}
	CHECK_STR(s.local_domains[0], "demo.jaga.test", "local domain");
	CHECK_STR(s.local_domains[1], NULL, "one local domain");
	CHECK_INT(s.ntrusted, 0, "nothing trusted");
	CHECK_STR(s.state_dir, "/var/lib/jaga", "state_dir");
	CHECK_STR(s.tls_cert_file, "", "self-signed");
	CHECK_INT(s.message_size_limit, 10485760, "size limit");
	CHECK_INT(s.max_recipients, 1000, "max_recipients");
	CHECK_INT(s.max_sessions, 10000, "max_sessions");
	CHECK_INT(s.max_sessions_per_ip, 50, "max_sessions_per_ip");
	CHECK_INT(s.max_errors, 10, "max_errors");
	CHECK_INT(s.workers, 0, "workers");
	CHECK_INT(s.bare_lf, BARE_LF_REJECT, "bare_newline");
	CHECK_INT(s.smtputf8, 1, "smtputf8");
	CHECK_INT(s.greet_pause_ms, 0, "greet_pause");
	CHECK_INT(s.command_timeout_ms, 300000, "command_timeout");
	CHECK_INT(s.data_timeout_ms, 180000, "data_timeout");
	CHECK_INT(s.nh_timeouts.connect_ms, 30000, "connect");
	CHECK_INT(s.nh_timeouts.greeting_ms, 300000, "greeting");
	CHECK_INT(s.nh_timeouts.command_ms, 300000, "command");
	CHECK_INT(s.nh_timeouts.data_init_ms, 120000, "data init");
	CHECK_INT(s.nh_timeouts.data_block_ms, 180000, "data block");
	CHECK_INT(s.nh_timeouts.data_done_ms, 600000, "data done");
	CHECK_INT(s.nh_tls.mode, NH_TLS_MAY, "next_hop_tls");
	CHECK_STR(s.nh_tls.ca_file, "", "ca file");
	CHECK_STR(s.guard.ip, "", "limits_ip off");
	CHECK(s.guard.prefix4 == 24 && s.guard.prefix6 == 64, "/24 and /64");
	CHECK(s.guard.burst_on && s.guard.burst.action == LIMITS_SUSPEND,
	    "burst_action suspend");
	CHECK(s.guard.burst.floor == 100 && s.guard.burst.factor == 10 &&
	    s.guard.burst.baseline_days == 7 && s.guard.burst.ips == 5 &&
	    s.guard.burst.nets == 4 && s.guard.burst.ip_window == 600 &&
	    s.guard.burst.domains_floor == 30, "burst defaults");
	burst_params_default(&bp);	/* engine/burst.c says the same */
	CHECK(bp.floor == s.guard.burst.floor && bp.factor ==
	    s.guard.burst.factor && bp.baseline_days ==
	    s.guard.burst.baseline_days && bp.ips == s.guard.burst.ips &&
	    bp.nets == s.guard.burst.nets && bp.ip_window ==
	    s.guard.burst.ip_window && bp.domains_floor ==
	    s.guard.burst.domains_floor && bp.prefix4 == s.guard.burst.prefix4 &&
	    bp.prefix6 == s.guard.burst.prefix6 && bp.action ==
	    s.guard.burst.action, "burst_params_default = the table");
	CHECK(s.cfg == c, "cfg");
	settings_done(&s);
	settings_done(&s);	/* harmless twice */
	config_free(c);
	buf_done(&errs);
}

static void
test_settings_good(void)
{
	static const char *const kv[] = {
		"myhostname", "mx.Example.org",
		"listen", "inbound=[::1]:25;next_hop=smtp://127.0.0.1:2526,"
		    "  submissions=:465\tsubmission=127.0.0.1:587;"
		    "next_hop=lmtp:unix:/run/dovecot/lmtp",
		"local_domains", "Example.ORG, [192.0.2.1] [IPv6:2001:db8::1]",
		"trusted_networks", "10.0.0.0/8 2001:db8::/32, 192.0.2.7",
		"state_dir", "/srv/jaga",
		"next_hop", "maildir:mail",
		"bare_newline", "normalize",
		"next_hop_tls", "verify",
		"next_hop_data_done_timeout", "10m",
		"message_size_limit", "25m",
		"smtputf8", "off",
		NULL,
	};
	struct settings s;
	struct config *c;
	struct buf errs;

	buf_init(&errs, 8192);
	CHECK_INT(t_settings(&s, &c, kv, &errs), 0, "good settings");
	CHECK_STR(errs.data ? errs.data : "", "", "no errors");
	CHECK_STR(s.hostname, "mx.Example.org", "hostname");
	CHECK_INT(s.nlisteners, 3, "three listeners");
	if (s.nlisteners == 3) {
		CHECK_INT(s.listeners[0].addr.ss_family, AF_INET6, "v6");
		CHECK_INT(s.listeners[0].next_hop.kind, NH_SMTP, "own smtp");
		CHECK_INT(s.listeners[0].next_hop.port, 2526, "own port");
		CHECK_INT(s.listeners[1].role, ROLE_SUBMISSIONS, "submissions");
		CHECK_STR(s.listeners[1].next_hop.path, "/srv/jaga/mail",
		    "global maildir under state_dir");
		CHECK_INT(s.listeners[2].next_hop.kind, NH_LMTP, "lmtp");
		CHECK_STR(s.listeners[2].next_hop.path, "/run/dovecot/lmtp",
		    "lmtp path");
	}
	CHECK_STR(s.local_domains[0], "example.org", "lowercased");
	CHECK_STR(s.local_domains[1], "[192.0.2.1]", "v4 literal");
	CHECK_STR(s.local_domains[2], "[ipv6:2001:db8::1]", "v6 literal");
	CHECK_STR(s.local_domains[3], NULL, "three domains");
	CHECK_INT(s.ntrusted, 3, "three networks");
	CHECK_INT(s.bare_lf, BARE_LF_NORMALIZE, "normalize");
	CHECK_INT(s.nh_tls.mode, NH_TLS_VERIFY, "verify");
	CHECK_INT(s.nh_timeouts.data_done_ms, 600000, "10m");
	CHECK_INT(s.message_size_limit, 25 << 20, "25m");
	CHECK_INT(s.smtputf8, 0, "smtputf8 off");
	settings_done(&s);
	config_free(c);
	buf_done(&errs);
}

/* next_hop_auth: the global one goes with the global next hop; a
 * listener's own ;next_hop_auth= with its own or the global next hop. */
static void
test_settings_auth(void)
{
	static const char *const kv[] = {
		"next_hop", "smtp://127.0.0.1:2526",
		"next_hop_auth", "vault:ses",
		"listen", "inbound=127.0.0.1:25, submission=127.0.0.1:587;"
		    "next_hop_auth=vault:app.relay-1, submissions=127.0.0.1:465;"
		    "next_hop=smtp://127.0.0.1:2527",
		NULL,
	};
	struct settings s;
	struct config *c;
	struct buf errs;

	buf_init(&errs, 8192);
	CHECK_INT(t_settings(&s, &c, kv, &errs), 0, "auth settings");
	CHECK_STR(errs.data ? errs.data : "", "", "no errors");
	CHECK_INT(s.nlisteners, 3, "three listeners");
	if (s.nlisteners == 3) {
		CHECK_STR(s.listeners[0].next_hop.auth, "ses", "global auth");
		CHECK_STR(s.listeners[1].next_hop.auth, "app.relay-1", "own");
		CHECK_INT(s.listeners[1].next_hop.port, 2526, "global hop");
		CHECK_STR(s.listeners[2].next_hop.auth, "", "own hop: none");
	}
	settings_done(&s);
	config_free(c);
	buf_done(&errs);
}

/* Bad single values are refused by config_set (naming the origin), and
 * the checks across parameters come from settings_load. */
static void
test_settings_bad(void)
{
	static const struct {
		const char *name, *value;
		int problems;
		const char *errs;
	} rows[] = {
		{ "listen", "bogus=1.2.3.4:25", 1, "-o: listen: "
		  "\"bogus=1.2.3.4:25\": unknown role \"bogus\" (use inbound, "
		  "submission or submissions)\n" },
		{ "listen", "inbound=1.2.3.4", 1, "-o: listen: \"inbound=1.2.3.4"
		  "\": bad address \"1.2.3.4\" (want IPV4:PORT, [IPV6]:PORT or "
		  ":PORT)\n" },
		{ "listen", "inbound=[::1]:99999", 1, "-o: listen: \"inbound="
		  "[::1]:99999\": bad address \"[::1]:99999\" (want IPV4:PORT, "
		  "[IPV6]:PORT or :PORT)\n" },
		{ "listen", "inbound:1.2.3.4:25", 1, "-o: listen: \"inbound:"
		  "1.2.3.4:25\": want ROLE=ADDR:PORT[;next_hop=URL]\n" },
		{ "listen", "inbound=1.2.3.4:25;foo=bar", 1, "-o: listen: "
		  "\"inbound=1.2.3.4:25;foo=bar\": unknown option \"foo=bar\" "
		  "(want ;next_hop=URL or ;next_hop_auth=vault:NAME)\n" },
		{ "listen", "inbound=1.2.3.4:25;next_hop=ftp://x", 1, NULL },
		{ "listen", "", 1,
		  "-o: listen: at least one listener is required\n" },
		{ "listen", "inbound=127.0.0.1:25, submission=127.0.0.1:25", 1,
		  "-o: listen: \"submission=127.0.0.1:25\": address already used"
		  " by \"inbound=127.0.0.1:25\"\n" },
		{ "trusted_networks", "10.0.0.0/8, 10.0.0.1/8", 1,
		  "-o: trusted_networks: \"10.0.0.1/8\" is not a network "
		  "(ADDRESS/PREFIX with the host bits zero, e.g. 192.0.2.0/24 or "
		  "2001:db8::/32)\n" },
		{ "trusted_networks", "localhost", 1, NULL },
		{ "local_domains", "ok.example, bad_domain", 1,
		  "-o: local_domains: \"bad_domain\" is not a domain name or an "
		  "address literal like [192.0.2.1]\n" },
		{ "local_domains", "-x.example", 1, NULL },
		{ "local_domains", "a..b", 1, NULL },
		{ "local_domains", "[300.1.1.1]", 1, NULL },
		{ "next_hop", "gopher://x", 1, NULL },
		{ "next_hop", "smtp://[::1", 1, NULL },
		{ "myhostname", "bad host", 1, "-o: myhostname: \"bad host\" is "
		  "not a host name (letters, digits, '-' and '.')\n" },
		{ "next_hop", "", 2,
		  "listen: \"inbound=127.0.0.1:2525\": no next hop (set next_hop"
		  " or add ;next_hop=URL)\n"
		  "listen: \"submission=127.0.0.1:5870\": no next hop (set "
		  "next_hop or add ;next_hop=URL)\n" },
		{ "tls_cert_file", "/etc/jaga/cert.pem", 1, "tls_key_file: set "
		  "both tls_cert_file and tls_key_file, or neither\n" },
		{ "state_dir", "", 1, "-o: state_dir: must not be empty\n" },
		{ "store", "redis://127.0.0.1:0", 1, "-o: store: bad Redis URL "
		  "(want redis://host[:port][/db])\n" },
		{ "store", "mysql://x", 1, NULL },
		{ "limits_ip", "messages=5/1h action=suspend", 1, "-o: limits_ip: "
		  "action=suspend suspends an identity; use defer or reject on "
		  "this key\n" },
		{ "limits_sender", "messages=5/1h; rcpts=5/1m action=suspend", 1,
		  NULL },
		{ "limits_net", "messages=5", 1, NULL },
		{ "limits_net_prefix4", "33", 1, NULL },
		{ "burst_action", "block", 1, NULL },
		{ "burst_baseline_days", "0", 1, NULL },
		/* next hop AUTH with a vault entry (issue 4 §2) */
		{ "next_hop_auth", "ses", 1, "-o: next_hop_auth: \"ses\": want "
		  "vault:NAME (NAME: letters, digits, '.', '_', '-', at most "
		  "64)\n" },
		{ "next_hop_auth", "vault:a/b", 1, NULL },
		{ "next_hop_auth", "vault:ses", 2, NULL },	/* maildir */
		{ "listen", "inbound=1.2.3.4:25;next_hop_auth=vault:", 1, NULL },
		{ "listen", "inbound=1.2.3.4:25;next_hop=lmtp://1.2.3.4;"
		  "next_hop_auth=vault:ses", 1, "-o: listen: \"inbound=1.2.3.4:25"
		  ";next_hop=lmtp://1.2.3.4;next_hop_auth=vault:ses\": AUTH needs "
		  "an smtp:// next hop\n" },
	};
	struct settings s;
	struct config *c;
	struct buf errs;
	size_t i;

	buf_init(&errs, 8192);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *kv[] = { rows[i].name, rows[i].value, NULL };
		int n = t_settings(&s, &c, kv, &errs);
		CHECK_INT(n, rows[i].problems, "%s = %s", rows[i].name,
		    rows[i].value);
		if (rows[i].errs != NULL)
			CHECK_STR(errs.data, rows[i].errs, "errors for %s = %s",
			    rows[i].name, rows[i].value);
		else
			CHECK(errs.data != NULL && strncmp(errs.data, "-o: ",
			    4) == 0, "an error for %s", rows[i].value);
		settings_done(&s);
		config_free(c);
	}
	buf_done(&errs);
}

/* A problem found by settings_load names the file line of the value. */
static void
test_settings_origin(void)
{
	static const char text[] =
	    "# jaga.conf\n"
	    "listen = inbound=127.0.0.1:25,\n"
	    "    submission=127.0.0.1:25\n";
	struct config *c = config_new(jaga_params, jaga_nparams);
	struct settings s;
	struct buf errs;

	buf_init(&errs, 4096);
	CHECK_INT(t_load(c, text, sizeof text - 1, &errs), 0, "file loads");
	CHECK_INT(settings_load(&s, c, &errs), 1, "duplicate listener");
	CHECK_STR(errs.data, "jaga.conf:2: listen: \"submission=127.0.0.1:25\":"
	    " address already used by \"inbound=127.0.0.1:25\"\n",
	    "file and line of the listener");
	CHECK(s.priv == NULL && s.listeners == NULL, "released on failure");
	settings_done(&s);
	buf_reset(&errs);
	CHECK_INT(t_load(c, "mesage_size_limit = 1m\n", 23, &errs), 1,
	    "suggestion");
	CHECK_STR(errs.data, "jaga.conf:1: mesage_size_limit: unknown "
	    "parameter (did you mean message_size_limit?)\n", "suggestion");
	buf_reset(&errs);
	CHECK_INT(t_load(c, "next_hop_tls = sometimes\n", 25, &errs), 1,
	    "enum");
	CHECK_STR(errs.data, "jaga.conf:1: next_hop_tls: value sometimes is "
	    "not one of none|may|encrypt|verify\n", "enum message");
	buf_done(&errs);
	config_free(c);
}

int
main(void)
{
	test_values();
	test_lists();
	test_files();
	test_long_lines();
	test_real_files();
	test_print();
	test_jaga_table();
	test_settings_defaults();
	test_settings_good();
	test_settings_auth();
	test_settings_bad();
	test_settings_origin();
	CHECK_STR(role_name(ROLE_SUBMISSIONS), "submissions", "role_name");
	return harness_end("config");
}
