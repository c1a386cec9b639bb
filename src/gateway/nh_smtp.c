/* nh_smtp.c - SMTP (RFC 5321) and LMTP (RFC 2033) client for next hops.
 *
 * One connection, one command at a time (no PIPELINING), each reply read
 * with the bounded smtp_reply parser.  STARTTLS (RFC 3207) puts an OpenSSL
 * filter bufferevent over the socket one.  A next hop with a vault
 * credential (url.auth) then logs in, AUTH PLAIN or LOGIN (RFC 4954,
 * gateway/nh_auth.h), after verified TLS only.  Every phase has a timer
 * (RFC 5321 §4.5.3.2); any failure closes the connection and answers the
 * request in flight with a 451 jaga makes itself, so the session never
 * hears 2xx for a message that did not get a 2xx from the next hop after
 * the final dot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "gateway/bevio.h"
#include "gateway/nh_auth.h"
#include "gateway/nh_impl.h"
#include "util/log.h"

#define NH_SMTP_CMD_MAX		1024	/* MAIL with extension parameters:
					 * RFC 5321 §4.5.3.1.4 + §4.1.1.11 */
#define NH_SMTP_CHUNK		65536	/* message bytes queued at a time */
#define NH_SMTP_QUIT_MS		2000	/* wait for 221 when closing */

enum nh_smtp_state {
	NH_S_CLOSED, NH_S_CONNECTING, NH_S_GREETING, NH_S_EHLO, NH_S_HELO,
	NH_S_STARTTLS, NH_S_TLS, NH_S_READY, NH_S_MAIL, NH_S_RCPT,
	NH_S_DATA, NH_S_BODY, NH_S_DOT, NH_S_RSET,
	NH_S_PMAIL, NH_S_PRCPT,		/* MAIL and RCPT sent together */
	NH_S_CRED,			/* credential decrypting (job pool) */
	NH_S_AUTH, NH_S_AUTHLOGIN, NH_S_AUTHUSER,	/* RFC 4954 */
	NH_S_COUNT
};

struct nh_smtp {
	struct nh_conn *c;
	enum nh_smtp_state st;
	struct bufferevent *bev;	/* the top one (TLS filter or socket) */
	struct event *timer;		/* the current phase's deadline */
	SSL_CTX *ssl_ctx;
	int lmtp;
	int tls_on;
	int owed;			/* a callback is still owed */
	struct smtp_reply reply;	/* being parsed */
	struct smtp_reply ehlo;		/* the last EHLO/LHLO reply */
	int in_txn;			/* MAIL accepted, no DATA/RSET yet */
	int nrcpt_ok;			/* RCPTs with 2xx in this transaction */
	int nwant, ngot;		/* LMTP replies after the dot */
	const char *msg;		/* DATA: the caller's message */
	size_t len, off;
	int at_bol;			/* at a line start (dot-stuffing) */
	int authed;			/* AUTH succeeded (RFC 4954 §4) */
	struct nh_auth_job *cred_job;	/* NH_S_CRED */
	struct vault_secret cred;	/* AUTH LOGIN: until the password is
					 * written (locked memory) */
	const char *mech;		/* "PLAIN" or "LOGIN" */
	char auth_user[VAULT_USER_MAX + 1];	/* for the log line */
};

typedef void nh_smtp_handler(struct nh_smtp *s, const struct smtp_reply *r);

static void nh_smtp_readcb(struct bufferevent *bev, void *arg);
static void nh_smtp_writecb(struct bufferevent *bev, void *arg);
static void nh_smtp_eventcb(struct bufferevent *bev, short what, void *arg);
static void nh_smtp_cred_wipe(struct nh_smtp *s);
static void nh_smtp_auth_begin(struct nh_smtp *s);

/* ---- phases, timers, failure ---- */

static const char *const nh_smtp_phase[NH_S_COUNT] = {
	[NH_S_CLOSED] = "idle", [NH_S_CONNECTING] = "connect",
	[NH_S_GREETING] = "greeting", [NH_S_EHLO] = "EHLO",
	[NH_S_HELO] = "HELO", [NH_S_STARTTLS] = "STARTTLS",
	[NH_S_TLS] = "TLS handshake", [NH_S_READY] = "idle",
	[NH_S_MAIL] = "MAIL", [NH_S_RCPT] = "RCPT", [NH_S_DATA] = "DATA",
	[NH_S_BODY] = "message transfer", [NH_S_DOT] = "end of data",
	[NH_S_RSET] = "RSET", [NH_S_PMAIL] = "MAIL", [NH_S_PRCPT] = "RCPT",
	[NH_S_CRED] = "AUTH", [NH_S_AUTH] = "AUTH", [NH_S_AUTHLOGIN] = "AUTH",
	[NH_S_AUTHUSER] = "AUTH",
};

static const char *
nh_smtp_phase_name(const struct nh_smtp *s)
{
	return s->lmtp && s->st == NH_S_EHLO ? "LHLO" : nh_smtp_phase[s->st];
}

/* RFC 5321 §4.5.3.2 defaults stand in for a timeout configured as 0. */
static unsigned
nh_smtp_phase_ms(const struct nh_smtp *s, enum nh_smtp_state st)
{
	const struct nexthop_timeouts *to = &s->c->to;

	switch (st) {
	case NH_S_CONNECTING:
		return to->connect_ms ? to->connect_ms : 30000;
	case NH_S_GREETING:
		return to->greeting_ms ? to->greeting_ms : 300000;
	case NH_S_DATA:
		return to->data_init_ms ? to->data_init_ms : 120000;
	case NH_S_BODY:
		return to->data_block_ms ? to->data_block_ms : 180000;
	case NH_S_DOT:
		return to->data_done_ms ? to->data_done_ms : 600000;
	default:
		return to->command_ms ? to->command_ms : 300000;
	}
}

