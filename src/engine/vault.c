/* vault.c - the vault file: parsing, opening and decrypting (see vault.h;
 * the writers are in vault_write.c, the format in docs/decisions.md). */
#include "engine/vault_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_FIELDS_MAX 10
#define VAULT_LINE_MAX (64 + VAULT_NAME_MAX + VAULT_USER_MAX + \
	2 * VAULT_NONCE_LEN + 2 * VAULT_CT_MAX)

struct vview {
	const char *p;
	size_t n;
};

int
vault_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
vault_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VAULT_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

int
vault_user_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VAULT_USER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* ---- the parser: a cursor over the text, (pointer, length) views ---- */

/* Split line on single spaces into f; the number of fields, or -1 for an
 * empty field or more than max. */
static int
vault_fields(struct vview line, struct vview *f, int max)
{
	int n = 0;
	size_t i = 0, start = 0;

	for (i = 0; i <= line.n; i++) {
		if (i < line.n && line.p[i] != ' ')
			continue;
		if (i == start || n == max)
			return -1;
		f[n].p = line.p + start;
		f[n++].n = i - start;
		start = i + 1;
	}
	return n;
}

static int
vault_num(struct vview f, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (f.n == 0 || f.n > 20)
		return -1;
	for (size_t i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(f.p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(f.p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Exactly len bytes of hex into out. */
static int
vault_hex(struct vview f, unsigned char *out, size_t len)
{
	size_t got;

	if (f.n != 2 * len)
		return -1;
	return sodium_hex2bin(out, len, f.p, f.n, NULL, &got, NULL) == 0 &&
	    got == len ? 0 : -1;
}

static int
vault_text(struct vview f, char *out, size_t outlen)
{
	if (f.n >= outlen)
		return -1;
	memcpy(out, f.p, f.n);
	out[f.n] = '\0';
	return 0;
}

/* The keyword of line and its fields after it, checked for count. */
static int
vault_line(struct vview line, const char *kw, struct vview *f, int want)
{
	struct vview all[VAULT_FIELDS_MAX + 1];
	int n = vault_fields(line, all, VAULT_FIELDS_MAX + 1);

	if (n < 1 || all[0].n != strlen(kw) ||
	    memcmp(all[0].p, kw, all[0].n) != 0)
		return -1;
	if (n - 1 != want)
		return -1;
	memcpy(f, all + 1, (size_t)want * sizeof *f);
	return 0;
}

static int
vault_parse_kdf(struct vault *v, struct vview line)
{
	struct vview f[4];
	uint64_t ops, mem;

	if (vault_line(line, "kdf", f, 1) == 0 && f[0].n == 4 &&
	    memcmp(f[0].p, "none", 4) == 0) {
		v->kdf = VAULT_KDF_NONE;
		return 0;
	}
	if (vault_line(line, "kdf", f, 4) < 0 || f[0].n != 8 ||
	    memcmp(f[0].p, "argon2id", 8) != 0 ||
	    vault_hex(f[1], v->salt, sizeof v->salt) < 0 ||
	    vault_num(f[2], VAULT_KDF_OPS_MAX, &ops) < 0 || ops < 1 ||
	    vault_num(f[3], VAULT_KDF_MEM_MAX, &mem) < 0 ||
	    mem < VAULT_KDF_MEM_MIN)
		return -1;
	v->kdf = VAULT_KDF_ARGON2ID;
	v->ops = ops;
	v->mem = (size_t)mem;
	return 0;
}

static int
vault_parse_entry(struct vault_entry *e, struct vview line)
{
	struct vview f[8];
	uint64_t ver, t[3];
	size_t got;

	if (vault_line(line, "entry", f, 8) < 0 ||
	    vault_text(f[0], e->m.name, sizeof e->m.name) < 0 ||
	    !vault_name_ok(e->m.name) ||
	    vault_text(f[1], e->m.user, sizeof e->m.user) < 0 ||
	    !vault_user_ok(e->m.user) ||
	    vault_num(f[2], UINT32_MAX, &ver) < 0 || ver == 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (vault_num(f[3 + i], INT64_MAX, &t[i]) < 0)
			return -1;
	if (vault_hex(f[6], e->nonce, sizeof e->nonce) < 0 ||
	    f[7].n % 2 != 0 || f[7].n / 2 <= VAULT_TAG_LEN ||
	    f[7].n / 2 > VAULT_CT_MAX ||
	    sodium_hex2bin(e->ct, sizeof e->ct, f[7].p, f[7].n, NULL, &got,
	    NULL) != 0 || got != f[7].n / 2)
		return -1;
	e->m.version = (uint32_t)ver;
	e->m.created = (int64_t)t[0];
	e->m.rotated = (int64_t)t[1];
	e->m.expires = (int64_t)t[2];
	e->ctlen = got;
	return 0;
}

/* The next line at *pos (without its LF); -1 when no LF is left. */
static int
vault_next(const struct vault *v, size_t len, size_t *pos,
    struct vview *line)
{
	const char *nl;

	if (*pos >= len)
		return -1;
	nl = memchr(v->text + *pos, '\n', len - *pos);
	if (nl == NULL || (size_t)(nl - v->text) - *pos > VAULT_LINE_MAX)
		return -1;
	line->p = v->text + *pos;
	line->n = (size_t)(nl - v->text) - *pos;
	*pos += line->n + 1;
	return 0;
}

static int
vault_parse_head(struct vault *v, size_t len, size_t *pos, char *err,
    size_t errlen)
{
	struct vview line, f[1];
	uint64_t gen;

	if (vault_next(v, len, pos, &line) < 0 || line.n != strlen(VAULT_MAGIC)
	    || memcmp(line.p, VAULT_MAGIC, line.n) != 0) {
		if (len > 11 && memcmp(v->text, "jaga-vault ", 11) == 0)
			return vault_err(err, errlen, "%s: unsupported vault "
			    "format version (this jaga reads 1)", v->path);
		return vault_err(err, errlen, "%s: not a jaga vault file",
		    v->path);
	}
	if (vault_next(v, len, pos, &line) < 0)
		return vault_err(err, errlen, "%s: truncated", v->path);
	if (vault_parse_kdf(v, line) < 0)
		return vault_err(err, errlen, "%s:2: bad kdf line", v->path);
	if (vault_next(v, len, pos, &line) < 0 ||
	    vault_line(line, "check", f, 1) < 0 ||
	    vault_hex(f[0], v->check, sizeof v->check) < 0)
		return vault_err(err, errlen, "%s:3: bad or missing check "
		    "line", v->path);
	if (vault_next(v, len, pos, &line) < 0 ||
	    vault_line(line, "generation", f, 1) < 0 ||
	    vault_num(f[0], INT64_MAX, &gen) < 0 || gen == 0)
		return vault_err(err, errlen, "%s:4: bad or missing "
		    "generation line", v->path);
	v->generation = gen;
	return 0;
}

/* One more entry at the end of v->e (grown by doubling, bounded). */
static struct vault_entry *
vault_grow(struct vault *v, size_t *cap)
{
	struct vault_entry *e;

	if (v->n == VAULT_ENTRIES_MAX)
		return NULL;
	if (v->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		if ((e = realloc(v->e, ncap * sizeof *e)) == NULL)
			return NULL;
		v->e = e;
		*cap = ncap;
	}
	memset(&v->e[v->n], 0, sizeof v->e[v->n]);
	return &v->e[v->n];
}

/* The entries, in strictly increasing name order, then the MAC line,
 * which must end the file. */
static int
vault_parse_body(struct vault *v, size_t len, size_t pos, char *err,
    size_t errlen)
{
	struct vview line, f[1];
	struct vault_entry *e;
	size_t cap = 0, start;

	for (unsigned lineno = 5;; lineno++) {
		start = pos;
		if (vault_next(v, len, &pos, &line) < 0)
			return vault_err(err, errlen, "%s: truncated (no mac "
			    "line at the end)", v->path);
		if (line.n > 4 && memcmp(line.p, "mac ", 4) == 0)
			break;
		if ((e = vault_grow(v, &cap)) == NULL)
			return vault_err(err, errlen, "%s:%u: more than %d "
			    "entries", v->path, lineno, VAULT_ENTRIES_MAX);
		if (vault_parse_entry(e, line) < 0)
			return vault_err(err, errlen, "%s:%u: bad entry line",
			    v->path, lineno);
		if (v->n > 0 && strcmp(v->e[v->n - 1].m.name, e->m.name) >= 0)
			return vault_err(err, errlen, "%s:%u: entries out of "
			    "order or repeated", v->path, lineno);
		v->n++;
	}
	v->maclen = start;
	if (vault_line(line, "mac", f, 1) < 0 ||
	    vault_hex(f[0], v->mac, sizeof v->mac) < 0)
		return vault_err(err, errlen, "%s: bad mac line", v->path);
	if (pos != len)
		return vault_err(err, errlen, "%s: data after the mac line",
		    v->path);
	return 0;
}

struct vault *
vault_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct vault *v = calloc(1, sizeof *v);
	size_t pos = 0;

	if (v == NULL || (v->text = malloc(len + 1)) == NULL) {
		free(v);
		vault_err(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	snprintf(v->path, sizeof v->path, "%s", name);
	if (len > VAULT_FILE_MAX) {
		vault_err(err, errlen, "%s: larger than %u bytes", name,
		    VAULT_FILE_MAX);
	} else if (vault_parse_head(v, len, &pos, err, errlen) == 0 &&
	    vault_parse_body(v, len, pos, err, errlen) == 0) {
		return v;
	}
	vault_close(v);
	return NULL;
}

void
vault_close(struct vault *v)
{
	if (v == NULL)
		return;
	free(v->e);
	free(v->text);
	free(v);
}

int
vault_path(const char *vault_file, const char *state_dir, char *out,
    size_t outlen)
{
	int n;

	if (vault_file[0] == '/')
		n = snprintf(out, outlen, "%s", vault_file);
	else
		n = snprintf(out, outlen, "%s/%s", state_dir, vault_file[0] ?
		    vault_file : "vault");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* ---- opening: the file's mode and owner first, as ssh does ---- */

/* May a file owned by uid be used?  Ours or root's, as ssh wants; run as
 * root also the owner of its directory (the daemon's user owns
 * state_dir and the vault a root "jaga vault" handed to it). */
int
vault_owner_ok(const char *path, uid_t uid)
{
	char dir[VAULT_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat sd;

	if (uid == geteuid() || uid == 0)
		return 1;
	if (geteuid() != 0)
		return 0;
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path + 1) :
	    1, slash ? path : ".");
	return stat(dir, &sd) == 0 && sd.st_uid == uid;
}

/* fd's file: regular, owned as vault_owner_ok wants, no mode bits
 * outside allow. */
static int
vault_mode_ok(int fd, const char *path, mode_t allow, const char *want,
    char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return vault_err(err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vault_err(err, errlen, "%s: not a regular file", path);
	if ((st.st_mode & 07777 & ~allow) != 0)
		return vault_err(err, errlen, "%s: mode %04o, want %s or "
		    "stricter", path, (unsigned)(st.st_mode & 07777), want);
	if (!vault_owner_ok(path, st.st_uid))
		return vault_err(err, errlen, "%s: owned by uid %u, want uid "
		    "%u or root", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
	return 0;
}

/* Read the whole of fd (at most max bytes) into b. */
static int
vault_slurp(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(b, chunk, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

struct vault *
vault_open(const char *path, char *err, size_t errlen)
{
	struct vault *v = NULL;
	struct buf b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		vault_err(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (jaga vault init makes it)" : "");
		return NULL;
	}
	buf_init(&b, VAULT_FILE_MAX + 1);
	if (vault_mode_ok(fd, path, 0600, "0600", err, errlen) == 0) {
		if (vault_slurp(fd, &b) < 0)
			vault_err(err, errlen, "%s: cannot read it, or larger "
			    "than %u bytes", path, VAULT_FILE_MAX);
		else
			v = vault_parse(b.data ? b.data : "", b.len, path, err,
			    errlen);
	}
	close(fd);
	buf_done(&b);
	return v;
}

int
vault_list(struct vault *v, int (*fn)(const struct vault_meta *, void *),
    void *arg, char *err, size_t errlen)
{
	int r;

	for (size_t i = 0; i < v->n; i++)
		if ((r = fn(&v->e[i].m, arg)) != 0)
			return r;
	return 0;
}

struct vault_entry *
vault_find(const struct vault *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->e[i].m.name, name) == 0)
			return &v->e[i];
	return NULL;
}

unsigned
vault_meta_warn(const struct vault_meta *m, int64_t now, int64_t max_age)
{
	unsigned w = 0;
	int64_t since = m->rotated ? m->rotated : m->created;

	if (max_age > 0 && now - since > max_age)
		w |= VAULT_WARN_AGE;
	if (m->expires != 0 && now >= m->expires)
		w |= VAULT_WARN_EXPIRED;
	else if (m->expires != 0 && m->expires - now <= VAULT_EXPIRY_WARN)
		w |= VAULT_WARN_EXPIRING;
	return w;
}
