/* limits.c - limit specs and the decision; the counting is the backend's
 * (counters.h).  Specs are parsed with a cursor over (pointer, length)
 * views; nothing is allocated except the distinct-domain list of one call. */
#include "engine/limits.h"
#include "engine/counters.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMITS_SHOW_MAX	64	/* bytes of a bad token shown in a message */

struct limits_tok {
	const char *p;
	size_t len;
};

static const char *const limits_things[] = { "messages", "rcpts", "domains" };
static const char *const limits_actions[] = { "defer", "reject", "suspend" };

const char *
limits_thing_name(enum limits_thing t)
{
	return (unsigned)t < 3 ? limits_things[t] : "?";
}

const char *
limits_action_name(enum limits_action a)
{
	return (unsigned)a < 3 ? limits_actions[a] : "?";
}

void
counter_backend_free(struct counter_backend *b)
{
	if (b != NULL)
		b->ops->free(b);
}

/* ---- parsing ---- */

static int limits_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
limits_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

#define LIMITS_SHOW(t) \
	(int)((t).len < LIMITS_SHOW_MAX ? (t).len : LIMITS_SHOW_MAX), (t).p

static int
limits_tok_is(struct limits_tok t, const char *word)
{
	return t.len == strlen(word) && memcmp(t.p, word, t.len) == 0;
}

/* Find word in names[0..n); -1 when absent. */
static int
limits_lookup(struct limits_tok t, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (limits_tok_is(t, names[i]))
			return i;
	return -1;
}

