/* smtpd_data.c - reading message content and handing it to the next hop.
 *
 * SMTP smuggling (CVE-2023-51764 family): only <CR><LF>.<CR><LF> ends the
 * data (RFC 5321 §4.1.1.4), where the dot line began after a real CRLF.  A
 * bare CR or LF is refused (bare_newline = reject) or turned into CRLF
 * (normalize); it never ends the data, and nothing sent on holds one. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/session_int.h"
#include "mail/sender.h"
#include "util/log.h"

static void
data_fail(struct session *s, enum data_err e)
{
	if (s->dr.err == DATA_OK)
		s->dr.err = e;
	buf_done(&s->msg);	/* nothing of it is going anywhere */
}

/* Keep n content octets of the current line (RFC 5321 §4.5.3.1.6: 1000
 * octets per line with CRLF; RFC 1870: the size limit). */
static void
data_keep(struct session *s, const char *p, size_t n)
{
	struct data_reader *d = &s->dr;

	d->seen += n;
	d->linelen += n;
	if (d->err != DATA_OK)
		return;
	if (d->linelen > SMTP_TEXTLINE_MAX - 2)
		data_fail(s, DATA_LONG_LINE);
	else if (d->seen > s->w->st->message_size_limit)
		data_fail(s, DATA_TOO_BIG);
	else if (buf_append(&s->msg, p, n) < 0)
		data_fail(s, DATA_NOMEM);
}

/* A line ended; real says it was a CRLF.  Returns 1 at the end of data. */
static int
data_eol(struct session *s, int real)
{
	struct data_reader *d = &s->dr;

	if (d->dot && real && d->bol_crlf && d->linelen == 0)
		return 1;
	if (d->dot)
		data_keep(s, ".", 1);	/* "." alone, not the end: content */
	d->dot = 0;
	d->linelen = 0;
	d->seen += 2;
	if (d->err == DATA_OK && buf_append(&s->msg, "\r\n", 2) < 0)
		data_fail(s, DATA_NOMEM);
	d->bol = 1;
	d->bol_crlf = real;
	return 0;
}

static void
data_bare(struct session *s, enum data_err kind)
{
	if (s->w->st->bare_lf == BARE_LF_REJECT)
		data_fail(s, kind);
	data_eol(s, 0);
}

/* One octet where something happens: CR, LF, or the start of a line. */
static int
data_special(struct session *s, unsigned char c)
{
	struct data_reader *d = &s->dr;

	if (d->cr) {
		d->cr = 0;
		if (c == '\n')
			return data_eol(s, 1);
		data_bare(s, DATA_BARE_CR);
	}
	if (c == '\r') {
		d->cr = 1;
	} else if (c == '\n') {
		data_bare(s, DATA_BARE_LF);
	} else if (d->bol && c == '.') {
		d->dot = 1;	/* held: end of data, or a stuffed dot */
		d->bol = 0;
	} else {
		/* RFC 5321 §4.5.2: a leading dot before other text is dropped */
		d->dot = 0;
		d->bol = 0;
		data_keep(s, (const char *)&c, 1);
	}
	return 0;
}

/* The first CR or LF in p[i..len), or len: two memchr() passes beat a
 * byte loop on lines of text. */
static size_t
data_plain(const char *p, size_t i, size_t len)
{
	const char *lf = memchr(p + i, '\n', len - i);
	size_t end = lf != NULL ? (size_t)(lf - p) : len;
	const char *cr = memchr(p + i, '\r', end - i);

	return cr != NULL ? (size_t)(cr - p) : end;
}

/* Scan p[0..len); returns octets used, *end set at the end of data. */
static size_t
data_scan(struct session *s, const char *p, size_t len, int *end)
{
	struct data_reader *d = &s->dr;
	size_t i = 0, j;

	*end = 0;
	while (i < len) {
		if (!d->bol && !d->cr && !d->dot) {
			j = data_plain(p, i, len);
			data_keep(s, p + i, j - i);
			i = j;
			if (i == len)
				break;
		}
		if (data_special(s, (unsigned char)p[i++])) {
			*end = 1;
			break;
		}
	}
	return i;
}

int
smtpd_data_read(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer_iovec v[8];
	int n, end = 0;

	while (!end && evbuffer_get_length(in) > 0) {
		size_t used = 0;
		n = evbuffer_peek(in, -1, NULL, v, 8);
		if (n > 8)
			n = 8;
		for (int i = 0; i < n && !end; i++)
			used += data_scan(s, v[i].iov_base, v[i].iov_len, &end);
		evbuffer_drain(in, used);
	}
	return end;
}

