/* smtpd_envelope.c - MAIL and RCPT, relayed to the next hop in lockstep so
 * the next hop's answer (an unknown recipient, say) reaches the client at
 * once (RFC 5321 §3.3), and the open-relay decision (engine/relay.h).
 * With next_hop_pipelining, MAIL is answered once the local checks pass
 * and goes to a next hop that offers PIPELINING with the first RCPT, in
 * one write (RFC 2920): a sender the next hop refuses is refused at RCPT,
 * as Postfix's smtpd_delay_reject does. */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/relay.h"
#include "gateway/nh_pool.h"
#include "gateway/session_int.h"
#include "mail/sender.h"
#include "util/log.h"

void smtpd_cmd_mail(struct session *s, struct smtp_cmd *cmd);
void smtpd_cmd_rcpt(struct session *s, struct smtp_cmd *cmd);

void
smtpd_relay_reply(struct session *s, const struct smtp_reply *r,
    const char *default_enh)
{
	char text[SMTP_REPLYLINE_MAX], enh[16];

	snprintf(text, sizeof text, "%s", r->text[0] ? r->text : "Ok");
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	if (r->enh[0])
		snprintf(enh, sizeof enh, "%s", r->enh);
	else if (r->code / 100 == 2)
		snprintf(enh, sizeof enh, "%s", default_enh);
	else
		snprintf(enh, sizeof enh, "%d.0.0", r->code / 100);
	smtpd_reply(s, r->code, enh, "%s", text);
}

void
smtpd_log_answer(struct session *s, const char *event, const char *key,
    const char *value, int code, const char *enh, const char *reason)
{
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", event);
	logline_str(&l, key, value);
	logline_int(&l, "code", code);
	logline_str(&l, "enh", enh);
	if (reason)
		logline_str(&l, "reason", reason);
	logline_end(&l);
}

/* Pause reading until the next hop has answered. */
static void
envelope_wait(struct session *s)
{
	s->state = S_WAIT;
}

/* The enhanced code for a next hop that could not be opened: 4.7.0 when
 * it refused the gateway's upstream credential (nh_smtp.c AUTH), else
 * 4.4.1.  Neither is the client's fault: 451, it retries. */
static const char *
envelope_open_enh(const struct smtp_reply *r)
{
	return strcmp(r->enh, "4.7.0") == 0 ? "4.7.0" : "4.4.1";
}

static void
envelope_open_reply(struct session *s, const struct smtp_reply *r)
{
	if (strcmp(envelope_open_enh(r), "4.7.0") == 0)
		smtpd_reply(s, 451, "4.7.0", "Error: the gateway's upstream "
		    "credential was refused, try again later");
	else
		smtpd_reply(s, 451, "4.4.1", "Error: next hop not available, "
		    "try again later");
}

/* The next hop failed while opening or resetting: answer 4xx, start anew. */
static void
envelope_nh_failed(struct session *s, const struct smtp_reply *r)
{
	char why[SMTP_REPLYLINE_MAX];

	snprintf(why, sizeof why, "next hop not available: %d %s", r->code,
	    r->text);
	smtpd_log_answer(s, "mail", "from", s->pending_path, 451,
	    envelope_open_enh(r), why);
	envelope_open_reply(s, r);
	nh_conn_free(s->nh);
	s->nh = NULL;
	s->nh_tx = 0;
	smtpd_resume(s);
}

static void mail_start(struct session *s);

static void
mail_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;

	if (s->nh_reused && r->code / 100 == 4 && !nh_is_open(s->nh)) {
		/* a kept connection the next hop had closed: use a new one */
		nh_conn_free(s->nh);
		s->nh = NULL;
		s->nh_reused = 0;
		mail_start(s);
		return;
	}
	s->nh_reused = 0;
	smtpd_relay_reply(s, r, "2.1.0");
	smtpd_log_answer(s, "mail", "from", s->pending_path, r->code,
	    r->enh, NULL);
	if (r->code / 100 == 2) {
		s->in_tx = 1;
		s->nh_tx = 1;
		memcpy(s->from, s->pending_path, sizeof s->from);
	} else {
		s->smtputf8 = 0;
	}
	smtpd_resume(s);
}

/* Parameters go on only where the next hop offers their extension. */
static void
mail_build_params(struct session *s, unsigned caps)
{
	struct buf b;

	buf_init(&b, sizeof s->pending_params - 1);
	if (s->mail_size && (caps & SMTP_CAP_SIZE))
		buf_printf(&b, " SIZE=%llu", s->mail_size);
	if (s->mail_body && (caps & SMTP_CAP_8BITMIME))
		buf_printf(&b, " BODY=%s", s->mail_body);
	if (s->smtputf8)
		buf_puts(&b, " SMTPUTF8");
	snprintf(s->pending_params, sizeof s->pending_params, "%s",
	    b.data ? b.data : "");
	buf_done(&b);
}

