/* authdb.h - who may AUTH: the identity store (state_dir/jaga.db) first,
 * then the user_table file as a fallback source.
 *
 * Every check reads the store, so a revocation or password change made
 * with "jaga user" takes effect at the next AUTH, without a restart.  The
 * checks run in job-pool threads; each takes a SQLite handle from a small
 * pool kept here (opened lazily, at most one per concurrent check), since
 * a handle must not be shared between threads. */
#ifndef JAGA_GATEWAY_AUTHDB_H
#define JAGA_GATEWAY_AUTHDB_H

#include <stddef.h>

#include <sys/socket.h>

#include "engine/store.h"

struct users;
struct authdb;

enum authdb_result {
	AUTHDB_OK,		/* the password is right, the identity usable */
	AUTHDB_FAIL,		/* unknown name or wrong password */
	AUTHDB_REVOKED,		/* right password, identity revoked */
	AUTHDB_EXPIRED,		/* right password, identity expired */
	AUTHDB_TEMPFAIL,	/* the store could not be read */
};

/* Whom an authenticated identity may send as (issue 3 §2), lists in the
 * form of mail/sender.h.  An empty list of the two takes the other; both
 * empty: the identity's own name when it is an address, else no
 * restriction (restricted = 0; "jaga user add" warns about it). */
struct authdb_senders {
	int restricted;			/* the lists below apply */
	char senders[STORE_LIST_MAX];	/* MAIL FROM */
	char from_addrs[STORE_LIST_MAX];	/* header From: */
	char networks[STORE_LIST_MAX];	/* CIDRs the identity may AUTH
					 * from, one per line; "" = any */
};

/* May an identity with the networks list above AUTH from sa?  An empty
 * list allows every network; an entry that does not parse allows none. */
int authdb_network_ok(const char *networks, const struct sockaddr *sa);

/* A checker for the store at dbpath (copied) with users (borrowed, may be
 * empty) behind it.  Returns NULL with the reason in err. */
struct authdb *authdb_new(const char *dbpath, const struct users *users,
    char *err, size_t errlen);
/* Open one handle now (creating and migrating the file), so a bad store
 * stops the start with a clear message.  Returns 0 or -1 with err. */
int authdb_prepare(struct authdb *a, char *err, size_t errlen);
/* A store handle for this thread from the pool (or a new one); NULL with
 * err.  Give it back with authdb_give, from the same thread. */
struct store *authdb_take(struct authdb *a, char *err, size_t errlen);
void authdb_give(struct authdb *a, struct store *st);
/* Close every handle; takes NULL.  No check may be running. */
void authdb_free(struct authdb *a);
/* Check name and password (slow on purpose: call it off the event loop;
 * thread-safe).  An unknown name costs an Argon2id verification, as a
 * wrong password does.  A store error is logged here once per check. */
enum authdb_result authdb_verify(struct authdb *a, const char *name,
    const char *pass, size_t passlen);
/* authdb_verify, and on AUTHDB_OK the identity's sender lists in *out
 * (out may be NULL). */
enum authdb_result authdb_check(struct authdb *a, const char *name,
    const char *pass, size_t passlen, struct authdb_senders *out);

#endif
