/* test_nexthop.c - nh_conn against real and misbehaving next hops.
 *
 * 1. URL parsing, table-driven.
 * 2. Real Postfix smtp-sink (SMTP on TCP, LMTP on a unix socket, and one
 *    that hangs up after the final dot), skipped with a note when missing.
 * 3. A scripted fake server in a thread on 127.0.0.1 that misbehaves on
 *    purpose (refusals, hangs, hang-ups, garbage, LMTP mixed replies, TLS
 *    with certificates made here).
 * 4. Maildir delivery into a temporary folder.
 * Every failure must reach the DATA callback as 4xx, every success exactly
 * once, and no callback may come after nh_conn_free.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gateway/nexthop.h"
#include "harness.h"
#include "util/jobq.h"

#define SINK "/usr/sbin/smtp-sink"
#define WAIT_MS 30000	/* an upper bound, not a pace: results come sooner */

static struct event_base *base;
static char tmpdir[64];

/* ---- helpers: results, waiting ---- */

struct res {
	int ncalls;
	int n;
	struct smtp_reply r[8];
};

static void
res_cb(void *arg, const struct smtp_reply *r, int n)
{
	struct res *x = arg;
	int i;

	x->ncalls++;
	x->n = n;
	for (i = 0; i < n && i < 8; i++)
		x->r[i] = r[i];
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
ticker_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until the callback came (or WAIT_MS passed). */
static void
wait_res(struct res *x)
{
	long t0 = now_ms();

	while (x->ncalls == 0 && now_ms() - t0 < WAIT_MS)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
spin(int ms)
{
	long t0 = now_ms();

	while (now_ms() - t0 < ms)
		event_base_loop(base, EVLOOP_ONCE);
}

static const struct nexthop_timeouts to_test = { 1000, 1000, 1000, 1000,
	1000, 1000 };
static const struct nexthop_timeouts to_short = { 300, 300, 300, 300, 300,
	300 };
/* generous: 2 MB over TLS under ASan on a loaded 2-core machine */
static const struct nexthop_timeouts to_big = { 20000, 20000, 20000, 20000,
	20000, 20000 };
static const struct nexthop_tls tls_none = { NH_TLS_NONE, "", "jaga.test" };

static struct nh_conn *
conn(const char *url, const struct nexthop_tls *tls,
    const struct nexthop_timeouts *to)
{
	struct nexthop_url u;
	char err[256];

	if (nexthop_parse_url(url, &u, err, sizeof err) < 0) {
		fprintf(stderr, "bad test URL %s: %s\n", url, err);
		abort();
	}
	return nh_conn_new(base, &u, tls, to, "T3st");
}

static void
do_open(struct nh_conn *c, struct res *x)
{
	memset(x, 0, sizeof *x);
	nh_open(c, res_cb, x);
	wait_res(x);
}

static void
do_mail(struct nh_conn *c, const char *path, const char *params,
    struct res *x)
{
	memset(x, 0, sizeof *x);
	nh_mail(c, path, params, res_cb, x);
	wait_res(x);
}

static void
do_rcpt(struct nh_conn *c, const char *path, struct res *x)
{
	memset(x, 0, sizeof *x);
	nh_rcpt(c, path, res_cb, x);
	wait_res(x);
}

static void
do_data(struct nh_conn *c, const char *msg, size_t len, struct res *x)
{
	memset(x, 0, sizeof *x);
	nh_data(c, msg, len, res_cb, x);
	wait_res(x);
}

static void
do_rset(struct nh_conn *c, struct res *x)
{
	memset(x, 0, sizeof *x);
	nh_rset(c, res_cb, x);
	wait_res(x);
}

/* The callback came exactly once, with this code and one reply. */
#define CHECK_REPLY(x, want, what) do {					\
	spin(20);							\
	CHECK_INT((x).ncalls, 1, "%s: one callback", what);		\
	CHECK_INT((x).r[0].code, want, "%s: code (%s)", what,		\
	    (x).r[0].text);						\
} while (0)

/* A failure: exactly one callback, every reply 4xx (never 2xx). */
#define CHECK_FAIL(x, wenh, what) do {					\
	int i_;								\
	spin(20);							\
	CHECK_INT((x).ncalls, 1, "%s: one callback", what);		\
	for (i_ = 0; i_ < (x).n && i_ < 8; i_++)			\
		CHECK_INT((x).r[i_].code / 100, 4, "%s: 4xx (%d %s)",	\
		    what, (x).r[i_].code, (x).r[i_].text);		\
	CHECK_STR((x).r[0].enh, wenh, "%s: enh", what);			\
} while (0)

/* The message the tests send: dot lines and no final CRLF. */
static const char test_msg[] =
    "Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nmid . dot\r\n"
    "last line without CRLF";
static const char test_msg_wire[] =
    "Subject: dots\r\n\r\n..leading dot\r\n...two\r\n..\r\nmid . dot\r\n"
    "last line without CRLF\r\n.\r\n";

/* ---- 1. URL parsing ---- */

struct url_case {
	const char *url;
	int ok;
	enum nh_kind kind;
	const char *host;
	unsigned port;
	const char *path;
	int family;
	const char *err;	/* substring of the message */
};

