/* burst_redis.c - the Redis burst store (see burst.h): the same counts as
 * burst_sqlite.c, shared by several gateways on one Redis.  Per identity
 * NAME, keys "jaga:b:NAME:" and
 *   e   sorted set of recent messages, score = time, member =
 *       "SEQ<TAB>IP<TAB>NET<TAB>SUBJECT" (SEQ zero-padded: ties in one
 *       second keep their arrival order)
 *   s   the SEQ counter
 *   d   sorted set of recent recipient domains, score = last use
 *   n   hash domain -> messages to it since it was last unused for an hour
 *   hm  hash clock hour -> messages; hd  hash clock hour -> distinct domains
 * Every record is one EVALSHA of br_record (Redis runs it atomically); all
 * keys expire burst_baseline_days after the identity's last message.  One
 * connection behind a mutex, dropped on any failure and made again on the
 * next call; timeouts as the counter backend's (counters.h). */
#include "engine/burst.h"
#include "engine/counters.h"
#include "engine/redisdb.h"

#include <ctype.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BR_HOST_MAX	256
#define BR_KEY_MAX	(LIMITS_KEY_MAX + 16)
#define BR_NKEYS	6
#define BR_NUM_MAX	24
#define BR_FIXED_ARGS	11	/* ARGV of br_record before the domains */
#define BR_ARGS_MAX	(3 + BR_NKEYS + BR_FIXED_ARGS + LIMITS_DOMAINS_MAX)

/* KEYS e s d n hm hd; ARGV now ip net subject keep ip_window first_hour
 * hour events_max ttl nd domains...  Returns {msgs_hour, domains_hour, ips,
 * nets, base_msgs, base_domains, base_hours}. */
static const char br_record[] =
    "local now, keep, ipw = tonumber(ARGV[1]), tonumber(ARGV[5]), "
    "tonumber(ARGV[6])\n"
    "local first, hour, max = tonumber(ARGV[7]), tonumber(ARGV[8]), "
    "tonumber(ARGV[9])\n"
    "local seq = redis.call('INCR', KEYS[2])\n"
    "redis.call('ZADD', KEYS[1], now, string.format('%012d', seq) .. '\\t' "
    ".. ARGV[2] .. '\\t' .. ARGV[3] .. '\\t' .. ARGV[4])\n"
    "for i = 1, tonumber(ARGV[11]) do\n"
    "  local d = ARGV[11 + i]\n"
    "  local last = redis.call('ZSCORE', KEYS[3], d)\n"
    "  if last and tonumber(last) > now - 3600 then\n"
    "    redis.call('HINCRBY', KEYS[4], d, 1)\n"
    "  else redis.call('HSET', KEYS[4], d, 1) end\n"
    "  redis.call('ZADD', KEYS[3], now, d)\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[5], hour, 1)\n"
    "redis.call('HSET', KEYS[6], hour, redis.call('ZCOUNT', KEYS[3], hour, "
    "'+inf'))\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - keep)\n"
    "local n = redis.call('ZCARD', KEYS[1])\n"
    "if n > max then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1) "
    "end\n"
    "for _, d in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', "
    "now - 3600)) do redis.call('HDEL', KEYS[4], d) end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600)\n"
    "local bm, bd, bh = 0, 0, 0\n"
    "local hm = redis.call('HGETALL', KEYS[5])\n"
    "for i = 1, #hm, 2 do\n"
    "  local h, m = tonumber(hm[i]), tonumber(hm[i + 1])\n"
    "  if h < first then redis.call('HDEL', KEYS[5], hm[i]); "
    "redis.call('HDEL', KEYS[6], hm[i])\n"
    "  elseif h < hour and m > 0 then\n"
    "    bm, bh = bm + m, bh + 1\n"
    "    bd = bd + tonumber(redis.call('HGET', KEYS[6], hm[i]) or '0')\n"
    "  end\n"
    "end\n"
    "local ips, nets, ni, nn = {}, {}, 0, 0\n"
    "for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. "
    "(now - ipw), '+inf')) do\n"
    "  local _, ip, net = string.match(m, '^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)')\n"
    "  if ip and not ips[ip] then ips[ip] = true; ni = ni + 1 end\n"
    "  if net and not nets[net] then nets[net] = true; nn = nn + 1 end\n"
    "end\n"
    "for i = 1, 6 do redis.call('EXPIRE', KEYS[i], ARGV[10]) end\n"
    "return {redis.call('ZCOUNT', KEYS[1], '(' .. (now - 3600), '+inf'), "
    "redis.call('ZCOUNT', KEYS[3], '(' .. (now - 3600), '+inf'), ni, nn, "
    "bm, bd, bh}\n";

