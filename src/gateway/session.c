/* session.c - one SMTP server session: socket I/O, replies, line reading,
 * TLS, timeouts and the session's life cycle.  Commands are answered in
 * smtpd_cmds.c, message content is read in smtpd_data.c. */
#include "gateway/session.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/bevio.h"
#include "gateway/nh_pool.h"
#include "gateway/session_int.h"
#include "util/log.h"
#include "util/netaddr.h"

#define OUTPUT_HIGH (64 * 1024)	/* stop reading while replies pile up */
#define INPUT_HIGH (256 * 1024)	/* libevent stops reading above this */

static void session_read_cb(struct bufferevent *bev, void *arg);
static void session_write_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);
static void session_pump_loop(struct session *s);
static void session_linger_cb(evutil_socket_t fd, short what, void *arg);
static void session_end_later(struct session *s);

void
session_make_id(char *out)
{
	static const char set[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[12];

	randombytes_buf(r, sizeof r);
	for (int i = 0; i < 12; i++)
		out[i] = set[r[i] % 62];
	out[12] = '\0';
}

int
smtpd_is_submission(const struct session *s)
{
	return s->ls->role != ROLE_INBOUND;
}

static void
session_free(struct session *s)
{
	struct timeval now, d;
	struct logline l;

	gettimeofday(&now, NULL);
	timersub(&now, &s->start, &d);
	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "disconnect");
	logline_int(&l, "messages", s->messages);
	logline_int(&l, "rcpts", s->rcpts_total);
	logline_int(&l, "errors", s->errors);
	logline_int(&l, "duration_ms", d.tv_sec * 1000 + d.tv_usec / 1000);
	logline_end(&l);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->w->live = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->w->nlive--;
	if (s->nh_tx || s->w->pool == NULL)
		nh_conn_free(s->nh);	/* the next hop holds a transaction */
	else
		nh_pool_put(s->w->pool, &s->ls->next_hop, s->nh);
	smtpd_auth_forget(s);
	smtpd_guard_forget(s);
	smtpd_msgauth_forget(s);
	smtpd_sign_forget(s);
	if (s->greet_ev)
		event_free(s->greet_ev);
	if (s->linger_ev)
		event_free(s->linger_ev);
	if (s->bev)
		bufferevent_free(s->bev);
	server_leave((struct sockaddr *)&s->sa);
	buf_done(&s->msg);
	free(s->rcpts);
	free(s->snd);
	free(s);
}

void
smtpd_reply_raw(struct session *s, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if (s->ls->role != ROLE_SUBMISSIONS &&
	    bufferevent_get_underlying(s->bev) == NULL)
		bevio_write_plain(s->bev, text, strlen(text));
	else
		evbuffer_add(out, text, strlen(text));
	/* a client that pipelines without reading its replies waits */
	if (evbuffer_get_length(out) > OUTPUT_HIGH && !s->read_paused) {
		bufferevent_disable(s->bev, EV_READ);
		s->read_paused = 1;
	}
}

/* Every reply carries an enhanced status code (RFC 2034 §3). */
void
smtpd_reply(struct session *s, int code, const char *enh, const char *fmt,
    ...)
{
	/* RFC 5321 §4.5.3.1.5: 512 octets with CRLF; code, enhanced code
	 * (at most 15) and spaces take up to 21 of them */
	char text[SMTP_REPLYLINE_MAX - 24], line[SMTP_REPLYLINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (enh && enh[0])
		snprintf(line, sizeof line, "%03d %s %s\r\n", code, enh, text);
	else
		snprintf(line, sizeof line, "%03d %s\r\n", code, text);
	smtpd_reply_raw(s, line);
}

void
smtpd_log_error(struct session *s, const char *cmd, int code,
    const char *enh, const char *reason)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "error");
	logline_int(&l, "code", code);
	logline_str(&l, "enh", enh);
	logline_str(&l, "reason", reason);
	if (cmd)
		logline_str(&l, "cmd", cmd);
	logline_end(&l);
}