static const struct url_case url_cases[] = {
	{ "smtp://127.0.0.1", 1, NH_SMTP, "127.0.0.1", 25, "", AF_INET, NULL },
	{ "smtp://192.0.2.1:2525", 1, NH_SMTP, "192.0.2.1", 2525, "",
	    AF_INET, NULL },
	{ "SMTP://10.0.0.1:587", 1, NH_SMTP, "10.0.0.1", 587, "", AF_INET,
	    NULL },
	{ "lmtp://[::1]:2003", 1, NH_LMTP, "::1", 2003, "", AF_INET6, NULL },
	{ "lmtp://[2001:db8::1]", 1, NH_LMTP, "2001:db8::1", 24, "",
	    AF_INET6, NULL },
	{ "lmtp://127.0.0.1", 1, NH_LMTP, "127.0.0.1", 24, "", AF_INET, NULL },
	{ "lmtp:unix:/run/dovecot/lmtp", 1, NH_LMTP, "", 0,
	    "/run/dovecot/lmtp", AF_UNIX, NULL },
	{ "maildir:/var/mail/box", 1, NH_MAILDIR, "", 0, "/var/mail/box", 0,
	    NULL },
	{ "maildir:Maildir", 1, NH_MAILDIR, "", 0, "Maildir", 0, NULL },
	{ "ftp://x", 0, 0, NULL, 0, NULL, 0, "unknown scheme" },
	{ "smtp:/127.0.0.1", 0, 0, NULL, 0, NULL, 0, "unknown scheme" },
	{ "smtp://", 0, 0, NULL, 0, NULL, 0, "empty host" },
	{ "smtp://:25", 0, 0, NULL, 0, NULL, 0, "empty host" },
	{ "smtp://127.0.0.1:", 0, 0, NULL, 0, NULL, 0, "empty port" },
	{ "smtp://127.0.0.1:0", 0, 0, NULL, 0, NULL, 0, "out of range" },
	{ "smtp://127.0.0.1:65536", 0, 0, NULL, 0, NULL, 0, "out of range" },
	{ "smtp://127.0.0.1:25x", 0, 0, NULL, 0, NULL, 0, "bad port" },
	{ "smtp://127.0.0.1:-1", 0, 0, NULL, 0, NULL, 0, "bad port" },
	{ "smtp://::1:25", 0, 0, NULL, 0, NULL, 0, "brackets" },
	{ "smtp://[::1", 0, 0, NULL, 0, NULL, 0, "missing ']'" },
	{ "smtp://[::1]x", 0, 0, NULL, 0, NULL, 0, "junk" },
	{ "smtp://[127.0.0.1]:25", 0, 0, NULL, 0, NULL, 0, "bad IPv6" },
	{ "smtp://bad_host!:25", 0, 0, NULL, 0, NULL, 0, "bad host name" },
	{ "smtp://host.invalid", 0, 0, NULL, 0, NULL, 0, "cannot resolve" },
	{ "lmtp:unix:", 0, 0, NULL, 0, NULL, 0, "empty path" },
	{ "lmtp:unix:relative.sock", 0, 0, NULL, 0, NULL, 0, "absolute" },
	{ "maildir:", 0, 0, NULL, 0, NULL, 0, "empty path" },
};

static void
test_url_case(const struct url_case *tc)
{
	struct nexthop_url u;
	char err[256] = "";
	int rc = nexthop_parse_url(tc->url, &u, err, sizeof err);

	CHECK_INT(rc, tc->ok ? 0 : -1, "url %s (%s)", tc->url, err);
	if (rc == 0 && tc->ok) {
		CHECK_INT(u.kind, tc->kind, "url %s: kind", tc->url);
		CHECK_STR(u.host, tc->host, "url %s: host", tc->url);
		CHECK_INT(u.port, tc->port, "url %s: port", tc->url);
		CHECK_STR(u.path, tc->path, "url %s: path", tc->url);
		CHECK(strcmp(u.text, tc->url) == 0, "url %s: text", tc->url);
		CHECK_INT(u.addr.ss_family, tc->family, "url %s: family",
		    tc->url);
	} else if (rc < 0 && tc->err != NULL) {
		CHECK(strstr(err, tc->err) != NULL, "url %s: error \"%s\" "
		    "wants \"%s\"", tc->url, err, tc->err);
	}
}

static void
test_urls(void)
{
	struct nexthop_url u;
	char err[64], big[700];
	size_t i;

	for (i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++)
		test_url_case(&url_cases[i]);
	/* The port lands in the socket address. */
	nexthop_parse_url("smtp://127.0.0.1:2525", &u, err, sizeof err);
	CHECK_INT(ntohs(((struct sockaddr_in *)&u.addr)->sin_port), 2525,
	    "port in sockaddr");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "maildir:", 8);
	CHECK_INT(nexthop_parse_url(big, &u, err, sizeof err), -1, "too long");
	/* "localhost" goes through getaddrinfo (no DNS server needed). */
	CHECK_INT(nexthop_parse_url("smtp://localhost:26", &u, err,
	    sizeof err), 0, "localhost resolves");
}

/* ---- 3. the scripted fake server ---- */

/* Script steps: "S..." send, "R" read a line, "D" read the message up to
 * "\r\n.\r\n", "K" read some bytes then close, "H" hang until the client
 * goes, "C" close, "A" accept the next connection, "T" TLS handshake.
 * When the script ends: answer QUIT with 221, close at EOF. */
struct fake {
	int lfd, fd;
	unsigned port;
	const char *const *script;
	SSL_CTX *sctx;
	SSL *ssl;
	pthread_t th;
	atomic_int done;
	char *got;		/* everything the client sent */
	size_t gotlen, gotcap;
	char in[16384];
	size_t inpos, inlen;
};

static void
fk_keep(struct fake *f, const char *p, size_t n)
{
	if (f->gotlen + n + 1 > f->gotcap) {
		f->gotcap = (f->gotlen + n + 1) * 2;
		f->got = realloc(f->got, f->gotcap);
		if (f->got == NULL)
			abort();
	}
	memcpy(f->got + f->gotlen, p, n);
	f->gotlen += n;
	f->got[f->gotlen] = '\0';
}

/* Refill the input; 0 at EOF, error or after WAIT_MS of silence. */
static int
fk_fill(struct fake *f)
{
	struct pollfd p = { f->fd, POLLIN, 0 };
	int n;

	if (f->inpos < f->inlen)
		return 1;
	if ((f->ssl == NULL || SSL_pending(f->ssl) == 0) &&
	    poll(&p, 1, WAIT_MS) <= 0)
		return 0;
	n = f->ssl != NULL ? SSL_read(f->ssl, f->in, sizeof f->in) :
	    (int)recv(f->fd, f->in, sizeof f->in, 0);
	if (n <= 0)
		return 0;
	f->inpos = 0;
	f->inlen = (size_t)n;
	return 1;
}

/* Read through LF into line (for "R"); returns the length, -1 at EOF. */
static int
fk_line(struct fake *f, char *line, size_t cap)
{
	size_t n = 0;
	char ch;

	do {
		if (!fk_fill(f))
			return -1;
		ch = f->in[f->inpos++];
		if (n + 1 < cap)
			line[n++] = ch;
	} while (ch != '\n');
	line[n] = '\0';
	fk_keep(f, line, n);
	return (int)n;
}

/* Read the message through the final "\r\n.\r\n". */
static int
fk_data(struct fake *f)
{
	unsigned state = 0;	/* how much of "\r\n.\r\n" was seen */
	static const char end[] = "\r\n.\r\n";
	char ch;

	while (state < 5) {
		if (!fk_fill(f))
			return -1;
		ch = f->in[f->inpos++];
		fk_keep(f, &ch, 1);
		state = ch == end[state] ? state + 1 : ch == '\r' ? 1 : 0;
	}
	return 0;
}

static void
fk_send(struct fake *f, const char *s)
{
	size_t n = strlen(s);

	if (f->ssl != NULL)
		SSL_write(f->ssl, s, (int)n);
	else if (send(f->fd, s, n, MSG_NOSIGNAL) < 0)
		perror("fake send");
}

