/* config.c - configuration from one table of parameters.
 *
 * The syntax is Postfix main.cf: "name = value"; a line whose first
 * non-blank byte is '#' is a comment; blank lines are ignored; a line that
 * starts with white space continues the previous logical line (joined with
 * one space).  Comment and blank lines do not end a logical line.  Every
 * input line is bounded (CONFIG_LINE_MAX), every byte is checked, and every
 * bad name or value is shown escaped and cut short in messages.
 */
#include "util/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONFIG_LINE_MAX		65536	/* bytes in one logical line */
#define CONFIG_SHOW_MAX		64	/* bytes of a bad name/value shown */
#define CONFIG_ESC_SIZE		(4 * CONFIG_SHOW_MAX + 8)
#define CONFIG_MSG_MAX		512
#define CONFIG_ORIGIN_MAX	1100	/* "FILE:LINE", FILE cut at 1024 */

struct config_val {
	char *text;		/* the value in file syntax (owned) */
	long long num;		/* P_INT, P_BOOL, P_SIZE, P_TIME (ms) */
	char **words;		/* P_LIST: NULL-terminated, into wordmem */
	char *wordmem;
	char *origin;		/* "FILE:LINE", "-o", ...; NULL = default */
	unsigned gen;		/* the config_load_* call that set it, 0 = none */
	unsigned line;
};

struct config {
	const struct param_def *defs;
	size_t ndefs;
	struct config_val *vals;
	unsigned gen;		/* counts config_load_* calls */
};

/* ---- messages ---- */

/* s for a message: non-printable bytes as \xNN, cut after CONFIG_SHOW_MAX
 * bytes with "...", and "" when empty. */
