/* session_int.h - the session's internals, shared by session.c (I/O and
 * dispatch), smtpd_cmds.c (one handler per verb), smtpd_data.c (the DATA
 * reader) and smtpd_auth.c (AUTH).  Not for use outside the SMTP server. */
#ifndef JAGA_GATEWAY_SESSION_INT_H
#define JAGA_GATEWAY_SESSION_INT_H

#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/time.h>

#include "gateway/authdb.h"
#include "gateway/nexthop.h"
#include "gateway/params.h"
#include "gateway/server.h"
#include "mail/smtp_cmd.h"
#include "util/buf.h"

enum sess_state {
	S_GREET,	/* greet_pause: waiting to send the greeting */
	S_CMD,		/* reading commands */
	S_WAIT,		/* a reply depends on the next hop or a job */
	S_DATA,		/* reading message content */
	S_AUTH,		/* reading an AUTH continuation line */
	S_CLOSING,	/* last reply queued; close when it is written */
};

/* Why a message body cannot be accepted (found while reading DATA). */
enum data_err {
	DATA_OK,
	DATA_TOO_BIG,		/* 552 5.3.4, RFC 1870 */
	DATA_LONG_LINE,		/* 554 5.6.0, RFC 5321 §4.5.3.1.6 */
	DATA_BARE_LF,		/* 554 5.6.0, bare LF (SMTP smuggling) */
	DATA_BARE_CR,		/* 554 5.6.0, bare CR (SMTP smuggling) */
	DATA_NOMEM,		/* 451 4.3.0 */
};

/* The DATA reader's position in the byte stream (RFC 5321 §4.1.1.4, §4.5.2). */
struct data_reader {
	int bol;		/* at the beginning of a line */
	int bol_crlf;		/* ... and that line began after a real CRLF */
	int dot;		/* a '.' began the line and is held back */
	int cr;			/* a CR is held back */
	size_t linelen;		/* octets in the current line so far */
	size_t seen;		/* content octets seen (kept or not) */
	enum data_err err;
};

struct rcpt {
	char path[SMTP_PATH_MAX + 1];	/* "<local@domain>" as sent on */
};

struct session {
	struct session *next, *prev;	/* the worker's list of sessions */
	struct worker *w;
	const struct listener_spec *ls;
	struct bufferevent *bev;
	char id[13];
	struct sockaddr_storage sa;
	char client[INET6_ADDRSTRLEN];
	unsigned port;
	struct timeval start;
	struct event *greet_ev;
	struct event *linger_ev;	/* S_CLOSING: wait for the last bytes */
	enum sess_state state;
	int trusted_net;	/* client address in trusted_networks */
	int tls;		/* TLS is up (STARTTLS or implicit) */
	int tls_pending;	/* STARTTLS answered, handshake running */
	int esmtp;		/* EHLO (not HELO) was used */
	char helo[256];		/* "" until HELO/EHLO */
	char auth_user[256];	/* "" until AUTH succeeded */
	int auth_step;		/* AUTH LOGIN: 1 = want user, 2 = want pass */
	int skip_line;		/* dropping the rest of an over-long line */
	int linger;		/* S_CLOSING: steps waited for the flush */
	int read_paused;	/* reading off: too many replies unread */
	int eof;		/* the client half-closed; finish, then close */
	int in_pump;		/* session_pump is on the stack */
	int more_input;		/* input follows the command being handled */
	char auth_mech[8];
	unsigned errors, messages, rcpts_total;
	/* the transaction */
	int in_tx;
	char from[SMTP_PATH_MAX + 1];
	int smtputf8;
	struct rcpt *rcpts;
	unsigned nrcpts, rcpts_cap;
	int nh_tx;		/* the next hop has a transaction open */
	int mail_deferred;	/* MAIL answered here, goes with the first
				 * RCPT (next_hop_pipelining) */
	int nh_reused;		/* nh came from the pool, not yet proven */
	struct auth_job *auth_job;	/* AUTH check running in the pool */
	struct guard_job *guard_job;	/* limits/suspension check running */
	char auth_name[256];	/* AUTH LOGIN: the user name, until checked */
	struct data_reader dr;
	struct buf msg;		/* Received: header + content, CRLF, unstuffed */
	size_t received_len;	/* octets of our Received: at the top of msg */
	struct msgauth_job *msgauth_job;	/* SPF/DKIM/DMARC running */
	struct sign_job *sign_job;	/* DKIM signing running */
	struct nh_conn *nh;
	/* the command being answered asynchronously */
	char pending_path[SMTP_PATH_MAX + 1];
	char pending_params[160];
	unsigned long long mail_size;	/* MAIL SIZE=, 0 when not given */
	const char *mail_body;		/* MAIL BODY=, NULL when not given */
	/* AUTH lockout */
	struct event *auth_delay_ev;	/* a refused AUTH waits for its answer */
	int auth_delay_code;		/* ... which is this reply */
	const char *auth_delay_enh, *auth_delay_text;	/* static strings */
	unsigned auth_locked_tries;	/* AUTH tried while the IP is locked */
	/* sender enforcement */
	struct authdb_senders *snd;	/* set by a successful AUTH (heap:
					 * 12 KB idle sessions need not hold) */
};