static void
fk_close(struct fake *f)
{
	if (f->ssl != NULL) {
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->inpos = f->inlen = 0;
}

static int
fk_accept(struct fake *f)
{
	struct pollfd p = { f->lfd, POLLIN, 0 };

	fk_close(f);
	if (poll(&p, 1, WAIT_MS) <= 0)
		return -1;
	f->fd = accept(f->lfd, NULL, NULL);
	return f->fd >= 0 ? 0 : -1;
}

static int
fk_tls(struct fake *f)
{
	f->ssl = SSL_new(f->sctx);
	SSL_set_fd(f->ssl, f->fd);
	if (SSL_accept(f->ssl) != 1) {
		SSL_free(f->ssl);
		f->ssl = NULL;
		return -1;
	}
	return 0;
}

/* Hang: say nothing, read and keep whatever comes, until EOF. */
static void
fk_hang(struct fake *f)
{
	while (fk_fill(f)) {
		fk_keep(f, f->in + f->inpos, f->inlen - f->inpos);
		f->inpos = f->inlen;
	}
}

static int
fk_step(struct fake *f, const char *st)
{
	char line[2048];
	size_t n = 0;

	switch (st[0]) {
	case 'S': fk_send(f, st + 1); return 0;
	case 'R': return fk_line(f, line, sizeof line) < 0 ? -1 : 0;
	case 'D': return fk_data(f);
	case 'K':
		while (n < 20000 && fk_fill(f)) {
			n += f->inlen - f->inpos;
			f->inpos = f->inlen;
		}
		fk_close(f);
		return -1;
	case 'H': fk_hang(f); return -1;
	case 'C': fk_close(f); return 0;
	case 'A': return fk_accept(f);
	case 'T': return fk_tls(f);
	}
	abort();
}

static void *
fk_main(void *arg)
{
	struct fake *f = arg;
	char line[2048];
	int i;

	if (fk_accept(f) == 0) {
		for (i = 0; f->script[i] != NULL; i++)
			if (fk_step(f, f->script[i]) < 0)
				break;
		while (f->fd >= 0 && fk_line(f, line, sizeof line) > 0) {
			if (strncmp(line, "QUIT", 4) == 0) {
				fk_send(f, "221 2.0.0 bye\r\n");
				break;
			}
		}
	}
	fk_close(f);
	atomic_store(&f->done, 1);
	return NULL;
}

static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("listen");
		abort();
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct fake *
fake_start(const char *const *script, SSL_CTX *sctx)
{
	struct fake *f = calloc(1, sizeof *f);

	f->fd = -1;
	f->script = script;
	f->sctx = sctx;
	f->lfd = listen_loopback(&f->port);
	pthread_create(&f->th, NULL, fk_main, f);
	return f;
}

/* Let the loop run (a closer may be sending QUIT) until the fake ends. */
static void
fake_end_keep(struct fake *f)
{
	long t0 = now_ms();

	while (!atomic_load(&f->done) && now_ms() - t0 < 2 * WAIT_MS)
		event_base_loop(base, EVLOOP_ONCE);
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static void
fake_free(struct fake *f)
{
	free(f->got);
	free(f);
}

static void
fake_end(struct fake *f)
{
	fake_end_keep(f);
	fake_free(f);
}

static struct nh_conn *
fake_conn(struct fake *f, const char *scheme, const struct nexthop_tls *tls,
    const struct nexthop_timeouts *to)
{
	char url[64];

	snprintf(url, sizeof url, "%s://127.0.0.1:%u", scheme, f->port);
	return conn(url, tls, to);
}

#define GREET "S220 fake ESMTP\r\n"
#define EHLO_OK "S250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"

static void
test_fake_mail_550(void)
{
	static const char *const script[] = { GREET, "R", EHLO_OK, "R",
	    "S550 5.7.1 sender refused\r\n", "R", "S250 2.0.0 ok\r\n", NULL };
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_test);
	struct res x;

	CHECK_INT(nh_is_open(c), 0, "550: not open before nh_open");
	do_open(c, &x);
	CHECK_REPLY(x, 250, "550: open");
	CHECK_INT(x.r[0].ehlo_caps, SMTP_CAP_PIPELINING | SMTP_CAP_SIZE,
	    "550: caps in reply");
	CHECK_INT(x.r[0].size_max, 1000, "550: SIZE");
	CHECK_INT(nh_caps(c), SMTP_CAP_PIPELINING | SMTP_CAP_SIZE, "nh_caps");
	CHECK_INT(nh_is_open(c), 1, "550: open");
	do_mail(c, "<a@x.example>", " SIZE=10", &x);
	CHECK_REPLY(x, 550, "550: MAIL");
	CHECK_STR(x.r[0].enh, "5.7.1", "550: enh");
	CHECK_STR(x.r[0].text, "sender refused", "550: text");
	do_rset(c, &x);
	CHECK_REPLY(x, 250, "550: RSET");
	nh_conn_free(c);
	fake_end(f);
}

static void
test_fake_rcpt_4xx_data(void)
{
	static const char *const script[] = { GREET, "R", EHLO_OK, "R",
	    "S250 2.1.0 ok\r\n", "R", "S450 4.2.0 busy\r\n", "R",
	    "S250 2.1.5 ok\r\n", "R", "S354 go\r\n", "D",
	    "S250 2.0.0 queued as X\r\n", NULL };
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_test);
	const char *p;
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x.example>", "", &x);
	CHECK_REPLY(x, 250, "rcpt4xx: MAIL");
	CHECK_INT(nh_is_open(c), 0, "in a transaction: not idle");
	do_rcpt(c, "<b@y.example>", &x);
	CHECK_REPLY(x, 450, "rcpt4xx: RCPT 1");
	do_rcpt(c, "<c@y.example>", &x);
	CHECK_REPLY(x, 250, "rcpt4xx: RCPT 2");
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	CHECK_REPLY(x, 250, "rcpt4xx: DATA");
	CHECK_INT(x.n, 1, "rcpt4xx: one reply");
	CHECK_STR(x.r[0].text, "queued as X", "rcpt4xx: text");
	CHECK_INT(nh_is_open(c), 1, "after DATA: idle again");
	nh_conn_free(c);
	spin(50);
	p = f->got != NULL ? strstr(f->got, "DATA\r\n") : NULL;
	CHECK(p != NULL && strncmp(p + 6, test_msg_wire,
	    sizeof test_msg_wire - 1) == 0, "dot-stuffed wire bytes: %s",
	    p != NULL ? p : "(none)");
	CHECK(f->got != NULL && strstr(f->got, "MAIL FROM:<a@x.example>\r\n"
	    "RCPT TO:<b@y.example>\r\n") != NULL, "MAIL/RCPT on the wire");
	fake_end(f);
}

