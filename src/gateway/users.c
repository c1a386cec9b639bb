/* users.c - the local user table for AUTH. */
#include "gateway/users.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS_NAME_MAX 255
#define USERS_LINE_MAX 1024
/* OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1. */
#define USERS_OPSLIMIT 2
#define USERS_MEMLIMIT (19u * 1024 * 1024)

struct user {
	char name[USERS_NAME_MAX + 1];
	char hash[crypto_pwhash_STRBYTES];
};

struct users {
	struct user *v;
	size_t n;
	char dummy[crypto_pwhash_STRBYTES];	/* for unknown names */
};

/* Parse "name:hash"; returns NULL or what is wrong. */
static const char *
users_parse_line(char *line, struct user *u)
{
	char *colon = strchr(line, ':');
	size_t nlen;

	if (colon == NULL)
		return "expected name:hash";
	nlen = (size_t)(colon - line);
	if (nlen == 0 || nlen > USERS_NAME_MAX)
		return "user name empty or longer than 255 octets";
	if (strncmp(colon + 1, "$argon2id$", 10) != 0 ||
	    strlen(colon + 1) >= sizeof u->hash)
		return "hash is not an Argon2id string (make one with "
		    "\"jaga user hash\")";
	memcpy(u->name, line, nlen);
	u->name[nlen] = '\0';
	snprintf(u->hash, sizeof u->hash, "%s", colon + 1);
	return NULL;
}

static int
users_add_line(struct users *u, char *line, const char *path, int lineno,
    char *err, size_t errlen)
{
	const char *why;
	struct user *v;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	v = realloc(u->v, (u->n + 1) * sizeof *v);
	if (v == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	u->v = v;
	if ((why = users_parse_line(line, &v[u->n])) != NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
		return -1;
	}
	u->n++;
	return 0;
}

static int
users_read(struct users *u, const char *path, char *err, size_t errlen)
{
	char line[USERS_LINE_MAX];
	int lineno = 0, r = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (r == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			r = -1;
		} else {
			r = users_add_line(u, line, path, lineno, err, errlen);
		}
	}
	fclose(f);
	return r;
}

struct users *
users_load(const char *path, char *err, size_t errlen)
{
	struct users *u = calloc(1, sizeof *u);

	if (u == NULL || users_hash("\x01unused", 7, u->dummy,
	    sizeof u->dummy) < 0) {
		snprintf(err, errlen, "out of memory");
		free(u);
		return NULL;
	}
	if (path[0] && users_read(u, path, err, errlen) < 0) {
		users_free(u);
		return NULL;
	}
	return u;
}

void
users_free(struct users *u)
{
	if (u == NULL)
		return;
	sodium_memzero(u->v, u->n * sizeof *u->v);
	free(u->v);
	free(u);
}

size_t
users_count(const struct users *u)
{
	return u->n;
}

int
users_verify(const struct users *u, const char *name, const char *pass,
    size_t passlen)
{
	const char *hash = u->dummy;
	int found = 0;

	for (size_t i = 0; i < u->n; i++) {
		if (strcmp(u->v[i].name, name) == 0) {
			hash = u->v[i].hash;
			found = 1;
		}
	}
	if (crypto_pwhash_str_verify(hash, pass, passlen) != 0)
		return 0;
	return found;
}

int
users_hash(const char *pass, size_t passlen, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str_alg(out, pass, passlen, USERS_OPSLIMIT,
	    USERS_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}