void
smtpd_close(struct session *s, int code, const char *enh, const char *reason)
{
	smtpd_reply(s, code, enh, "%s %s", s->w->st->hostname, reason);
	s->state = S_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	/* freed from the event loop once the reply is out (it may have
	 * gone straight to the socket: no write callback then) */
	session_end_later(s);
}

void
smtpd_client_error(struct session *s, int code, const char *enh,
    const char *reason)
{
	smtpd_log_error(s, NULL, code, enh, reason);
	smtpd_reply(s, code, enh, "%s", reason);
	if (++s->errors >= s->w->st->max_errors) {
		smtpd_log_error(s, NULL, 421, "4.7.0", "too many errors");
		smtpd_close(s, 421, "4.7.0", "Error: too many errors");
	}
}

void
smtpd_tx_reset(struct session *s)
{
	s->in_tx = 0;
	s->mail_deferred = 0;
	s->from[0] = '\0';
	s->smtputf8 = 0;
	s->nrcpts = 0;
	buf_reset(&s->msg);
}

/* Read one command line into line[] (no CRLF; line must hold
 * SMTP_AUTH_LINE_MAX + 1).  Returns its length, -1 when no whole line is
 * buffered yet, -2 when a bad line was answered (RFC 5321 §4.5.3.1.4). */
static long
session_getline(struct session *s, char *line)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_ptr p;
	size_t eol_len = 0, len;

	p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		if (evbuffer_get_length(in) > SMTP_AUTH_LINE_MAX) {
			evbuffer_drain(in, evbuffer_get_length(in));
			s->skip_line = 1;
		}
		return -1;
	}
	len = (size_t)p.pos;
	if (s->skip_line || len >= SMTP_AUTH_LINE_MAX) {
		evbuffer_drain(in, len + 1);
		s->skip_line = 0;
		smtpd_client_error(s, 500, "5.5.2", "Error: line too long");
		return -2;
	}
	evbuffer_remove(in, line, len + 1);
	if (len > 0 && line[len - 1] == '\r') {
		len--;
	} else if (s->w->st->bare_lf == BARE_LF_REJECT) {
		smtpd_client_error(s, 500, "5.5.2",
		    "Error: bare <LF> received; lines must end in <CR><LF>");
		return -2;
	}
	line[len] = '\0';
	return (long)len;
}

/* Command lines are limited to 512 octets with CRLF; AUTH lines to 12288
 * (RFC 4954 §4). */
static int
session_line_too_long(const struct session *s, const char *line, size_t len)
{
	if (s->state == S_AUTH || (len >= 5 && strncasecmp(line, "AUTH ", 5) == 0))
		return len + 2 > SMTP_AUTH_LINE_MAX;
	return len + 2 > SMTP_CMDLINE_MAX;
}

static void
session_one_line(struct session *s, char *line, size_t len)
{
	s->more_input = evbuffer_get_length(bufferevent_get_input(s->bev)) > 0;
	if (session_line_too_long(s, line, len)) {
		smtpd_client_error(s, 500, "5.5.2",
		    "Error: command line too long (RFC 5321 section 4.5.3.1.4)");
	} else if (s->state == S_AUTH) {
		smtpd_auth_line(s, line, len);
	} else {
		smtpd_dispatch(s, line, len);
	}
	sodium_memzero(line, len);	/* it may have held AUTH data */
}

/* After EOF: is there still something to answer? */
static int
session_has_work(struct session *s)
{
	return s->state == S_WAIT ||
	    evbuffer_get_length(bufferevent_get_input(s->bev)) > 0;
}

/* The client is gone (EOF) and everything it sent is answered: close once
 * the replies are written, from the event loop, never inside the pump. */
static void
session_end_later(struct session *s)
{
	s->state = S_CLOSING;
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	if (s->linger_ev == NULL)
		s->linger_ev = evtimer_new(s->w->base, session_linger_cb, s);
	if (s->linger_ev != NULL)
		event_active(s->linger_ev, EV_TIMEOUT, 0);
}

/* Handle buffered input until a reply must wait or input runs out.  Never
 * re-entered: a reply given from inside (a next hop answering at once)
 * only changes the state, and this loop goes on. */