/* Open, MAIL, RCPT, then DATA against a script that fails somewhere. */
static void
fake_data_fails(const char *what, const char *const *script,
    const char *msg, size_t len, const char *want_text)
{
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_short);
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	CHECK_REPLY(x, 250, what);
	do_data(c, msg, len, &x);
	CHECK_FAIL(x, "4.4.2", what);
	CHECK(strstr(x.r[0].text, want_text) != NULL, "%s: text \"%s\"",
	    what, x.r[0].text);
	CHECK_INT(nh_is_open(c), 0, "%s: closed after failure", what);
	nh_conn_free(c);
	fake_end(f);
}

#define TO_RCPT GREET, "R", EHLO_OK, "R", "S250 ok\r\n", "R", "S250 ok\r\n"

static void
test_fake_data_failures(void)
{
	static const char *const hang_dot[] = { TO_RCPT, "R", "S354 go\r\n",
	    "D", "H", NULL };
	static const char *const hang_354[] = { TO_RCPT, "R", "H", NULL };
	static const char *const close_mid[] = { TO_RCPT, "R", "S354 go\r\n",
	    "K", NULL };
	static const char *const mixed[] = { TO_RCPT, "R", "S354 go\r\n", "D",
	    "S250-ok\r\n251 mixed\r\n", NULL };
	static const char *const eof_dot[] = { TO_RCPT, "R", "S354 go\r\n",
	    "D", "S250-almost\r\n", "C", NULL };
	static const char *const early[] = { TO_RCPT, "R",
	    "S354 go\r\n250 too early\r\n", "H", NULL };
	static char longline[700];
	static const char *const toolong[] = { TO_RCPT, "R", "S354 go\r\n",
	    "D", longline, NULL };
	size_t big = 4u << 20;
	char *msg = malloc(big);

	memset(msg, 'x', big);
	snprintf(longline, sizeof longline, "S250 %0600d\r\n", 0);
	fake_data_fails("hang after dot", hang_dot, test_msg,
	    sizeof test_msg - 1, "timed out during end of data");
	fake_data_fails("hang before 354", hang_354, test_msg,
	    sizeof test_msg - 1, "timed out during DATA");
	fake_data_fails("close mid-DATA", close_mid, msg, big, "lost");
	fake_data_fails("mixed codes", mixed, test_msg, sizeof test_msg - 1,
	    "malformed");
	fake_data_fails("EOF mid-reply", eof_dot, test_msg,
	    sizeof test_msg - 1, "lost during end of data");
	/* a reply while blocks are still going out (a small message and
	 * its dot leave in one write, so only a large one can show this) */
	fake_data_fails("reply during body", early, msg, big, "unexpected");
	fake_data_fails("line too long", toolong, test_msg,
	    sizeof test_msg - 1, "too long");
	free(msg);
}

/* nh_open against a script that fails before the EHLO reply is done. */
static void
fake_open_fails(const char *what, const char *const *script,
    const struct nexthop_tls *tls, const char *want_text, SSL_CTX *sctx)
{
	struct fake *f = fake_start(script, sctx);
	struct nh_conn *c = fake_conn(f, "smtp", tls, &to_short);
	struct res x;

	do_open(c, &x);
	CHECK_FAIL(x, "4.4.1", what);
	CHECK(strstr(x.r[0].text, want_text) != NULL, "%s: text \"%s\"",
	    what, x.r[0].text);
	CHECK_INT(nh_is_open(c), 0, "%s: closed", what);
	CHECK_INT(nh_caps(c), 0, "%s: no caps", what);
	nh_conn_free(c);
	fake_end(f);
}

static const struct nexthop_tls tls_encrypt = { NH_TLS_ENCRYPT, "",
	"jaga.test" };

static void
test_fake_open_failures(void)
{
	static const char *const garbage[] = { GREET, "R",
	    "Shello there\r\n", NULL };
	static const char *const silent[] = { "H", NULL };
	static const char *const g554[] = { "S554 5.3.2 go away\r\n", NULL };
	static const char *const notls[] = { GREET, "R", EHLO_OK, NULL };
	static const char *const inject[] = { GREET, "R",
	    "S250-fake\r\n250 STARTTLS\r\n", "R",
	    "S220 go ahead\r\n250 injected\r\n", "H", NULL };
	static char many[70 * 10 + 16];
	static const char *const toomany[] = { GREET, "R", many, NULL };
	size_t i, n = 1;

	many[0] = 'S';
	for (i = 0; i < 69; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "250-x%02zu\r\n",
		    i);
	snprintf(many + n, sizeof many - n, "250 end\r\n");
	fake_open_fails("garbage EHLO reply", garbage, &tls_none, "malformed",
	    NULL);
	fake_open_fails("no greeting", silent, &tls_none, "timed out", NULL);
	fake_open_fails("greeting 554", g554, &tls_none, "greeting 554",
	    NULL);
	fake_open_fails("TLS not offered", notls, &tls_encrypt,
	    "STARTTLS not offered", NULL);
	fake_open_fails("STARTTLS injection", inject, &tls_encrypt,
	    "plaintext data after STARTTLS", NULL);
	fake_open_fails("65 EHLO lines", toomany, &tls_none, "malformed",
	    NULL);
}

static void
test_refused(void)
{
	unsigned port;
	int fd = listen_loopback(&port);
	char url[64];
	struct nh_conn *c;
	struct res x;

	close(fd);	/* nobody listens there now */
	snprintf(url, sizeof url, "smtp://127.0.0.1:%u", port);
	c = conn(url, &tls_none, &to_test);
	do_open(c, &x);
	CHECK_FAIL(x, "4.4.1", "refused");
	CHECK(strstr(x.r[0].text, "next hop unavailable: connect") != NULL,
	    "refused: text \"%s\"", x.r[0].text);
	do_mail(c, "<a@x>", "", &x);
	CHECK_FAIL(x, "4.4.2", "MAIL when closed");
	do_rset(c, &x);
	CHECK_REPLY(x, 250, "RSET when closed");
	nh_conn_free(c);
}