static const char *
config_esc(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (len == 0) {
		memcpy(out, "\"\"", 3);
		return out;
	}
	for (i = 0; i < len && i < CONFIG_SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f) {
			out[o++] = (char)ch;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[ch >> 4];
		out[o++] = hex[ch & 15];
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Append "ORIGIN: NAME: message\n" to errs (either part may be NULL). */
static void config_err(struct buf *errs, const char *origin, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
config_err(struct buf *errs, const char *origin, const char *name,
    const char *fmt, ...)
{
	va_list ap;

	if (errs == NULL)
		return;
	if (origin != NULL)
		buf_printf(errs, "%s: ", origin);
	if (name != NULL)
		buf_printf(errs, "%s: ", name);
	va_start(ap, fmt);
	buf_vprintf(errs, fmt, ap);
	va_end(ap);
	buf_puts(errs, "\n");
}

/* ---- the table ---- */

static long
config_find(const struct config *c, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->ndefs; i++)
		if (strncmp(c->defs[i].name, name, len) == 0 &&
		    c->defs[i].name[len] == '\0')
			return (long)i;
	return -1;
}

/* Levenshtein distance, ignoring case; SIZE_MAX for long names. */
static size_t
config_distance(const char *a, size_t alen, const char *b)
{
	size_t row[CONFIG_SHOW_MAX + 1], blen = strlen(b), i, j;

	if (alen > CONFIG_SHOW_MAX || blen > CONFIG_SHOW_MAX)
		return SIZE_MAX;
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			size_t up = row[j], best = diag +
			    (tolower((unsigned char)a[i - 1]) != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[blen];
}

/* The known name closest to name, if it is close enough to be a typo (one
 * edit per three bytes, at most four) or the name is the start of it
 * ("message_size" -> message_size_limit). */
static const char *
config_suggest(const struct config *c, const char *name, size_t len)
{
	size_t i, d, bestd = SIZE_MAX;
	const char *best = NULL;

	for (i = 0; i < c->ndefs; i++) {
		d = config_distance(name, len, c->defs[i].name);
		if (d < bestd) {
			bestd = d;
			best = c->defs[i].name;
		}
	}
	if (best != NULL && bestd <= 4 && bestd * 3 <= len)
		return best;
	for (i = 0; len >= 4 && i < c->ndefs; i++)
		if (strncasecmp(c->defs[i].name, name, len) == 0)
			return c->defs[i].name;
	return NULL;
}

static void
config_unknown(const struct config *c, const char *name, size_t len,
    const char *origin, struct buf *errs)
{
	char esc[CONFIG_ESC_SIZE];
	const char *s = config_suggest(c, name, len);

	config_esc(esc, name, len);
	if (s != NULL)
		config_err(errs, origin, esc,
		    "unknown parameter (did you mean %s?)", s);
	else
		config_err(errs, origin, esc, "unknown parameter");
}

/* ---- values ---- */

struct config_unit {
	const char *suffix;
	long long mult;
};

static const struct config_unit config_size_units[] = {
	{ "g", 1024LL * 1024 * 1024 }, { "m", 1024 * 1024 }, { "k", 1024 },
	{ "", 1 }, { NULL, 0 },
};

/* Plain numbers are seconds; values are kept in milliseconds. */
static const struct config_unit config_time_units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	{ "ms", 1 }, { "", 1000 }, { NULL, 0 },
};

/* A decimal number, optionally negative, then a suffix of units (units ==
 * NULL: none).  Returns 0, -1 when it is not one, -2 when too large. */
static int
config_number(const char *s, int neg_ok, const struct config_unit *units,
    long long *out)
{
	const char *p = s + (neg_ok && s[0] == '-');
	long long n, mult = 1;
	char *end;
	int erange;

	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	erange = errno == ERANGE;
	if (units == NULL && *end != '\0')
		return -1;
	for (; units != NULL && units->suffix != NULL; units++)
		if (strcasecmp(end, units->suffix) == 0)
			break;
	if (units != NULL) {
		if (units->suffix == NULL)
			return -1;
		mult = units->mult;
	}
	if (erange || n > LLONG_MAX / mult || n < LLONG_MIN / mult)
		return -2;
	*out = n * mult;
	return 0;
}

/* A number in the units of type t, as short as it can be said exactly. */
static void
config_fmt(enum param_type t, long long n, char *out, size_t outlen)
{
	const struct config_unit *u = t == P_SIZE ? config_size_units :
	    t == P_TIME ? config_time_units : NULL;

	for (; u != NULL && u->suffix != NULL && n != 0; u++) {
		if (n % u->mult == 0) {
			snprintf(out, outlen, "%lld%s", n / u->mult,
			    u->suffix[0] == '\0' && t == P_TIME ? "ms" :
			    u->suffix);
			return;
		}
	}
	snprintf(out, outlen, "%lld%s", n, t == P_TIME ? "s" : "");
}

static const char *const config_bool_words[] = {
	"no", "yes", "false", "true", "off", "on", "0", "1", NULL,
};

static int
config_bool(const char *s, long long *out)
{
	size_t i;

	for (i = 0; config_bool_words[i] != NULL; i++) {
		if (strcasecmp(s, config_bool_words[i]) == 0) {
			*out = (long long)(i % 2);
			return 0;
		}
	}
	return -1;
}

/* One word of "a|b|c" (any case); the canonical word is copied to out. */
static int
config_enum(const char *choices, const char *s, char **out)
{
	size_t n = strlen(s);
	const char *p = choices, *bar;

	while (p != NULL && *p != '\0') {
		bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncasecmp(p, s, n) == 0) {
			*out = strndup(p, len);
			return *out != NULL ? 0 : -2;
		}
		p = bar != NULL ? bar + 1 : NULL;
	}
	return -1;
}

static int
config_is_sep(char ch)
{
	return ch == ',' || ch == ' ' || ch == '\t';
}

/* Split v->text into v->words at commas and white space. */
static int
config_words(struct config_val *v)
{
	size_t n = strlen(v->text), i, k = 0;
	char *p;

	v->wordmem = malloc(n + 1);
	v->words = calloc(n / 2 + 2, sizeof *v->words);
	if (v->wordmem == NULL || v->words == NULL)
		return -1;
	memcpy(v->wordmem, v->text, n + 1);
	for (i = 0, p = v->wordmem; i < n; i++) {
		if (config_is_sep(p[i])) {
			p[i] = '\0';
		} else if (i == 0 || p[i - 1] == '\0') {
			v->words[k++] = p + i;
		}
	}
	v->words[k] = NULL;
	return 0;
}

static void
config_val_done(struct config_val *v)
{
	free(v->text);
	free(v->words);
	free(v->wordmem);
	free(v->origin);
	memset(v, 0, sizeof *v);
}

enum { CONFIG_OK = 0, CONFIG_BAD = -1, CONFIG_NOMEM = -2, CONFIG_RANGE = -3 };

/* P_INT, P_SIZE, P_TIME: the number, within [d->min, d->max]. */
static int
config_typed_num(const struct param_def *d, struct config_val *v)
{
	int rc = config_number(v->text, d->type == P_INT,
	    d->type == P_SIZE ? config_size_units :
	    d->type == P_TIME ? config_time_units : NULL, &v->num);

	if (rc == -2 || (rc == 0 && (v->num < d->min || v->num > d->max)))
		return CONFIG_RANGE;
	return rc == 0 ? CONFIG_OK : CONFIG_BAD;
}

static int
config_typed_enum(const struct param_def *d, struct config_val *v)
{
	char *canon = NULL;
	int rc = config_enum(d->choices, v->text, &canon);

	if (rc == 0) {
		free(v->text);
		v->text = canon;
		return CONFIG_OK;
	}
	return rc == -2 ? CONFIG_NOMEM : CONFIG_BAD;
}

/* The typed part of config_build; on failure a message in msg. */
static int
config_typed(const struct param_def *d, struct config_val *v,
    char *msg, size_t msglen, const char *esc)
{
	static const char *const what[] = {
		[P_INT] = "is not a whole number",
		[P_BOOL] = "is not a boolean (use yes or no)",
		[P_SIZE] = "is not a size (use 10m, 512k or a byte count)",
		[P_TIME] = "is not a time (use 250ms, 300s, 5m, 1h, 1d or "
		    "seconds)",
	};
	char lo[32], hi[32];
	int rc = CONFIG_OK;

	if (d->type == P_LIST)
		rc = config_words(v) < 0 ? CONFIG_NOMEM : CONFIG_OK;
	else if (d->type == P_ENUM)
		rc = config_typed_enum(d, v);
	else if (d->type == P_BOOL)
		rc = config_bool(v->text, &v->num) < 0 ? CONFIG_BAD : CONFIG_OK;
	else if (d->type != P_STR)
		rc = config_typed_num(d, v);
	if (rc == CONFIG_NOMEM)
		snprintf(msg, msglen, "out of memory");
	else if (rc == CONFIG_BAD && d->type == P_ENUM)
		snprintf(msg, msglen, "value %s is not one of %s", esc,
		    d->choices);
	else if (rc == CONFIG_BAD)
		snprintf(msg, msglen, "value %s %s", esc, what[d->type]);
	if (rc == CONFIG_RANGE) {
		config_fmt(d->type, d->min, lo, sizeof lo);
		config_fmt(d->type, d->max, hi, sizeof hi);
		snprintf(msg, msglen, "value %s is out of range %s..%s", esc,
		    lo, hi);
		rc = CONFIG_BAD;
	}
	return rc;
}

/* Refuse control characters (a tab is white space). */
static int
config_ctl(const char *s, size_t n, char *msg, size_t msglen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(msg, msglen, "value contains a control "
			    "character (byte 0x%02x)", ch);
			return -1;
		}
	}
	return 0;
}

