/* server.h - listeners, worker threads and the limits shared between them.
 *
 * One event loop per worker thread; every worker binds every listener with
 * SO_REUSEPORT, so the kernel spreads connections over the cores.  Session
 * counts (total and per client IP) are shared under one mutex.
 */
#ifndef JAGA_GATEWAY_SERVER_H
#define JAGA_GATEWAY_SERVER_H

#include <openssl/ssl.h>
#include <sys/socket.h>

#include "engine/relay.h"
#include "gateway/params.h"

struct event_base;
struct users;
struct authdb;
struct guard;
struct shared;
struct nh_pool;
struct inauth;
struct signer;

struct worker {
	int index;
	struct event_base *base;
	const struct settings *st;
	SSL_CTX *ssl;			/* shared, reference counted by OpenSSL */
	struct authdb *authdb;		/* shared, thread-safe */
	struct lockout *lockout;	/* AUTH lockout, shared, thread-safe */
	struct guard *guard;		/* limits, suspension; shared, thread-safe */
	struct shared *shared;		/* store = redis://, else NULL (shared.h) */
	struct alerter *alerts;		/* alert_post; shared; NULL = none */
	struct inauth *inauth;		/* inbound SPF/DKIM/DMARC; shared;
					 * NULL = off (gateway/inauth.h) */
	struct nh_pool *pool;		/* idle next-hop connections */
	const struct signer *signer;	/* dkim_key_table; shared, read-only;
					 * NULL = nothing is signed */
	struct relay_policy relay;
	unsigned long sessions;		/* sessions started by this worker */
	struct session *live;		/* this worker's sessions (a list) */
	unsigned nlive;
	int draining;			/* stopping: no new transactions */
	struct evconnlistener **lev;	/* this worker's listeners */
	struct event *drain_ev;
	long long drain_deadline_ms;
};

/* Run the daemon until SIGTERM or SIGINT.  Returns 0, or -1 after logging
 * why it could not start (a listener could not bind, TLS setup failed). */
int server_run(const struct settings *st);

enum server_admit { ADMIT_OK, ADMIT_TOO_MANY, ADMIT_TOO_MANY_IP };

/* Count a new session from sa against max_sessions and max_sessions_per_ip;
 * on ADMIT_OK the caller must call server_leave(sa) when it ends. */
enum server_admit server_enter(const struct settings *st,
    const struct sockaddr *sa);
void server_leave(const struct sockaddr *sa);

#endif