/* KEYS e d n; ARGV since now max_ips max_domains max_subjects.  Returns
 * {first, last, msgs, nips, ip..., ndomains, domain, n, ..., nsubjects,
 * subject... (oldest first)}. */
static const char br_activity[] =
    "local ev = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], "
    "ARGV[2], 'WITHSCORES')\n"
    "local out, ips, seen, subj = {0, 0, #ev / 2}, {}, {}, {}\n"
    "if #ev > 0 then out[1], out[2] = tonumber(ev[2]), tonumber(ev[#ev]) end\n"
    "for i = 1, #ev, 2 do\n"
    "  local _, ip = string.match(ev[i], '^([^\\t]*)\\t([^\\t]*)')\n"
    "  if ip and not seen[ip] and #ips < tonumber(ARGV[3]) then "
    "seen[ip] = true; ips[#ips + 1] = ip end\n"
    "end\n"
    "out[#out + 1] = #ips\n"
    "for _, ip in ipairs(ips) do out[#out + 1] = ip end\n"
    "local doms = {}\n"
    "for _, d in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. "
    "ARGV[1], ARGV[2])) do\n"
    "  doms[#doms + 1] = {d, tonumber(redis.call('HGET', KEYS[3], d) or "
    "'0')}\n"
    "end\n"
    "table.sort(doms, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] "
    "end return a[1] < b[1] end)\n"
    "local nd = math.min(#doms, tonumber(ARGV[4]))\n"
    "out[#out + 1] = nd\n"
    "for i = 1, nd do out[#out + 1] = doms[i][1]; out[#out + 1] = doms[i][2] "
    "end\n"
    "seen = {}\n"
    "for i = #ev - 1, 1, -2 do\n"
    "  local s = string.match(ev[i], '^[^\\t]*\\t[^\\t]*\\t[^\\t]*\\t(.*)$')\n"
    "  if s and s ~= '' and not seen[s] and #subj < tonumber(ARGV[5]) then "
    "seen[s] = true; table.insert(subj, 1, s) end\n"
    "end\n"
    "out[#out + 1] = #subj\n"
    "for _, s in ipairs(subj) do out[#out + 1] = s end\n"
    "return out\n";

struct burst_redis {
	struct burst_store base;	/* first: the ops */
	pthread_mutex_t lock;		/* guards everything below */
	redisContext *ctx;		/* NULL: connect on the next call */
	char host[BR_HOST_MAX];
	int port;
	long db;
	char keys[BR_NKEYS][BR_KEY_MAX];
	char nums[BR_FIXED_ARGS][BR_NUM_MAX];
	const char *argv[BR_ARGS_MAX];
	size_t argvlen[BR_ARGS_MAX];
};

/* redis://host[:port][/db], as counters_redis_new reads it. */
static int
br_parse_url(struct burst_redis *r, const char *url)
{
	const char *p = url + 8, *e;
	char *end;
	long v;

	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	e = *p == '[' ? strchr(p, ']') : p + strcspn(p, ":/");
	if (e == NULL || e - p - (*p == '[') <= 0 ||
	    (size_t)(e - p) >= sizeof r->host)
		return -1;
	snprintf(r->host, sizeof r->host, "%.*s", (int)(e - p - (*p == '[')),
	    p + (*p == '['));	/* an IPv6 literal in [], RFC 3986 §3.2.2 */
	p = e + (*p == '[');
	r->port = 6379;
	if (*p == ':') {
		v = strtol(p + 1, &end, 10);
		if (end == p + 1 || v < 1 || v > 65535)
			return -1;
		r->port = (int)v;
		p = end;
	}
	if (*p == '/' && p[1] != '\0') {
		r->db = strtol(p + 1, &end, 10);
		if (end == p + 1 || r->db < 0 || r->db > 1000000)
			return -1;
		p = end;
	}
	return *p == '\0' || (*p == '/' && p[1] == '\0') ? 0 : -1;
}