/* Parse value (white space around it is dropped) into a fresh *v; with
 * check, run d->check too.  Returns CONFIG_OK, CONFIG_BAD or CONFIG_NOMEM
 * with a message in msg. */
static int
config_build(const struct param_def *d, const char *value, int check,
    struct config_val *v, char *msg, size_t msglen)
{
	char esc[CONFIG_ESC_SIZE];
	const char *why;
	size_t n;
	int rc;

	memset(v, 0, sizeof *v);
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	config_esc(esc, value, n);
	if (config_ctl(value, n, msg, msglen) < 0)
		return CONFIG_BAD;
	if ((v->text = strndup(value, n)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return CONFIG_NOMEM;
	}
	rc = config_typed(d, v, msg, msglen, esc);
	if (rc == CONFIG_OK && check && d->check != NULL &&
	    (why = d->check(v->text)) != NULL) {
		snprintf(msg, msglen, "%s", why);
		rc = CONFIG_BAD;
	}
	if (rc != CONFIG_OK)
		config_val_done(v);
	return rc;
}

/* ---- the configuration object ---- */

struct config *
config_new(const struct param_def *defs, size_t ndefs)
{
	struct config *c = calloc(1, sizeof *c);
	char msg[CONFIG_MSG_MAX];
	size_t i;
	int rc;

	if (c == NULL)
		return NULL;
	c->defs = defs;
	c->ndefs = ndefs;
	c->vals = calloc(ndefs ? ndefs : 1, sizeof *c->vals);
	for (i = 0; c->vals != NULL && i < ndefs; i++) {
		/* The defaults are not checked: settings_load judges them
		 * with the rest, and a check may depend on the system. */
		rc = config_build(&defs[i], defs[i].def, 0, &c->vals[i], msg,
		    sizeof msg);
		assert(rc != CONFIG_BAD && "bad default in parameter table");
		if (rc != CONFIG_OK)
			break;
	}
	if (c->vals == NULL || i < ndefs) {
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->vals != NULL && i < c->ndefs; i++)
		config_val_done(&c->vals[i]);
	free(c->vals);
	free(c);
}

/* Set name (len bytes) to value.  line > 0: from line of the file being
 * loaded, where a second setting is reported as a duplicate (the later
 * value still wins, as in Postfix).  Returns the number of problems. */
static int
config_set_at(struct config *c, const char *name, size_t len,
    const char *value, const char *origin, unsigned line, struct buf *errs)
{
	char esc[CONFIG_ESC_SIZE], msg[CONFIG_MSG_MAX];
	long i = config_find(c, name, len);
	struct config_val nv, *v;
	int dup;

	if (i < 0) {
		config_unknown(c, name, len, origin, errs);
		return 1;
	}
	config_esc(esc, name, len);
	if (config_build(&c->defs[i], value, 1, &nv, msg, sizeof msg) < 0 ||
	    (nv.origin = strdup(origin)) == NULL) {
		if (nv.text != NULL) {
			config_val_done(&nv);
			snprintf(msg, sizeof msg, "out of memory");
		}
		config_err(errs, origin, esc, "%s", msg);
		return 1;
	}
	v = &c->vals[i];
	dup = line > 0 && v->gen == c->gen;
	if (dup)
		config_err(errs, origin, esc, "duplicate setting, overrides "
		    "line %u", v->line);
	nv.gen = line > 0 ? c->gen : 0;
	nv.line = line;
	config_val_done(v);
	*v = nv;
	return dup;
}

int
config_set(struct config *c, const char *name, const char *value,
    const char *origin, struct buf *errs)
{
	return config_set_at(c, name, strlen(name), value, origin, 0, errs) ?
	    -1 : 0;
}

/* ---- files ---- */

struct config_reader {
	FILE *f;
	const char *file;
	unsigned lineno;	/* of the physical line in line */
	struct buf line;	/* that line, without its end */
	int line_long;		/* it was cut at CONFIG_LINE_MAX */
	struct buf logical;	/* the logical line being put together */
	unsigned start;		/* its first line, 0 = none yet */
	int logical_long;
	int problems;
};

/* Read one physical line, bounded: the rest of an overlong line is read
 * and dropped.  Trailing CR and white space go.  1 = a line, 0 = end of
 * file, -1 = read error. */
static int
config_getline(struct config_reader *r)
{
	int ch;
	char byte;

	buf_reset(&r->line);
	r->line_long = 0;
	while ((ch = getc(r->f)) != EOF && ch != '\n') {
		byte = (char)ch;
		if (buf_append(&r->line, &byte, 1) < 0)
			r->line_long = 1;
	}
	if (ch == EOF && ferror(r->f))
		return -1;
	if (ch == EOF && r->line.len == 0 && !r->line_long)
		return 0;
	r->lineno++;
	while (r->line.len > 0 && (r->line.data[r->line.len - 1] == '\r' ||
	    r->line.data[r->line.len - 1] == ' ' ||
	    r->line.data[r->line.len - 1] == '\t'))
		r->line.data[--r->line.len] = '\0';
	return 1;
}

/* The name on a logical line: before '=', or the first word without. */
static size_t
config_name_len(const char *text, size_t len, const char *eq)
{
	size_t n = eq != NULL ? (size_t)(eq - text) : len, i;

	if (eq == NULL) {
		for (i = 0; i < n; i++)
			if (text[i] == ' ' || text[i] == '\t')
				return i;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	return n;
}

/* Handle one logical line; returns the number of problems. */
static int
config_line(struct config *c, const char *origin, unsigned line,
    const char *text, size_t len, int toolong, struct buf *errs)
{
	const char *eq = memchr(text, '=', len);
	size_t nlen = config_name_len(text, len, eq);
	char esc[CONFIG_ESC_SIZE];

	config_esc(esc, text, nlen);
	if (toolong) {
		config_err(errs, origin, esc, "line longer than %d bytes",
		    CONFIG_LINE_MAX);
	} else if (memchr(text, '\0', len) != NULL) {
		config_err(errs, origin, esc, "line contains a NUL byte");
	} else if (eq == NULL) {
		config_err(errs, origin, esc, "missing '=' after the "
		    "parameter name (want \"name = value\")");
	} else if (nlen == 0) {
		config_err(errs, origin, NULL, "missing parameter name "
		    "before '='");
	} else {
		return config_set_at(c, text, nlen, eq + 1, origin, line, errs);
	}
	return 1;
}

static void
config_flush(struct config *c, struct config_reader *r, struct buf *errs)
{
	char origin[CONFIG_ORIGIN_MAX];

	if (r->start == 0)
		return;
	snprintf(origin, sizeof origin, "%.1024s:%u", r->file, r->start);
	r->problems += config_line(c, origin, r->start,
	    r->logical.data != NULL ? r->logical.data : "", r->logical.len,
	    r->logical_long, errs);
	r->start = 0;
}

/* A line that starts with white space continues the logical line. */
static void
config_continue(struct config_reader *r, const char *p, size_t n,
    struct buf *errs)
{
	char origin[CONFIG_ORIGIN_MAX];

	if (r->start == 0) {
		snprintf(origin, sizeof origin, "%.1024s:%u", r->file,
		    r->lineno);
		config_err(errs, origin, NULL, "continuation line with "
		    "nothing before it");
		r->problems++;
		return;
	}
	if (buf_append(&r->logical, " ", 1) < 0 ||
	    buf_append(&r->logical, p, n) < 0 || r->line_long)
		r->logical_long = 1;
}

static void
config_feed(struct config *c, struct config_reader *r, struct buf *errs)
{
	const char *p = r->line.data != NULL ? r->line.data : "";
	size_t n = r->line.len, i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if ((i == n && !r->line_long) || (i < n && p[i] == '#'))
		return;		/* blank line or comment */
	if (i > 0 || (i == n && r->line_long)) {
		config_continue(r, p + i, n - i, errs);
		return;
	}
	config_flush(c, r, errs);
	buf_reset(&r->logical);
	r->start = r->lineno;
	r->logical_long = r->line_long;
	if (buf_append(&r->logical, p, n) < 0)
		r->logical_long = 1;
}

int
config_load_stream(struct config *c, FILE *f, const char *name,
    struct buf *errs)
{
	struct config_reader r;
	int rc;

	memset(&r, 0, sizeof r);
	r.f = f;
	r.file = name;
	buf_init(&r.line, CONFIG_LINE_MAX);
	buf_init(&r.logical, CONFIG_LINE_MAX);
	c->gen++;
	while ((rc = config_getline(&r)) > 0)
		config_feed(c, &r, errs);
	config_flush(c, &r, errs);
	if (rc < 0) {
		config_err(errs, name, NULL, "read error: %s", strerror(errno));
		r.problems = -1;
	}
	buf_done(&r.line);
	buf_done(&r.logical);
	return r.problems;
}

int
config_load_file(struct config *c, const char *path, struct buf *errs)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (f == NULL) {
		config_err(errs, path, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = config_load_stream(c, f, path, errs);
	fclose(f);
	return rc;
}

/* ---- reading values ---- */

static const struct config_val *
config_get(const struct config *c, const char *name, enum param_type *type)
{
	long i = config_find(c, name, strlen(name));

	assert(i >= 0 && "unknown parameter");
	*type = c->defs[i].type;
	return &c->vals[i];
}

const char *
config_str(const struct config *c, const char *name)
{
	enum param_type t;
	const struct config_val *v = config_get(c, name, &t);

	assert(t == P_STR || t == P_ENUM || t == P_LIST);
	return v->text;
}

long long
config_int(const struct config *c, const char *name)
{
	enum param_type t;
	const struct config_val *v = config_get(c, name, &t);

	assert(t == P_INT || t == P_BOOL || t == P_SIZE || t == P_TIME);
	return v->num;
}

const char *const *
config_list(const struct config *c, const char *name)
{
	enum param_type t;
	const struct config_val *v = config_get(c, name, &t);

	assert(t == P_LIST);
	return (const char *const *)v->words;
}

const char *
config_origin(const struct config *c, const char *name)
{
	enum param_type t;

	return config_get(c, name, &t)->origin;
}

/* Does the value differ from the default?  Numbers compare as numbers
 * ("1024" is "1k"), everything else as text. */
static int
config_changed(const struct param_def *d, const struct config_val *v)
{
	struct config_val dv;
	char msg[CONFIG_MSG_MAX];
	int changed;

	if (config_build(d, d->def, 0, &dv, msg, sizeof msg) != CONFIG_OK)
		return 1;
	if (d->type == P_STR || d->type == P_ENUM || d->type == P_LIST)
		changed = strcmp(dv.text, v->text) != 0;
	else
		changed = dv.num != v->num;
	config_val_done(&dv);
	return changed;
}

/* "# help [size 1k..2g]" */
static void
config_print_help(const struct param_def *d, FILE *out)
{
	static const char *const tname[] = {
		[P_STR] = "text", [P_INT] = "number", [P_BOOL] = "yes|no",
		[P_SIZE] = "size", [P_TIME] = "time", [P_LIST] = "list",
		[P_ENUM] = "enum",
	};
	char lo[32], hi[32];

	fprintf(out, "# %s\n# type: %s", d->help ? d->help : "",
	    tname[d->type]);
	if (d->type == P_INT || d->type == P_SIZE || d->type == P_TIME) {
		config_fmt(d->type, d->min, lo, sizeof lo);
		config_fmt(d->type, d->max, hi, sizeof hi);
		fprintf(out, ", %s..%s", lo, hi);
	}
	if (d->type == P_ENUM)
		fprintf(out, ", one of %s", d->choices);
	fputc('\n', out);
}

void
config_print(const struct config *c, FILE *out, int only_changed,
    int with_help)
{
	size_t i;

	for (i = 0; i < c->ndefs; i++) {
		const struct param_def *d = &c->defs[i];
		const char *t = c->vals[i].text;
		if (only_changed && !config_changed(d, &c->vals[i]))
			continue;
		if (with_help)
			config_print_help(d, out);
		fprintf(out, "%s =%s%s\n", d->name, t[0] ? " " : "", t);
		if (with_help && i + 1 < c->ndefs)
			fputc('\n', out);
	}
}
