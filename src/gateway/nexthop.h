/* nexthop.h - where accepted mail goes, before the client hears 250.
 *
 * A next hop is smtp://host:port, lmtp://host:port, lmtp:unix:/path or
 * maildir:/path.  One struct nh_conn serves one client session: it opens
 * lazily, carries any number of transactions, and answers every request
 * with exactly one callback.  Whatever goes wrong inside (refused, down,
 * timeout, dropped mid-DATA, a garbled reply) becomes a 4xx reply jaga
 * makes itself, so the session can always answer its client truthfully.
 */
#ifndef JAGA_GATEWAY_NEXTHOP_H
#define JAGA_GATEWAY_NEXTHOP_H

#include <stddef.h>
#include <sys/socket.h>

#include "mail/smtp_reply.h"

struct event_base;

enum nh_kind { NH_SMTP, NH_LMTP, NH_MAILDIR };

#define NEXTHOP_AUTH_MAX 64		/* a vault entry name (VAULT_NAME_MAX) */

struct nexthop_url {
	enum nh_kind kind;
	char text[512];			/* as configured */
	char host[256];			/* SMTP/LMTP over TCP: literal address
					 * or host name (resolved at start) */
	unsigned port;
	char path[256];			/* lmtp:unix: socket, maildir: folder */
	struct sockaddr_storage addr;	/* resolved TCP address */
	socklen_t addrlen;
	char auth[NEXTHOP_AUTH_MAX + 1];	/* vault entry for AUTH (RFC 4954,
					 * next_hop_auth = vault:NAME); ""
					 * = none.  Set: STARTTLS with
					 * verification is required */
};

/* Parse a URL; returns 0, or -1 with a message in err. */
int nexthop_parse_url(const char *s, struct nexthop_url *u, char *err,
    size_t errlen);

/* RFC 5321 §4.5.3.2 client timeouts, milliseconds. */
struct nexthop_timeouts {
	unsigned connect_ms;
	unsigned greeting_ms;	/* §4.5.3.2.1 initial 220: 5 min */
	unsigned command_ms;	/* EHLO/MAIL/RCPT/RSET: 5 min */
	unsigned data_init_ms;	/* §4.5.3.2.4 DATA -> 354: 2 min */
	unsigned data_block_ms;	/* §4.5.3.2.5 each write: 3 min */
	unsigned data_done_ms;	/* §4.5.3.2.6 final dot -> reply: 10 min */
};

enum nh_tls_mode {
	NH_TLS_NONE,		/* never STARTTLS */
	NH_TLS_MAY,		/* STARTTLS when offered, no verification */
	NH_TLS_ENCRYPT,		/* STARTTLS required, no verification */
	NH_TLS_VERIFY,		/* STARTTLS required, certificate and name */
};

struct nexthop_tls {
	enum nh_tls_mode mode;
	const char *ca_file;	/* "" = system trust store */
	const char *helo_name;	/* our name in EHLO/LHLO */
};

struct nh_conn;

/* One callback per request.  For nh_data over LMTP, r holds one reply per
 * recipient that was accepted at RCPT (RFC 2033 §4.2), nreplies of them,
 * in RCPT order; otherwise nreplies is 1.  r is valid only during the call. */
typedef void nh_cb(void *arg, const struct smtp_reply *r, int nreplies);

/* A connection object (nothing is opened yet).  sessid is for log lines.
 * Returns NULL on memory exhaustion. */
struct nh_conn *nh_conn_new(struct event_base *base,
    const struct nexthop_url *url, const struct nexthop_tls *tls,
    const struct nexthop_timeouts *to, const char *sessid);
/* Close (QUIT when idle) and free; takes NULL.  No callback follows. */
void nh_conn_free(struct nh_conn *c);
/* Freeing an idle SMTP/LMTP connection sends QUIT and waits for the reply
 * (at most 2 s) without holding anyone up.  nh_quitting: does this thread
 * still wait for one?  nh_quit_abort: close them all now (before the
 * thread's event base is freed). */
int nh_quitting(void);
void nh_quit_abort(void);

/* Log as sessid from now on (a kept connection serves a new session). */
void nh_conn_set_sessid(struct nh_conn *c, const char *sessid);

/* Connect, read the greeting, EHLO/LHLO (STARTTLS per tls mode, EHLO again;
 * with url->auth, STARTTLS verified and then AUTH, see nh_auth.h).
 * The reply is the EHLO reply (ehlo_caps filled) or a made-up 4xx: 451
 * 4.7.0 when the next hop refused our credential. */
void nh_open(struct nh_conn *c, nh_cb *cb, void *arg);
/* Is the connection open and idle (no transaction in progress)? */
int nh_is_open(const struct nh_conn *c);
/* EHLO capabilities of the open connection (SMTP_CAP_* bits). */
unsigned nh_caps(const struct nh_conn *c);

/* MAIL FROM:path params; path is "<...>", params "" or " SIZE=12 ...". */
void nh_mail(struct nh_conn *c, const char *path, const char *params,
    nh_cb *cb, void *arg);
/* RCPT TO:path. */
void nh_rcpt(struct nh_conn *c, const char *path, nh_cb *cb, void *arg);
/* MAIL FROM:from params, then RCPT TO:rcpt: both in one write when the
 * next hop offers PIPELINING (RFC 2920 §3.1: MAIL and RCPT may be sent
 * together), else one after the other (RCPT only after a 2xx to MAIL).
 * The callback gets r[0] the reply to MAIL and, when nreplies is 2, r[1]
 * the reply to RCPT; nreplies 1 means the connection failed (r[0] says
 * how) or MAIL was refused and RCPT never sent. */
void nh_mail_rcpt(struct nh_conn *c, const char *from, const char *params,
    const char *rcpt, nh_cb *cb, void *arg);
/* DATA, then the message (CRLF line ends, NOT dot-stuffed: nh_data
 * stuffs), then "." and the reply (LMTP: one per accepted recipient).
 * msg must stay valid until the callback. */
void nh_data(struct nh_conn *c, const char *msg, size_t len, nh_cb *cb,
    void *arg);
/* RSET: end the transaction at the next hop. */
void nh_rset(struct nh_conn *c, nh_cb *cb, void *arg);

#endif