static void
br_drop(struct burst_redis *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
}

/* Connect (and SELECT) when there is no connection; 0 or -1 + err. */
static int
br_connect(struct burst_redis *r, char *err, size_t errlen)
{
	struct timeval ct = { REDISDB_CONNECT_MS / 1000,
	    REDISDB_CONNECT_MS % 1000 * 1000 };
	struct timeval cmd = { REDISDB_COMMAND_MS / 1000,
	    REDISDB_COMMAND_MS % 1000 * 1000 };
	redisReply *rep = NULL;

	if (r->ctx != NULL)
		return 0;
	r->ctx = redisConnectWithTimeout(r->host, r->port, ct);
	if (r->ctx != NULL && r->ctx->err == 0 &&
	    redisSetTimeout(r->ctx, cmd) == REDIS_OK)
		rep = redisCommand(r->ctx, "SELECT %ld", r->db);
	if (rep != NULL && rep->type == REDIS_REPLY_STATUS) {
		freeReplyObject(rep);
		return 0;
	}
	snprintf(err, errlen, "redis %s:%d: %s", r->host, r->port,
	    r->ctx == NULL ? "out of memory" : r->ctx->err ? r->ctx->errstr :
	    rep != NULL && rep->type == REDIS_REPLY_ERROR ? rep->str :
	    "unexpected reply");
	freeReplyObject(rep);
	br_drop(r);
	return -1;
}

/* EVAL script with argv[3..argc) (argv[2] = numkeys).  Redis caches the
 * script by its SHA1; sending it each time costs a few KB per message
 * and no NOSCRIPT round trip.  NULL: the connection failed (dropped). */
static redisReply *
br_eval(struct burst_redis *r, const char *script, int argc)
{
	redisReply *rep;

	r->argv[0] = "EVAL";
	r->argvlen[0] = 4;
	r->argv[1] = script;
	r->argvlen[1] = strlen(script);
	rep = redisCommandArgv(r->ctx, argc, r->argv, r->argvlen);
	if (rep == NULL)
		br_drop(r);
	return rep;
}

static void
br_arg(struct burst_redis *r, int i, const char *s)
{
	r->argv[i] = s;
	r->argvlen[i] = strlen(s);
}

static void
br_num(struct burst_redis *r, int i, int *k, long long v)
{
	snprintf(r->nums[*k], BR_NUM_MAX, "%lld", v);
	br_arg(r, i, r->nums[(*k)++]);
}

/* KEYS[0..n) of name: "jaga:b:NAME:SUFFIX"; argv from 3.  0 or -1. */
static int
br_keys(struct burst_redis *r, const char *name, const char *const *sfx,
    int n)
{
	for (int i = 0; i < n; i++) {
		if ((size_t)snprintf(r->keys[i], BR_KEY_MAX, "jaga:b:%s:%s", name,
		    sfx[i]) >= BR_KEY_MAX)
			return -1;
		br_arg(r, 3 + i, r->keys[i]);
	}
	return 0;
}