/* Enter a phase and start its clock. */
static void
nh_smtp_enter(struct nh_smtp *s, enum nh_smtp_state st)
{
	unsigned ms = nh_smtp_phase_ms(s, st);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
	    1000 };

	s->st = st;
	if (st == NH_S_READY || st == NH_S_CLOSED)
		evtimer_del(s->timer);
	else
		evtimer_add(s->timer, &tv);
}

/* Take the socket down at once, without QUIT. */
static void
nh_smtp_drop(struct nh_smtp *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->bev = NULL;
	nh_auth_cancel(s->cred_job);
	s->cred_job = NULL;
	nh_smtp_cred_wipe(s);
	s->authed = 0;
	s->tls_on = 0;
	s->in_txn = 0;
	s->nrcpt_ok = 0;
	s->msg = NULL;
	nh_smtp_enter(s, NH_S_CLOSED);
}

static void
nh_smtp_log_lost(struct nh_smtp *s, const char *why)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_WARN, s->c->sessid, "nexthop", "error");
	logline_str(&l, "phase", nh_smtp_phase_name(s));
	logline_str(&l, "reason", why);
	logline_end(&l);
}

/* LMTP lost after the dot: the replies already read stay (those
 * recipients were delivered), the missing ones get the made-up 451. */
static void
nh_smtp_fail_lmtp_dot(struct nh_smtp *s, const char *text)
{
	int i;

	for (i = s->ngot; i < s->nwant; i++)
		smtp_reply_set(&s->c->replies[i], 451, "4.4.2", text);
	nh_finish(s->c, s->nwant);
}

/* Answer what is owed with the reply jaga makes (RFC 3463: 4.4.1 no
 * answer from host, 4.4.2 bad connection), then close. */
static void
nh_smtp_fail(struct nh_smtp *s, const char *why)
{
	char text[400];
	int opening = s->c->req == NH_REQ_OPEN;
	int lmtp_data = s->c->req == NH_REQ_DATA && s->lmtp;

	nh_smtp_log_lost(s, why);
	if (s->owed) {
		s->owed = 0;
		if (opening)
			snprintf(text, sizeof text,
			    "next hop unavailable: %s", why);
		else
			snprintf(text, sizeof text, "next hop connection %s "
			    "during %s", why, nh_smtp_phase_name(s));
		if (lmtp_data && s->st == NH_S_DOT)
			nh_smtp_fail_lmtp_dot(s, text);
		else
			nh_finish_made(s->c, lmtp_data && s->nrcpt_ok > 1 ?
			    s->nrcpt_ok : 1, 451, opening ? "4.4.1" : "4.4.2",
			    text);
	}
	nh_smtp_drop(s);
}

static void
nh_smtp_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nh_smtp *s = arg;

	(void)fd;
	(void)what;
	nh_smtp_fail(s, "timed out");
}

/* Hand r (1 reply) to the request in flight. */
static void
nh_smtp_reply(struct nh_smtp *s, const struct smtp_reply *r)
{
	s->owed = 0;
	s->c->replies[0] = *r;
	nh_finish(s->c, 1);
}

static void
nh_smtp_send(struct nh_smtp *s, const char *line, size_t len,
    enum nh_smtp_state st)
{
	int rc;

	smtp_reply_init(&s->reply);
	nh_smtp_enter(s, st);
	/* a filter (TLS) has an underlying bufferevent; a plain one does not */
	rc = bufferevent_get_underlying(s->bev) == NULL ?
	    bevio_write_plain(s->bev, line, len) :
	    bufferevent_write(s->bev, line, len);
	if (rc < 0)
		nh_smtp_fail(s, "lost (write failed)");
}

/* ---- connection set-up: connect, greeting, EHLO, STARTTLS ---- */

static void
nh_smtp_log_connect(struct nh_smtp *s)
{
	const struct nexthop_url *u = &s->c->url;
	char addr[INET6_ADDRSTRLEN + 8];
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->c->sessid, "nexthop", "connect");
	if (u->addr.ss_family == AF_UNIX) {
		logline_str(&l, "addr", u->path);
		logline_str(&l, "kind", "lmtp");
	} else {
		addr[0] = '\0';
		inet_ntop(u->addr.ss_family, u->addr.ss_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)&u->addr)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)&u->addr)->sin6_addr,
		    addr, sizeof addr);
		logline_str(&l, "addr", addr);
		logline_str(&l, "kind", s->lmtp ? "lmtp" : "smtp");
		logline_int(&l, "port", u->port);
	}
	logline_end(&l);
}

static void
nh_smtp_connect(struct nh_smtp *s)
{
	struct nh_conn *c = s->c;

	s->bev = bufferevent_socket_new(c->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		nh_smtp_fail(s, "out of memory");
		return;
	}
	nh_smtp_enter(s, NH_S_CONNECTING);
	/* Callbacks only after connect: an immediate failure may otherwise
	 * run the event callback inside bufferevent_socket_connect(). */
	if (bufferevent_socket_connect(s->bev,
	    (const struct sockaddr *)&c->url.addr, (int)c->url.addrlen) < 0) {
		char why[200];

		snprintf(why, sizeof why, "connect: %s", strerror(errno));
		nh_smtp_fail(s, why);
		return;
	}
	bufferevent_setcb(s->bev, nh_smtp_readcb, NULL, nh_smtp_eventcb, s);
}