/* RFC 5321 §4.4 trace header; protocol names from RFC 3848. */
static void
data_received(struct session *s)
{
	const struct settings *st = s->w->st;
	char date[64], ip[INET6_ADDRSTRLEN + 8];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(ip, sizeof ip, "%s%s", strchr(s->client, ':') ? "IPv6:" : "",
	    s->client);
	buf_printf(&s->msg, "Received: from %s ([%s])\r\n\tby %s (jaga) with "
	    "%s%s%s%s id %s", s->helo, ip, st->hostname,
	    s->smtputf8 ? "UTF8" : "", s->esmtp ? "ESMTP" : "SMTP",
	    s->tls ? "S" : "", s->auth_user[0] ? "A" : "", s->id);
	if (s->nrcpts == 1)
		buf_printf(&s->msg, "\r\n\tfor %s", s->rcpts[0].path);
	buf_printf(&s->msg, ";\r\n\t%s\r\n", date);
	s->received_len = s->msg.len;
}

void
smtpd_data_begin(struct session *s)
{
	memset(&s->dr, 0, sizeof s->dr);
	s->dr.bol = 1;
	s->dr.bol_crlf = 1;	/* the DATA command's CRLF */
	buf_done(&s->msg);
	buf_init(&s->msg, s->w->st->message_size_limit + 4096);
	data_received(s);
	s->state = S_DATA;
	smtpd_set_timeout(s, s->w->st->data_timeout_ms);
}

static void
data_log(struct session *s, int code, const char *enh, const char *reply)
{
	const char *action = code / 100 == 2 ? "accept" :
	    code / 100 == 4 ? "tempfail" : "reject";
	struct logline l;

	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "data");
	logline_int(&l, "size", (long long)s->dr.seen);
	logline_int(&l, "rcpts", s->nrcpts);
	logline_int(&l, "code", code);
	logline_str(&l, "enh", enh);
	logline_str(&l, "reply", reply);
	logline_end(&l);
	logline_begin(&l, LOG_LVL_INFO, s->id, "smtp", "verdict");
	logline_str(&l, "action", action);
	logline_str(&l, "from", s->from);
	logline_int(&l, "rcpts", s->nrcpts);
	logline_int(&l, "size", (long long)s->dr.seen);
	if (code / 100 != 2)
		logline_str(&l, "reason", reply);
	logline_end(&l);
}

static void
data_finish(struct session *s, int code, const char *enh, const char *text)
{
	smtpd_reply(s, code, enh, "%s", text);
	data_log(s, code, enh, text);
	if (code / 100 == 2) {
		s->messages++;
		s->rcpts_total += s->nrcpts;
	}
	smtpd_tx_reset(s);
	buf_done(&s->msg);
	smtpd_resume(s);
}

/* LMTP (RFC 2033 §4.2) answers per recipient.  All alike: pass it on.
 * Mixed: prefer a duplicate to a loss, so 451 and the client retries all. */
static void
data_lmtp(struct session *s, const struct smtp_reply *r, int n)
{
	int ok = 0;
	struct logline l;

	for (int i = 0; i < n; i++)
		ok += r[i].code / 100 == 2;
	if (ok == n || ok == 0) {
		const struct smtp_reply *pick = &r[0];
		for (int i = 0; ok == 0 && i < n; i++)
			if (r[i].code / 100 == 4)
				pick = &r[i];	/* a 4xx lets the client retry */
		smtpd_relay_reply(s, pick, "2.0.0");
		data_log(s, pick->code, pick->enh, pick->text);
		if (ok) {
			s->messages++;
			s->rcpts_total += s->nrcpts;
		}
		smtpd_tx_reset(s);
		buf_done(&s->msg);
		smtpd_resume(s);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (r[i].code / 100 == 2)
			continue;
		logline_begin(&l, LOG_LVL_WARN, s->id, "smtp", "partial");
		logline_str(&l, "to", i < (int)s->nrcpts ? s->rcpts[i].path : "?");
		logline_int(&l, "code", r[i].code);
		logline_str(&l, "reply", r[i].text);
		logline_int(&l, "delivered", ok);
		logline_end(&l);
	}
	data_finish(s, 451, "4.3.0", "Error: next hop took the message for "
	    "some recipients only; try again (some may get it twice)");
}

