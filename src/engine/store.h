/* store.h - the SQLite state store: one file, state_dir/jaga.db.
 *
 * WAL mode, busy_timeout STORE_BUSY_MS, foreign keys on.  The schema is
 * versioned with PRAGMA user_version; store_open applies the missing
 * migrations (an ordered list in store.c) in one transaction and refuses a
 * file made by a newer jaga.  A struct store is one SQLite connection and
 * must be used by one thread at a time: every thread that needs the store
 * opens its own handle (SQLite serialises writers through the file lock).
 *
 * Identities are AUTH accounts and application credentials.  The list
 * fields (senders, from_addrs, networks) are stored as newline-separated
 * text, one entry per line, without a trailing newline; "" = no entries.
 * Every text field is bounded by the sizes below; store_identity_add and
 * store_identity_update refuse longer or control-character values.
 */
#ifndef JAGA_ENGINE_STORE_H
#define JAGA_ENGINE_STORE_H

#include <stddef.h>

#include "engine/passwd.h"

#define STORE_FILE "jaga.db"		/* under state_dir */
#define STORE_BUSY_MS 5000		/* wait this long for a lock */
#define STORE_NAME_MAX 255		/* octets of an identity name */
#define STORE_LIST_MAX 4096		/* octets of one list field */
#define STORE_LIMITS_MAX 512		/* octets of a limits spec */
#define STORE_NOTE_MAX 512

enum store_kind { STORE_ACCOUNT, STORE_APP };

/* Results besides 0 (done) and -1 (a runtime error, described in err). */
#define STORE_NOTFOUND 1		/* no identity of that name */
#define STORE_EXISTS 2			/* add: the name is taken */

struct identity {
	char name[STORE_NAME_MAX + 1];	/* case-sensitive key */
	enum store_kind kind;
	char pwhash[PASSWD_HASH_MAX];	/* bare, as passwd_normalize */
	long long created, pw_changed;	/* Unix seconds */
	int revoked;
	long long revoked_at;		/* 0 unless revoked */
	long long expires;		/* Unix seconds, 0 = never */
	int must_change;		/* a new password is due; passwd clears it */
	char senders[STORE_LIST_MAX];	/* MAIL FROM: addr or @domain */
	char from_addrs[STORE_LIST_MAX];	/* header From:, same form */
	char networks[STORE_LIST_MAX];	/* CIDRs */
	char limits[STORE_LIMITS_MAX];	/* "messages=30/1m,300/1h; ..." */
	char note[STORE_NOTE_MAX];
};

struct store;

/* Open (creating when missing) and migrate the store at path.  Returns
 * NULL with the reason in err, e.g. "jaga.db has schema version 9; this
 * jaga knows up to 1". */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Close the handle; takes NULL. */
void store_close(struct store *st);
/* The schema version this code migrates to. */
int store_schema_version(void);

/* Add id (created and pw_changed are set to now when 0).  Returns 0,
 * STORE_EXISTS, or -1 with the reason in err (also for bad fields). */
int store_identity_add(struct store *st, const struct identity *id,
    char *err, size_t errlen);
/* Read the identity called name into *out.  Returns 0, STORE_NOTFOUND or
 * -1 with err.  out holds a hash: wipe it after use (sodium_memzero). */
int store_identity_get(struct store *st, const char *name,
    struct identity *out, char *err, size_t errlen);
/* Write every field but name and created of id over the stored identity.
 * Returns 0, STORE_NOTFOUND or -1 with err. */
int store_identity_update(struct store *st, const struct identity *id,
    char *err, size_t errlen);
/* Delete name.  Returns 0, STORE_NOTFOUND or -1 with err. */
int store_identity_remove(struct store *st, const char *name, char *err,
    size_t errlen);

/* Called once per identity, in name order; a non-zero return stops the
 * walk and is returned by store_identity_list. */
typedef int store_identity_fn(const struct identity *id, void *arg);
/* Walk every identity.  Returns 0, the callback's non-zero value, or -1
 * with err. */
int store_identity_list(struct store *st, store_identity_fn *fn, void *arg,
    char *err, size_t errlen);

/* Suspensions (issue 3 §4): an identity stopped because it burst.  One
 * is in force while not lifted, or while lifted on condition of a password
 * change ("jaga suspend lift --require-password-change") that has not been
 * made since (store_suspend_password_changed, called by "jaga user
 * passwd"). */
#define STORE_RULE_MAX 128		/* "messages=20/60s action=suspend" */
#define STORE_EVIDENCE_MAX 4096		/* a small JSON object */

struct suspension {
	char name[STORE_NAME_MAX + 1];
	long long since;		/* Unix seconds; 0 on add = now */
	char rule[STORE_RULE_MAX];
	char evidence[STORE_EVIDENCE_MAX];	/* JSON, built by the caller */
	long long lifted_at;		/* 0 = never lifted */
	int require_pw_change;
	int active;			/* in force (read only) */
};

/* Suspend su->name unless a suspension of it is already in force (one
 * atomic statement).  Returns 0 (added), STORE_EXISTS (one was in force,
 * nothing written) or -1 with err. */
int store_suspend_add(struct store *st, const struct suspension *su,
    char *err, size_t errlen);
/* The newest suspension of name, preferring one in force, into *out.
 * Returns 0, STORE_NOTFOUND (never suspended) or -1 with err. */
int store_suspend_get(struct store *st, const char *name,
    struct suspension *out, char *err, size_t errlen);
typedef int store_suspension_fn(const struct suspension *su, void *arg);
/* Walk the suspensions in force, oldest first; as store_identity_list. */
int store_suspend_list(struct store *st, store_suspension_fn *fn, void *arg,
    char *err, size_t errlen);
/* Lift name's suspension now; with require_pw it stays in force until the
 * identity's password changes.  Returns 0, STORE_NOTFOUND (none in force)
 * or -1 with err. */
int store_suspend_lift(struct store *st, const char *name, int require_pw,
    char *err, size_t errlen);

/* name got a new password: suspensions lifted on that condition end.
 * Returns 0 or -1 with err. */
int store_suspend_password_changed(struct store *st, const char *name,
    char *err, size_t errlen);

/* NULL when name is a valid identity name (1..255 octets, printable, no
 * white space or ':'), else what is wrong. */
const char *store_name_check(const char *name);

#endif