static void
session_pump(struct session *s)
{
	if (s->in_pump)
		return;
	s->in_pump = 1;
	session_pump_loop(s);
	s->in_pump = 0;
}

static void
session_pump_loop(struct session *s)
{
	char line[SMTP_AUTH_LINE_MAX + 1];
	long len;

	for (;;) {
		if (s->w->draining && (s->state == S_CMD || s->state == S_AUTH)) {
			smtpd_close(s, 421, "4.3.2", "Service shutting down, "
			    "try again later");
			return;
		}
		if (s->state == S_DATA) {
			if (!smtpd_data_read(s))
				return;
			smtpd_data_end(s);
			continue;
		}
		if (s->state != S_CMD && s->state != S_AUTH)
			return;
		len = session_getline(s, line);
		if (len == -1) {
			if (s->eof)
				session_end_later(s);
			return;
		}
		if (len >= 0)
			session_one_line(s, line, (size_t)len);
	}
}

void
smtpd_resume(struct session *s)
{
	if (s->state == S_WAIT)
		s->state = S_CMD;
	/* reading stays on while a reply waits for the next hop: turning it
	 * off and on costs two epoll_ctl calls per command; what arrives
	 * meanwhile waits in the input buffer (bounded by INPUT_HIGH) */
	if (s->state == S_CMD || s->state == S_AUTH || s->state == S_DATA)
		session_pump(s);
}

struct session *
session_next(const struct session *s)
{
	return s->next;
}

void
session_drain(struct session *s)
{
	if (s->state == S_CMD || s->state == S_AUTH || s->state == S_GREET)
		smtpd_close(s, 421, "4.3.2", "Service shutting down, try "
		    "again later");
	/* S_DATA and S_WAIT: session_pump closes after the answer */
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == S_GREET || s->state == S_WAIT || s->state == S_CLOSING)
		return;
	session_pump(s);
}

/* Has everything we wrote reached the socket?  Under STARTTLS the session
 * writes into a TLS filter whose ciphertext waits in the socket's own
 * bufferevent; closing before that leaves would cut the last reply. */
static int
session_flushed(struct session *s)
{
	struct bufferevent *u = bufferevent_get_underlying(s->bev);

	return evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 &&
	    (u == NULL || evbuffer_get_length(bufferevent_get_output(u)) == 0);
}

#define LINGER_STEP_MS 10
#define LINGER_STEPS 300	/* give a slow reader 3 s for the last reply */

static void
session_linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct timeval tv = { 0, LINGER_STEP_MS * 1000 };

	if (session_flushed(s) || ++s->linger >= LINGER_STEPS) {
		session_free(s);
		return;
	}
	evtimer_add(s->linger_ev, &tv);
}

static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == S_CLOSING) {
		if (session_flushed(s))
			session_free(s);
		else if (s->linger_ev == NULL &&
		    (s->linger_ev = evtimer_new(s->w->base, session_linger_cb,
		    s)) != NULL)
			session_linger_cb(-1, 0, s);
		else if (s->linger_ev == NULL)
			session_free(s);
		return;
	}
	if (s->read_paused && !s->eof) {
		s->read_paused = 0;
		bufferevent_enable(bev, EV_READ);
	}
}