static void
nh_smtp_connected(struct nh_smtp *s)
{
	int one = 1;

	/* Commands and the final dot are small writes that wait for a
	 * reply: without this, Nagle meets delayed ACK and each costs 40 ms.
	 * (Fails harmlessly on a unix socket.) */
	setsockopt(bufferevent_getfd(s->bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof one);
	nh_smtp_log_connect(s);
	smtp_reply_init(&s->reply);
	nh_smtp_enter(s, NH_S_GREETING);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* EHLO, or LHLO for LMTP (RFC 2033 §4.1). */
static void
nh_smtp_send_ehlo(struct nh_smtp *s)
{
	char line[300];
	int n = snprintf(line, sizeof line, "%s %s\r\n",
	    s->lmtp ? "LHLO" : "EHLO", s->c->tls.helo_name);

	nh_smtp_send(s, line, (size_t)n, NH_S_EHLO);
}

/* RFC 5321 §4.3.1: 220 is the only greeting that lets us go on. */
static void
nh_smtp_on_greeting(struct nh_smtp *s, const struct smtp_reply *r)
{
	char why[SMTP_REPLYLINE_MAX + 32];

	if (r->code != 220) {
		snprintf(why, sizeof why, "greeting %d %s", r->code, r->text);
		nh_smtp_fail(s, why);
		return;
	}
	nh_smtp_send_ehlo(s);
}

static int
nh_smtp_tls_required(const struct nh_smtp *s)
{
	return s->c->tls.mode == NH_TLS_ENCRYPT ||
	    s->c->tls.mode == NH_TLS_VERIFY;
}

/* Connected and greeted: answer nh_open with the EHLO reply. */
static void
nh_smtp_ready(struct nh_smtp *s)
{
	nh_smtp_enter(s, NH_S_READY);
	s->in_txn = 0;
	s->nrcpt_ok = 0;
	nh_smtp_reply(s, &s->ehlo);
}

static void
nh_smtp_after_ehlo(struct nh_smtp *s)
{
	int offered = (s->ehlo.ehlo_caps & SMTP_CAP_STARTTLS) != 0;

	if (!s->tls_on && s->c->tls.mode != NH_TLS_NONE && offered) {
		nh_smtp_send(s, "STARTTLS\r\n", 10, NH_S_STARTTLS);
		return;
	}
	if (!s->tls_on && nh_smtp_tls_required(s)) {
		nh_smtp_fail(s, "TLS required but STARTTLS not offered");
		return;
	}
	if (s->c->url.auth[0] != '\0' && !s->authed) {
		nh_smtp_auth_begin(s);
		return;
	}
	nh_smtp_ready(s);
}

/* RFC 5321 §3.2: a server that does not know EHLO gets HELO (not LMTP:
 * RFC 2033 §4.1 has only LHLO). */
static void
nh_smtp_on_ehlo(struct nh_smtp *s, const struct smtp_reply *r)
{
	char line[300], why[SMTP_REPLYLINE_MAX + 32];
	int n;

	if (r->code == 250) {
		s->ehlo = *r;	/* after STARTTLS this replaces the first */
		nh_smtp_after_ehlo(s);
	} else if (r->code >= 500 && !s->lmtp && !s->tls_on) {
		n = snprintf(line, sizeof line, "HELO %s\r\n",
		    s->c->tls.helo_name);
		nh_smtp_send(s, line, (size_t)n, NH_S_HELO);
	} else {
		snprintf(why, sizeof why, "%s %d %s", s->lmtp ? "LHLO" :
		    "EHLO", r->code, r->text);
		nh_smtp_fail(s, why);
	}
}

static void
nh_smtp_on_helo(struct nh_smtp *s, const struct smtp_reply *r)
{
	char why[SMTP_REPLYLINE_MAX + 32];

	if (r->code != 250) {
		snprintf(why, sizeof why, "HELO %d %s", r->code, r->text);
		nh_smtp_fail(s, why);
		return;
	}
	s->ehlo = *r;
	s->ehlo.ehlo_caps = 0;
	if (nh_smtp_tls_required(s)) {
		nh_smtp_fail(s, "TLS required but EHLO refused");
		return;
	}
	nh_smtp_ready(s);
}

/* ---- STARTTLS (RFC 3207) ---- */

static SSL_CTX *
nh_smtp_tls_ctx_new(const struct nexthop_tls *tls, char *why, size_t whylen)
{
	const char *ca = tls->ca_file;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(why, whylen, "TLS: cannot create context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, tls->mode == NH_TLS_VERIFY ?
	    SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (tls->mode == NH_TLS_VERIFY && (*ca != '\0' ?
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) :
	    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(why, whylen, "TLS: cannot load CA file \"%s\"",
		    *ca != '\0' ? ca : "(system)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Contexts are shared by every connection with the same verification
 * settings: loading a CA store per connection costs milliseconds.  The
 * cache lives as long as the process; each user holds a reference. */
#define NH_TLS_CACHE 8

static struct {
	int verify;
	char ca[256];
	SSL_CTX *ctx;
} nh_tls_cache[NH_TLS_CACHE];
static pthread_mutex_t nh_tls_lock = PTHREAD_MUTEX_INITIALIZER;

static SSL_CTX *
nh_smtp_tls_ctx(struct nh_smtp *s, char *why, size_t whylen)
{
	const struct nexthop_tls *tls = &s->c->tls;
	int verify = tls->mode == NH_TLS_VERIFY, i;
	SSL_CTX *ctx = NULL;

	pthread_mutex_lock(&nh_tls_lock);
	for (i = 0; i < NH_TLS_CACHE && nh_tls_cache[i].ctx != NULL; i++)
		if (nh_tls_cache[i].verify == verify &&
		    strcmp(nh_tls_cache[i].ca, tls->ca_file) == 0)
			break;
	if (i < NH_TLS_CACHE && nh_tls_cache[i].ctx != NULL) {
		ctx = nh_tls_cache[i].ctx;
		SSL_CTX_up_ref(ctx);		/* the caller's reference */
	} else if ((ctx = nh_smtp_tls_ctx_new(tls, why, whylen)) != NULL &&
	    i < NH_TLS_CACHE) {
		nh_tls_cache[i].verify = verify;
		snprintf(nh_tls_cache[i].ca, sizeof nh_tls_cache[i].ca, "%s",
		    tls->ca_file);
		nh_tls_cache[i].ctx = ctx;	/* the cache's reference */
		SSL_CTX_up_ref(ctx);		/* the caller's reference */
	}	/* cache full: the caller holds the only reference */
	pthread_mutex_unlock(&nh_tls_lock);
	return ctx;
}

/* SNI and, for verify, the name (or address) the certificate must show. */
static SSL *
nh_smtp_tls_ssl(struct nh_smtp *s)
{
	const char *host = s->c->url.host;
	unsigned char bin[16];
	int literal = inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1;
	SSL *ssl = SSL_new(s->ssl_ctx);

	if (ssl == NULL || *host == '\0')
		return ssl;
	if (!literal)
		SSL_set_tlsext_host_name(ssl, host);
	if (s->c->tls.mode != NH_TLS_VERIFY)
		return ssl;
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if ((literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
	    host) : SSL_set1_host(ssl, host)) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

static void
nh_smtp_tls_start(struct nh_smtp *s)
{
	char why[200];
	struct bufferevent *f;
	SSL *ssl;

	if (s->ssl_ctx == NULL &&
	    (s->ssl_ctx = nh_smtp_tls_ctx(s, why, sizeof why)) == NULL) {
		nh_smtp_fail(s, why);
		return;
	}
	ERR_clear_error();
	if ((ssl = nh_smtp_tls_ssl(s)) == NULL) {
		nh_smtp_fail(s, "TLS: cannot set up the session");
		return;
	}
	f = bufferevent_openssl_filter_new(s->c->base, s->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (f == NULL) {
		s->bev = NULL;	/* libevent has released it */
		nh_smtp_fail(s, "TLS: cannot set up the filter");
		return;
	}
	s->bev = f;
	nh_smtp_enter(s, NH_S_TLS);
	bufferevent_setcb(f, nh_smtp_readcb, nh_smtp_writecb, nh_smtp_eventcb,
	    s);
	bufferevent_enable(f, EV_READ | EV_WRITE);
}

static void
nh_smtp_on_starttls(struct nh_smtp *s, const struct smtp_reply *r)
{
	char why[SMTP_REPLYLINE_MAX + 32];

	if (r->code != 220 && !nh_smtp_tls_required(s)) {
		nh_smtp_ready(s);	/* "may": go on in the clear */
		return;
	}
	if (r->code != 220) {
		snprintf(why, sizeof why, "STARTTLS %d %s", r->code, r->text);
		nh_smtp_fail(s, why);
		return;
	}
	/* RFC 3207 §5 / CVE-2011-0411: anything sent after the 220 and
	 * before the handshake was injected in the clear. */
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		nh_smtp_fail(s, "TLS: plaintext data after STARTTLS reply");
		return;
	}
	nh_smtp_tls_start(s);
}

static int
nh_smtp_tls_verified(SSL *ssl)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	int ok = peer != NULL && SSL_get_verify_result(ssl) == X509_V_OK;

	X509_free(peer);
	return ok;
}

/* Handshake done: log it, then EHLO again (RFC 3207 §4.2: forget all that
 * was learned before TLS). */
static void
nh_smtp_tls_done(struct nh_smtp *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	struct logline l;

	s->tls_on = 1;
	logline_begin(&l, LOG_LVL_INFO, s->c->sessid, "nexthop", "tls");
	logline_str(&l, "version", SSL_get_version(ssl));
	logline_str(&l, "cipher", SSL_get_cipher_name(ssl));
	logline_str(&l, "verified", nh_smtp_tls_verified(ssl) ? "yes" : "no");
	logline_end(&l);
	smtp_reply_init(&s->ehlo);
	nh_smtp_send_ehlo(s);
}

static void
nh_smtp_tls_error(struct nh_smtp *s, char *why, size_t whylen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = bufferevent_get_openssl_error(s->bev);
	char buf[256];

	if (s->c->tls.mode == NH_TLS_VERIFY && vr != X509_V_OK) {
		snprintf(why, whylen, "TLS certificate: %s",
		    X509_verify_cert_error_string(vr));
	} else if (e != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		snprintf(why, whylen, "TLS handshake: %s", buf);
	} else {
		snprintf(why, whylen, "TLS handshake failed");
	}
	while (bufferevent_get_openssl_error(s->bev) != 0)
		;
}

/* ---- AUTH (RFC 4954) with the vault credential (gateway/nh_auth.h) ---- */

static void
nh_smtp_cred_wipe(struct nh_smtp *s)
{
	if (s->cred.secret != NULL)
		vault_secret_free(&s->cred);
	sodium_memzero(&s->cred, sizeof s->cred);
}

/* One line per AUTH: never the secret, nor anything sent in AUTH. */
static void
nh_smtp_log_auth(struct nh_smtp *s, const struct smtp_reply *r,
    const char *reason)
{
	char auth[NEXTHOP_AUTH_MAX + 8];
	int ok = r != NULL && r->code == 235;
	struct logline l;

	snprintf(auth, sizeof auth, "vault:%s", s->c->url.auth);
	logline_begin(&l, ok ? LOG_LVL_INFO : LOG_LVL_WARN, s->c->sessid,
	    "nexthop", "auth");
	logline_str(&l, "auth", auth);
	logline_str(&l, "user", s->auth_user[0] ? s->auth_user : "-");
	logline_str(&l, "result", ok ? "ok" : "failed");
	logline_int(&l, "code", r != NULL ? r->code : 0);
	logline_str(&l, "mech", s->mech != NULL ? s->mech : "-");
	if (r != NULL && !ok) {
		logline_str(&l, "enh", r->enh);
		logline_str(&l, "reply", r->text);
	}
	if (reason != NULL)
		logline_str(&l, "reason", reason);
	logline_end(&l);
}

/* Our credential did not work: the client is not at fault and retries
 * later (RFC 3463 4.7.0: security, temporary); the next hop is closed. */
static void
nh_smtp_fail_auth(struct nh_smtp *s, const struct smtp_reply *r,
    const char *reason)
{
	char text[SMTP_REPLYLINE_MAX + 64];

	nh_smtp_log_auth(s, r, reason);
	if (r != NULL)
		snprintf(text, sizeof text, "next hop refused the gateway's "
		    "upstream credential (%d %s)", r->code, r->enh);
	else
		snprintf(text, sizeof text, "next hop upstream credential "
		    "unavailable");
	if (s->owed) {
		s->owed = 0;
		nh_finish_made(s->c, 1, 451, "4.7.0", text);
	}
	nh_smtp_drop(s);
}

/* Write a line made by nh_auth (locked memory, by reference). */
static void
nh_smtp_send_secret(struct nh_smtp *s, int rc, enum nh_smtp_state st)
{
	smtp_reply_init(&s->reply);
	nh_smtp_enter(s, st);
	if (rc < 0)
		nh_smtp_fail_auth(s, NULL, "cannot encode the credential");
}

/* The credential is decrypted: PLAIN with the initial response (RFC 4954
 * §4, one round trip), else LOGIN; the secret is wiped once written. */
static void
nh_smtp_on_cred(void *arg, struct vault_secret *cred, const char *err)
{
	struct nh_smtp *s = arg;
	struct evbuffer *out = bufferevent_get_output(s->bev);

	s->cred_job = NULL;
	if (cred == NULL) {
		nh_smtp_fail_auth(s, NULL, err);
		return;
	}
	snprintf(s->auth_user, sizeof s->auth_user, "%s", cred->user);
	if (s->ehlo.ehlo_caps & SMTP_CAP_AUTH_PLAIN) {
		s->mech = "PLAIN";
		nh_smtp_send_secret(s, nh_auth_put_plain(out, cred), NH_S_AUTH);
		return;
	}
	s->mech = "LOGIN";
	s->cred = *cred;	/* kept in locked memory for two steps */
	cred->secret = NULL;
	nh_smtp_send(s, "AUTH LOGIN\r\n", 12, NH_S_AUTHLOGIN);
}

static void
nh_smtp_auth_begin(struct nh_smtp *s)
{
	unsigned caps = s->ehlo.ehlo_caps;

	s->mech = NULL;
	s->auth_user[0] = '\0';
	if (!(caps & (SMTP_CAP_AUTH_PLAIN | SMTP_CAP_AUTH_LOGIN))) {
		nh_smtp_fail_auth(s, NULL, "AUTH PLAIN or LOGIN not offered");
		return;
	}
	nh_smtp_enter(s, NH_S_CRED);
	s->cred_job = nh_auth_fetch(s->c->base, s->c->url.auth,
	    nh_smtp_on_cred, s);
	if (s->cred_job == NULL)
		nh_smtp_fail_auth(s, NULL, "job queue not running");
}

/* 235: logged in (RFC 4954 §6); anything else (535 5.7.8 above all)
 * fails the open with 451 4.7.0. */
static void
nh_smtp_on_auth(struct nh_smtp *s, const struct smtp_reply *r)
{
	nh_smtp_cred_wipe(s);
	if (r->code != 235) {
		nh_smtp_fail_auth(s, r, NULL);
		return;
	}
	s->authed = 1;
	nh_smtp_log_auth(s, r, NULL);
	nh_smtp_ready(s);
}

/* AUTH LOGIN: 334 asks for the user name, then for the password. */
static void
nh_smtp_on_authlogin(struct nh_smtp *s, const struct smtp_reply *r)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if (r->code != 334) {
		nh_smtp_on_auth(s, r);
		return;
	}
	nh_smtp_send_secret(s, nh_auth_put_b64(out, s->cred.user,
	    strlen(s->cred.user)), NH_S_AUTHUSER);
}

static void
nh_smtp_on_authuser(struct nh_smtp *s, const struct smtp_reply *r)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	int rc;

	if (r->code != 334) {
		nh_smtp_on_auth(s, r);
		return;
	}
	rc = nh_auth_put_b64(out, s->cred.secret, s->cred.len);
	nh_smtp_cred_wipe(s);
	nh_smtp_send_secret(s, rc, NH_S_AUTH);
}

/* ---- the transaction ---- */

/* A reply to a transaction command goes to the caller as it is; a 421
 * also means the server is closing (RFC 5321 §3.8). */
static void
nh_smtp_pass(struct nh_smtp *s, const struct smtp_reply *r)
{
	nh_smtp_enter(s, NH_S_READY);
	nh_smtp_reply(s, r);
	if (r->code == 421)
		nh_smtp_drop(s);
}

static void
nh_smtp_on_mail(struct nh_smtp *s, const struct smtp_reply *r)
{
	if (r->code / 100 == 2) {
		s->in_txn = 1;
		s->nrcpt_ok = 0;
	}
	nh_smtp_pass(s, r);
}

/* RFC 2033 §4.2: LMTP answers the final dot once per accepted RCPT. */
static void
nh_smtp_on_rcpt(struct nh_smtp *s, const struct smtp_reply *r)
{
	if (r->code / 100 == 2)
		s->nrcpt_ok++;
	nh_smtp_pass(s, r);
}

/* MAIL and RCPT went together (RFC 2920): MAIL's reply is kept until
 * RCPT's comes.  A 421 closes the connection: no second reply follows. */
static void
nh_smtp_on_pmail(struct nh_smtp *s, const struct smtp_reply *r)
{
	s->c->replies[0] = *r;
	if (r->code / 100 == 2) {
		s->in_txn = 1;
		s->nrcpt_ok = 0;
	}
	if (r->code == 421) {
		s->owed = 0;
		nh_smtp_enter(s, NH_S_READY);
		nh_finish(s->c, 1);
		nh_smtp_drop(s);
		return;
	}
	smtp_reply_init(&s->reply);
	nh_smtp_enter(s, NH_S_PRCPT);
}

static void
nh_smtp_on_prcpt(struct nh_smtp *s, const struct smtp_reply *r)
{
	if (r->code / 100 == 2 && s->in_txn)
		s->nrcpt_ok++;
	s->c->replies[1] = *r;
	s->owed = 0;
	nh_smtp_enter(s, NH_S_READY);
	nh_finish(s->c, 2);
	if (r->code == 421)
		nh_smtp_drop(s);
}

static void
nh_smtp_on_rset(struct nh_smtp *s, const struct smtp_reply *r)
{
	char why[SMTP_REPLYLINE_MAX + 32];

	s->in_txn = 0;
	s->nrcpt_ok = 0;
	if (s->c->req != NH_REQ_OPEN) {
		nh_smtp_pass(s, r);
	} else if (r->code / 100 == 2) {
		nh_smtp_ready(s);	/* nh_open on a connection in a
					 * transaction: RSET, then ready */
	} else {
		snprintf(why, sizeof why, "RSET %d %s", r->code, r->text);
		nh_smtp_fail(s, why);
	}
}

/* Queue up to NH_SMTP_CHUNK message bytes, dot-stuffed (RFC 5321 §4.5.2).
 * A line starts after every LF, bare or not, so that no "\n.\r\n" can be
 * read as the end of data by a lenient server (SMTP smuggling). */
static int
nh_smtp_stuff(struct nh_smtp *s, struct evbuffer *out)
{
	size_t end = s->len - s->off > NH_SMTP_CHUNK ? s->off + NH_SMTP_CHUNK :
	    s->len;
	const char *nl;
	size_t n;

	while (s->off < end) {
		if (s->at_bol && s->msg[s->off] == '.' &&
		    evbuffer_add(out, ".", 1) < 0)
			return -1;
		nl = memchr(s->msg + s->off, '\n', end - s->off);
		n = nl != NULL ? (size_t)(nl - (s->msg + s->off)) + 1 :
		    end - s->off;
		if (evbuffer_add(out, s->msg + s->off, n) < 0)
			return -1;
		s->off += n;
		s->at_bol = nl != NULL;
	}
	return 0;
}

/* After the message: CRLF if it did not end with one, then ".". */
static int
nh_smtp_dot(struct nh_smtp *s, struct evbuffer *out)
{
	int crlf = s->len >= 2 && s->msg[s->len - 2] == '\r' &&
	    s->msg[s->len - 1] == '\n';

	if (!crlf && evbuffer_add(out, "\r\n", 2) < 0)
		return -1;
	return evbuffer_add(out, ".\r\n", 3);
}

/* Called at 354 and whenever the output has drained. */
static void
nh_smtp_push(struct nh_smtp *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	int rc;

	if (s->off < s->len) {
		nh_smtp_enter(s, NH_S_BODY);	/* §4.5.3.2.5 per block */
		rc = nh_smtp_stuff(s, out);
		if (rc < 0 || s->off < s->len) {
			if (rc < 0)
				nh_smtp_fail(s, "lost (out of memory)");
			return;
		}
	}
	/* the dot goes out with the last block, in the same write */
	smtp_reply_init(&s->reply);
	nh_smtp_enter(s, NH_S_DOT);	/* §4.5.3.2.6 */
	rc = nh_smtp_dot(s, out);
	if (rc < 0)
		nh_smtp_fail(s, "lost (out of memory)");
}

static void
nh_smtp_on_data(struct nh_smtp *s, const struct smtp_reply *r)
{
	int i, n = s->lmtp && s->nrcpt_ok > 1 ? s->nrcpt_ok : 1;

	if (r->code != 354) {
		/* Refused: every recipient hears it (LMTP: one each). */
		if (nh_replies(s->c, n) == NULL)
			n = 1;
		for (i = 0; i < n; i++)
			s->c->replies[i] = *r;
		nh_smtp_enter(s, NH_S_READY);
		s->owed = 0;
		nh_finish(s->c, n);
		if (r->code == 421)
			nh_smtp_drop(s);
		return;
	}
	s->nwant = n;
	s->ngot = 0;
	if (nh_replies(s->c, n) == NULL) {
		nh_smtp_fail(s, "lost (out of memory)");
		return;
	}
	s->off = 0;
	s->at_bol = 1;
	bufferevent_setcb(s->bev, nh_smtp_readcb, nh_smtp_writecb,
	    nh_smtp_eventcb, s);
	nh_smtp_push(s);
}

/* The reply (SMTP) or replies (LMTP) to the final dot end the
 * transaction whatever they say (RFC 5321 §4.1.1.4). */
static void
nh_smtp_on_dot(struct nh_smtp *s, const struct smtp_reply *r)
{
	s->c->replies[s->ngot++] = *r;
	if (s->ngot < s->nwant) {
		smtp_reply_init(&s->reply);
		return;
	}
	s->in_txn = 0;
	s->nrcpt_ok = 0;
	s->msg = NULL;
	nh_smtp_enter(s, NH_S_READY);
	s->owed = 0;
	nh_finish(s->c, s->nwant);
	if (r->code == 421)
		nh_smtp_drop(s);
}

static nh_smtp_handler *const nh_smtp_handlers[NH_S_COUNT] = {
	[NH_S_GREETING] = nh_smtp_on_greeting,
	[NH_S_EHLO] = nh_smtp_on_ehlo,
	[NH_S_HELO] = nh_smtp_on_helo,
	[NH_S_STARTTLS] = nh_smtp_on_starttls,
	[NH_S_MAIL] = nh_smtp_on_mail,
	[NH_S_RCPT] = nh_smtp_on_rcpt,
	[NH_S_DATA] = nh_smtp_on_data,
	[NH_S_DOT] = nh_smtp_on_dot,
	[NH_S_RSET] = nh_smtp_on_rset,
	[NH_S_PMAIL] = nh_smtp_on_pmail,
	[NH_S_PRCPT] = nh_smtp_on_prcpt,
	[NH_S_AUTH] = nh_smtp_on_auth,
	[NH_S_AUTHLOGIN] = nh_smtp_on_authlogin,
	[NH_S_AUTHUSER] = nh_smtp_on_authuser,
};

/* ---- reading ---- */

/* One reply line, bounded (RFC 5321 §4.5.3.1.5): its length, -1 when no
 * full line is there yet, -2 when it is too long. */
static long
nh_smtp_getline(struct bufferevent *bev, char *line)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p;
	size_t eol = 0;

	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_CRLF);
	if (p.pos < 0)
		return evbuffer_get_length(in) > SMTP_REPLYLINE_MAX ? -2 : -1;
	if ((size_t)p.pos > SMTP_REPLYLINE_MAX - 2)
		return -2;
	evbuffer_remove(in, line, (size_t)p.pos);
	evbuffer_drain(in, eol);
	line[p.pos] = '\0';
	return (long)p.pos;
}

static void
nh_smtp_line(struct nh_smtp *s, const char *line, size_t len)
{
	nh_smtp_handler *h = nh_smtp_handlers[s->st];
	enum smtp_reply_state rc;

	if (h == NULL) {
		/* Nothing asked: a 421 when idle, or a broken server. */
		nh_smtp_fail(s, "lost (unexpected reply)");
		return;
	}
	rc = smtp_reply_feed(&s->reply, line, len, s->st == NH_S_EHLO);
	if (rc == REPLY_EBAD)
		nh_smtp_fail(s, "lost (malformed reply)");
	else if (rc == REPLY_DONE)
		h(s, &s->reply);
}

static void
nh_smtp_readcb(struct bufferevent *bev, void *arg)
{
	struct nh_smtp *s = arg;
	char line[SMTP_REPLYLINE_MAX];
	long n;

	/* A handler may close the connection or switch to TLS: stop then. */
	while (s->bev == bev && (n = nh_smtp_getline(bev, line)) != -1) {
		if (n == -2) {
			nh_smtp_fail(s, "lost (malformed reply: line too long)");
			return;
		}
		nh_smtp_line(s, line, (size_t)n);
	}
}

static void
nh_smtp_writecb(struct bufferevent *bev, void *arg)
{
	struct nh_smtp *s = arg;

	if (s->bev == bev && s->st == NH_S_BODY)
		nh_smtp_push(s);
}

static void
nh_smtp_event_why(struct nh_smtp *s, short what, char *why, size_t whylen)
{
	int e = EVUTIL_SOCKET_ERROR();

	if (s->st == NH_S_TLS)
		nh_smtp_tls_error(s, why, whylen);
	else if (s->st == NH_S_CONNECTING)
		snprintf(why, whylen, "connect: %s", e != 0 && e != EAGAIN &&
		    e != EINPROGRESS ? strerror(e) : "failed");
	else if (what & BEV_EVENT_EOF)
		snprintf(why, whylen, "lost");
	else
		snprintf(why, whylen, "lost (%s)", e != 0 ? strerror(e) :
		    "error");
}

static void
nh_smtp_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct nh_smtp *s = arg;
	char why[300];

	if (s->bev != bev)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->st == NH_S_CONNECTING)
			nh_smtp_connected(s);
		else if (s->st == NH_S_TLS)
			nh_smtp_tls_done(s);
		return;
	}
	nh_smtp_event_why(s, what, why, sizeof why);
	nh_smtp_fail(s, why);
}