/* RFC 2033 §4.2: one reply per accepted RCPT, in order. */
static void
test_fake_lmtp(void)
{
	static const char *const mixed[] = { GREET, "R", "S250 fake\r\n",
	    "R", "S250 ok\r\n", "R", "S250 ok\r\n", "R", "S550 5.1.1 no\r\n",
	    "R", "S250 ok\r\n", "R", "S354 go\r\n", "D",
	    "S250 2.1.5 a ok\r\n452 4.2.2 c full\r\n", NULL };
	static const char *const lost[] = { GREET, "R", "S250 fake\r\n",
	    "R", "S250 ok\r\n", "R", "S250 ok\r\n", "R", "S250 ok\r\n", "R",
	    "S354 go\r\n", "D", "S250 2.1.5 a ok\r\n", "C", NULL };
	struct fake *f = fake_start(mixed, NULL);
	struct nh_conn *c = fake_conn(f, "lmtp", &tls_none, &to_short);
	struct res x;

	do_open(c, &x);
	CHECK_REPLY(x, 250, "lmtp: LHLO");
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<a@y>", &x);
	do_rcpt(c, "<b@y>", &x);
	CHECK_REPLY(x, 550, "lmtp: RCPT b");
	do_rcpt(c, "<c@y>", &x);
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	spin(20);
	CHECK_INT(x.ncalls, 1, "lmtp: one callback");
	CHECK_INT(x.n, 2, "lmtp: two replies");
	CHECK_INT(x.r[0].code, 250, "lmtp: a");
	CHECK_INT(x.r[1].code, 452, "lmtp: c");
	CHECK_STR(x.r[1].enh, "4.2.2", "lmtp: c enh");
	nh_conn_free(c);
	CHECK(strstr(f->got, "LHLO jaga.test\r\n") != NULL, "LHLO sent");
	fake_end(f);

	f = fake_start(lost, NULL);
	c = fake_conn(f, "lmtp", &tls_none, &to_short);
	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<a@y>", &x);
	do_rcpt(c, "<b@y>", &x);
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	spin(20);
	CHECK_INT(x.ncalls, 1, "lmtp lost: one callback");
	CHECK_INT(x.n, 2, "lmtp lost: two replies");
	CHECK_INT(x.r[0].code, 250, "lmtp lost: a was delivered");
	CHECK_INT(x.r[1].code, 451, "lmtp lost: b made up");
	CHECK_STR(x.r[1].enh, "4.4.2", "lmtp lost: b enh");
	nh_conn_free(c);
	fake_end(f);
}

/* 421 closes; nh_open then reconnects; EHLO 502 falls back to HELO. */
static void
test_fake_421_reconnect(void)
{
	static const char *const script[] = { GREET, "R", EHLO_OK, "R",
	    "S250 ok\r\n", "R", "S421 4.3.2 shutting down\r\n", "C", "A",
	    GREET, "R", "S502 5.5.1 no EHLO\r\n", "R", "S250 hi\r\n", "R",
	    "S250 2.1.0 ok\r\n", NULL };
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_test);
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	CHECK_REPLY(x, 421, "421 passed on");
	CHECK_INT(nh_is_open(c), 0, "421: closed");
	do_open(c, &x);
	CHECK_REPLY(x, 250, "reopen via HELO");
	CHECK_INT(x.r[0].ehlo_caps, 0, "HELO: no caps");
	do_mail(c, "<a@x>", "", &x);
	CHECK_REPLY(x, 250, "MAIL after reconnect");
	nh_conn_free(c);
	CHECK(strstr(f->got, "HELO jaga.test\r\n") != NULL, "HELO sent");
	fake_end(f);
}

/* nh_open in a transaction resets it; an idle 421 closes quietly. */
static void
test_fake_open_in_txn_idle_close(void)
{
	static const char *const script[] = { GREET, "R", EHLO_OK, "R",
	    "S250 ok\r\n", "R", "S250 reset\r\n",
	    "S421 4.4.2 idle timeout\r\n", "C", NULL };
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_test);
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	CHECK_INT(nh_is_open(c), 0, "txn: not idle");
	do_open(c, &x);
	CHECK_REPLY(x, 250, "open in txn");
	CHECK_INT(x.r[0].ehlo_caps, SMTP_CAP_PIPELINING | SMTP_CAP_SIZE,
	    "open in txn: EHLO reply");
	spin(200);
	CHECK_INT(nh_is_open(c), 0, "idle 421: closed");
	do_mail(c, "<a@x>", "", &x);
	CHECK_FAIL(x, "4.4.2", "MAIL after idle close");
	CHECK(strstr(f->got, "RSET\r\n") != NULL, "RSET sent");
	nh_conn_free(c);
	fake_end(f);
}

/* Freed while DATA waits: no callback, ever. */
static void
test_fake_free_inflight(void)
{
	static const char *const script[] = { TO_RCPT, "R", "S354 go\r\n",
	    "D", "H", NULL };
	struct fake *f = fake_start(script, NULL);
	struct nh_conn *c = fake_conn(f, "smtp", &tls_none, &to_short);
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	memset(&x, 0, sizeof x);
	nh_data(c, test_msg, sizeof test_msg - 1, res_cb, &x);
	spin(100);
	nh_conn_free(c);
	spin(500);
	CHECK_INT(x.ncalls, 0, "freed in flight: no callback");
	fake_end(f);

	/* Freed right after the request: the deferred callback is dropped. */
	f = fake_start(script, NULL);
	c = fake_conn(f, "smtp", &tls_none, &to_short);
	memset(&x, 0, sizeof x);
	nh_open(c, res_cb, &x);
	nh_conn_free(c);
	spin(100);
	CHECK_INT(x.ncalls, 0, "freed at once: no callback");
	fake_end(f);
}

/* A big message with dots at line starts, and its dot-stuffed wire form
 * (written independently of nh_smtp.c: line by line). */
static char *
big_msg(size_t *len, char **wire, size_t *wirelen)
{
	size_t cap = 1u << 21, n = 0, w = 0, i;
	char *m = malloc(cap), *o = malloc(cap + cap / 8 + 16), line[128];
	int k;

	for (i = 0; n + 200 < cap; i++) {
		k = snprintf(line, sizeof line, "%s%zu%s\r\n", i % 3 == 0 ?
		    "." : i % 5 == 0 ? ".." : "line ", i, i % 7 == 0 ?
		    " with . inside" : "");
		memcpy(m + n, line, (size_t)k);
		n += (size_t)k;
		if (line[0] == '.')
			o[w++] = '.';
		memcpy(o + w, line, (size_t)k);
		w += (size_t)k;
	}
	memcpy(o + w, ".\r\n", 3);
	*len = n;
	*wire = o;
	*wirelen = w + 3;
	return m;
}

static const char *const big_script[] = { GREET, "R",
    "S250-fake\r\n250-STARTTLS\r\n250 PIPELINING\r\n", "R", "S250 ok\r\n",
    "R", "S250 ok\r\n", "R", "S354 go\r\n", "D", "S250 2.0.0 ok\r\n",
    NULL };
