/* clamd.h - a synchronous client of clamd's INSTREAM command (issue 6 §1,
 * clamd(8) "INSTREAM"), for a job-pool thread: never on the event loop.
 *
 * One scan is one connection: "zINSTREAM\0", the data in chunks of a
 * 4-octet big-endian length and the octets, a zero-length chunk, then the
 * reply up to its NUL.  The address is a UNIX socket path (starting with
 * '/') or a literal HOST:PORT ("127.0.0.1:3310", "[::1]:3310"; no DNS).
 *
 * Every failure says so: a reply that is garbage, too long or cut short,
 * or no reply in time, is CLAMD_ERROR, never CLAMD_CLEAN.  No logging here:
 * the caller logs one line per scan with the result.
 */
#ifndef JAGA_ENGINE_CLAMD_H
#define JAGA_ENGINE_CLAMD_H

#include <stddef.h>

#define CLAMD_NAME_MAX	128
#define CLAMD_WHY_MAX	128
/* octets of data per INSTREAM chunk */
#define CLAMD_CHUNK	65536
/* octets of a reply, NUL included, past which it is garbage */
#define CLAMD_REPLY_MAX	1024

enum clamd_status {
	CLAMD_CLEAN,		/* "stream: OK" */
	CLAMD_VIRUS,		/* "stream: NAME FOUND"; name set */
	CLAMD_ERROR,		/* clamd's ERROR, a bad reply, a timeout */
	CLAMD_UNAVAILABLE,	/* no connection: not running, refused */
};

struct clamd_conf {
	const char *addr;	/* "/run/clamav/clamd.ctl" or "HOST:PORT" */
	int connect_ms;		/* connect timeout */
	int io_ms;		/* longest wait for one write or read */
	size_t max_stream;	/* clamd's StreamMaxLength; 0 = no limit */
};

struct clamd_result {
	enum clamd_status status;
	char name[CLAMD_NAME_MAX];	/* the signature, for CLAMD_VIRUS */
	char why[CLAMD_WHY_MAX];	/* for CLAMD_ERROR and _UNAVAILABLE */
};

/* Scan len octets at data through the clamd at c->addr.  Data longer than
 * c->max_stream is not sent: the result is CLAMD_ERROR "INSTREAM size
 * limit exceeded", as clamd itself would answer.  name and why hold only
 * printable ASCII.  Returns r->status. */
enum clamd_status clamd_scan(const struct clamd_conf *c, const void *data,
    size_t len, struct clamd_result *r);
/* Parse one reply (its NUL stripped) into r; exposed for tests. */
enum clamd_status clamd_parse(const char *reply, struct clamd_result *r);
/* "clean", "virus", "error" or "unavailable". */
const char *clamd_status_name(enum clamd_status s);

#endif
