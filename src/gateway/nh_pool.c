/* nh_pool.c - idle next-hop connections kept for reuse. */
#include "gateway/nh_pool.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

struct nh_pool_entry {
	const struct nexthop_url *url;
	struct nh_conn *c;
	long long since_ms;
};

struct nh_pool {
	struct event *sweep;
	unsigned max, n, max_idle_ms;
	struct nh_pool_entry *v;
};

static long long
nh_pool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nh_pool_drop(struct nh_pool *p, unsigned i)
{
	nh_conn_free(p->v[i].c);
	p->v[i] = p->v[--p->n];
}

/* Once a second: close what waited too long or was closed by the peer. */
static void
nh_pool_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct nh_pool *p = arg;
	long long now = nh_pool_now();

	for (unsigned i = 0; i < p->n;)
		if (now - p->v[i].since_ms >= p->max_idle_ms ||
		    !nh_is_open(p->v[i].c))
			nh_pool_drop(p, i);
		else
			i++;
}

struct nh_pool *
nh_pool_new(struct event_base *base, unsigned max, unsigned max_idle_ms)
{
	struct nh_pool *p = calloc(1, sizeof *p);
	struct timeval tv = { 1, 0 };

	if (p == NULL)
		return NULL;
	p->max = max;
	p->max_idle_ms = max_idle_ms;
	p->v = calloc(max ? max : 1, sizeof *p->v);
	p->sweep = event_new(base, -1, EV_PERSIST, nh_pool_sweep, p);
	if (p->v == NULL || p->sweep == NULL) {
		nh_pool_free(p);
		return NULL;
	}
	if (max > 0)
		event_add(p->sweep, &tv);
	return p;
}

void
nh_pool_free(struct nh_pool *p)
{
	if (p == NULL)
		return;
	while (p->n > 0)
		nh_pool_drop(p, 0);
	if (p->sweep)
		event_free(p->sweep);
	free(p->v);
	free(p);
}

struct nh_conn *
nh_pool_get(struct nh_pool *p, const struct nexthop_url *url,
    const char *sessid)
{
	long long now = nh_pool_now();
	struct nh_conn *c;

	for (unsigned i = p->n; i-- > 0;) {	/* newest first */
		if (p->v[i].url != url)
			continue;
		c = p->v[i].c;
		p->v[i].c = NULL;
		p->v[i] = p->v[--p->n];
		if (now - p->v[i].since_ms < p->max_idle_ms && nh_is_open(c)) {
			nh_conn_set_sessid(c, sessid);
			return c;
		}
		nh_conn_free(c);
	}
	return NULL;
}

void
nh_pool_put(struct nh_pool *p, const struct nexthop_url *url,
    struct nh_conn *c)
{
	if (c == NULL)
		return;
	if (p == NULL || p->n >= p->max || url->kind == NH_MAILDIR ||
	    !nh_is_open(c)) {
		nh_conn_free(c);
		return;
	}
	p->v[p->n].url = url;
	p->v[p->n].c = c;
	p->v[p->n].since_ms = nh_pool_now();
	p->n++;
}
