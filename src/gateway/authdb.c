/* authdb.c - AUTH against the identity store, then user_table. */
#include "gateway/authdb.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/passwd.h"
#include "engine/store.h"
#include "gateway/users.h"
#include "util/log.h"
#include "util/netaddr.h"

#define AUTHDB_PATH_MAX 4096
#define AUTHDB_POOL_MAX 16	/* idle handles kept (the job pool is 2) */

struct authdb {
	char path[AUTHDB_PATH_MAX];
	const struct users *users;
	pthread_mutex_t lock;
	struct store *idle[AUTHDB_POOL_MAX];
	size_t nidle;
};

struct authdb *
authdb_new(const char *dbpath, const struct users *users, char *err,
    size_t errlen)
{
	struct authdb *a = calloc(1, sizeof *a);

	if (a == NULL || strlen(dbpath) >= sizeof a->path) {
		snprintf(err, errlen, "%s", a == NULL ? "out of memory" :
		    "store path too long");
		free(a);
		return NULL;
	}
	memcpy(a->path, dbpath, strlen(dbpath) + 1);
	a->users = users;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

struct store *
authdb_take(struct authdb *a, char *err, size_t errlen)
{
	struct store *st = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->nidle > 0)
		st = a->idle[--a->nidle];
	pthread_mutex_unlock(&a->lock);
	return st != NULL ? st : store_open(a->path, err, errlen);
}

void
authdb_give(struct authdb *a, struct store *st)
{
	pthread_mutex_lock(&a->lock);
	if (a->nidle < AUTHDB_POOL_MAX) {
		a->idle[a->nidle++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	store_close(st);
}

int
authdb_prepare(struct authdb *a, char *err, size_t errlen)
{
	struct store *st = authdb_take(a, err, errlen);

	if (st == NULL)
		return -1;
	authdb_give(a, st);
	return 0;
}

void
authdb_free(struct authdb *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nidle; i++)
		store_close(a->idle[i]);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Look name up in the store.  Returns 0 (found, in *id), STORE_NOTFOUND
 * or -1 (logged). */
static int
authdb_lookup(struct authdb *a, const char *name, struct identity *id)
{
	char err[512];
	struct store *st = authdb_take(a, err, sizeof err);
	int r = -1;

	if (st != NULL) {
		r = store_identity_get(st, name, id, err, sizeof err);
		authdb_give(a, st);
	}
	if (r < 0)
		log_msg(LOG_LVL_ERR, "store", "AUTH lookup failed: %s", err);
	return r;
}

/* The identity is known and the password right: may it log in? */
static enum authdb_result
authdb_usable(const struct identity *id)
{
	if (id->revoked)
		return AUTHDB_REVOKED;
	if (id->expires != 0 && (long long)time(NULL) >= id->expires)
		return AUTHDB_EXPIRED;
	return AUTHDB_OK;
}

/* Fill *out by the rule in authdb.h; id is NULL for a user_table user. */
static void
authdb_senders_fill(struct authdb_senders *out, const char *name,
    const struct identity *id)
{
	const char *snd = id ? id->senders : "", *frm = id ? id->from_addrs : "";
	const char *at = strrchr(name, '@');
	int is_addr = at != NULL && at != name && strchr(at, '.') != NULL;

	if (!snd[0] && !frm[0] && is_addr)
		snd = frm = name;	/* an address may send as itself */
	snprintf(out->senders, sizeof out->senders, "%s", snd[0] ? snd : frm);
	snprintf(out->from_addrs, sizeof out->from_addrs, "%s",
	    frm[0] ? frm : snd);
	out->restricted = out->senders[0] != '\0';
	snprintf(out->networks, sizeof out->networks, "%s",
	    id ? id->networks : "");
}

int
authdb_network_ok(const char *networks, const struct sockaddr *sa)
{
	const char *p = networks;
	char one[STORE_LIST_MAX];
	struct cidr c;

	if (!*p)
		return 1;
	while (*p) {
		size_t n = strcspn(p, "\n");
		snprintf(one, sizeof one, "%.*s", (int)n, p);
		if (cidr_parse(one, &c) == 0 && cidr_match(&c, sa))
			return 1;
		p += n + (p[n] == '\n');
	}
	return 0;
}

enum authdb_result
authdb_verify(struct authdb *a, const char *name, const char *pass,
    size_t passlen)
{
	return authdb_check(a, name, pass, passlen, NULL);
}

enum authdb_result
authdb_check(struct authdb *a, const char *name, const char *pass,
    size_t passlen, struct authdb_senders *out)
{
	struct identity *id = malloc(sizeof *id);
	enum authdb_result res = AUTHDB_TEMPFAIL;
	int r;

	if (id == NULL)
		return AUTHDB_TEMPFAIL;
	r = authdb_lookup(a, name, id);
	if (r == 0)
		res = passwd_verify(id->pwhash, pass, passlen) ?
		    authdb_usable(id) : AUTHDB_FAIL;
	else if (r == STORE_NOTFOUND)	/* users_verify spends the time */
		res = users_verify(a->users, name, pass, passlen) ?
		    AUTHDB_OK : AUTHDB_FAIL;
	if (res == AUTHDB_OK && out != NULL)
		authdb_senders_fill(out, name, r == 0 ? id : NULL);
	sodium_memzero(id, sizeof *id);
	free(id);
	return res;
}
