/* nh_maildir.c - deliver into a maildir (https://cr.yp.to/proto/maildir.html).
 *
 * MAIL and RCPT are accepted at once; DATA writes tmp/<unique>, fsyncs it,
 * renames it into new/ and fsyncs new/ before saying 250, so a 250 means
 * the message survives a crash.  The blocking file work runs in a jobq
 * thread; the job owns a copy of everything it needs, so the nh_conn may be
 * freed meanwhile: the job is then marked cancelled and only freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "gateway/nh_impl.h"
#include "util/jobq.h"
#include "util/log.h"

struct nh_maildir_job {
	int cancelled;			/* nh_conn freed: only free the job */
	struct nh_maildir *md;		/* valid while !cancelled */
	char dir[256];
	char *msg;			/* our own copy of the message */
	size_t len;
	int failed;
	char name[192];			/* unique file name */
	char why[256];			/* on failure */
};

struct nh_maildir {
	struct nh_conn *c;
	struct nh_maildir_job *job;	/* in flight, or NULL */
	int in_txn;			/* MAIL given, no DATA/RSET yet */
};

static atomic_ulong nh_maildir_counter;

/* ---- pool thread side ---- */

/* The hostname with '/' and ':' written as \057 and \072, as the maildir
 * conventions ask. */
static void
nh_maildir_host(char *out, size_t outlen)
{
	char host[128];
	size_t i, o = 0;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0' && o + 5 < outlen; i++) {
		if (host[i] == '/' || host[i] == ':')
			o += (size_t)snprintf(out + o, outlen - o, "\\%03o",
			    (unsigned)(unsigned char)host[i]);
		else
			out[o++] = host[i];
	}
	out[o] = '\0';
}

/* time.MusecPpidTtidQcounter.host: unique across processes, threads and
 * deliveries within one microsecond. */
static void
nh_maildir_unique(char *out, size_t outlen)
{
	char host[96];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	nh_maildir_host(host, sizeof host);
	snprintf(out, outlen, "%lld.M%ldP%ldT%ldQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), (long)syscall(SYS_gettid),
	    atomic_fetch_add(&nh_maildir_counter, 1) + 1, host);
}

static int
nh_maildir_fail(struct nh_maildir_job *j, const char *what, const char *arg)
{
	int e = errno;

	/* The path is cut to keep room for the reason. */
	snprintf(j->why, sizeof j->why, "maildir: %s %.150s: %.80s", what,
	    arg, strerror(e));
	j->failed = 1;
	return -1;
}

/* The folder and cur/ new/ tmp/ in it, created when missing. */
static int
nh_maildir_mkdirs(struct nh_maildir_job *j)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	char path[512];
	size_t i;

	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(path, sizeof path, "%s%s", j->dir, sub[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return nh_maildir_fail(j, "mkdir", path);
	}
	return 0;
}

/* Maildir files hold LF line ends, as qmail, Dovecot and mail readers
 * expect: every CRLF of the SMTP form becomes LF.  Returns the length. */
static size_t
nh_maildir_to_lf(char *dst, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (src[i] == '\r' && i + 1 < len && src[i + 1] == '\n')
			continue;
		dst[n++] = src[i];
	}
	return n;
}