/* ---- closing: QUIT without anyone waiting (RFC 5321 §4.1.1.10) ---- */

struct nh_smtp_closer {
	struct bufferevent *bev;
	struct event *timer;
	struct nh_smtp_closer *next, **prevp;	/* this thread's closers */
};

/* Closers are made and ended by one worker thread, on its event base. */
static __thread struct nh_smtp_closer *nh_smtp_closers;

static void
nh_smtp_closer_end(struct nh_smtp_closer *q)
{
	if ((*q->prevp = q->next) != NULL)
		q->next->prevp = q->prevp;
	bufferevent_free(q->bev);
	event_free(q->timer);
	free(q);
}

static void
nh_smtp_closer_readcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	nh_smtp_closer_end(arg);	/* the 221, or anything: done */
}

static void
nh_smtp_closer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	nh_smtp_closer_end(arg);
}

static void
nh_smtp_closer_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	nh_smtp_closer_end(arg);
}

/* Hand the idle connection to a closer that sends QUIT and frees itself
 * on the reply, on EOF or after NH_SMTP_QUIT_MS. */
static void
nh_smtp_quit(struct nh_smtp *s)
{
	struct timeval tv = { NH_SMTP_QUIT_MS / 1000,
	    (NH_SMTP_QUIT_MS % 1000) * 1000 };
	struct nh_smtp_closer *q = calloc(1, sizeof *q);

	if (q == NULL || (q->timer = evtimer_new(s->c->base,
	    nh_smtp_closer_timeout, q)) == NULL) {
		free(q);
		nh_smtp_drop(s);
		return;
	}
	q->bev = s->bev;
	s->bev = NULL;
	evbuffer_drain(bufferevent_get_input(q->bev),
	    evbuffer_get_length(bufferevent_get_input(q->bev)));
	bufferevent_setcb(q->bev, nh_smtp_closer_readcb, NULL,
	    nh_smtp_closer_eventcb, q);
	bufferevent_enable(q->bev, EV_READ);
	bufferevent_write(q->bev, "QUIT\r\n", 6);
	evtimer_add(q->timer, &tv);
	if ((q->next = nh_smtp_closers) != NULL)
		q->next->prevp = &q->next;
	q->prevp = &nh_smtp_closers;
	nh_smtp_closers = q;
	nh_smtp_drop(s);
}

