/* nh_impl.h - private to nexthop.c, nh_smtp.c and nh_maildir.c.
 *
 * struct nh_conn holds what every kind of next hop shares: the request in
 * flight (one at a time), its callback, and the reply array handed to it.
 * Each kind (SMTP/LMTP, maildir) supplies an ops table; nexthop.c dispatches
 * the public calls to it.  Completions always go through nh_finish(), which
 * delivers the callback from the event loop (never inside the request call),
 * exactly once, and never after nh_conn_free().
 */
#ifndef JAGA_GATEWAY_NH_IMPL_H
#define JAGA_GATEWAY_NH_IMPL_H

#include "gateway/nexthop.h"
#include "mail/limits.h"

struct event;

enum nh_req {
	NH_REQ_NONE, NH_REQ_OPEN, NH_REQ_MAIL, NH_REQ_RCPT, NH_REQ_DATA,
	NH_REQ_RSET, NH_REQ_MAILRCPT,
};

struct nh_ops {
	const char *name;
	int (*init)(struct nh_conn *c);		/* allocate c->impl; 0 or -1 */
	void (*done)(struct nh_conn *c);	/* free c->impl, cancel all */
	void (*open)(struct nh_conn *c);
	int (*is_open)(const struct nh_conn *c);
	unsigned (*caps)(const struct nh_conn *c);
	void (*mail)(struct nh_conn *c, const char *path, const char *params);
	void (*rcpt)(struct nh_conn *c, const char *path);
	/* MAIL and RCPT in one write, two replies (NULL: not offered) */
	void (*mail_rcpt)(struct nh_conn *c, const char *from,
	    const char *params, const char *rcpt);
	void (*data)(struct nh_conn *c, const char *msg, size_t len);
	void (*rset)(struct nh_conn *c);
};

struct nh_conn {
	struct event_base *base;
	struct nexthop_url url;
	struct nexthop_tls tls;
	char ca_file[256];		/* copies: tls points here */
	char helo_name[256];
	struct nexthop_timeouts to;
	char sessid[32];
	const struct nh_ops *ops;
	void *impl;

	enum nh_req req;		/* request in flight, NONE when idle */
	nh_cb *cb;
	void *arg;
	struct event *ev_done;		/* delivers the callback */
	struct smtp_reply *replies;	/* reply array for the callback */
	int nreplies;			/* how many to deliver */
	int replies_cap;
	/* nh_mail_rcpt one command at a time: the caller's callback, the
	 * recipient, and MAIL's reply while RCPT runs */
	nh_cb *chain_cb;
	void *chain_arg;
	char chain_rcpt[SMTP_PATH_MAX + 1];
	struct smtp_reply chain_mail;
};

extern const struct nh_ops nh_smtp_ops;
extern const struct nh_ops nh_maildir_ops;

/* Make room for n replies in c->replies; returns it, or NULL. */
struct smtp_reply *nh_replies(struct nh_conn *c, int n);
/* Deliver c->replies[0..n-1] to the pending callback from the loop. */
void nh_finish(struct nh_conn *c, int n);
/* Deliver one reply jaga makes (n copies, for LMTP DATA). */
void nh_finish_made(struct nh_conn *c, int n, int code, const char *enh,
    const char *text);
/* The name of a request for messages ("MAIL", "DATA"...). */
const char *nh_req_name(enum nh_req req);

#endif