static const char *const big_script_tls[] = { GREET, "R",
    "S250-fake\r\n250-STARTTLS\r\n250 PIPELINING\r\n", "R",
    "S220 go\r\n", "T", "R", "S250 fake\r\n", "R", "S250 ok\r\n", "R",
    "S250 ok\r\n", "R", "S354 go\r\n", "D", "S250 2.0.0 ok\r\n", NULL };

/* 2 MB in 64 KB blocks arrive byte-exact, in the clear and over TLS. */
static void
test_big(const char *what, const char *const *script,
    const struct nexthop_tls *tls, SSL_CTX *sctx)
{
	struct fake *f = fake_start(script, sctx);
	struct nh_conn *c = fake_conn(f, "smtp", tls, &to_big);
	size_t len, wirelen;
	char *wire, *msg = big_msg(&len, &wire, &wirelen);
	const char *p;
	struct res x;

	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	do_data(c, msg, len, &x);
	CHECK_REPLY(x, 250, what);
	nh_conn_free(c);
	fake_end_keep(f);
	p = f->got != NULL ? strstr(f->got, "DATA\r\n") : NULL;
	CHECK(p != NULL && f->gotlen - (size_t)(p + 6 - f->got) >= wirelen &&
	    memcmp(p + 6, wire, wirelen) == 0, "%s: wire bytes exact", what);
	fake_free(f);
	free(msg);
	free(wire);
}

/* Requests started from inside callbacks (what the session does). */
struct chain {
	struct nh_conn *c;
	int step;
	int code[4];
};

static void
chain_cb(void *arg, const struct smtp_reply *r, int n)
{
	struct chain *ch = arg;

	(void)n;
	ch->code[ch->step++] = r->code;
	if (ch->step == 1)
		nh_rcpt(ch->c, "<b@y>", chain_cb, ch);
	else if (ch->step == 2)
		nh_data(ch->c, test_msg, sizeof test_msg - 1, chain_cb, ch);
	else if (ch->step == 3)
		nh_conn_free(ch->c);	/* and free from a callback */
}

static void
test_chain(const char *what, const char *url, struct fake *f)
{
	struct chain ch = { 0 };
	long t0 = now_ms();
	struct res x;

	ch.c = f != NULL ? fake_conn(f, "smtp", &tls_none, &to_test) :
	    conn(url, &tls_none, &to_test);
	do_open(ch.c, &x);
	nh_mail(ch.c, "<a@x>", "", chain_cb, &ch);
	while (ch.step < 3 && now_ms() - t0 < WAIT_MS)
		event_base_loop(base, EVLOOP_ONCE);
	spin(20);
	CHECK_INT(ch.step, 3, "%s: three callbacks", what);
	CHECK(ch.code[0] == 250 && ch.code[1] == 250 && ch.code[2] == 250,
	    "%s: codes %d %d %d", what, ch.code[0], ch.code[1], ch.code[2]);
	if (f != NULL)
		fake_end(f);
}

static void
test_chains(void)
{
	static const char *const script[] = { TO_RCPT, "R", "S354 go\r\n",
	    "D", "S250 ok\r\n", NULL };
	char url[128];

	test_chain("chain smtp", NULL, fake_start(script, NULL));
	snprintf(url, sizeof url, "maildir:%s/Maildir3", tmpdir);
	test_chain("chain maildir", url, NULL);
}

/* ---- TLS ---- */

static X509 *cert1, *cert2;
static EVP_PKEY *key1, *key2;
static char ca1[128], ca2[128];

static X509 *
make_cert(EVP_PKEY *pkey, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_get_subject_name(x);
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)now_ms() & 0xffff);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pkey);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"jaga test", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, pkey, EVP_sha256());
	return x;
}

static void
write_pem(const char *path, X509 *x)
{
	FILE *fp = fopen(path, "w");

	PEM_write_X509(fp, x);
	fclose(fp);
}

static SSL_CTX *
server_ctx(X509 *x, EVP_PKEY *k)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	SSL_CTX_use_certificate(ctx, x);
	SSL_CTX_use_PrivateKey(ctx, k);
	return ctx;
}

static void
tls_setup(void)
{
	key1 = EVP_EC_gen("P-256");
	key2 = EVP_EC_gen("P-256");
	cert1 = make_cert(key1, "IP:127.0.0.1,DNS:localhost");
	cert2 = make_cert(key2, "DNS:other.example");
	snprintf(ca1, sizeof ca1, "%s/ca1.pem", tmpdir);
	snprintf(ca2, sizeof ca2, "%s/ca2.pem", tmpdir);
	write_pem(ca1, cert1);
	write_pem(ca2, cert2);
}

#define EHLO_TLS "S250-fake\r\n250-STARTTLS\r\n250 PIPELINING\r\n"

static void
test_tls_ok(const char *what, const struct nexthop_tls *tls, SSL_CTX *sctx)
{
	static const char *const script[] = { GREET, "R", EHLO_TLS, "R",
	    "S220 2.0.0 go ahead\r\n", "T", "R",
	    "S250-fake over tls\r\n250 8BITMIME\r\n", "R", "S250 ok\r\n",
	    NULL };
	struct fake *f = fake_start(script, sctx);
	struct nh_conn *c = fake_conn(f, "smtp", tls, &to_test);
	struct res x;

	do_open(c, &x);
	CHECK_REPLY(x, 250, what);
	CHECK_INT(x.r[0].ehlo_caps, SMTP_CAP_8BITMIME, "%s: caps replaced",
	    what);
	CHECK_STR(x.r[0].text, "fake over tls", "%s: second EHLO", what);
	do_mail(c, "<a@x>", "", &x);
	CHECK_REPLY(x, 250, what);
	nh_conn_free(c);
	CHECK(f->got != NULL && strstr(f->got, "MAIL FROM:<a@x>") != NULL,
	    "%s: MAIL over TLS", what);
	fake_end(f);
}