int
nh_quitting(void)
{
	return nh_smtp_closers != NULL;
}

void
nh_quit_abort(void)
{
	while (nh_smtp_closers != NULL)
		nh_smtp_closer_end(nh_smtp_closers);
}

/* ---- the ops ---- */

static int
nh_smtp_init(struct nh_conn *c)
{
	struct nh_smtp *s = calloc(1, sizeof *s);

	if (s == NULL)
		return -1;
	s->c = c;
	s->lmtp = c->url.kind == NH_LMTP;
	s->timer = evtimer_new(c->base, nh_smtp_timeout_cb, s);
	if (s->timer == NULL) {
		free(s);
		return -1;
	}
	c->impl = s;
	return 0;
}

static void
nh_smtp_done(struct nh_conn *c)
{
	struct nh_smtp *s = c->impl;

	s->owed = 0;
	if (s->bev != NULL && s->st == NH_S_READY)
		nh_smtp_quit(s);
	else
		nh_smtp_drop(s);
	event_free(s->timer);
	SSL_CTX_free(s->ssl_ctx);
	free(s);
	c->impl = NULL;
}

static void
nh_smtp_open(struct nh_conn *c)
{
	struct nh_smtp *s = c->impl;

	s->owed = 1;
	if (s->st == NH_S_CLOSED)
		nh_smtp_connect(s);
	else if (!s->in_txn)
		nh_smtp_ready(s);
	else
		nh_smtp_send(s, "RSET\r\n", 6, NH_S_RSET);
}