/* Decimal digits of t (all of it) into *out, at most max.  0 or -1. */
static int
limits_num(struct limits_tok t, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (t.len == 0)
		return -1;
	for (size_t i = 0; i < t.len; i++) {
		if (!isdigit((unsigned char)t.p[i]))
			return -1;
		v = v * 10 + (unsigned)(t.p[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* "30/1m" into rule (thing and action set by the caller). */
static int
limits_parse_item(struct limits_tok t, struct limits_rule *r, char *err,
    size_t errlen)
{
	const char *slash = memchr(t.p, '/', t.len);
	struct limits_tok c, w;
	unsigned long long count, n, unit;

	if (slash == NULL)
		return limits_err(err, errlen, "bad limit \"%.*s\" (want "
		    "COUNT/WINDOW, e.g. 30/1m)", LIMITS_SHOW(t));
	c = (struct limits_tok){ t.p, (size_t)(slash - t.p) };
	w = (struct limits_tok){ slash + 1, t.len - c.len - 1 };
	if (limits_num(c, LIMITS_COUNT_MAX, &count) < 0)
		return limits_err(err, errlen, "bad count in \"%.*s\" (want 0 to "
		    "%d)", LIMITS_SHOW(t), LIMITS_COUNT_MAX);
	unit = 0;
	if (w.len >= 2) {
		const char *u = strchr("smhd", w.p[w.len - 1]);
		static const unsigned secs[] = { 1, 60, 3600, 86400 };
		if (u != NULL && *u != '\0')
			unit = secs[u - "smhd"];
	}
	if (unit != 0)
		w.len--;
	if (unit == 0 || limits_num(w, LIMITS_WINDOW_MAX, &n) < 0 || n == 0 ||
	    n * unit > LIMITS_WINDOW_MAX)
		return limits_err(err, errlen, "bad window in \"%.*s\" (want a "
		    "number and s, m, h or d, at most 366d)", LIMITS_SHOW(t));
	r->limit = (uint32_t)count;
	r->window = (uint32_t)(n * unit);
	return 0;
}

static void
limits_skip_ws(const char **p, const char *end)
{
	while (*p < end && isspace((unsigned char)**p))
		(*p)++;
}

/* The next token: up to white space, ',' or end. */
static struct limits_tok
limits_next_tok(const char **p, const char *end)
{
	struct limits_tok t = { *p, 0 };

	while (*p < end && !isspace((unsigned char)**p) && **p != ',')
		(*p)++;
	t.len = (size_t)(*p - t.p);
	return t;
}

/* Append one rule, refusing a second limit on the same thing and window. */
static int
limits_add(struct limits_spec *spec, const struct limits_rule *r,
    struct limits_tok t, char *err, size_t errlen)
{
	for (size_t i = 0; i < spec->nrules; i++)
		if (spec->rule[i].thing == r->thing &&
		    spec->rule[i].window == r->window)
			return limits_err(err, errlen, "duplicate window in "
			    "\"%.*s\" (%s already has one of %u s)", LIMITS_SHOW(t),
			    limits_thing_name(r->thing), (unsigned)r->window);
	if (spec->nrules == LIMITS_RULES_MAX)
		return limits_err(err, errlen, "too many limits at \"%.*s\" "
		    "(at most %d)", LIMITS_SHOW(t), LIMITS_RULES_MAX);
	spec->rule[spec->nrules++] = *r;
	return 0;
}

/* "action=suspend" for the rules from first on. */
static int
limits_parse_action(struct limits_spec *spec, size_t first,
    struct limits_tok t, char *err, size_t errlen)
{
	struct limits_tok a = { t.p + 7, t.len - 7 };
	int i = limits_lookup(a, limits_actions, 3);

	if (i < 0)
		return limits_err(err, errlen, "unknown action \"%.*s\" (want "
		    "defer, reject or suspend)", LIMITS_SHOW(a));
	for (size_t k = first; k < spec->nrules; k++)
		spec->rule[k].action = (enum limits_action)i;
	return 0;
}

/* THING before '='; returns the thing or -1 with a message. */
static int
limits_parse_thing(const char **p, const char *end, char *err, size_t errlen)
{
	struct limits_tok name = { *p, 0 };
	int thing;

	while (*p < end && **p != '=' && !isspace((unsigned char)**p))
		(*p)++;
	name.len = (size_t)(*p - name.p);
	limits_skip_ws(p, end);
	if (*p == end || **p != '=')
		return limits_err(err, errlen, "missing \"=\" after \"%.*s\"",
		    LIMITS_SHOW(name));
	(*p)++;
	thing = limits_lookup(name, limits_things, 3);
	if (thing < 0)
		return limits_err(err, errlen, "unknown counted thing \"%.*s\" "
		    "(want messages, rcpts or domains)", LIMITS_SHOW(name));
	return thing;
}

/* One group, [p, end) trimmed and not empty. */
static int
limits_parse_group(struct limits_spec *spec, const char *p, const char *end,
    char *err, size_t errlen)
{
	struct limits_tok grp = { p, (size_t)(end - p) }, t;
	struct limits_rule r = { 0 };
	size_t first = spec->nrules;
	int thing, need = 1;	/* a limit must come next */

	if ((thing = limits_parse_thing(&p, end, err, errlen)) < 0)
		return -1;
	r.thing = (enum limits_thing)thing;
	for (limits_skip_ws(&p, end); p < end; limits_skip_ws(&p, end)) {
		if (*p == ',' && !need) {
			need = 1;
			p++;
			continue;
		}
		t = limits_next_tok(&p, end);
		if (t.len >= 7 && memcmp(t.p, "action=", 7) == 0 && !need) {
			limits_skip_ws(&p, end);
			if (p < end)
				return limits_err(err, errlen, "unexpected \"%.*s\" "
				    "after \"%.*s\"", LIMITS_SHOW(((struct limits_tok)
				    { p, (size_t)(end - p) })), LIMITS_SHOW(t));
			return limits_parse_action(spec, first, t, err, errlen);
		}
		if (!need || t.len == 0) {
			need = 1;	/* a second limit without ',' */
			break;
		}
		if (limits_parse_item(t, &r, err, errlen) < 0 ||
		    limits_add(spec, &r, t, err, errlen) < 0)
			return -1;
		need = 0;
	}
	if (need || p < end)
		return limits_err(err, errlen, "bad limit list in \"%.*s\" (want "
		    "e.g. messages=30/1m,300/1h action=defer)", LIMITS_SHOW(grp));
	return 0;
}

int
limits_parse(struct limits_spec *spec, const char *text, char *err,
    size_t errlen)
{
	const char *p = text, *end = text + strlen(text), *semi, *ge;

	memset(spec, 0, sizeof(*spec));
	err[0] = '\0';
	for (;;) {
		semi = memchr(p, ';', (size_t)(end - p));
		ge = semi != NULL ? semi : end;
		limits_skip_ws(&p, ge);
		while (ge > p && isspace((unsigned char)ge[-1]))
			ge--;
		if (p < ge && limits_parse_group(spec, p, ge, err, errlen) < 0)
			return -1;
		if (semi == NULL)
			return 0;
		p = semi + 1;
	}
}

/* ---- keys ---- */

/* Clear the bits of a[0..n) after the first len. */
static void
limits_mask(unsigned char *a, size_t n, unsigned len)
{
	for (size_t i = 0; i < n; i++) {
		unsigned keep = len > 8 * i ? len - 8 * (unsigned)i : 0;
		a[i] &= keep >= 8 ? 0xff : (unsigned char)(0xff00 >> keep);
	}
}

int
limits_net_key_len(const char *ip, unsigned len4, unsigned len6, char *out,
    size_t outlen)
{
	unsigned char a[16];
	char txt[INET6_ADDRSTRLEN];
	unsigned char *v4 = NULL;

	if (len4 > 32 || len6 > 128)
		return -1;
	if (inet_pton(AF_INET, ip, a) == 1)
		v4 = a;
	else if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	else if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)a))
		v4 = a + 12;
	if (v4 != NULL) {
		limits_mask(v4, 4, len4);
		snprintf(out, outlen, "net:%u.%u.%u.%u/%u", v4[0], v4[1], v4[2],
		    v4[3], len4);
		return 0;
	}
	limits_mask(a, 16, len6);	/* /64: RFC 4291 §2.5.4 interface ID off */
	if (inet_ntop(AF_INET6, a, txt, sizeof(txt)) == NULL)
		return -1;
	snprintf(out, outlen, "net:%s/%u", txt, len6);
	return 0;
}

int
limits_net_key(const char *ip, char *out, size_t outlen)
{
	return limits_net_key_len(ip, 24, 64, out, outlen);
}

/* ---- the decision ---- */

static int
limits_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lowercase, sorted, distinct copies of d[0..n) in one block (*out, freed
 * by the caller).  Returns the count, or LIMITS_EINVAL/-ENOMEM as EBACKEND. */
static int
limits_uniq_domains(const char *const *d, size_t n, char ***out)
{
	size_t total = 0, len, k = 0;
	char **v, *s;

	for (size_t i = 0; i < n; i++) {
		len = strnlen(d[i], LIMITS_DOMAIN_MAX + 1);
		if (len == 0 || len > LIMITS_DOMAIN_MAX)
			return LIMITS_EINVAL;
		total += len + 1;
	}
	if ((v = malloc(n * sizeof(*v) + total + 1)) == NULL)
		return LIMITS_EBACKEND;
	s = (char *)(v + n);
	for (size_t i = 0; i < n; i++) {
		v[i] = s;
		for (const char *c = d[i]; *c != '\0'; c++)
			*s++ = (char)tolower((unsigned char)*c);
		*s++ = '\0';
	}
	qsort(v, n, sizeof(*v), limits_strcmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	*out = v;
	return (int)k;
}

/* Append the items of one key's spec to req. */
static void
limits_fill_request(struct counter_request *req, const char *key,
    const struct limits_spec *spec, int64_t now, uint32_t n_msgs,
    uint32_t n_rcpts)
{
	req->now = now;
	for (size_t i = 0; i < spec->nrules; i++) {
		const struct limits_rule *r = &spec->rule[i];
		struct counter_item *it = &req->item[req->nitems++];
		it->key = key;
		it->thing = r->thing;
		it->window_len = r->window;
		it->window_start = now - now % r->window;
		it->limit = r->limit;
		it->add = r->thing == LIMITS_MESSAGES ? n_msgs :
		    r->thing == LIMITS_RCPTS ? n_rcpts : 0;
	}
}

/* Bad keys: too many, too long, a spec too big, a key named twice. */
static int
limits_keys_bad(const struct limits_key *keys, size_t nkeys)
{
	if (nkeys > LIMITS_KEYS_MAX)
		return 1;
	for (size_t i = 0; i < nkeys; i++) {
		if (strnlen(keys[i].key, LIMITS_KEY_MAX) >= LIMITS_KEY_MAX ||
		    keys[i].spec->nrules > LIMITS_RULES_MAX)
			return 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(keys[i].key, keys[j].key) == 0)
				return 1;
	}
	return 0;
}

/* Which key and rule item index idx of a request built from keys is. */
static void
limits_locate(const struct limits_key *keys, size_t idx, size_t *key,
    size_t *rule)
{
	size_t k = 0;

	while (idx >= keys[k].spec->nrules) {
		idx -= keys[k].spec->nrules;
		k++;
	}
	*key = k;
	*rule = idx;
}

int
limits_check_and_count_keys(struct counter_backend *b,
    const struct limits_key *keys, size_t nkeys, int64_t now, uint32_t n_msgs,
    uint32_t n_rcpts, const char *const *rcpt_domains, size_t n_domains,
    struct limits_verdict *v)
{
	struct counter_request req = { .now = now };
	struct counter_result res = { 0 };
	char **uniq = NULL;
	size_t k, r;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	if (limits_keys_bad(keys, nkeys) || now < 0 ||
	    n_domains > LIMITS_DOMAINS_MAX)
		return LIMITS_EINVAL;
	for (k = 0; k < nkeys; k++)
		limits_fill_request(&req, keys[k].key, keys[k].spec, now, n_msgs,
		    n_rcpts);
	if (req.nitems == 0)
		return 0;
	if (n_domains > 0 && (rc = limits_uniq_domains(rcpt_domains, n_domains,
	    &uniq)) < 0)
		return rc;
	req.domains = (const char *const *)uniq;
	req.ndomains = (size_t)rc;
	rc = b->ops->check_and_count(b, &req, &res);
	free(uniq);
	if (rc == 0 && res.refused) {
		limits_locate(keys, res.index, &k, &r);
		v->refused = 1;
		v->key = k;
		v->rule = keys[k].spec->rule[r];
		v->count = res.count;
		v->window_end = req.item[res.index].window_start +
		    req.item[res.index].window_len;
	}
	return rc;
}

int
limits_check_and_count(struct counter_backend *b, const char *key,
    const struct limits_spec *spec, int64_t now, uint32_t n_msgs,
    uint32_t n_rcpts, const char *const *rcpt_domains, size_t n_domains,
    struct limits_verdict *v)
{
	struct limits_key k = { key, spec };

	return limits_check_and_count_keys(b, &k, 1, now, n_msgs, n_rcpts,
	    rcpt_domains, n_domains, v);
}
