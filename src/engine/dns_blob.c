/* dns_blob.c - struct dns_result as a compact blob for the answer cache
 * (dns_cache.c; see dns_int.h).  Integers are little-endian; the reader
 * moves a cursor against the blob's length, so a malformed blob (the fuzz
 * target makes them) is refused, never read past.
 *
 *   blob:   status u8, secure u8, ttl u32, truncated u32, n u8, n records
 *   record: type u16, ttl u32, pref u16, alen u8, addr[alen],
 *           namelen u8, name[namelen], txtlen u16 (BLOB_NOTXT: none),
 *           txt[txtlen]
 */
#include "engine/dns_int.h"

#include <string.h>

#define BLOB_HEAD	11	/* octets before the records */
#define BLOB_RR_FIXED	12	/* octets of a record besides its data */
#define BLOB_NOTXT	0xffff	/* txtlen of a record without text */

/* The octets of addr in use: up to its last non-zero one (A: 4). */
static size_t
blob_alen(const struct dns_rr *rr)
{
	size_t n = sizeof rr->addr;

	while (n > 0 && rr->addr[n - 1] == 0)
		n--;
	return n;
}

static size_t
blob_rr_len(const struct dns_rr *rr)
{
	return BLOB_RR_FIXED + blob_alen(rr) + strnlen(rr->name,
	    sizeof rr->name - 1) + (rr->txt != NULL ? rr->txtlen : 0);
}

size_t
dns_blob_len(const struct dns_result *r)
{
	size_t len = BLOB_HEAD, i;

	for (i = 0; i < r->n; i++)
		len += blob_rr_len(&r->rr[i]);
	return len;
}

static uint8_t *
blob_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *
blob_u32(uint8_t *p, uint32_t v)
{
	return blob_u16(blob_u16(p, v & 0xffff), v >> 16);
}

/* n octets of s, after their length in one (n < 256) or two octets. */
static uint8_t *
blob_bytes(uint8_t *p, const void *s, size_t n, int wide)
{
	if (wide)
		p = blob_u16(p, (uint32_t)n);
	else
		*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

static uint8_t *
blob_put_rr(uint8_t *p, const struct dns_rr *rr)
{
	p = blob_u16(p, (uint32_t)rr->type);
	p = blob_u32(p, rr->ttl);
	p = blob_u16(p, rr->pref);
	p = blob_bytes(p, rr->addr, blob_alen(rr), 0);
	p = blob_bytes(p, rr->name, strnlen(rr->name, sizeof rr->name - 1), 0);
	if (rr->txt == NULL)
		return blob_u16(p, BLOB_NOTXT);
	return blob_bytes(p, rr->txt, rr->txtlen, 1);
}

void
dns_blob_put(const struct dns_result *r, uint8_t *p)
{
	size_t i;

	*p++ = (uint8_t)r->status;
	*p++ = r->secure != 0;
	p = blob_u32(p, r->ttl);
	p = blob_u32(p, r->truncated > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)r->truncated);
	*p++ = (uint8_t)r->n;		/* n <= DNS_RR_MAX */
	for (i = 0; i < r->n; i++)
		p = blob_put_rr(p, &r->rr[i]);
}

/* A cursor over the blob being read. */
struct blob_cur {
	const uint8_t *p;
	size_t left;
};

/* The next n octets, or NULL when the blob has fewer. */
static const uint8_t *
blob_take(struct blob_cur *c, size_t n)
{
	const uint8_t *s = c->p;

	if (n > c->left)
		return NULL;
	c->p += n;
	c->left -= n;
	return s;
}

static int
blob_get_u16(struct blob_cur *c, uint32_t *v)
{
	const uint8_t *s = blob_take(c, 2);

	if (s == NULL)
		return -1;
	*v = (uint32_t)s[0] | (uint32_t)s[1] << 8;
	return 0;
}

static int
blob_get_u32(struct blob_cur *c, uint32_t *v)
{
	uint32_t lo, hi;

	if (blob_get_u16(c, &lo) != 0 || blob_get_u16(c, &hi) != 0)
		return -1;
	*v = lo | hi << 16;
	return 0;
}

/* A one-octet length, then that many octets, at most max: *s, *n. */
static int
blob_get_short(struct blob_cur *c, size_t max, const uint8_t **s, size_t *n)
{
	const uint8_t *l = blob_take(c, 1);

	if (l == NULL || l[0] > max || (*s = blob_take(c, l[0])) == NULL)
		return -1;
	*n = l[0];
	return 0;
}

/* The text of the record just pushed, if it has one. */
static int
blob_get_txt(struct blob_cur *c, struct dns_result *r, struct dns_rr *rr)
{
	const uint8_t *s;
	uint32_t n;

	if (blob_get_u16(c, &n) != 0)
		return -1;
	if (n == BLOB_NOTXT)
		return 0;
	if ((s = blob_take(c, n)) == NULL)
		return -1;
	return dns_result_txt(r, rr, s, n);
}

static int
blob_get_rr(struct blob_cur *c, struct dns_result *r)
{
	uint32_t type, ttl, pref;
	const uint8_t *addr, *name;
	size_t alen, nlen;
	struct dns_rr *rr;

	if (blob_get_u16(c, &type) != 0 || blob_get_u32(c, &ttl) != 0 ||
	    blob_get_u16(c, &pref) != 0 ||
	    blob_get_short(c, sizeof rr->addr, &addr, &alen) != 0 ||
	    blob_get_short(c, DNS_NAME_MAX, &name, &nlen) != 0 ||
	    memchr(name, '\0', nlen) != NULL ||
	    (rr = dns_result_push(r, (enum dns_type)type, ttl)) == NULL)
		return -1;
	rr->pref = (uint16_t)pref;
	memcpy(rr->addr, addr, alen);
	memcpy(rr->name, name, nlen);
	rr->name[nlen] = '\0';
	return blob_get_txt(c, r, rr);
}

int
dns_blob_get(const uint8_t *p, size_t len, struct dns_result *out)
{
	struct blob_cur c = { p, len };
	const uint8_t *h = blob_take(&c, 2);
	uint32_t ttl, trunc;
	size_t i, n;

	dns_result_init(out, DNS_PERMFAIL);
	if (h == NULL || h[0] > DNS_PERMFAIL || h[1] > 1 ||
	    blob_get_u32(&c, &ttl) != 0 || blob_get_u32(&c, &trunc) != 0 ||
	    (h = blob_take(&c, 1)) == NULL || h[0] > DNS_RR_MAX)
		return -1;
	n = h[0];
	for (i = 0; i < n; i++)
		if (blob_get_rr(&c, out) != 0)
			goto bad;
	if (c.left != 0)
		goto bad;
	out->status = (enum dns_status)p[0];
	out->secure = p[1];
	out->ttl = ttl;
	out->truncated = trunc;
	return 0;
bad:
	dns_result_init(out, DNS_PERMFAIL);
	return -1;
}
