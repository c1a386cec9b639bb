/* nh_pool.h - idle next-hop connections kept for the next client session.
 *
 * A before-queue proxy opens one next-hop connection per client session;
 * keeping the idle ones (like Postfix's connection cache) saves the next hop
 * a connect, greeting, EHLO and QUIT per message.  One pool per worker (no
 * locking); a connection is kept at most max_idle_ms, and is only reused
 * while it is open and between transactions. */
#ifndef JAGA_GATEWAY_NH_POOL_H
#define JAGA_GATEWAY_NH_POOL_H

#include "gateway/nexthop.h"

struct event_base;
struct nh_pool;

/* A pool of at most max connections (0: keep none). */
struct nh_pool *nh_pool_new(struct event_base *base, unsigned max,
    unsigned max_idle_ms);
/* Close every kept connection and free the pool; takes NULL. */
void nh_pool_free(struct nh_pool *p);
/* An open, idle connection to url (the same struct the listener holds),
 * now logging as sessid; NULL when none is kept. */
struct nh_conn *nh_pool_get(struct nh_pool *p, const struct nexthop_url *url,
    const char *sessid);
/* Keep c for reuse when it is open and idle and there is room; otherwise
 * close it.  The pool owns c afterwards either way. */
void nh_pool_put(struct nh_pool *p, const struct nexthop_url *url,
    struct nh_conn *c);

#endif