/* session.c: replies and state */
void smtpd_reply(struct session *s, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void smtpd_reply_raw(struct session *s, const char *text);
/* Reply with a 5xx for a client error; counts it against max_errors and
 * closes with 421 4.7.0 when the limit is reached. */
void smtpd_client_error(struct session *s, int code, const char *enh,
    const char *reason);
/* Reply and close after the reply is written. */
void smtpd_close(struct session *s, int code, const char *enh,
    const char *reason);
/* Leave S_WAIT: read the next command (from the buffer, too). */
void smtpd_resume(struct session *s);
void smtpd_tx_reset(struct session *s);
/* Answered STARTTLS: start the TLS handshake.  Returns 0 or -1. */
int smtpd_starttls(struct session *s);
/* Read/write timeout for what follows (command or DATA timeout). */
void smtpd_set_timeout(struct session *s, unsigned ms);
int smtpd_is_submission(const struct session *s);
void smtpd_log_error(struct session *s, const char *cmd, int code,
    const char *enh, const char *reason);

/* Copy a next hop's reply to the client (default_enh when it sent none;
 * control bytes in its text are replaced). */
void smtpd_relay_reply(struct session *s, const struct smtp_reply *r,
    const char *default_enh);
/* Log "smtp EVENT KEY=VALUE code= enh=" for MAIL and RCPT answers. */
void smtpd_log_answer(struct session *s, const char *event, const char *key,
    const char *value, int code, const char *enh, const char *reason);

/* smtpd_cmds.c */
void smtpd_dispatch(struct session *s, const char *line, size_t len);

/* smtpd_data.c */
void smtpd_data_begin(struct session *s);
/* Consume DATA input; returns 1 when the end of data was seen. */
int smtpd_data_read(struct session *s);
void smtpd_data_end(struct session *s);

/* smtpd_auth.c */
void smtpd_auth_start(struct session *s, const struct smtp_cmd *cmd);
void smtpd_auth_line(struct session *s, const char *line, size_t len);
/* The session is going away: a running check must not call back. */
void smtpd_auth_forget(struct session *s);

/* smtpd_lockout.c: AUTH brute-force lockout (issue 3 §6, engine/lockout.h).
 * smtpd_lockout_ip: 1 when the client IP is locked and AUTH was answered
 * (454 4.7.0, or 421 and close after repeated tries); 0 otherwise.
 * smtpd_lockout_account: 1 when user is locked and the 535 is on its way
 * (the try counts as a failure of the IP); 0 otherwise. */
int smtpd_lockout_ip(struct session *s);
int smtpd_lockout_account(struct session *s, const char *user);
/* Count a failed AUTH of user from this client; logs a lockout it starts. */
void smtpd_lockout_fail(struct session *s, const char *user);
/* A successful AUTH: the client's failure count starts again. */
void smtpd_lockout_ok(struct session *s);
/* store = redis:// (gateway/shared.h): the AUTH job found the IP or the
 * account locked in Redis, or counted a failure there.  shared holds the
 * lockouts that began in Redis (times in ms from now), logged instead of
 * the local tracker's; NULL: the local ones. */
struct lockout_event;
void smtpd_lockout_fail_shared(struct session *s, const char *user,
    const struct lockout_event *shared);
void smtpd_lockout_ip_refuse(struct session *s);
void smtpd_lockout_account_refuse(struct session *s, const char *user,
    const struct lockout_event *shared);
/* Answer a refused AUTH after auth_fail_delay (S_WAIT until then; the
 * reply goes through smtpd_client_error).  enh and text: static strings. */
void smtpd_auth_refuse_later(struct session *s, int code, const char *enh,
    const char *text);
/* The session is going away: drop the delay timer. */
void smtpd_lockout_forget(struct session *s);

/* smtpd_guard.c: limits and suspension (issue 3 §3-4, gateway/guard.h).
 * Both run the check in the job pool (S_WAIT meanwhile) and then call
 * next: code 0 to go on, else the reply to give (enh, text: valid during
 * the call).  Sessions without AUTH go on at once.
 * smtpd_guard_mail: is the identity suspended?  smtpd_guard_data: one
 * limit decision for the message in s->msg; logs "smtp limit" and, once
 * per suspension, "smtp suspend". */
typedef void smtpd_guard_fn(struct session *s, int code, const char *enh,
    const char *text);
void smtpd_guard_mail(struct session *s, smtpd_guard_fn *next);
void smtpd_guard_data(struct session *s, smtpd_guard_fn *next);
/* The session is going away: a running check must not call back. */
void smtpd_guard_forget(struct session *s);

/* smtpd_msgauth.c: inbound roles (issue 5 §5, engine/msgauth.h).  SPF,
 * DKIM and DMARC for the message in s->msg run in the job pool (S_WAIT
 * meanwhile); the Authentication-Results header goes on top of s->msg,
 * incoming ones claiming authserv_id are removed, and the DMARC
 * disposition is applied.  next: 0 to send s->msg on, a 2xx when the
 * message was held here, else the refusal.  Other roles go on at once. */
void smtpd_msgauth(struct session *s, smtpd_guard_fn *next);
void smtpd_msgauth_forget(struct session *s);

/* smtpd_sign.c: submission roles (issue 5 §5).  An authenticated message
 * whose From: domain has a key in dkim_key_table, and which the identity
 * may use, gets its DKIM-Signature(s) on top of s->msg (signed in the job
 * pool).  next as above; other messages go on at once. */
void smtpd_sign(struct session *s, smtpd_guard_fn *next);
void smtpd_sign_forget(struct session *s);

#endif
