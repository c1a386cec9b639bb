/* clamd.c - the INSTREAM client (clamd.h): connect with a timeout, send
 * the chunks, read the reply up to its NUL, parse it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/clamd.h"
#include "util/netaddr.h"

static const char clamd_cmd[] = "zINSTREAM";	/* sent with its NUL */

/* Copy at most outlen - 1 octets of s (n of them), printable ASCII only:
 * anything else becomes '?', so a reply cannot forge a log line. */
static void
clamd_copy(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i;

	if (n > outlen - 1)
		n = outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[n] = '\0';
}

static enum clamd_status
clamd_fail(struct clamd_result *r, enum clamd_status st, const char *fmt, ...)
{
	char tmp[CLAMD_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	clamd_copy(r->why, sizeof r->why, tmp, strlen(tmp));
	r->status = st;
	return st;
}

const char *
clamd_status_name(enum clamd_status s)
{
	switch (s) {
	case CLAMD_CLEAN: return "clean";
	case CLAMD_VIRUS: return "virus";
	case CLAMD_ERROR: return "error";
	case CLAMD_UNAVAILABLE: return "unavailable";
	}
	return "error";
}

/* "stream: OK", "stream: NAME FOUND", "... ERROR"; anything else is a
 * reply we do not understand, and so an error. */
enum clamd_status
clamd_parse(const char *reply, struct clamd_result *r)
{
	static const char pre[] = "stream: ", found[] = " FOUND",
	    error[] = " ERROR";
	size_t n = strlen(reply), np = sizeof pre - 1;

	memset(r, 0, sizeof *r);
	if (n > sizeof error - 1 &&
	    strcmp(reply + n - (sizeof error - 1), error) == 0) {
		n -= sizeof error - 1;
		if (n > np && strncmp(reply, pre, np) == 0) {
			reply += np;
			n -= np;
		}
		clamd_copy(r->why, sizeof r->why, reply, n);
		return r->status = CLAMD_ERROR;
	}
	if (strncmp(reply, pre, np) != 0)
		return clamd_fail(r, CLAMD_ERROR, "unexpected reply");
	if (strcmp(reply + np, "OK") == 0)
		return r->status = CLAMD_CLEAN;
	if (n > np + sizeof found - 1 &&
	    strcmp(reply + n - (sizeof found - 1), found) == 0) {
		clamd_copy(r->name, sizeof r->name, reply + np,
		    n - np - (sizeof found - 1));
		return r->status = CLAMD_VIRUS;
	}
	return clamd_fail(r, CLAMD_ERROR, "unexpected reply");
}

/* Wait up to ms for events on fd: 1 ready, 0 timeout, -1 error. */
static int
clamd_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* The sockaddr of addr: a UNIX path or HOST:PORT.  Returns 0 or -1. */
static int
clamd_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *slen)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	size_t n = strlen(addr);

	memset(ss, 0, sizeof *ss);
	if (addr[0] != '/')
		return hostport_parse(addr, ss, slen);
	if (n >= sizeof un->sun_path)
		return -1;
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, addr, n + 1);
	*slen = (socklen_t)sizeof *un;
	return 0;
}

/* A non-blocking socket connected to c->addr within c->connect_ms, or -1
 * with r set to CLAMD_UNAVAILABLE. */