/* ARGV of br_record for m, after the keys.  Returns argc or -1. */
static int
br_record_args(struct burst_redis *r, const struct burst_params *p,
    const struct burst_msg *m, char *net, char (*dom)[LIMITS_DOMAIN_MAX + 1])
{
	int64_t hour = m->now - m->now % BURST_HOUR;
	int a = 3 + BR_NKEYS, k = 0;

	if (m->ndomains > LIMITS_DOMAINS_MAX)
		return -1;
	if (limits_net_key_len(m->client_ip, p->prefix4, p->prefix6, net,
	    LIMITS_NETKEY_MAX) < 0)
		snprintf(net, LIMITS_NETKEY_MAX, "net:%s", m->client_ip);
	br_num(r, a++, &k, m->now);
	br_arg(r, a++, m->client_ip);
	br_arg(r, a++, net + 4);
	br_arg(r, a++, m->subject ? m->subject : "");
	br_num(r, a++, &k, p->ip_window > BURST_HOUR ? p->ip_window : BURST_HOUR);
	br_num(r, a++, &k, p->ip_window);
	br_num(r, a++, &k, hour - (int64_t)p->baseline_days * 86400);
	br_num(r, a++, &k, hour);
	br_num(r, a++, &k, BURST_EVENTS_MAX);
	br_num(r, a++, &k, (long long)p->baseline_days * 86400 + BURST_HOUR);
	br_num(r, a++, &k, (long long)m->ndomains);
	for (size_t i = 0; i < m->ndomains; i++) {
		size_t j;	/* lowercase: RFC 5321 §2.4 */
		for (j = 0; m->domains[i][j] != '\0' && j < LIMITS_DOMAIN_MAX; j++)
			dom[i][j] = (char)tolower((unsigned char)m->domains[i][j]);
		dom[i][j] = '\0';
		br_arg(r, a++, dom[i]);
	}
	return a;
}

/* The 7 integers of br_record's reply into st; 0 or -1. */
static int
br_stats(const redisReply *rep, struct burst_stats *st)
{
	long long v[7];

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7)
		return -1;
	for (int i = 0; i < 7; i++) {
		if (rep->element[i]->type != REDIS_REPLY_INTEGER ||
		    rep->element[i]->integer < 0)
			return -1;
		v[i] = rep->element[i]->integer;
	}
	*st = (struct burst_stats){
		.msgs_hour = (uint32_t)v[0], .domains_hour = (uint32_t)v[1],
		.ips = (uint32_t)v[2], .nets = (uint32_t)v[3],
		.base_msgs = (uint64_t)v[4], .base_domains = (uint64_t)v[5],
		.base_hours = (uint32_t)v[6],
	};
	return 0;
}

static int
br_record_call(struct burst_store *bst, const struct burst_params *p,
    const struct burst_msg *m, struct burst_stats *st)
{
	static const char *const sfx[BR_NKEYS] = { "e", "s", "d", "n", "hm",
	    "hd" };
	struct burst_redis *r = (struct burst_redis *)(void *)bst;
	char net[LIMITS_NETKEY_MAX], err[256];
	char (*dom)[LIMITS_DOMAIN_MAX + 1] = calloc(m->ndomains ? m->ndomains :
	    1, sizeof *dom);
	redisReply *rep = NULL;
	int argc = -1, rc = -1;

	pthread_mutex_lock(&r->lock);
	if (dom != NULL && br_connect(r, err, sizeof err) == 0 &&
	    br_keys(r, m->name, sfx, BR_NKEYS) == 0)
		argc = br_record_args(r, p, m, net, dom);
	if (argc > 0) {
		br_arg(r, 2, "6");	/* BR_NKEYS */
		rep = br_eval(r, br_record, argc);
	}
	if (rep != NULL)
		rc = br_stats(rep, st);
	freeReplyObject(rep);
	pthread_mutex_unlock(&r->lock);
	free(dom);
	return rc;
}

/* Read an integer element at *i (moving on); -1 when it is not one. */
static long long
br_int(const redisReply *rep, size_t *i)
{
	const redisReply *e = *i < rep->elements ? rep->element[(*i)++] : NULL;

	return e != NULL && e->type == REDIS_REPLY_INTEGER ? e->integer : -1;
}

/* Copy up to max string elements, counted by the integer at *i, to out
 * (stride w); counts of domains follow each name when n != NULL.
 * Returns how many, or -1. */
