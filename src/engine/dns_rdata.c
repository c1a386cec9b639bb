/* dns_rdata.c - wire-format rdata (RFC 1035 §3.3, RFC 3596 §2.2) into
 * struct dns_result, bounded: a cursor moves against len, names and texts
 * against their maxima (see dns_int.h). */
#include "engine/dns_int.h"

#include <stdio.h>
#include <string.h>

/* Append one label octet in presentation form; -1 when out is full. */
static int
wire_octet(char *out, size_t *o, uint8_t c)
{
	int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';

	if (c >= 'A' && c <= 'Z') {
		c = (uint8_t)(c + 32);
		keep = 1;
	}
	if (keep) {
		if (*o + 1 > DNS_NAME_MAX)
			return -1;
		out[(*o)++] = (char)c;
		return 0;
	}
	if (*o + 4 > DNS_NAME_MAX)	/* RFC 1035 §5.1: \DDD */
		return -1;
	snprintf(out + *o, 5, "\\%03u", c);
	*o += 4;
	return 0;
}

int
dns_wire_name(const uint8_t *p, size_t len, size_t *used,
    char out[DNS_NAME_MAX + 1])
{
	size_t i = 0, o = 0, k;

	for (;;) {
		uint8_t ll;

		if (i >= len)
			return -1;
		ll = p[i++];
		if (ll == 0)
			break;
		/* 0xc0: a compression pointer (RFC 1035 §4.1.4); libunbound
		 * hands rdata uncompressed, and one pointing outside the
		 * rdata could not be followed anyway.  0x40, 0x80: RFC 6891
		 * extended labels, unused. */
		if (ll > 63 || ll > len - i)
			return -1;
		if (o > 0 && o + 1 > DNS_NAME_MAX)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (k = 0; k < ll; k++)
			if (wire_octet(out, &o, p[i + k]) != 0)
				return -1;
		i += ll;
	}
	out[o] = '\0';
	*used = i;
	return 0;
}

/* TXT rdata: one or more <character-string>s (RFC 1035 §3.3.14), joined
 * (RFC 7208 §3.3).  -1 when malformed, 1 when the text finds no room. */
static int
rdata_txt(struct dns_result *r, struct dns_rr *rr, const uint8_t *p,
    size_t len)
{
	size_t i = 0;

	if (len == 0)
		return -1;
	while (i < len) {		/* the structure first */
		uint8_t sl = p[i++];

		if (sl > len - i)
			return -1;
		i += sl;
	}
	if (dns_result_txt(r, rr, "", 0) != 0)
		return 1;
	for (i = 0; i < len; i += 1 + p[i])
		if (dns_result_txt(r, rr, p + i + 1, p[i]) != 0)
			return 1;
	return 0;
}

/* rdata of a fixed size or one name; -1 when malformed. */
static int
rdata_fixed(struct dns_rr *rr, enum dns_type t, const uint8_t *p,
    size_t len)
{
	size_t used = 0, off = 0;

	switch (t) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (len != (t == DNS_T_A ? 4u : 16u))
			return -1;
		memcpy(rr->addr, p, len);
		return 0;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->pref = (uint16_t)(p[0] << 8 | p[1]);
		off = 2;
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		break;
	default:
		return -1;
	}
	if (dns_wire_name(p + off, len - off, &used, rr->name) != 0)
		return -1;
	return off + used == len ? 0 : -1;	/* nothing after the name */
}

int
dns_rdata_add(struct dns_result *r, enum dns_type t, uint32_t ttl,
    const uint8_t *p, size_t len)
{
	struct dns_rr *rr = dns_result_push(r, t, ttl);
	int rc;

	if (rr == NULL)
		return 1;
	if (t == DNS_T_TXT || t == DNS_T_SPF)
		rc = rdata_txt(r, rr, p, len);
	else
		rc = rdata_fixed(rr, t, p, len);
	if (rc != 0) {
		dns_result_drop(r);	/* counted truncated: no room */
		if (rc < 0)
			r->truncated--;	/* malformed, not dropped */
	}
	return rc;
}
