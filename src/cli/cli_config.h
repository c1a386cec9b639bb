/* cli_config.h - load jaga's configuration the way "jaga serve" does, for
 * every subcommand that must find the same state_dir: the file given with
 * -c (or JAGA_CONFIG_PATH when it exists, or the embedded defaults), then
 * each -o name=value in order. */
#ifndef JAGA_CLI_CLI_CONFIG_H
#define JAGA_CLI_CLI_CONFIG_H

#include "util/buf.h"
#include "util/config.h"

/* Read file (NULL = JAGA_CONFIG_PATH when it exists, else nothing) into
 * cfg.  Returns the number of problems, each appended to errs as a line. */
int cli_config_file(struct config *cfg, const char *file, struct buf *errs);
/* Apply the -o values held NUL-separated in overrides ("name=value\0...").
 * Returns the number of problems, appended to errs. */
int cli_config_overrides(struct config *cfg, const struct buf *overrides,
    struct buf *errs);
/* A configuration of jaga's table: file, then overrides.  Returns NULL
 * after printing "PROG: the configuration has errors:" and each problem on
 * stderr. */
struct config *cli_config_load(const char *prog, const char *file,
    const struct buf *overrides);

#endif
