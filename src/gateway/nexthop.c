/* nexthop.c - next hop URLs, struct nh_conn and dispatch to its kind.
 *
 * The public calls check the one-request-at-a-time rule and hand over to
 * the ops table of the kind (nh_smtp.c for SMTP and LMTP, nh_maildir.c).
 * Every completion is delivered through ev_done, from the event loop, so a
 * callback never runs inside the call that asked for it, and freeing the
 * connection (which frees ev_done) guarantees that no callback follows.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <event2/event.h>

#include "gateway/nh_impl.h"
#include "util/log.h"

/* ---- URL parsing ---- */

static int
nh_url_port(const char *s, unsigned *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0') {
		snprintf(err, errlen, "empty port");
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || p - s >= 5) {
			snprintf(err, errlen, "bad port \"%s\"", s);
			return -1;
		}
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535) {
		snprintf(err, errlen, "port %lu out of range 1-65535", v);
		return -1;
	}
	*port = (unsigned)v;
	return 0;
}

/* A host name per RFC 1123 §2.1: letters, digits, '-' and '.'. */
static int
nh_url_hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
		return 0;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.')
			return 0;
	return 1;
}

static void
nh_url_set_port(struct nexthop_url *u)
{
	if (u->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&u->addr)->sin_port =
		    htons((uint16_t)u->port);
	else
		((struct sockaddr_in6 *)&u->addr)->sin6_port =
		    htons((uint16_t)u->port);
}

/* A host name: resolved once, here, with getaddrinfo (first address). */
static int
nh_url_lookup(struct nexthop_url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	if (!nh_url_hostname_ok(u->host)) {
		snprintf(err, errlen, "bad host name \"%s\"", u->host);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(u->host, NULL, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof u->addr) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", u->host,
		    rc != 0 ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
	u->addrlen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Numeric first (inet_pton); DNS only for a name that is not a literal. */
static int
nh_url_resolve(struct nexthop_url *u, int bracketed, char *err, size_t errlen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&u->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->addr;

	memset(&u->addr, 0, sizeof u->addr);
	if (bracketed) {
		if (inet_pton(AF_INET6, u->host, &s6->sin6_addr) != 1) {
			snprintf(err, errlen, "bad IPv6 literal [%s]", u->host);
			return -1;
		}
		s6->sin6_family = AF_INET6;
		u->addrlen = sizeof *s6;
		return 0;
	}
	if (inet_pton(AF_INET, u->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		u->addrlen = sizeof *s4;
		return 0;
	}
	if (strchr(u->host, ':') != NULL) {
		snprintf(err, errlen, "IPv6 literal must be in brackets");
		return -1;
	}
	return nh_url_lookup(u, err, errlen);
}

/* HOST[:PORT] with HOST an IPv4 literal, [IPv6] or a name. */
static int
nh_url_hostport(const char *s, struct nexthop_url *u, unsigned defport,
    char *err, size_t errlen)
{
	const char *end, *port = NULL;
	int bracketed = (*s == '[');
	size_t n;

	if (bracketed) {
		if ((end = strchr(s, ']')) == NULL) {
			snprintf(err, errlen, "missing ']' after IPv6 literal");
			return -1;
		}
		s++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			snprintf(err, errlen, "junk after ']'");
			return -1;
		}
	} else {
		port = strrchr(s, ':');
		end = port != NULL ? port++ : s + strlen(s);
		if (port != NULL && memchr(s, ':', (size_t)(end - s)) != NULL) {
			snprintf(err, errlen, "IPv6 literal must be in brackets");
			return -1;
		}
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof u->host) {
		snprintf(err, errlen, n == 0 ? "empty host" : "host too long");
		return -1;
	}
	memcpy(u->host, s, n);
	u->host[n] = '\0';
	u->port = defport;
	if (port != NULL && nh_url_port(port, &u->port, err, errlen) < 0)
		return -1;
	if (nh_url_resolve(u, bracketed, err, errlen) < 0)
		return -1;
	nh_url_set_port(u);
	return 0;
}

static int
nh_url_path(const char *s, struct nexthop_url *u, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0) {
		snprintf(err, errlen, "empty path");
		return -1;
	}
	if (n >= sizeof u->path) {
		snprintf(err, errlen, "path longer than %zu bytes",
		    sizeof u->path - 1);
		return -1;
	}
	memcpy(u->path, s, n + 1);
	return 0;
}

/* lmtp:unix:/path - an absolute path that fits in sun_path. */
static int
nh_url_unix(const char *s, struct nexthop_url *u, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&u->addr;

	if (nh_url_path(s, u, err, errlen) < 0)
		return -1;
	if (u->path[0] != '/') {
		snprintf(err, errlen, "unix socket path must be absolute");
		return -1;
	}
	if (strlen(u->path) >= sizeof sun->sun_path) {
		snprintf(err, errlen, "unix socket path longer than %zu bytes",
		    sizeof sun->sun_path - 1);
		return -1;
	}
	memset(&u->addr, 0, sizeof u->addr);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, u->path, strlen(u->path) + 1);
	u->addrlen = (socklen_t)sizeof *sun;
	return 0;
}