static void
test_tls(void)
{
	static const char *const tls_fail[] = { GREET, "R", EHLO_TLS, "R",
	    "S220 2.0.0 go ahead\r\n", "T", NULL };
	static const char *const refused[] = { GREET, "R", EHLO_TLS, "R",
	    "S454 4.7.0 TLS not available\r\n", "R", "S250 ok\r\n", NULL };
	struct nexthop_tls may = { NH_TLS_MAY, "", "jaga.test" };
	struct nexthop_tls v1 = { NH_TLS_VERIFY, ca1, "jaga.test" };
	struct nexthop_tls v2 = { NH_TLS_VERIFY, ca2, "jaga.test" };
	SSL_CTX *s1 = server_ctx(cert1, key1), *s2 = server_ctx(cert2, key2);
	struct fake *f;
	struct nh_conn *c;
	struct res x;

	test_tls_ok("tls may", &may, s1);
	test_tls_ok("tls encrypt", &tls_encrypt, s2);
	test_tls_ok("tls verify", &v1, s1);
	test_big("big message", big_script, &tls_none, NULL);
	test_big("big message over TLS", big_script_tls, &v1, s1);
	fake_open_fails("tls verify: wrong name", tls_fail, &v2,
	    "certificate", s2);
	fake_open_fails("tls verify: untrusted", tls_fail, &v2,
	    "certificate", s1);
	fake_open_fails("STARTTLS refused, required", refused, &tls_encrypt,
	    "STARTTLS 454", NULL);
	/* "may" goes on in the clear when STARTTLS is refused. */
	f = fake_start(refused, NULL);
	c = fake_conn(f, "smtp", &may, &to_test);
	do_open(c, &x);
	CHECK_REPLY(x, 250, "tls may, refused: clear");
	do_mail(c, "<a@x>", "", &x);
	CHECK_REPLY(x, 250, "tls may, refused: MAIL");
	nh_conn_free(c);
	fake_end(f);
	SSL_CTX_free(s1);
	SSL_CTX_free(s2);
}

/* ---- 2. real Postfix smtp-sink ---- */

