/* cli_out.h - small output helpers shared by the subcommands. */
#ifndef JAGA_CLI_OUT_H
#define JAGA_CLI_OUT_H

#include <stddef.h>

/* Print s to stdout as a JSON string (RFC 8259 §7): quotes and escapes. */
void cli_json_str(const char *s);
/* A Unix time as "2026-11-23T10:00:00Z" in out; "never" for 0, "?" when
 * it cannot be shown.  Returns out or one of those constants. */
const char *cli_time(long long t, char *out, size_t outlen);

#endif
