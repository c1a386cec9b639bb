/* quarantine.c - hold a message on disk, durably (see quarantine.h).
 * The write follows vault_write.c: a temporary file in the same directory,
 * fsync, rename (atomic within one file system), fsync of the directory
 * (which makes the rename itself durable). */
#include "engine/quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

#define QUARANTINE_PATH_MAX	4096
#define QUARANTINE_RAND		12

static int quarantine_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
quarantine_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "YYYYMMDDTHHMMSS-" (UTC) and 12 random [0-9A-Za-z]. */
static int
quarantine_new_id(time_t now, char *id, size_t idlen)
{
	static const char abc[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	unsigned char r[QUARANTINE_RAND];
	struct tm tm;
	size_t n;

	if (idlen < QUARANTINE_ID_MAX + 1 || gmtime_r(&now, &tm) == NULL ||
	    getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -1;
	n = strftime(id, idlen, "%Y%m%dT%H%M%S-", &tm);
	if (n == 0 || n + QUARANTINE_RAND >= idlen)
		return -1;
	for (size_t i = 0; i < QUARANTINE_RAND; i++)
		id[n + i] = abc[r[i] % (sizeof abc - 1)];
	id[n + QUARANTINE_RAND] = '\0';
	return 0;
}

int
quarantine_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n != 16 + QUARANTINE_RAND || id[8] != 'T' || id[15] != '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 15)
			continue;
		if (i < 15 ? !(id[i] >= '0' && id[i] <= '9') :
		    strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
		    "opqrstuvwxyz", id[i]) == NULL)
			return 0;
	}
	return 1;
}

/* dir/.tmp-NAME written and fsynced, then renamed to dir/NAME. */
static int
quarantine_write(const char *dir, const char *name, const char *data,
    size_t len, char *err, size_t errlen)
{
	char tmp[QUARANTINE_PATH_MAX], path[QUARANTINE_PATH_MAX];
	size_t off = 0;
	ssize_t w;
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.tmp-%s", dir, name) >=
	    sizeof tmp || (size_t)snprintf(path, sizeof path, "%s/%s", dir,
	    name) >= sizeof path)
		return quarantine_err(err, errlen, "%s: path too long", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return quarantine_err(err, errlen, "%s: %s", tmp,
		    strerror(errno));
	while (off < len && (w = write(fd, data + off, len - off)) > 0)
		off += (size_t)w;
	ok = off == len && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, path) == 0)
		return 0;
	quarantine_err(err, errlen, "%s: %s", tmp, strerror(errno));
	unlink(tmp);
	return -1;
}

/* "key=value\n" with control bytes (a CR or LF would start a forged
 * line) written as '?', at most QUARANTINE_VALUE_MAX octets. */
static int
quarantine_line(struct buf *b, const char *key, const char *v)
{
	char clean[QUARANTINE_VALUE_MAX + 1];
	size_t i;

	for (i = 0; v != NULL && v[i] != '\0' && i < QUARANTINE_VALUE_MAX; i++)
		clean[i] = (unsigned char)v[i] < ' ' || v[i] == 0x7f ? '?' :
		    v[i];
	clean[i] = '\0';
	return buf_printf(b, "%s=%s\n", key, clean);
}

static int
quarantine_sidecar(struct buf *b, const struct quarantine_env *e,
    const char *id, size_t len)
{
	char when[32];
	struct tm tm;
	int r = 0;

	if (gmtime_r(&e->now, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	r |= quarantine_line(b, "id", id);
	r |= quarantine_line(b, "time", when);
	r |= quarantine_line(b, "session", e->session);
	r |= quarantine_line(b, "client", e->client_ip);
	r |= quarantine_line(b, "helo", e->helo);
	r |= quarantine_line(b, "from", e->mail_from);
	for (size_t i = 0; i < e->nrcpts; i++)
		r |= quarantine_line(b, "rcpt", e->rcpts[i]);
	r |= buf_printf(b, "size=%zu\n", len);
	r |= quarantine_line(b, "reason", e->reason);
	return r < 0 ? -1 : 0;
}

/* The directory, made 0700 when missing; fsynced after the renames. */
static int
quarantine_dir_sync(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return quarantine_err(err, errlen, "%s: %s", dir,
		    strerror(errno));
	r = fsync(fd);
	close(fd);
	return r < 0 ? quarantine_err(err, errlen, "%s: fsync: %s", dir,
	    strerror(errno)) : 0;
}

int
quarantine_store(const char *dir, const struct quarantine_env *e,
    const char *msg, size_t len, char *id, size_t idlen, char *err,
    size_t errlen)
{
	char name[QUARANTINE_ID_MAX + 8];
	struct buf b;
	int r = -1;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return quarantine_err(err, errlen, "%s: %s", dir,
		    strerror(errno));
	if (quarantine_new_id(e->now, id, idlen) < 0)
		return quarantine_err(err, errlen, "no random ID");
	buf_init(&b, 64 * 1024 + e->nrcpts * (QUARANTINE_VALUE_MAX + 8));
	snprintf(name, sizeof name, "%s.eml", id);
	if (quarantine_sidecar(&b, e, id, len) < 0)
		quarantine_err(err, errlen, "envelope too large");
	else if (quarantine_write(dir, name, msg, len, err, errlen) == 0) {
		snprintf(name, sizeof name, "%s.env", id);
		if (quarantine_write(dir, name, b.data, b.len, err,
		    errlen) == 0)
			r = quarantine_dir_sync(dir, err, errlen);
	}
	buf_done(&b);
	return r;
}
