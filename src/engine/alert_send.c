/* alert_send.c - one delivery attempt of an alert through its channel
 * (see alert_int.h): webhook and SMTP mail through libcurl (HTTPS,
 * proxies from the environment, timeouts), a Maildir file, syslog(3), or
 * a command run without a shell.  Nothing here logs; the caller logs the
 * result, and no URL is ever put into a reason (tokens live there). */
#include "engine/alert_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

#define SEND_MSG_MAX	(3 * ALERT_JSON_MAX)	/* the alert mail */
#define SEND_POLL_MS	20			/* waiting for a command */

static size_t
send_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* libcurl asks now and then: a stop cuts the attempt short. */
static int
send_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load((const _Atomic int *)arg) ? 1 : 0;
}

static CURL *
send_easy(const struct alert_config *cfg, const _Atomic int *stop)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);	/* threads */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, send_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, send_discard);
	return c;
}

/* The outcome of curl_easy_perform; ok when the code is in [lo, hi]. */
static void
send_curl_result(CURL *c, CURLcode rc, const _Atomic int *stop, long lo,
    long hi, struct alert_result *res)
{
	long code = 0;

	if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(stop)) {
		res->cut = 1;
		return;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	res->status = code;
	res->ok = rc == CURLE_OK && code >= lo && code <= hi;
	if (rc != CURLE_OK)	/* the message names no URL */
		snprintf(res->reason, sizeof res->reason, "%s",
		    curl_easy_strerror(rc));
	else if (!res->ok)
		snprintf(res->reason, sizeof res->reason, "refused");
}

/* HTTP POST of the JSON; any 2xx is delivered (RFC 9110 §15.3). */
static void
send_webhook(const struct alert_config *cfg, const struct alert_row *r,
    const _Atomic int *stop, struct alert_result *res)
{
	struct curl_slist *h = NULL, *t;
	CURL *c = send_easy(cfg, stop);
	CURLcode rc;

	t = curl_slist_append(h, "Content-Type: application/json");
	h = t != NULL ? curl_slist_append(t, "Expect:") : NULL;
	if (c == NULL || h == NULL) {
		snprintf(res->reason, sizeof res->reason, "out of memory");
		curl_slist_free_all(h != NULL ? h : t);
		curl_easy_cleanup(c);
		return;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->webhook);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "jaga/" JAGA_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->json);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(r->json));
	rc = curl_easy_perform(c);
	send_curl_result(c, rc, stop, 200, 299, res);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* The alert mail (RFC 5322) with line ends eol; Auto-Submitted keeps
 * vacation responders quiet (RFC 3834 §5). */
static int
send_message(const struct alert_config *cfg, const struct alert_row *r,
    const char *eol, struct buf *b)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int bad;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	bad = buf_printf(b, "From: <%s>%sTo: <%s>%sSubject: %s%s",
	    cfg->mail_from, eol, cfg->mail_to, eol, r->subject, eol);
	bad |= buf_printf(b, "Date: %s%sMessage-ID: <alert.%lld.%lld@%s>%s",
	    date, eol, (long long)r->id, (long long)r->created_ms,
	    cfg->hostname, eol);
	bad |= buf_printf(b, "Auto-Submitted: auto-generated%sMIME-Version: "
	    "1.0%sContent-Type: text/plain; charset=us-ascii%s%s", eol, eol,
	    eol, eol);
	for (const char *p = r->body, *nl; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		bad |= buf_append(b, p, (size_t)(nl - p) + (*nl != '\n'));
		bad |= buf_puts(b, eol);
	}
	return bad < 0 ? -1 : 0;
}

struct send_upload {
	const char *p;
	size_t left;
};