static void
session_tls_up(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	struct logline l;

	s->tls = 1;
	s->tls_pending = 0;
	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "tls");
	logline_str(&l, "version", SSL_get_version(ssl));
	logline_str(&l, "cipher", SSL_get_cipher_name(ssl));
	logline_end(&l);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	const char *why = "client closed the connection";

	if (what & BEV_EVENT_CONNECTED) {
		session_tls_up(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		smtpd_log_error(s, NULL, 421, "4.4.2", "timeout");
		smtpd_close(s, 421, "4.4.2", "Error: timeout exceeded");
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    s->state != S_DATA && s->state != S_CLOSING && session_has_work(s)) {
		/* half-closed after pipelining: answer what is complete */
		s->eof = 1;
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		why = s->tls_pending ? "TLS handshake failed" :
		    "connection error";
	if (s->in_tx || s->state == S_DATA || s->state == S_WAIT)
		smtpd_log_error(s, NULL, 0, "", s->state == S_DATA ?
		    "connection lost during DATA; nothing was accepted" : why);
	session_free(s);
}

/* Send the greeting, or refuse a client that talked first (RFC 5321 §4.3.1:
 * the client waits for the greeting; Postfix postscreen's pregreet test). */
static void
session_greet(struct session *s)
{
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
		struct logline l;
		logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "refuse");
		logline_str(&l, "client", s->client);
		logline_int(&l, "code", 554);
		logline_str(&l, "enh", "5.5.0");
		logline_str(&l, "reason", "talked before greeting");
		logline_end(&l);
		smtpd_close(s, 554, "5.5.0",
		    "Error: SMTP protocol synchronization");
		return;
	}
	s->state = S_CMD;
	smtpd_reply(s, 220, NULL, "%s ESMTP jaga", s->w->st->hostname);
	session_pump(s);
}

static void
session_greet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == S_GREET)	/* not closed meanwhile (a drain) */
		session_greet(s);
}

static void
session_log_connect(struct session *s)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "connect");
	logline_str(&l, "client", s->client);
	logline_int(&l, "port", s->port);
	logline_str(&l, "role", role_name(s->ls->role));
	logline_str(&l, "listener", s->ls->text);
	logline_end(&l);
}

static struct bufferevent *
session_bev(struct session *s, evutil_socket_t fd)
{
	struct event_base *base = s->w->base;
	SSL *ssl;

	if (s->ls->role != ROLE_SUBMISSIONS)
		return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(s->w->ssl);
	if (ssl == NULL)
		return NULL;
	s->tls_pending = 1;
	return bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static void
session_setup_io(struct session *s)
{
	const struct settings *st = s->w->st;
	struct timeval tv = { st->command_timeout_ms / 1000,
	    (st->command_timeout_ms % 1000) * 1000 };

	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, INPUT_HIGH);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* RFC 3207 §4.2: discard anything the client sent before the handshake
 * (pipelined plaintext was already refused by the synchronization check),
 * then put TLS between the socket and the session. */
int
smtpd_starttls(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct bufferevent *tb;
	SSL *ssl = SSL_new(s->w->ssl);

	if (ssl == NULL)
		return -1;
	evbuffer_drain(in, evbuffer_get_length(in));
	tb = bufferevent_openssl_filter_new(s->w->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		SSL_free(ssl);
		return -1;
	}
	s->bev = tb;
	s->tls_pending = 1;
	session_setup_io(s);
	return 0;
}

void
smtpd_set_timeout(struct session *s, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

void
session_start(struct worker *w, const struct listener_spec *ls,
    evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen)
{
	struct session *s = calloc(1, sizeof *s);
	struct timeval tv;

	if (s != NULL) {
		s->w = w;
		s->ls = ls;
		s->bev = session_bev(s, fd);
	}
	if (s == NULL || s->bev == NULL) {
		evutil_closesocket(fd);
		server_leave(sa);
		free(s);
		return;
	}
	memcpy(&s->sa, sa, salen);
	session_make_id(s->id);
	sockaddr_ntop(sa, s->client, sizeof s->client);
	s->port = sockaddr_port(sa);
	gettimeofday(&s->start, NULL);
	for (size_t i = 0; i < w->st->ntrusted; i++)
		s->trusted_net |= cidr_match(&w->st->trusted[i], sa);
	buf_init(&s->msg, w->st->message_size_limit + 4096);
	w->sessions++;
	s->next = w->live;
	if (w->live)
		w->live->prev = s;
	w->live = s;
	w->nlive++;
	session_log_connect(s);
	session_setup_io(s);
	s->state = S_GREET;
	if (w->st->greet_pause_ms == 0) {
		session_greet(s);
		return;
	}
	s->greet_ev = evtimer_new(w->base, session_greet_cb, s);
	tv.tv_sec = w->st->greet_pause_ms / 1000;
	tv.tv_usec = (w->st->greet_pause_ms % 1000) * 1000;
	evtimer_add(s->greet_ev, &tv);
}
