/* dns_unbound.c - the daemon's dns_lookup: one libunbound context shared
 * by every thread, with its own TTL-honouring cache, forwarding to a
 * configured resolver or recursing from the root (see dns.h).
 *
 * A query is synchronous for its caller (a job-pool thread) but goes
 * through ub_resolve_async, so that it can be given up after timeout_ms:
 * libunbound has no overall query deadline of its own, and a dead
 * forwarder would hold the caller for minutes of retries.
 */
#include "engine/dns_int.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unbound.h>
#define UB_SLICE_MS	10	/* poll slice: another thread may have
				 * processed our answer meanwhile */
#define UB_ROOT_KEY	"/usr/share/dns/root.key"

struct dns_unbound {
	struct dns_lookup l;	/* first: the lookup is the resolver */
	struct ub_ctx *ctx;
	int timeout_ms;
};

/* One query waiting for its answer; on the caller's stack. */
struct ub_wait {
	pthread_mutex_t mu;
	int done, err;
	struct ub_result *res;
};

static void
ub_done(void *arg, int err, struct ub_result *res)
{
	struct ub_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->err = err;
	w->res = res;
	w->done = 1;
	pthread_mutex_unlock(&w->mu);
}

static int
ub_is_done(struct ub_wait *w)
{
	int done;

	pthread_mutex_lock(&w->mu);
	done = w->done;
	pthread_mutex_unlock(&w->mu);
	return done;
}

static long long
ub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run libunbound's answers until w is done or the deadline passes (then
 * the query is cancelled).  Returns 0 when w holds an answer, -1 on
 * timeout. */
static int
ub_wait_for(struct ub_ctx *ctx, struct ub_wait *w, int id, long long deadline)
{
	struct pollfd pfd = { .fd = ub_fd(ctx), .events = POLLIN };

	while (!ub_is_done(w)) {
		long long left = deadline - ub_now_ms();

		if (left <= 0) {
			if (ub_cancel(ctx, id) == 0)
				return -1;
			deadline = ub_now_ms() + 1000; /* being delivered */
			continue;
		}
		poll(&pfd, 1, left < UB_SLICE_MS ? (int)left : UB_SLICE_MS);
		ub_process(ctx);
	}
	return 0;
}

/* The status of a finished query (RFC 1035 §4.1.1 rcodes). */
static enum dns_status
ub_status(int err, const struct ub_result *res)
{
	if (err != 0)
		return err == UB_SYNTAX ? DNS_PERMFAIL : DNS_TEMPFAIL;
	if (res->bogus)
		return DNS_TEMPFAIL;	/* a validating resolver's SERVFAIL */
	switch (res->rcode) {
	case 0:
		return res->havedata ? DNS_OK : DNS_NODATA;
	case 3:
		return DNS_NXDOMAIN;
	case 2:
		return DNS_TEMPFAIL;	/* SERVFAIL, and unbound's timeouts */
	default:
		return DNS_PERMFAIL;	/* FORMERR, NOTIMP, REFUSED ... */
	}
}

/* Copy a finished answer into out; a malformed rdata spoils it all. */
static void
ub_copy(const struct ub_result *res, enum dns_type type,
    struct dns_result *out)
{
	uint32_t ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	int i;

	out->secure = res->secure;
	for (i = 0; res->data[i] != NULL; i++) {
		if (dns_rdata_add(out, type, ttl, (const uint8_t *)res->data[i],
		    (size_t)res->len[i]) < 0) {
			dns_result_init(out, DNS_PERMFAIL);
			return;
		}
	}
	if (out->n == 0 && out->truncated == 0)
		out->status = DNS_NODATA;
}

static int
ub_query(struct dns_lookup *l, const char *name, enum dns_type type,
    struct dns_result *out)
{
	struct dns_unbound *u = (struct dns_unbound *)l;
	struct ub_wait w = { .done = 0 };
	char norm[DNS_NAME_MAX + 1];
	int id, rc;