static int
nh_smtp_is_open(const struct nh_conn *c)
{
	const struct nh_smtp *s = c->impl;

	return s->st == NH_S_READY && !s->in_txn;
}

static unsigned
nh_smtp_caps(const struct nh_conn *c)
{
	const struct nh_smtp *s = c->impl;

	return s->st >= NH_S_READY ? s->ehlo.ehlo_caps : 0;
}

/* Send a transaction command, or answer at once when that cannot be. */
static void
nh_smtp_command(struct nh_conn *c, const char *verb, const char *a,
    const char *b, enum nh_smtp_state st)
{
	struct nh_smtp *s = c->impl;
	char line[NH_SMTP_CMD_MAX];
	int n;

	if (s->st != NH_S_READY) {
		nh_finish_made(c, 1, 451, "4.4.2",
		    "next hop connection not open");
		return;
	}
	/* Our caller checked the syntax; a CR or LF here would let one
	 * command smuggle another (RFC 5321 §2.3.8). */
	n = snprintf(line, sizeof line, "%s%s%s\r\n", verb, a, b);
	if (n < 0 || (size_t)n >= sizeof line || strpbrk(a, "\r\n") != NULL ||
	    strpbrk(b, "\r\n") != NULL) {
		nh_finish_made(c, 1, 501, "5.5.2", "invalid command parameter");
		return;
	}
	s->owed = 1;
	nh_smtp_send(s, line, (size_t)n, st);
}

