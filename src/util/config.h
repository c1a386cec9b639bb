/* config.h - configuration from one table of parameters.
 *
 * A table of struct param_def (name, type, default, min, max) describes every
 * parameter.  Files use Postfix main.cf syntax: "name = value", '#' comments,
 * a line starting with white space continues the previous value.  Every
 * error names file, line and parameter: "jaga.conf:12: message_size_limit:
 * value 12x is not a size (use 10m, 512k or a byte count)".
 */
#ifndef JAGA_UTIL_CONFIG_H
#define JAGA_UTIL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"

enum param_type {
	P_STR,		/* any text */
	P_INT,		/* integer within [min, max] */
	P_BOOL,		/* yes/no/true/false/on/off/1/0 */
	P_SIZE,		/* bytes, suffixes k/m/g (powers of 1024) */
	P_TIME,		/* seconds, suffixes ms/s/m/h/d; stored in milliseconds */
	P_LIST,		/* comma- or space-separated words */
	P_ENUM,		/* one word of def->choices ("reject|normalize") */
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *def;	/* default, in file syntax */
	long long min, max;	/* P_INT, P_SIZE, P_TIME (ms) bounds */
	const char *choices;	/* P_ENUM: "a|b|c" */
	const char *help;	/* one line for "jaga config defaults" */
	/* optional extra check of a parsed value; returns NULL or a message */
	const char *(*check)(const char *value);
};

struct config;

/* A configuration holding the defaults of defs (which must outlive it). */
struct config *config_new(const struct param_def *defs, size_t ndefs);
void config_free(struct config *c);

/* Read a file.  Each problem is appended to errs as one line; returns the
 * number of problems (0 = all good), or -1 when the file cannot be read
 * (also described in errs). */
int config_load_file(struct config *c, const char *path, struct buf *errs);
/* As config_load_file, from an open stream; name is used in messages as
 * the file name.  Returns the number of problems, or -1 on a read error.
 * (Added for fuzzing and "-c -"; the stream is not closed.) */
int config_load_stream(struct config *c, FILE *f, const char *name,
    struct buf *errs);
/* Set one parameter; origin names where it came from in messages (e.g.
 * "-o" or "jaga.conf:3").  Returns 0, or -1 with a line appended to errs. */
int config_set(struct config *c, const char *name, const char *value,
    const char *origin, struct buf *errs);

/* Typed getters; asking for an unknown name or the wrong type is a bug
 * (assert).  config_int serves P_INT, P_BOOL, P_SIZE and P_TIME (ms). */
const char *config_str(const struct config *c, const char *name);
long long config_int(const struct config *c, const char *name);
/* NULL-terminated array of words, valid while c lives. */
const char *const *config_list(const struct config *c, const char *name);

/* Where the current value of name came from: "FILE:LINE" or the origin
 * given to config_set, or NULL while it holds its default.  Valid until
 * the parameter is set again.  (Added so later checks can name the line.) */
const char *config_origin(const struct config *c, const char *name);

/* Print "name = value" for every parameter; only_changed prints the ones
 * that differ from their default, with_help adds "# help" lines. */
void config_print(const struct config *c, FILE *out, int only_changed,
    int with_help);

#endif