	if (name == NULL)
		return -1;
	dns_result_init(out, DNS_PERMFAIL);
	if (dns_name_norm(name, norm) != 0)
		return 0;
	pthread_mutex_init(&w.mu, NULL);
	rc = ub_resolve_async(u->ctx, norm, (int)type, 1, &w, ub_done, &id);
	if (rc != 0)
		out->status = DNS_TEMPFAIL;
	else if (ub_wait_for(u->ctx, &w, id,
	    ub_now_ms() + u->timeout_ms) != 0)
		out->status = DNS_TEMPFAIL;
	else if ((out->status = ub_status(w.err, w.res)) == DNS_OK)
		ub_copy(w.res, type, out);
	/* libunbound's ttl of a negative answer is the SOA's (RFC 2308 §5) */
	if (out->status != DNS_TEMPFAIL && out->status != DNS_PERMFAIL)
		out->ttl = w.res->ttl > 0 ? (uint32_t)w.res->ttl : 0;
	ub_resolve_free(w.res);
	pthread_mutex_destroy(&w.mu);
	return 0;
}

static void
ub_free(struct dns_lookup *l)
{
	struct dns_unbound *u = (struct dns_unbound *)l;

	ub_ctx_delete(u->ctx);
	free(u);
}

/* Forwarding: the configured resolver answers for every name, so
 * libunbound's own empty zones become transparent (RFC 6761 test. and
 * invalid., RFC 7686 onion., RFC 8375 home.arpa., the AS112 reverse zones
 * of RFC 6303, RFC 1918 and RFC 5737's TEST-NETs): test zones use them,
 * and the site's resolver may serve them.  localhost stays local.
 * ("nodefault" is ignored by ub_ctx_set_option in libunbound 1.17.) */
static int
ub_forward_all(struct ub_ctx *ctx)
{
	static const char *const zones[] = {
		"test. transparent", "invalid. transparent", "onion. transparent",
		"home.arpa. transparent",
	};
	size_t i;
	int rc = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes");

	for (i = 0; rc == 0 && i < sizeof zones / sizeof zones[0]; i++)
		rc = ub_ctx_set_option(ctx, "local-zone:", zones[i]);
	return rc;
}

/* Forwarding to resolver, or recursion (with the root trust anchor when
 * Debian's dns-root-data has it) when resolver is "". */
static int
ub_configure(struct ub_ctx *ctx, const char *resolver, char *err,
    size_t errlen)
{
	char fwd[128];
	int rc;

	/* threads, not a forked process, for async queries; loopback
	 * resolvers allowed (unbound refuses them by default) */
	if ((rc = ub_ctx_async(ctx, 1)) != 0 ||
	    (rc = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no")) != 0)
		goto fail;
	if (resolver[0] == '\0') {
		/* without the key only the DNSSEC status (secure) is lost */
		if (access(UB_ROOT_KEY, R_OK) == 0)
			(void)ub_ctx_add_ta_file(ctx, UB_ROOT_KEY);
		return 0;
	}
	if (dns_resolver_addr(resolver, fwd, sizeof fwd) != 0) {
		snprintf(err, errlen, "resolver \"%.100s\": %s", resolver,
		    dns_resolver_check(resolver));
		return -1;
	}
	if ((rc = ub_ctx_set_fwd(ctx, fwd)) == 0 &&
	    (rc = ub_forward_all(ctx)) == 0)
		return 0;
fail:
	snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
	return -1;
}

struct dns_lookup *
dns_unbound_new(const char *resolver, char *err, size_t errlen)
{
	struct dns_unbound *u = calloc(1, sizeof *u);

	if (u == NULL || (u->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(u);
		return NULL;
	}
	if (ub_configure(u->ctx, resolver, err, errlen) != 0) {
		ub_ctx_delete(u->ctx);
		free(u);
		return NULL;
	}
	u->l.query = ub_query;
	u->l.free = ub_free;
	u->timeout_ms = DNS_TIMEOUT_MS;
	return &u->l;
}

void
dns_unbound_timeout(struct dns_lookup *l, int ms)
{
	((struct dns_unbound *)l)->timeout_ms = ms;
}