static int
clamd_connect(const struct clamd_conf *c, struct clamd_result *r)
{
	struct sockaddr_storage ss;
	socklen_t slen = 0, elen = sizeof(int);
	int fd, err = 0;

	if (clamd_addr(c->addr, &ss, &slen) < 0) {
		clamd_fail(r, CLAMD_UNAVAILABLE, "bad address");
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		clamd_fail(r, CLAMD_UNAVAILABLE, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, slen) < 0) {
		err = errno;
		if (err == EINPROGRESS || err == EAGAIN) {
			err = ETIMEDOUT;
			if (clamd_wait(fd, POLLOUT, c->connect_ms) > 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) < 0)
				err = errno;
		}
	}
	if (err != 0) {
		clamd_fail(r, CLAMD_UNAVAILABLE, "connect: %s", strerror(err));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send all n octets, waiting up to c->io_ms for each bit of room.
 * Returns 0, or -1 with why set (the status is left to the caller). */
static int
clamd_send(int fd, const struct clamd_conf *c, const void *p, size_t n,
    struct clamd_result *r)
{
	const char *s = p;
	ssize_t k;

	while (n > 0) {
		k = send(fd, s, n, MSG_NOSIGNAL);
		if (k > 0) {
			s += k;
			n -= (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && errno != EAGAIN) {
			clamd_fail(r, CLAMD_ERROR, "send: %s", strerror(errno));
			return -1;
		} else if (clamd_wait(fd, POLLOUT, c->io_ms) <= 0) {
			clamd_fail(r, CLAMD_ERROR, "send: timeout");
			return -1;
		}
	}
	return 0;
}

/* The command, the chunks, the zero-length chunk.  Returns 0 or -1. */
static int
clamd_stream(int fd, const struct clamd_conf *c, const unsigned char *data,
    size_t len, struct clamd_result *r)
{
	unsigned char hdr[4];
	size_t off = 0, n;

	if (clamd_send(fd, c, clamd_cmd, sizeof clamd_cmd, r) < 0)
		return -1;
	do {
		n = len - off > CLAMD_CHUNK ? CLAMD_CHUNK : len - off;
		hdr[0] = (unsigned char)(n >> 24);
		hdr[1] = (unsigned char)(n >> 16);
		hdr[2] = (unsigned char)(n >> 8);
		hdr[3] = (unsigned char)n;
		if (clamd_send(fd, c, hdr, sizeof hdr, r) < 0 ||
		    clamd_send(fd, c, data + off, n, r) < 0)
			return -1;
		off += n;
	} while (n > 0);
	return 0;
}

/* Read the reply up to its NUL into buf (CLAMD_REPLY_MAX octets).
 * Returns 0, or -1 with r set to CLAMD_ERROR. */
static int
clamd_recv(int fd, const struct clamd_conf *c, char *buf,
    struct clamd_result *r)
{
	size_t n = 0;
	ssize_t k;

	for (;;) {
		if (n == CLAMD_REPLY_MAX) {
			clamd_fail(r, CLAMD_ERROR, "reply too long");
			return -1;
		}
		k = recv(fd, buf + n, CLAMD_REPLY_MAX - n, 0);
		if (k > 0) {
			if (memchr(buf + n, '\0', (size_t)k) != NULL)
				return 0;
			n += (size_t)k;
		} else if (k == 0) {
			clamd_fail(r, CLAMD_ERROR, n == 0 ? "no reply" :
			    "truncated reply (no NUL)");
			return -1;
		} else if (errno != EINTR && errno != EAGAIN) {
			clamd_fail(r, CLAMD_ERROR, "recv: %s", strerror(errno));
			return -1;
		} else if (errno == EAGAIN &&
		    clamd_wait(fd, POLLIN, c->io_ms) <= 0) {
			clamd_fail(r, CLAMD_ERROR, "timeout waiting for reply");
			return -1;
		}
	}
}

enum clamd_status
clamd_scan(const struct clamd_conf *c, const void *data, size_t len,
    struct clamd_result *r)
{
	char buf[CLAMD_REPLY_MAX];
	struct clamd_result sent;
	int fd, bad;

	memset(r, 0, sizeof *r);
	if (c->max_stream > 0 && len > c->max_stream)
		return clamd_fail(r, CLAMD_ERROR,
		    "INSTREAM size limit exceeded");
	if ((fd = clamd_connect(c, r)) < 0)
		return r->status;
	/* clamd may answer and close before taking it all (its own
	 * StreamMaxLength): a reply read after a failed send wins. */
	memset(&sent, 0, sizeof sent);
	bad = clamd_stream(fd, c, data, len, &sent);
	if (clamd_recv(fd, c, buf, r) == 0)
		clamd_parse(buf, r);
	else if (bad < 0)
		*r = sent;
	close(fd);
	return r->status;
}