/* MAIL is accepted here; the next hop hears it with the first RCPT. */
static void
mail_defer(struct session *s)
{
	smtpd_reply(s, 250, "2.1.0", "Ok");
	smtpd_log_answer(s, "mail", "from", s->pending_path, 250, "2.1.0",
	    NULL);
	s->in_tx = 1;
	s->mail_deferred = 1;
	memcpy(s->from, s->pending_path, sizeof s->from);
	smtpd_resume(s);
}

/* RFC 6531 §3.4: SMTPUTF8 only goes on when the next hop offers it. */
static void
mail_send(struct session *s)
{
	unsigned caps = nh_caps(s->nh);

	if (s->smtputf8 && s->ls->next_hop.kind != NH_MAILDIR &&
	    !(caps & SMTP_CAP_SMTPUTF8)) {
		smtpd_log_answer(s, "mail", "from", s->pending_path, 553,
		    "5.6.7", "next hop does not offer SMTPUTF8");
		smtpd_reply(s, 553, "5.6.7", "Error: SMTPUTF8 is not supported "
		    "for this destination");
		s->smtputf8 = 0;
		smtpd_resume(s);
		return;
	}
	mail_build_params(s, caps);
	if (s->w->st->nh_pipelining && (caps & SMTP_CAP_PIPELINING)) {
		mail_defer(s);
		return;
	}
	nh_mail(s->nh, s->pending_path, s->pending_params, mail_done, s);
}

/* A next hop that cannot RSET (it went away while idle, say) is replaced
 * by a fresh connection: nh_tx is 0 then, so this cannot loop. */
static void
mail_reset_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;

	s->nh_tx = 0;
	if (r->code / 100 != 2) {
		nh_conn_free(s->nh);
		s->nh = NULL;
		mail_start(s);
		return;
	}
	mail_send(s);
}

static void
mail_opened(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;

	if (r->code / 100 != 2) {
		envelope_nh_failed(s, r);
		return;
	}
	mail_send(s);
}

/* Open the next hop, or end its previous transaction, then send MAIL. */
static void
mail_start(struct session *s)
{
	const struct settings *st = s->w->st;

	envelope_wait(s);
	if (s->nh == NULL && s->w->pool != NULL &&
	    (s->nh = nh_pool_get(s->w->pool, &s->ls->next_hop, s->id)) != NULL)
		s->nh_reused = 1;
	if (s->nh == NULL)
		s->nh = nh_conn_new(s->w->base, &s->ls->next_hop, &st->nh_tls,
		    &st->nh_timeouts, s->id);
	if (s->nh == NULL) {
		struct smtp_reply r;
		smtp_reply_set(&r, 451, "4.3.0", "out of memory");
		envelope_nh_failed(s, &r);
	} else if (s->nh_tx) {
		nh_rset(s->nh, mail_reset_done, s);
	} else if (!nh_is_open(s->nh)) {
		nh_open(s->nh, mail_opened, s);
	} else {
		mail_send(s);
	}
}

/* MAIL parameters: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531),
 * AUTH (RFC 4954 §5, ignored).  Anything else: 555 5.5.4 (§4.1.1.11).
 * Returns 0, or -1 after answering. */
static int
mail_params(struct session *s, const struct smtp_cmd *cmd)
{
	const struct settings *st = s->w->st;

	for (int i = 0; i < cmd->nparams; i++) {
		const struct smtp_param *p = &cmd->params[i];
		char key[32], val[64];
		snprintf(key, sizeof key, "%.*s", (int)p->key.len, p->key.p);
		snprintf(val, sizeof val, "%.*s", (int)p->value.len, p->value.p);
		if (strcasecmp(key, "SIZE") == 0) {
			char *end;
			unsigned long long n = strtoull(val, &end, 10);
			if (val[0] < '0' || val[0] > '9' || *end) {
				smtpd_client_error(s, 501, "5.5.4", "Error: bad SIZE value");
				return -1;
			}
			if (n > st->message_size_limit) {
				smtpd_client_error(s, 552, "5.3.4",
				    "Error: message size exceeds fixed limit");
				return -1;
			}
			s->mail_size = n;
		} else if (strcasecmp(key, "BODY") == 0 &&
		    (strcasecmp(val, "7BIT") == 0 || strcasecmp(val, "8BITMIME") == 0)) {
			s->mail_body = toupper((unsigned char)val[0]) == '8' ?
			    "8BITMIME" : "7BIT";
		} else if (strcasecmp(key, "SMTPUTF8") == 0 && !val[0] && st->smtputf8) {
			s->smtputf8 = 1;
		} else if (strcasecmp(key, "AUTH") != 0) {
			snprintf(val, sizeof val, "Error: unsupported option %s", key);
			smtpd_client_error(s, 555, "5.5.4", val);
			return -1;
		}
	}
	return 0;
}