static int
nh_url_dispatch(const char *s, struct nexthop_url *u, char *err,
    size_t errlen)
{
	if (strncasecmp(s, "smtp://", 7) == 0) {
		u->kind = NH_SMTP;
		return nh_url_hostport(s + 7, u, 25, err, errlen);
	}
	if (strncasecmp(s, "lmtp://", 7) == 0) {
		u->kind = NH_LMTP;
		return nh_url_hostport(s + 7, u, 24, err, errlen);
	}
	if (strncasecmp(s, "lmtp:unix:", 10) == 0) {
		u->kind = NH_LMTP;
		return nh_url_unix(s + 10, u, err, errlen);
	}
	if (strncasecmp(s, "maildir:", 8) == 0) {
		u->kind = NH_MAILDIR;
		return nh_url_path(s + 8, u, err, errlen);
	}
	snprintf(err, errlen, "unknown scheme (want smtp://HOST[:PORT], "
	    "lmtp://HOST[:PORT], lmtp:unix:/PATH or maildir:PATH)");
	return -1;
}

int
nexthop_parse_url(const char *s, struct nexthop_url *u, char *err,
    size_t errlen)
{
	char why[320];
	size_t n = strlen(s);

	memset(u, 0, sizeof *u);
	why[0] = '\0';
	if (n >= sizeof u->text) {
		snprintf(err, errlen, "next hop URL longer than %zu bytes",
		    sizeof u->text - 1);
		return -1;
	}
	memcpy(u->text, s, n + 1);
	if (nh_url_dispatch(s, u, why, sizeof why) < 0) {
		snprintf(err, errlen, "next hop \"%.200s\": %s", s, why);
		return -1;
	}
	return 0;
}

/* ---- struct nh_conn and dispatch ---- */

static void nh_done_cb(evutil_socket_t fd, short what, void *arg);

static void
nh_copy_str(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src != NULL ? src : "");
}

struct nh_conn *
nh_conn_new(struct event_base *base, const struct nexthop_url *url,
    const struct nexthop_tls *tls, const struct nexthop_timeouts *to,
    const char *sessid)
{
	struct nh_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->base = base;
	c->url = *url;
	c->tls = *tls;
	nh_copy_str(c->ca_file, sizeof c->ca_file, tls->ca_file);
	nh_copy_str(c->helo_name, sizeof c->helo_name,
	    tls->helo_name != NULL && *tls->helo_name ? tls->helo_name :
	    "localhost");
	c->tls.ca_file = c->ca_file;
	c->tls.helo_name = c->helo_name;
	/* A credential goes only to a server whose certificate and name
	 * were verified (RFC 4954 §4, RFC 3207 §6): never in the clear. */
	if (url->auth[0] != '\0')
		c->tls.mode = NH_TLS_VERIFY;
	c->to = *to;
	nh_copy_str(c->sessid, sizeof c->sessid, sessid ? sessid : "-");
	c->ops = url->kind == NH_MAILDIR ? &nh_maildir_ops : &nh_smtp_ops;
	c->ev_done = event_new(base, -1, 0, nh_done_cb, c);
	if (c->ev_done == NULL || nh_replies(c, 1) == NULL ||
	    c->ops->init(c) < 0) {
		nh_conn_free(c);
		return NULL;
	}
	return c;
}

void
nh_conn_set_sessid(struct nh_conn *c, const char *sessid)
{
	nh_copy_str(c->sessid, sizeof c->sessid, sessid);
}

void
nh_conn_free(struct nh_conn *c)
{
	if (c == NULL)
		return;
	if (c->impl != NULL)
		c->ops->done(c);
	if (c->ev_done != NULL)
		event_free(c->ev_done);
	free(c->replies);
	free(c);
}

struct smtp_reply *
nh_replies(struct nh_conn *c, int n)
{
	struct smtp_reply *r;

	if (n <= c->replies_cap)
		return c->replies;
	r = realloc(c->replies, (size_t)n * sizeof *r);
	if (r == NULL)
		return NULL;
	c->replies = r;
	c->replies_cap = n;
	return r;
}

void
nh_finish(struct nh_conn *c, int n)
{
	assert(c->req != NH_REQ_NONE);
	assert(n >= 1 && n <= c->replies_cap);
	assert(!event_pending(c->ev_done, EV_TIMEOUT, NULL));
	c->nreplies = n;
	event_active(c->ev_done, EV_TIMEOUT, 1);
}

void
nh_finish_made(struct nh_conn *c, int n, int code, const char *enh,
    const char *text)
{
	int i;

	/* Without memory for n copies, one still tells the truth. */
	if (n < 1 || nh_replies(c, n) == NULL)
		n = 1;
	for (i = 0; i < n; i++)
		smtp_reply_set(&c->replies[i], code, enh, text);
	nh_finish(c, n);
}

