/* nh_auth.c - the upstream credential of a next hop, from the vault.
 *
 * Decrypted per authenticating connection in the job pool (see nh_auth.h
 * and docs/decisions.md "Smarthost relay"): the vault and key files are
 * read every time, so a rotated secret needs no restart, and the secret
 * is in memory only while a connection logs in.
 */
#include "gateway/nh_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "gateway/params.h"
#include "util/config.h"
#include "util/jobq.h"

#define NH_AUTH_PATH_MAX	4096
#define NH_AUTH_ERR_MAX		300
/* "AUTH PLAIN " + base64 of NUL user NUL secret + CRLF, and its NUL */
#define NH_AUTH_LINE_MAX	(16 + sodium_base64_ENCODED_LEN(2 + \
	VAULT_USER_MAX + VAULT_SECRET_MAX, sodium_base64_VARIANT_ORIGINAL))

/* Set once at start by nh_auth_setup, read by every thread after. */
static char nh_auth_path[NH_AUTH_PATH_MAX];
static struct vault_keysrc *nh_auth_keysrc;

int
nh_auth_setup(const struct config *c, char *err, size_t errlen)
{
	if (vault_path(config_str(c, "vault_file"), config_str(c, "state_dir"),
	    nh_auth_path, sizeof nh_auth_path) < 0) {
		snprintf(err, errlen, "vault_file: path too long");
		return -1;
	}
	vault_keysrc_free(nh_auth_keysrc);
	nh_auth_keysrc = vault_keysrc_new(config_str(c, "vault_key"), err,
	    errlen);
	return nh_auth_keysrc != NULL ? 0 : -1;
}

void
nh_auth_done(void)
{
	vault_keysrc_free(nh_auth_keysrc);
	nh_auth_keysrc = NULL;
}

int
nh_auth_get(const char *name, struct vault_secret *out, char *err,
    size_t errlen)
{
	struct vault *v;
	int rc;

	memset(out, 0, sizeof *out);
	if (nh_auth_keysrc == NULL) {
		snprintf(err, errlen, "vault not set up");
		return -1;
	}
	if ((v = vault_open(nh_auth_path, err, errlen)) == NULL)
		return -1;
	rc = vault_get(v, nh_auth_keysrc, name, out, err, errlen);
	vault_close(v);
	if (rc == 1)
		snprintf(err, errlen, "%s: no entry \"%s\" (jaga vault set %s "
		    "--user USER)", nh_auth_path, name, name);
	return rc;
}

int
nh_auth_check(const char *name, char *err, size_t errlen)
{
	struct vault_secret s;
	int rc;

	if (nh_auth_keysrc == NULL) {
		snprintf(err, errlen, "vault not set up");
		return -1;
	}
	if (vault_keysrc_check(nh_auth_keysrc, err, errlen) < 0)
		return -1;
	rc = nh_auth_get(name, &s, err, errlen);
	if (rc == 0)
		vault_secret_free(&s);
	return rc == 0 ? 0 : -1;
}

int
nh_auth_start(const struct settings *st, char *err, size_t errlen)
{
	const char *name;
	int set_up = 0;

	for (size_t i = 0; i < st->nlisteners; i++) {
		name = st->listeners[i].next_hop.auth;
		if (name[0] == '\0')
			continue;
		/* once: worker threads may read the key source already */
		if (!set_up && nh_auth_keysrc == NULL &&
		    nh_auth_setup(st->cfg, err, errlen) < 0)
			return -1;
		set_up = 1;
		if (nh_auth_check(name, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* ---- the job ---- */

struct nh_auth_job {
	char name[VAULT_NAME_MAX + 1];
	struct vault_secret cred;
	int rc;
	char err[NH_AUTH_ERR_MAX];
	int cancelled;
	nh_auth_cb *cb;
	void *arg;
};

static void
nh_auth_job_free(struct nh_auth_job *j)
{
	if (j->rc == 0 && j->cred.secret != NULL)
		vault_secret_free(&j->cred);
	sodium_memzero(&j->cred, sizeof j->cred);
	free(j);
}

static void
nh_auth_work(void *arg)
{
	struct nh_auth_job *j = arg;

	j->rc = nh_auth_get(j->name, &j->cred, j->err, sizeof j->err);
}

static void
nh_auth_job_done(void *arg)
{
	struct nh_auth_job *j = arg;

	if (!j->cancelled)
		j->cb(j->arg, j->rc == 0 ? &j->cred : NULL, j->err);
	nh_auth_job_free(j);
}

struct nh_auth_job *
nh_auth_fetch(struct event_base *base, const char *name, nh_auth_cb *cb,
    void *arg)
{
	struct nh_auth_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	snprintf(j->name, sizeof j->name, "%s", name);
	j->rc = -1;
	j->cb = cb;
	j->arg = arg;
	if (jobq_submit(base, nh_auth_work, nh_auth_job_done, j) < 0) {
		free(j);
		return NULL;
	}
	return j;
}

/* A job in a pool thread cannot be stopped: its done function sees the
 * flag and only wipes and frees. */
void
nh_auth_cancel(struct nh_auth_job *j)
{
	if (j != NULL)
		j->cancelled = 1;
}

/* ---- AUTH lines in locked memory ---- */

static void
nh_auth_line_free(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	sodium_free((void *)data);	/* sodium_free wipes first */
}

/* prefix + base64(data) + CRLF into a sodium_malloc'd line, added to out
 * by reference: no copy of it lands in ordinary memory. */
static int
nh_auth_put(struct evbuffer *out, const char *prefix,
    const unsigned char *data, size_t len)
{
	size_t plen = strlen(prefix), cap = NH_AUTH_LINE_MAX, n;
	char *line;

	if (len > 2 + VAULT_USER_MAX + VAULT_SECRET_MAX ||
	    (line = sodium_malloc(cap)) == NULL)
		return -1;
	memcpy(line, prefix, plen);
	sodium_bin2base64(line + plen, cap - plen - 2, data, len,
	    sodium_base64_VARIANT_ORIGINAL);
	n = strlen(line);
	memcpy(line + n, "\r\n", 2);
	if (evbuffer_add_reference(out, line, n + 2, nh_auth_line_free,
	    NULL) < 0) {
		sodium_free(line);
		return -1;
	}
	return 0;
}

int
nh_auth_put_b64(struct evbuffer *out, const char *data, size_t len)
{
	return nh_auth_put(out, "", (const unsigned char *)data, len);
}

/* RFC 4616 §2: message = [authzid] NUL authcid NUL passwd; no authzid
 * (we act as ourselves), and neither part may hold a NUL. */
int
nh_auth_put_plain(struct evbuffer *out, const struct vault_secret *cred)
{
	size_t ulen = strlen(cred->user), n = 2 + ulen + cred->len;
	unsigned char *msg;
	int rc;

	if (memchr(cred->secret, '\0', cred->len) != NULL ||
	    n > 2 + VAULT_USER_MAX + VAULT_SECRET_MAX ||
	    (msg = sodium_malloc(n)) == NULL)
		return -1;
	msg[0] = '\0';
	memcpy(msg + 1, cred->user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, cred->secret, cred->len);
	rc = nh_auth_put(out, "AUTH PLAIN ", msg, n);
	sodium_free(msg);
	return rc;
}