static long long
br_strings(const redisReply *rep, size_t *i, char *out, size_t w,
    uint32_t *n, size_t max)
{
	long long cnt = br_int(rep, i);

	if (cnt < 0 || (size_t)cnt > max)
		return -1;
	for (long long k = 0; k < cnt; k++) {
		const redisReply *e = *i < rep->elements ?
		    rep->element[(*i)++] : NULL;
		if (e == NULL || e->type != REDIS_REPLY_STRING)
			return -1;
		snprintf(out + k * w, w, "%.*s", (int)e->len, e->str);
		if (n != NULL) {
			long long c = br_int(rep, i);
			if (c < 0 || c > UINT32_MAX)
				return -1;
			n[k] = (uint32_t)c;
		}
	}
	return cnt;
}

static int
br_activity_parse(const redisReply *rep, struct burst_activity *a)
{
	size_t i = 0;
	long long first, last, msgs, ni, nd, ns;

	if (rep->type != REDIS_REPLY_ARRAY)
		return -1;
	first = br_int(rep, &i);
	last = br_int(rep, &i);
	msgs = br_int(rep, &i);
	ni = br_strings(rep, &i, a->ip[0], sizeof a->ip[0], NULL,
	    BURST_IPS_MAX);
	nd = ni < 0 ? -1 : br_strings(rep, &i, a->domain[0],
	    sizeof a->domain[0], a->domain_n, BURST_DOMAINS_MAX);
	ns = nd < 0 ? -1 : br_strings(rep, &i, a->subject[0],
	    sizeof a->subject[0], NULL, BURST_SUBJECTS_MAX);
	if (first < 0 || last < 0 || msgs < 0 || ns < 0)
		return -1;
	a->first = first;
	a->last = last;
	a->msgs = (uint32_t)msgs;
	a->nips = (size_t)ni;
	a->ndomains = (size_t)nd;
	a->nsubjects = (size_t)ns;
	return 0;
}

static int
br_activity_call(struct burst_store *bst, const char *name, int64_t since,
    int64_t now, struct burst_activity *a)
{
	static const char *const sfx[3] = { "e", "d", "n" };
	struct burst_redis *r = (struct burst_redis *)(void *)bst;
	redisReply *rep = NULL;
	char err[256];
	int k = 0, rc = -1;

	memset(a, 0, sizeof *a);
	pthread_mutex_lock(&r->lock);
	if (br_connect(r, err, sizeof err) == 0 &&
	    br_keys(r, name, sfx, 3) == 0) {
		br_arg(r, 2, "3");
		br_num(r, 6, &k, since);
		br_num(r, 7, &k, now);
		br_num(r, 8, &k, BURST_IPS_MAX);
		br_num(r, 9, &k, BURST_DOMAINS_MAX);
		br_num(r, 10, &k, BURST_SUBJECTS_MAX);
		rep = br_eval(r, br_activity, 11);
	}
	if (rep != NULL)
		rc = br_activity_parse(rep, a);
	freeReplyObject(rep);
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		memset(a, 0, sizeof *a);
	return rc;
}

static void
br_free(struct burst_store *bst)
{
	struct burst_redis *r = (struct burst_redis *)(void *)bst;

	br_drop(r);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct burst_store_ops br_ops = {
	"redis", br_record_call, br_activity_call, br_free,
};

struct burst_store *
burst_redis_new(const char *url, char *err, size_t errlen)
{
	struct burst_redis *r = calloc(1, sizeof *r);

	if (r == NULL) {
		snprintf(err, errlen, "%s: out of memory", url);
		return NULL;
	}
	r->base.ops = &br_ops;
	pthread_mutex_init(&r->lock, NULL);
	if (br_parse_url(r, url) < 0) {
		snprintf(err, errlen, "%s: bad Redis URL (want "
		    "redis://host[:port][/db])", url);
		br_free(&r->base);
		return NULL;
	}
	/* A Redis down now is not fatal: each call connects when it must,
	 * so a gateway started during a Redis restart recovers by itself. */
	if (br_connect(r, err, errlen) < 0)
		err[0] = '\0';
	return &r->base;
}