static size_t
send_read(char *out, size_t size, size_t n, void *arg)
{
	struct send_upload *u = arg;
	size_t k = size * n < u->left ? size * n : u->left;

	memcpy(out, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

/* STARTTLS as next_hop_tls says (RFC 3207). */
static void
send_smtp_tls(CURL *c, const struct alert_config *cfg)
{
	static const long use[] = {
		[ALERT_TLS_NONE] = CURLUSESSL_NONE,
		[ALERT_TLS_MAY] = CURLUSESSL_TRY,
		[ALERT_TLS_ENCRYPT] = CURLUSESSL_ALL,
		[ALERT_TLS_VERIFY] = CURLUSESSL_ALL,
	};
	int verify = cfg->mail_tls == ALERT_TLS_VERIFY;

	curl_easy_setopt(c, CURLOPT_USE_SSL, use[cfg->mail_tls]);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (verify && cfg->mail_ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->mail_ca_file);
}

/* The alert mail to an SMTP next hop; 250 after the data is delivered. */
static void
send_smtp(const struct alert_config *cfg, const struct buf *msg,
    const _Atomic int *stop, struct alert_result *res)
{
	struct send_upload up = { msg->data, msg->len };
	char from[ALERT_TEXT_MAX + 2], to[ALERT_TEXT_MAX + 2];
	CURL *c = send_easy(cfg, stop);
	struct curl_slist *rcpt;
	CURLcode rc;

	snprintf(from, sizeof from, "<%s>", cfg->mail_from);
	snprintf(to, sizeof to, "<%s>", cfg->mail_to);
	if (c == NULL || (rcpt = curl_slist_append(NULL, to)) == NULL) {
		snprintf(res->reason, sizeof res->reason, "out of memory");
		curl_easy_cleanup(c);
		return;
	}
	/* the URL is smtp://HOST:PORT/OUR-NAME: the path is the EHLO name */
	curl_easy_setopt(c, CURLOPT_URL, cfg->mail_smtp);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp");
	send_smtp_tls(c, cfg);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, send_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	rc = curl_easy_perform(c);
	send_curl_result(c, rc, stop, 200, 299, res);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
}

/* tmp/NAME written and fsynced, then renamed into new/ (as nh_maildir). */
static int
send_maildir_file(const char *dir, const char *name, const struct buf *m)
{
	char tmp[4096], new[4096];
	int fd, ok;

	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	mkdir(dir, 0700);
	mkdir(tmp, 0700);
	snprintf(new, sizeof new, "%s/new", dir);
	mkdir(new, 0700);
	snprintf(new, sizeof new, "%s/cur", dir);
	mkdir(new, 0700);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name);
	snprintf(new, sizeof new, "%s/new/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, m->data, m->len) == (ssize_t)m->len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, new) == 0)
		return 0;
	unlink(tmp);
	return -1;
}

static void
send_maildir(const struct alert_config *cfg, const struct alert_row *r,
    const struct buf *msg, struct alert_result *res)
{
	char name[512];

	/* unique: the creation time, the row id, our name (Maildir spec) */
	snprintf(name, sizeof name, "%lld.A%lldP%ld.%s",
	    (long long)(r->created_ms / 1000), (long long)r->id,
	    (long)getpid(), cfg->hostname);
	if (send_maildir_file(cfg->mail_maildir, name, msg) == 0)
		res->ok = 1;
	else
		snprintf(res->reason, sizeof res->reason, "maildir: %s",
		    strerror(errno));
}

static void
send_mail(const struct alert_config *cfg, const struct alert_row *r,
    const _Atomic int *stop, struct alert_result *res)
{
	int smtp = cfg->mail_smtp[0] != '\0';
	struct buf msg;

	buf_init(&msg, SEND_MSG_MAX);
	/* Maildir files have LF line ends, SMTP CRLF (RFC 5321 §2.3.8) */
	if (send_message(cfg, r, smtp ? "\r\n" : "\n", &msg) < 0)
		snprintf(res->reason, sizeof res->reason, "message too long");
	else if (smtp)
		send_smtp(cfg, &msg, stop, res);
	else
		send_maildir(cfg, r, &msg, res);
	buf_done(&msg);
}

/* One line at LOG_MAIL|LOG_ALERT: the subject, then the JSON. */
static void
send_syslog(const struct alert_row *r, struct alert_result *res)
{
	syslog(LOG_MAIL | LOG_ALERT, "%s %s", r->subject, r->json);
	res->ok = 1;
}

/* Start cfg->command with stdin from fd, stdout and stderr to /dev/null,
 * no signal blocked or ignored, and only our environment.  Returns the
 * pid or -1 (errno). */
static pid_t
send_spawn(const char *command, int fd, const struct alert_row *r)
{
	char kind[64], name[ALERT_TEXT_MAX + 32];
	char *argv[] = { (char *)command, NULL };
	char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin", kind, name,
	    NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	pid_t pid = -1;
	int rc;

	snprintf(kind, sizeof kind, "JAGA_ALERT_KIND=%s", r->kind);
	snprintf(name, sizeof name, "JAGA_ALERT_NAME=%s", r->name);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);	/* the daemon ignores it */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, command, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	errno = rc;
	return rc == 0 ? pid : -1;
}

/* Wait for pid up to timeout_ms (or a stop), then kill it.  Returns the
 * wait status, or -1 when it was killed (*stopped: by a stop). */
static int
send_reap(pid_t pid, int64_t timeout_ms, const _Atomic int *stop,
    int *stopped)
{
	struct timespec tick = { 0, SEND_POLL_MS * 1000000L };
	int st = 0;

	for (int64_t waited = 0;; waited += SEND_POLL_MS) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		if ((*stopped = atomic_load(stop)) || waited >= timeout_ms)
			break;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* The JSON on the command's stdin; exit 0 is delivered. */
static void
send_command(const struct alert_config *cfg, const struct alert_row *r,
    const _Atomic int *stop, struct alert_result *res)
{
	size_t len = strlen(r->json);
	int fds[2], st, stopped = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(res->reason, sizeof res->reason, "pipe: %s",
		    strerror(errno));
		return;
	}
	pid = send_spawn(cfg->command, fds[0], r);
	close(fds[0]);
	if (pid < 0) {
		snprintf(res->reason, sizeof res->reason, "cannot run: %s",
		    strerror(errno));
		close(fds[1]);
		return;
	}
	/* at most ALERT_JSON_MAX octets: within a pipe's buffer (64 KiB) */
	if (write(fds[1], r->json, len) != (ssize_t)len ||
	    write(fds[1], "\n", 1) != 1)
		(void)0;	/* it did not read; its exit status tells */
	close(fds[1]);
	st = send_reap(pid, cfg->timeout_ms, stop, &stopped);
	res->cut = stopped;
	res->ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	res->status = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st);
	if (!res->ok)
		snprintf(res->reason, sizeof res->reason, "%s", st == -1 ?
		    "timed out, killed" : WIFEXITED(st) ? "exit status" :
		    "killed by a signal");
}

void
alert_send(const struct alert_config *cfg, const struct alert_row *r,
    const _Atomic int *stop, struct alert_result *res)
{
	switch (r->channel) {
	case ALERT_CH_WEBHOOK:
		send_webhook(cfg, r, stop, res);
		break;
	case ALERT_CH_MAIL:
		send_mail(cfg, r, stop, res);
		break;
	case ALERT_CH_SYSLOG:
		send_syslog(r, res);
		break;
	case ALERT_CH_COMMAND:
		send_command(cfg, r, stop, res);
		break;
	default:
		snprintf(res->reason, sizeof res->reason, "unknown channel");
		break;
	}
}