/* Submission roles: STARTTLS, then AUTH, then MAIL (RFC 6409 §4.3). */
static int
mail_allowed(struct session *s)
{
	if (!s->helo[0]) {
		smtpd_client_error(s, 503, "5.5.1", "Error: send HELO/EHLO first");
	} else if (s->in_tx) {
		smtpd_client_error(s, 503, "5.5.1", "Error: nested MAIL command");
	} else if (smtpd_is_submission(s) && !s->auth_user[0]) {
		smtpd_client_error(s, 530, "5.7.0", s->tls ?
		    "Error: authentication required" :
		    "Error: must issue a STARTTLS command first");
	} else {
		return 1;
	}
	return 0;
}

/* Issue 3 §2: an authenticated identity sends only as its own addresses
 * (the local part as a mail system routes on it, unquoted).  The null
 * sender stays allowed, as Postfix's reject_sender_login_mismatch does:
 * DSNs and vacation replies carry it (RFC 5321 §4.5.5), and the header
 * From: is still checked at the end of data.  Returns 1, or 0 after
 * answering 553 5.7.1. */
static int
mail_sender_owned(struct session *s, const struct addr *a)
{
	char addr[SMTP_PATH_MAX + 1], why[SMTP_REPLYLINE_MAX];

	if (!s->auth_user[0] || s->snd == NULL || !s->snd->restricted ||
	    (a->flags & ADDR_F_NULL))
		return 1;
	snprintf(addr, sizeof addr, "%s@%s", a->local_decoded, a->domain);
	if (sender_allowed(s->snd->senders, addr))
		return 1;
	snprintf(why, sizeof why, "Sender address rejected: not owned by "
	    "user %s", s->auth_user);
	smtpd_log_answer(s, "mail", "from", s->pending_path, 553, "5.7.1", why);
	smtpd_client_error(s, 553, "5.7.1", why);
	return 0;
}

/* Issue 3 §4: a suspended identity may not start a transaction. */
static void
mail_guarded(struct session *s, int code, const char *enh, const char *text)
{
	if (code == 0) {
		mail_start(s);
		return;
	}
	smtpd_log_answer(s, "mail", "from", s->pending_path, code, enh, text);
	smtpd_reply(s, code, enh, "%s", text);
	s->smtputf8 = 0;
	smtpd_resume(s);
}

void
smtpd_cmd_mail(struct session *s, struct smtp_cmd *cmd)
{
	if (!mail_allowed(s))
		return;
	s->smtputf8 = 0;
	s->mail_size = 0;
	s->mail_body = NULL;
	if (mail_params(s, cmd) < 0) {
		s->smtputf8 = 0;
		return;
	}
	if (addr_format(&cmd->addr, s->pending_path,
	    sizeof s->pending_path) < 0) {
		smtpd_client_error(s, 501, "5.1.7", "Error: sender address too long");
		return;
	}
	if (!mail_sender_owned(s, &cmd->addr)) {
		s->smtputf8 = 0;
		return;
	}
	smtpd_guard_mail(s, mail_guarded);
}

static void
rcpt_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;
	struct rcpt *v;

	if (r->code / 100 == 2 && s->nrcpts == s->rcpts_cap) {
		unsigned cap = s->rcpts_cap ? s->rcpts_cap * 2 : 8;
		v = realloc(s->rcpts, cap * sizeof *v);
		if (v == NULL) {
			/* the next hop has it; keep the client's view the
			 * same: refuse, and RSET the next hop at the end */
			smtpd_reply(s, 452, "4.3.0", "Error: out of memory");
			smtpd_resume(s);
			return;
		}
		s->rcpts = v;
		s->rcpts_cap = cap;
	}
	smtpd_relay_reply(s, r, "2.1.5");
	smtpd_log_answer(s, "rcpt", "to", s->pending_path, r->code, r->enh,
	    NULL);
	if (r->code / 100 == 2)
		memcpy(s->rcpts[s->nrcpts++].path, s->pending_path,
		    sizeof s->rcpts[0].path);
	smtpd_resume(s);
}