/* One line per DATA result (LMTP: one per recipient, with rcpt=N). */
static void
nh_log_data(const struct nh_conn *c)
{
	const struct smtp_reply *r;
	struct logline l;
	int i;

	for (i = 0; i < c->nreplies; i++) {
		r = &c->replies[i];
		logline_begin(&l, r->code / 100 == 2 ? LOG_LVL_INFO :
		    LOG_LVL_WARN, c->sessid, "nexthop", "data");
		if (c->nreplies > 1)
			logline_int(&l, "rcpt", i + 1);
		logline_int(&l, "code", r->code);
		logline_str(&l, "enh", r->enh[0] != '\0' ? r->enh : "-");
		logline_str(&l, "reply", r->text);
		logline_end(&l);
	}
}

/* The request is over before the callback runs: the callback may start
 * the next request or free c, and nothing here touches c afterwards. */
static void
nh_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nh_conn *c = arg;
	nh_cb *cb = c->cb;
	void *cbarg = c->arg;

	(void)fd;
	(void)what;
	if (c->req == NH_REQ_DATA)
		nh_log_data(c);
	c->req = NH_REQ_NONE;
	c->cb = NULL;
	c->arg = NULL;
	cb(cbarg, c->replies, c->nreplies);
}

const char *
nh_req_name(enum nh_req req)
{
	static const char *const names[] = {
		[NH_REQ_NONE] = "idle", [NH_REQ_OPEN] = "connect",
		[NH_REQ_MAIL] = "MAIL", [NH_REQ_RCPT] = "RCPT",
		[NH_REQ_DATA] = "DATA", [NH_REQ_RSET] = "RSET",
		[NH_REQ_MAILRCPT] = "MAIL",
	};

	return names[req];
}

static void
nh_begin(struct nh_conn *c, enum nh_req req, nh_cb *cb, void *arg)
{
	/* Only one request at a time per connection: a second is a bug. */
	assert(c->req == NH_REQ_NONE);
	assert(cb != NULL);
	c->req = req;
	c->cb = cb;
	c->arg = arg;
}

void
nh_open(struct nh_conn *c, nh_cb *cb, void *arg)
{
	nh_begin(c, NH_REQ_OPEN, cb, arg);
	c->ops->open(c);
}

int
nh_is_open(const struct nh_conn *c)
{
	return c->req == NH_REQ_NONE && c->ops->is_open(c);
}

unsigned
nh_caps(const struct nh_conn *c)
{
	return c->ops->caps(c);
}

void
nh_mail(struct nh_conn *c, const char *path, const char *params,
    nh_cb *cb, void *arg)
{
	nh_begin(c, NH_REQ_MAIL, cb, arg);
	c->ops->mail(c, path, params != NULL ? params : "");
}

void
nh_rcpt(struct nh_conn *c, const char *path, nh_cb *cb, void *arg)
{
	nh_begin(c, NH_REQ_RCPT, cb, arg);
	c->ops->rcpt(c, path);
}

/* nh_mail_rcpt without pipelining: RCPT after MAIL's reply. */
static void
nh_chain_rcpt_done(void *arg, const struct smtp_reply *r, int n)
{
	struct nh_conn *c = arg;
	struct smtp_reply both[2];

	both[0] = c->chain_mail;
	both[1] = r[0];
	c->chain_cb(c->chain_arg, both, 2);
}

static void
nh_chain_mail_done(void *arg, const struct smtp_reply *r, int n)
{
	struct nh_conn *c = arg;

	if (r[0].code / 100 != 2) {
		c->chain_cb(c->chain_arg, r, 1);
		return;
	}
	c->chain_mail = r[0];
	nh_rcpt(c, c->chain_rcpt, nh_chain_rcpt_done, c);
}

void
nh_mail_rcpt(struct nh_conn *c, const char *from, const char *params,
    const char *rcpt, nh_cb *cb, void *arg)
{
	if (c->ops->mail_rcpt != NULL &&
	    (c->ops->caps(c) & SMTP_CAP_PIPELINING) &&
	    nh_replies(c, 2) != NULL) {
		nh_begin(c, NH_REQ_MAILRCPT, cb, arg);
		c->ops->mail_rcpt(c, from, params != NULL ? params : "", rcpt);
		return;
	}
	c->chain_cb = cb;
	c->chain_arg = arg;
	snprintf(c->chain_rcpt, sizeof c->chain_rcpt, "%s", rcpt);
	nh_mail(c, from, params, nh_chain_mail_done, c);
}

void
nh_data(struct nh_conn *c, const char *msg, size_t len, nh_cb *cb, void *arg)
{
	nh_begin(c, NH_REQ_DATA, cb, arg);
	c->ops->data(c, msg, len);
}

void
nh_rset(struct nh_conn *c, nh_cb *cb, void *arg)
{
	nh_begin(c, NH_REQ_RSET, cb, arg);
	c->ops->rset(c);
}