static int
nh_maildir_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* tmp/<unique>: create exclusively, write, fsync, close. */
static int
nh_maildir_write_tmp(struct nh_maildir_job *j, const char *tmp)
{
	int fd, rc;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return nh_maildir_fail(j, "create", tmp);
	rc = nh_maildir_write_all(fd, j->msg, j->len);
	if (rc == 0)
		rc = fsync(fd);
	if (rc < 0) {
		nh_maildir_fail(j, "write", tmp);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return nh_maildir_fail(j, "close", tmp);
	return 0;
}

static int
nh_maildir_sync_dir(struct nh_maildir_job *j, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return nh_maildir_fail(j, "open", dir);
	if (fsync(fd) < 0) {
		nh_maildir_fail(j, "fsync", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
nh_maildir_work(void *arg)
{
	struct nh_maildir_job *j = arg;
	char tmp[512], new[512], newdir[512];

	nh_maildir_unique(j->name, sizeof j->name);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", j->dir, j->name);
	snprintf(new, sizeof new, "%s/new/%s", j->dir, j->name);
	snprintf(newdir, sizeof newdir, "%s/new", j->dir);
	if (nh_maildir_mkdirs(j) < 0)
		return;
	if (nh_maildir_write_tmp(j, tmp) < 0) {
		unlink(tmp);
		return;
	}
	if (rename(tmp, new) < 0) {
		nh_maildir_fail(j, "rename", tmp);
		unlink(tmp);
		return;
	}
	/* Not durable until new/ itself is on disk; if that fails the
	 * client will retry, so take the file back to avoid a duplicate. */
	if (nh_maildir_sync_dir(j, newdir) < 0)
		unlink(new);
}

/* ---- loop thread side ---- */

static void
nh_maildir_job_free(struct nh_maildir_job *j)
{
	free(j->msg);
	free(j);
}

static void
nh_maildir_log(struct nh_conn *c, const struct nh_maildir_job *j)
{
	struct logline l;

	logline_begin(&l, j->failed ? LOG_LVL_WARN : LOG_LVL_INFO, c->sessid,
	    "nexthop", j->failed ? "error" : "maildir");
	if (j->failed)
		logline_str(&l, "phase", "maildir");
	logline_str(&l, "dir", j->dir);
	logline_str(&l, j->failed ? "reason" : "file", j->failed ? j->why :
	    j->name);
	logline_int(&l, "size", (long long)j->len);
	logline_end(&l);
}

static void
nh_maildir_job_done(void *arg)
{
	struct nh_maildir_job *j = arg;
	struct nh_maildir *md = j->md;
	char text[300];

	if (j->cancelled) {
		nh_maildir_job_free(j);
		return;
	}
	md->job = NULL;
	md->in_txn = 0;
	nh_maildir_log(md->c, j);
	if (j->failed) {
		nh_finish_made(md->c, 1, 451, "4.3.0", j->why);
	} else {
		snprintf(text, sizeof text, "Ok: delivered as %s", j->name);
		nh_finish_made(md->c, 1, 250, "2.0.0", text);
	}
	nh_maildir_job_free(j);
}

static struct nh_maildir_job *
nh_maildir_job_new(struct nh_maildir *md, const char *msg, size_t len)
{
	struct nh_maildir_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->md = md;
	snprintf(j->dir, sizeof j->dir, "%s", md->c->url.path);
	j->msg = malloc(len > 0 ? len : 1);
	if (j->msg == NULL) {
		free(j);
		return NULL;
	}
	j->len = nh_maildir_to_lf(j->msg, msg, len);
	return j;
}

static void
nh_maildir_data(struct nh_conn *c, const char *msg, size_t len)
{
	struct nh_maildir *md = c->impl;
	struct nh_maildir_job *j = nh_maildir_job_new(md, msg, len);

	if (j == NULL) {
		nh_finish_made(c, 1, 451, "4.3.0", "maildir: out of memory");
		return;
	}
	if (jobq_submit(c->base, nh_maildir_work, nh_maildir_job_done, j) < 0) {
		nh_maildir_job_free(j);
		nh_finish_made(c, 1, 451, "4.3.0",
		    "maildir: job queue not running");
		return;
	}
	md->job = j;
}

static int
nh_maildir_init(struct nh_conn *c)
{
	struct nh_maildir *md = calloc(1, sizeof *md);

	if (md == NULL)
		return -1;
	md->c = c;
	c->impl = md;
	return 0;
}

/* A job in a pool thread cannot be stopped: it finishes, and its done
 * function sees the flag and only frees it. */
static void
nh_maildir_done(struct nh_conn *c)
{
	struct nh_maildir *md = c->impl;

	if (md->job != NULL) {
		md->job->cancelled = 1;
		md->job->md = NULL;
	}
	free(md);
	c->impl = NULL;
}

static unsigned
nh_maildir_caps(const struct nh_conn *c)
{
	(void)c;
	return SMTP_CAP_8BITMIME | SMTP_CAP_SMTPUTF8 |
	    SMTP_CAP_ENHANCEDSTATUSCODES;
}

static void
nh_maildir_open(struct nh_conn *c)
{
	struct nh_maildir *md = c->impl;

	md->in_txn = 0;
	nh_finish_made(c, 1, 250, "", "maildir ready");
	c->replies[0].ehlo_caps = nh_maildir_caps(c);
}

static int
nh_maildir_is_open(const struct nh_conn *c)
{
	const struct nh_maildir *md = c->impl;

	return !md->in_txn;
}

static void
nh_maildir_mail(struct nh_conn *c, const char *path, const char *params)
{
	struct nh_maildir *md = c->impl;

	(void)path;
	(void)params;
	md->in_txn = 1;
	nh_finish_made(c, 1, 250, "2.1.0", "Ok");
}

static void
nh_maildir_rcpt(struct nh_conn *c, const char *path)
{
	(void)path;
	nh_finish_made(c, 1, 250, "2.1.5", "Ok");
}

static void
nh_maildir_rset(struct nh_conn *c)
{
	struct nh_maildir *md = c->impl;

	md->in_txn = 0;
	nh_finish_made(c, 1, 250, "2.0.0", "Ok");
}

const struct nh_ops nh_maildir_ops = {
	.name = "maildir",
	.init = nh_maildir_init,
	.done = nh_maildir_done,
	.open = nh_maildir_open,
	.is_open = nh_maildir_is_open,
	.caps = nh_maildir_caps,
	.mail = nh_maildir_mail,
	.rcpt = nh_maildir_rcpt,
	.data = nh_maildir_data,
	.rset = nh_maildir_rset,
};