static void rcpt_pipe_send(struct session *s);

static void
rcpt_pipe_opened(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;

	if (r->code / 100 == 2) {
		rcpt_pipe_send(s);
		return;
	}
	smtpd_log_answer(s, "rcpt", "to", s->pending_path, 451,
	    envelope_open_enh(r), "next hop not available");
	envelope_open_reply(s, r);
	nh_conn_free(s->nh);
	s->nh = NULL;
	smtpd_resume(s);
}

/* The replies to MAIL (r[0]) and RCPT (r[1]) sent together.  A refused
 * MAIL answers this RCPT, and the next RCPT tries MAIL again. */
static void
rcpt_pipe_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;
	const struct settings *st = s->w->st;

	if (s->nh_reused && r[0].code / 100 == 4 && !nh_is_open(s->nh)) {
		/* a kept connection the next hop had closed: a new one */
		nh_conn_free(s->nh);
		s->nh_reused = 0;
		s->nh = nh_conn_new(s->w->base, &s->ls->next_hop, &st->nh_tls,
		    &st->nh_timeouts, s->id);
		if (s->nh != NULL) {
			nh_open(s->nh, rcpt_pipe_opened, s);
			return;
		}
	}
	s->nh_reused = 0;
	if (r[0].code / 100 != 2 || n < 2) {
		smtpd_log_answer(s, "mail", "from", s->from, r[0].code,
		    r[0].enh[0] ? r[0].enh : "-", "next hop refused it at RCPT");
		rcpt_done(s, &r[0], 1);
		return;
	}
	s->mail_deferred = 0;
	s->nh_tx = 1;
	rcpt_done(s, &r[1], 1);
}

static void
rcpt_pipe_send(struct session *s)
{
	if (s->nh == NULL) {
		struct smtp_reply r;
		smtp_reply_set(&r, 451, "4.3.0", "out of memory");
		rcpt_done(s, &r, 1);
		return;
	}
	nh_mail_rcpt(s->nh, s->from, s->pending_params, s->pending_path,
	    rcpt_pipe_done, s);
}

/* RFC 5321 §4.1.1.3: "<Postmaster>" without a domain is ours. */
static void
rcpt_path(struct session *s, const struct addr *a)
{
	const char *const *ld = s->w->st->local_domains;

	if ((a->flags & ADDR_F_NODOMAIN) && ld && ld[0])
		snprintf(s->pending_path, sizeof s->pending_path,
		    "<postmaster@%s>", ld[0]);
	else if (addr_format(a, s->pending_path, sizeof s->pending_path) < 0)
		snprintf(s->pending_path, sizeof s->pending_path, "<>");
}

static int
rcpt_allowed(struct session *s, const struct smtp_cmd *cmd)
{
	int trusted = s->auth_user[0] || s->trusted_net;
	enum relay_verdict v;

	if (!s->in_tx) {
		smtpd_client_error(s, 503, "5.5.1", "Error: need MAIL command");
		return 0;
	}
	if (s->nrcpts >= s->w->st->max_recipients) {
		/* RFC 5321 §4.5.3.1.10: 452, the client sends the rest later */
		smtpd_reply(s, 452, "4.5.3", "Error: too many recipients");
		return 0;
	}
	if (cmd->nparams > 0) {
		smtpd_client_error(s, 555, "5.5.4", "Error: unsupported RCPT option");
		return 0;
	}
	v = relay_check(&s->w->relay, &cmd->addr, trusted);
	if (v == RELAY_OK)
		return 1;
	rcpt_path(s, &cmd->addr);
	smtpd_log_answer(s, "rcpt", "to", s->pending_path, 550, "5.7.1",
	    relay_reason(v));
	smtpd_client_error(s, 550, "5.7.1", relay_reason(v));
	return 0;
}

void
smtpd_cmd_rcpt(struct session *s, struct smtp_cmd *cmd)
{
	if (!rcpt_allowed(s, cmd))
		return;
	rcpt_path(s, &cmd->addr);
	if (s->nh == NULL) {
		smtpd_log_answer(s, "rcpt", "to", s->pending_path, 451, "4.4.2",
		    "next hop connection lost");
		smtpd_reply(s, 451, "4.4.2", "Error: next hop connection lost, "
		    "try again later");
		return;
	}
	envelope_wait(s);
	if (s->mail_deferred)
		rcpt_pipe_send(s);
	else
		nh_rcpt(s->nh, s->pending_path, rcpt_done, s);
}