static pid_t
sink_start(const char *const *extra, const char *addr)
{
	const char *argv[20];
	int n = 0, i;
	pid_t pid;

	argv[n++] = SINK;
	if (geteuid() == 0) {
		argv[n++] = "-u";
		argv[n++] = "root";
	}
	for (i = 0; extra[i] != NULL; i++)
		argv[n++] = extra[i];
	argv[n++] = addr;
	argv[n++] = "10";
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(SINK, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait until the sink accepts connections. */
static int
sink_ready(const struct sockaddr *sa, socklen_t len)
{
	long t0 = now_ms();
	int fd, ok = 0;

	while (!ok && now_ms() - t0 < WAIT_MS) {
		fd = socket(sa->sa_family, SOCK_STREAM, 0);
		ok = connect(fd, sa, len) == 0;
		close(fd);
		if (!ok)
			usleep(20000);
	}
	return ok;
}

static void
sink_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static pid_t
sink_tcp(const char *const *extra, char *url, size_t urllen)
{
	char addr[64];
	struct nexthop_url u;
	unsigned port;
	int fd = listen_loopback(&port);
	pid_t pid;

	close(fd);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	snprintf(url, urllen, "smtp://127.0.0.1:%u", port);
	pid = sink_start(extra, addr);
	nexthop_parse_url(url, &u, addr, sizeof addr);
	if (!sink_ready((struct sockaddr *)&u.addr, u.addrlen)) {
		fprintf(stderr, "smtp-sink did not start\n");
		abort();
	}
	return pid;
}

/* Read the one dump file smtp-sink wrote into dir. */
static char *
read_dump(const char *dir)
{
	char path[512], *buf = calloc(1, 65536);
	struct dirent *e;
	DIR *d = opendir(dir);
	FILE *fp;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if ((fp = fopen(path, "r")) != NULL) {
			if (fread(buf, 1, 65535, fp) == 0)
				buf[0] = '\0';
			fclose(fp);
		}
	}
	if (d != NULL)
		closedir(d);
	return buf;
}

static void
sink_transaction(struct nh_conn *c, int nrcpt, const char *what)
{
	char rcpt[32];
	struct res x;
	int i;

	do_mail(c, "<a@x.example>", "", &x);
	CHECK_REPLY(x, 250, what);
	CHECK_STR(x.r[0].enh, "2.1.0", "%s: MAIL enh", what);
	for (i = 0; i < nrcpt; i++) {
		snprintf(rcpt, sizeof rcpt, "<r%d@y.example>", i);
		do_rcpt(c, rcpt, &x);
		CHECK_REPLY(x, 250, what);
	}
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	spin(20);
	CHECK_INT(x.ncalls, 1, "%s: DATA once", what);
	CHECK_INT(x.n, c != NULL && nrcpt > 1 && strstr(what, "lmtp") ? nrcpt :
	    1, "%s: replies", what);
	for (i = 0; i < x.n && i < 8; i++)
		CHECK_INT(x.r[i].code, 250, "%s: DATA reply %d", what, i);
}

static void
test_sink_smtp(void)
{
	char dumpdir[128], tmpl[160], url[64], *dump;
	const char *extra[] = { "-d", tmpl, NULL };
	struct nh_conn *c;
	struct res x;
	pid_t pid;

	snprintf(dumpdir, sizeof dumpdir, "%s/dump", tmpdir);
	mkdir(dumpdir, 0777);
	snprintf(tmpl, sizeof tmpl, "%s/m", dumpdir);
	pid = sink_tcp(extra, url, sizeof url);
	c = conn(url, &tls_none, &to_test);
	do_open(c, &x);
	CHECK_REPLY(x, 250, "sink: EHLO");
	CHECK(x.r[0].ehlo_caps & SMTP_CAP_PIPELINING, "sink: PIPELINING");
	CHECK(x.r[0].ehlo_caps & SMTP_CAP_AUTH_PLAIN, "sink: AUTH PLAIN");
	sink_transaction(c, 2, "sink smtp");
	spin(50);
	dump = read_dump(dumpdir);
	CHECK(strstr(dump, "X-Rcpt-Args: <r1@y.example>\n") != NULL,
	    "sink: RCPT in dump");
	CHECK(strstr(dump, "Subject: dots\n\n.leading dot\n..two\n.\nmid . "
	    "dot\nlast line without CRLF\n") != NULL,
	    "sink: message arrived unstuffed:\n%s", dump);
	free(dump);
	sink_transaction(c, 1, "sink smtp again");
	do_rset(c, &x);
	CHECK_REPLY(x, 250, "sink: RSET");
	nh_conn_free(c);
	spin(100);
	sink_stop(pid);
}

static void
test_sink_lmtp_unix(void)
{
	char addr[160], url[170];
	const char *extra[] = { "-L", NULL };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct nh_conn *c;
	struct res x;
	pid_t pid;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/lmtp.sock", tmpdir);
	snprintf(addr, sizeof addr, "unix:%s", sun.sun_path);
	snprintf(url, sizeof url, "lmtp:unix:%s", sun.sun_path);
	pid = sink_start(extra, addr);
	if (!sink_ready((struct sockaddr *)&sun, sizeof sun)) {
		CHECK(0, "smtp-sink -L on a unix socket did not start");
		sink_stop(pid);
		return;
	}
	c = conn(url, &tls_none, &to_test);
	do_open(c, &x);
	CHECK_REPLY(x, 250, "sink lmtp: LHLO");
	sink_transaction(c, 3, "sink lmtp");
	nh_conn_free(c);
	spin(100);
	sink_stop(pid);
}

/* smtp-sink -q . hangs up after the final dot without a reply; -Q RCPT
 * says 421 and hangs up. */
static void
test_sink_hangups(void)
{
	const char *quiet[] = { "-q", ".", NULL };
	const char *q421[] = { "-Q", "RCPT", NULL };
	char url[64];
	struct nh_conn *c;
	struct res x;
	pid_t pid;

	pid = sink_tcp(quiet, url, sizeof url);
	c = conn(url, &tls_none, &to_test);
	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	CHECK_FAIL(x, "4.4.2", "sink -q .");
	nh_conn_free(c);
	sink_stop(pid);

	pid = sink_tcp(q421, url, sizeof url);
	c = conn(url, &tls_none, &to_test);
	do_open(c, &x);
	do_mail(c, "<a@x>", "", &x);
	do_rcpt(c, "<b@y>", &x);
	CHECK_REPLY(x, 421, "sink -Q RCPT");
	CHECK_INT(nh_is_open(c), 0, "sink -Q RCPT: closed");
	nh_conn_free(c);
	sink_stop(pid);
}

/* ---- 4. maildir ---- */

static int
count_files(const char *dir, char *name, size_t namelen)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		snprintf(name, namelen, "%s/%s", dir, e->d_name);
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* The file must hold the message with LF line ends (Maildir form). */
static void
check_file(const char *path, const char *crlf, size_t crlflen)
{
	char *want = malloc(crlflen + 1), *buf = malloc(crlflen + 16);
	FILE *fp = fopen(path, "rb");
	size_t n = fp != NULL ? fread(buf, 1, crlflen + 16, fp) : 0, len = 0;

	for (size_t i = 0; i < crlflen; i++)
		if (!(crlf[i] == '\r' && i + 1 < crlflen && crlf[i + 1] == '\n'))
			want[len++] = crlf[i];
	if (fp != NULL)
		fclose(fp);
	CHECK(n == len && memcmp(buf, want, len) == 0,
	    "maildir file holds the message with LF ends (%zu vs %zu bytes)",
	    n, len);
	CHECK(memchr(buf, '\r', n) == NULL, "maildir file has no CR");
	free(want);
	free(buf);
}

static void
maildir_deliver(const char *url, const char *dir)
{
	char sub[256], file[512];
	struct nh_conn *c = conn(url, &tls_none, &to_test);
	struct res x;

	do_open(c, &x);
	CHECK_REPLY(x, 250, "maildir: open");
	CHECK_INT(nh_is_open(c), 1, "maildir: open");
	do_mail(c, "<a@x>", "", &x);
	CHECK_STR(x.r[0].enh, "2.1.0", "maildir: MAIL");
	do_rcpt(c, "<b@y>", &x);
	CHECK_STR(x.r[0].enh, "2.1.5", "maildir: RCPT");
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	CHECK_REPLY(x, 250, "maildir: DATA");
	CHECK_STR(x.r[0].enh, "2.0.0", "maildir: DATA enh");
	nh_conn_free(c);
	snprintf(sub, sizeof sub, "%s/new", dir);
	CHECK_INT(count_files(sub, file, sizeof file), 1, "one file in new/");
	check_file(file, test_msg, sizeof test_msg - 1);
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	CHECK_INT(count_files(sub, file, sizeof file), 0, "tmp/ empty");
	snprintf(sub, sizeof sub, "%s/cur", dir);
	CHECK(access(sub, F_OK) == 0, "cur/ made");
}

static void
test_maildir(void)
{
	char dir[128], url[160], file[512], sub[160];
	struct nh_conn *c;
	struct res x;
	int fd;

	snprintf(dir, sizeof dir, "%s/Maildir", tmpdir);
	snprintf(url, sizeof url, "maildir:%s", dir);
	maildir_deliver(url, dir);

	/* A path through a regular file cannot be made: 451 4.3.0. */
	snprintf(file, sizeof file, "%s/plainfile", tmpdir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	snprintf(url, sizeof url, "maildir:%s/plainfile/Maildir", tmpdir);
	c = conn(url, &tls_none, &to_test);
	do_mail(c, "<a@x>", "", &x);
	do_data(c, test_msg, sizeof test_msg - 1, &x);
	CHECK_FAIL(x, "4.3.0", "maildir: ENOTDIR");
	CHECK(strstr(x.r[0].text, "maildir: mkdir") != NULL,
	    "maildir failure text \"%s\"", x.r[0].text);
	nh_conn_free(c);

	/* Freed while the job runs: no callback, the job cleans up. */
	snprintf(dir, sizeof dir, "%s/Maildir2", tmpdir);
	snprintf(url, sizeof url, "maildir:%s", dir);
	c = conn(url, &tls_none, &to_test);
	memset(&x, 0, sizeof x);
	nh_data(c, test_msg, sizeof test_msg - 1, res_cb, &x);
	nh_conn_free(c);
	spin(300);
	CHECK_INT(x.ncalls, 0, "maildir freed in flight: no callback");
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	CHECK_INT(count_files(sub, file, sizeof file), 0, "maildir2 tmp/ empty");
}

static void
test_maildir_no_jobq(void)
{
	struct nh_conn *c = conn("maildir:/nonexistent/x", &tls_none, &to_test);
	struct res x;

	do_data(c, "x\r\n", 3, &x);
	CHECK_FAIL(x, "4.3.0", "maildir without jobq");
	nh_conn_free(c);
}

/* ---- main ---- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	struct timeval tick = { 0, 20000 };
	struct event *ticker;

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	base = event_base_new();
	ticker = event_new(base, -1, EV_PERSIST, ticker_cb, NULL);
	event_add(ticker, &tick);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/jaga-nh-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		abort();
	chmod(tmpdir, 0755);

	test_urls();
	test_maildir_no_jobq();
	jobq_start(2);
	test_maildir();
	test_refused();
	test_fake_mail_550();
	test_fake_rcpt_4xx_data();
	test_fake_data_failures();
	test_fake_open_failures();
	test_fake_lmtp();
	test_fake_421_reconnect();
	test_fake_open_in_txn_idle_close();
	test_fake_free_inflight();
	test_chains();
	tls_setup();
	test_tls();
	if (access(SINK, X_OK) == 0) {
		test_sink_smtp();
		test_sink_lmtp_unix();
		test_sink_hangups();
	} else {
		printf("nexthop: NOTE: %s missing, smtp-sink tests skipped\n",
		    SINK);
	}

	jobq_stop();
	spin(50);
	event_free(ticker);
	event_base_free(base);
	X509_free(cert1);
	X509_free(cert2);
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return harness_end("nexthop");
}