static void
nh_smtp_mail(struct nh_conn *c, const char *path, const char *params)
{
	nh_smtp_command(c, "MAIL FROM:", path, params, NH_S_MAIL);
}

static void
nh_smtp_rcpt(struct nh_conn *c, const char *path)
{
	nh_smtp_command(c, "RCPT TO:", path, "", NH_S_RCPT);
}

static void
nh_smtp_mail_rcpt(struct nh_conn *c, const char *from, const char *params,
    const char *rcpt)
{
	struct nh_smtp *s = c->impl;
	char line[2 * NH_SMTP_CMD_MAX];
	int n;

	if (s->st != NH_S_READY) {
		nh_finish_made(c, 1, 451, "4.4.2",
		    "next hop connection not open");
		return;
	}
	/* no CR or LF may smuggle a command in (RFC 5321 §2.3.8) */
	n = snprintf(line, sizeof line, "MAIL FROM:%s%s\r\nRCPT TO:%s\r\n",
	    from, params, rcpt);
	if (n < 0 || (size_t)n >= sizeof line || strpbrk(from, "\r\n") ||
	    strpbrk(params, "\r\n") || strpbrk(rcpt, "\r\n")) {
		nh_finish_made(c, 1, 501, "5.5.2", "invalid command parameter");
		return;
	}
	s->owed = 1;
	nh_smtp_send(s, line, (size_t)n, NH_S_PMAIL);
}

static void
nh_smtp_data(struct nh_conn *c, const char *msg, size_t len)
{
	struct nh_smtp *s = c->impl;

	s->msg = msg;
	s->len = len;
	nh_smtp_command(c, "DATA", "", "", NH_S_DATA);
}

/* RSET with nothing open: there is no transaction to end. */
static void
nh_smtp_rset(struct nh_conn *c)
{
	struct nh_smtp *s = c->impl;

	if (s->st == NH_S_CLOSED)
		nh_finish_made(c, 1, 250, "2.0.0", "Ok (not connected)");
	else
		nh_smtp_command(c, "RSET", "", "", NH_S_RSET);
}

const struct nh_ops nh_smtp_ops = {
	.name = "smtp",
	.init = nh_smtp_init,
	.done = nh_smtp_done,
	.open = nh_smtp_open,
	.is_open = nh_smtp_is_open,
	.caps = nh_smtp_caps,
	.mail = nh_smtp_mail,
	.rcpt = nh_smtp_rcpt,
	.mail_rcpt = nh_smtp_mail_rcpt,
	.data = nh_smtp_data,
	.rset = nh_smtp_rset,
};