static void
data_done(void *arg, const struct smtp_reply *r, int n)
{
	struct session *s = arg;
	char text[SMTP_REPLYLINE_MAX];

	s->nh_tx = 0;
	if (s->ls->next_hop.kind == NH_LMTP) {
		data_lmtp(s, r, n);
		return;
	}
	snprintf(text, sizeof text, "%s", r->text);
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	data_finish(s, r->code, r->enh[0] ? r->enh :
	    r->code / 100 == 2 ? "2.0.0" : r->code / 100 == 4 ? "4.0.0" :
	    "5.0.0", text);
}

static void
data_refuse(struct session *s)
{
	static const struct {
		int code;
		const char *enh, *text;
	} why[] = {
		[DATA_TOO_BIG] = { 552, "5.3.4",
		    "Error: message size exceeds fixed limit" },
		[DATA_LONG_LINE] = { 554, "5.6.0", "Error: message line "
		    "longer than 1000 octets (RFC 5321 section 4.5.3.1.6)" },
		[DATA_BARE_LF] = { 554, "5.6.0", "Error: bare <LF> received; "
		    "lines must end in <CR><LF> (SMTP smuggling defense)" },
		[DATA_BARE_CR] = { 554, "5.6.0", "Error: bare <CR> received; "
		    "lines must end in <CR><LF> (SMTP smuggling defense)" },
		[DATA_NOMEM] = { 451, "4.3.0", "Error: out of memory" },
	};
	enum data_err e = s->dr.err;

	smtpd_log_error(s, "DATA", why[e].code, why[e].enh, why[e].text);
	data_finish(s, why[e].code, why[e].enh, why[e].text);
	/* the next hop still holds MAIL and RCPT: the next MAIL resets it */
}

/* Issue 3 §2: every mailbox of the header From: (RFC 5322 §3.6.2) must
 * belong to the authenticated identity, and there must be exactly one
 * From: (§3.6).  Checked before anything goes to the next hop.  Returns 1,
 * or 0 after answering 550 5.7.1. */
static int
data_from_owned(struct session *s)
{
	char bad[SENDER_ADDR_MAX], why[SMTP_REPLYLINE_MAX];
	enum sender_from r;

	if (!s->auth_user[0] || s->snd == NULL || !s->snd->restricted)
		return 1;
	r = sender_from_check(s->msg.data ? s->msg.data : "", s->msg.len,
	    s->snd->from_addrs, bad, sizeof bad);
	if (r == SENDER_FROM_OK)
		return 1;
	for (char *p = bad; *p; p++)	/* the reply text is ASCII */
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (r == SENDER_FROM_DENIED)
		snprintf(why, sizeof why, "Error: From: address %s not owned by "
		    "user %s", bad, s->auth_user);
	else
		snprintf(why, sizeof why, "Error: %s; sender identity cannot be "
		    "verified", sender_from_reason(r));
	smtpd_log_error(s, "DATA", 550, "5.7.1", why);
	data_finish(s, 550, "5.7.1", why);
	/* the next hop still holds MAIL and RCPT: the next MAIL resets it */
	return 0;
}

/* The last check decided: code 0 sends s->msg on; a 2xx means the message
 * was taken here (held); anything else refuses it (the next hop still
 * holds MAIL and RCPT: the next MAIL resets it). */
static void
data_checked(struct session *s, int code, const char *enh, const char *text)
{
	if (code == 0) {
		s->state = S_WAIT;
		nh_data(s->nh, s->msg.data, s->msg.len, data_done, s);
		return;
	}
	if (code / 100 != 2)
		smtpd_log_error(s, "DATA", code, enh, text);
	data_finish(s, code, enh, text);
}

/* Issue 5 §5: an authenticated submission is DKIM-signed. */
static void
data_authed(struct session *s, int code, const char *enh, const char *text)
{
	if (code != 0)
		data_checked(s, code, enh, text);
	else
		smtpd_sign(s, data_checked);
}

/* Issue 3 §3: the identity's limits decided; then issue 5 §5: inbound
 * mail gets SPF, DKIM and DMARC and its Authentication-Results. */
static void
data_guarded(struct session *s, int code, const char *enh, const char *text)
{
	if (code != 0)
		data_checked(s, code, enh, text);
	else
		smtpd_msgauth(s, data_authed);
}

void
smtpd_data_end(struct session *s)
{
	smtpd_set_timeout(s, s->w->st->command_timeout_ms);
	if (s->dr.err != DATA_OK) {
		s->state = S_CMD;
		data_refuse(s);
		return;
	}
	s->state = S_CMD;
	if (!data_from_owned(s))
		return;
	smtpd_guard_data(s, data_guarded);
}
