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
 * keys expire burst_baseline_days after the identity's last message.  The
 * URL, the connections (one per thread) and the script cache are
 * redisdb.h's, as for the counters and suspensions. */
#include "engine/burst.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/redisdb.h"

#define BR_KEY_MAX	(LIMITS_KEY_MAX + 16)
#define BR_NKEYS	6
#define BR_NUM_MAX	24
#define BR_FIXED_ARGS	11	/* ARGV of br_record before the domains */
#define BR_ARGS_MAX	(3 + BR_NKEYS + BR_FIXED_ARGS + LIMITS_DOMAINS_MAX)

/* KEYS e s d n hm hd; ARGV now ip net subject keep ip_window first_hour
 * hour events_max ttl nd domains...  Returns {msgs_hour, domains_hour, ips,
 * nets, base_msgs, base_domains, base_hours}. */
static struct redisdb_script br_record = REDISDB_SCRIPT(
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
    "bm, bd, bh}\n");

/* KEYS e d n; ARGV since now max_ips max_domains max_subjects.  Returns
 * {first, last, msgs, nips, ip..., ndomains, domain, n, ..., nsubjects,
 * subject... (oldest first)}. */
static struct redisdb_script br_activity = REDISDB_SCRIPT(
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
    "return out\n");

struct burst_redis {
	struct burst_store base;	/* first: the ops */
	struct redisdb *db;
	struct redisdb *own;		/* db when burst_redis_new made it */
};

/* One call's arguments (about 16 KB, then 256 octets per lowercased
 * domain: on the heap). */
struct br_args {
	const char *argv[BR_ARGS_MAX];
	size_t argvlen[BR_ARGS_MAX];
	char keys[BR_NKEYS][BR_KEY_MAX];
	char nums[BR_FIXED_ARGS][BR_NUM_MAX];
	int k;				/* nums used */
	char dom[][LIMITS_DOMAIN_MAX + 1];
};

static void
br_arg(struct br_args *a, int i, const char *s)
{
	a->argv[i] = s;
	a->argvlen[i] = strlen(s);
}

static void
br_num(struct br_args *a, int i, long long v)
{
	snprintf(a->nums[a->k], BR_NUM_MAX, "%lld", v);
	br_arg(a, i, a->nums[a->k++]);
}

/* Arguments for n domains with KEYS[0..nk) of name ("jaga:b:NAME:SFX")
 * from argv[3]; argv[2] = nk.  NULL when out of memory or too long. */
static struct br_args *
br_args_new(const char *name, const char *const *sfx, int nk, size_t n)
{
	struct br_args *a = calloc(1, sizeof *a + n * sizeof a->dom[0]);

	if (a == NULL)
		return NULL;
	for (int i = 0; i < nk; i++) {
		if ((size_t)snprintf(a->keys[i], BR_KEY_MAX, "jaga:b:%s:%s",
		    name, sfx[i]) >= BR_KEY_MAX) {
			free(a);
			return NULL;
		}
		br_arg(a, 3 + i, a->keys[i]);
	}
	br_num(a, 2, nk);
	return a;
}

/* ARGV of br_record for m, after the keys.  Returns argc or -1. */
static int
br_record_args(struct br_args *a, const struct burst_params *p,
    const struct burst_msg *m, char *net)
{
	int64_t hour = m->now - m->now % BURST_HOUR;
	int i = 3 + BR_NKEYS;

	if (limits_net_key_len(m->client_ip, p->prefix4, p->prefix6, net,
	    LIMITS_NETKEY_MAX) < 0)
		snprintf(net, LIMITS_NETKEY_MAX, "net:%s", m->client_ip);
	br_num(a, i++, m->now);
	br_arg(a, i++, m->client_ip);
	br_arg(a, i++, net + 4);
	br_arg(a, i++, m->subject ? m->subject : "");
	br_num(a, i++, p->ip_window > BURST_HOUR ? p->ip_window : BURST_HOUR);
	br_num(a, i++, p->ip_window);
	br_num(a, i++, hour - (int64_t)p->baseline_days * 86400);
	br_num(a, i++, hour);
	br_num(a, i++, BURST_EVENTS_MAX);
	br_num(a, i++, (long long)p->baseline_days * 86400 + BURST_HOUR);
	br_num(a, i++, (long long)m->ndomains);
	for (size_t d = 0; d < m->ndomains; d++) {
		size_t j;	/* lowercase: RFC 5321 §2.4 */
		for (j = 0; m->domains[d][j] != '\0' && j < LIMITS_DOMAIN_MAX; j++)
			a->dom[d][j] = (char)tolower((unsigned char)m->domains[d][j]);
		a->dom[d][j] = '\0';
		br_arg(a, i++, a->dom[d]);
	}
	return i;
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
	struct br_args *a = NULL;
	char net[LIMITS_NETKEY_MAX], err[256];
	redisReply *rep = NULL;
	int argc, rc = -1;

	if (m->ndomains <= LIMITS_DOMAINS_MAX)
		a = br_args_new(m->name, sfx, BR_NKEYS, m->ndomains);
	if (a != NULL) {
		argc = br_record_args(a, p, m, net);
		rep = redisdb_eval(r->db, &br_record, argc, a->argv,
		    a->argvlen, err, sizeof err);
	}
	if (rep != NULL)
		rc = br_stats(rep, st);
	freeReplyObject(rep);
	free(a);
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
	struct br_args *args = br_args_new(name, sfx, 3, 0);
	redisReply *rep = NULL;
	char err[256];
	int rc = -1;

	memset(a, 0, sizeof *a);
	if (args != NULL) {
		br_num(args, 6, since);
		br_num(args, 7, now);
		br_num(args, 8, BURST_IPS_MAX);
		br_num(args, 9, BURST_DOMAINS_MAX);
		br_num(args, 10, BURST_SUBJECTS_MAX);
		rep = redisdb_eval(r->db, &br_activity, 11, args->argv,
		    args->argvlen, err, sizeof err);
	}
	if (rep != NULL)
		rc = br_activity_parse(rep, a);
	freeReplyObject(rep);
	free(args);
	if (rc < 0)
		memset(a, 0, sizeof *a);
	return rc;
}

static void
br_free(struct burst_store *bst)
{
	struct burst_redis *r = (struct burst_redis *)(void *)bst;

	redisdb_free(r->own);
	free(r);
}

static const struct burst_store_ops br_ops = {
	"redis", br_record_call, br_activity_call, br_free,
};

/* A store on db, freeing own (NULL or db) with it. */
static struct burst_store *
br_new(struct redisdb *db, struct redisdb *own)
{
	struct burst_redis *r = malloc(sizeof *r);

	if (r == NULL)
		return NULL;
	*r = (struct burst_redis){ { &br_ops }, db, own };
	return &r->base;
}

struct burst_store *
burst_redis_with(struct redisdb *db)
{
	return br_new(db, NULL);
}

/* A Redis down now is not fatal: redisdb connects each thread at its
 * first call, so a gateway started during a Redis restart recovers by
 * itself. */
struct burst_store *
burst_redis_new(const char *url, char *err, size_t errlen)
{
	struct redisdb *db = redisdb_new(url, err, errlen);
	struct burst_store *bs = db != NULL ? br_new(db, db) : NULL;

	if (db != NULL && bs == NULL) {
		snprintf(err, errlen, "%s: out of memory", url);
		redisdb_free(db);
	}
	return bs;
}
