/* sender.c - allowed-sender lists and the header From: (RFC 5322 §3.6.2).
 *
 * GMime parses the header block and the address list: a mail parser is an
 * attack surface and RFC 5322 addresses (display names, comments, groups,
 * encoded words of RFC 2047) are not to be hand-rolled. */
#include "mail/sender.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Called per mailbox with its UTF-8 and IDNA forms; non-zero stops. */
typedef int sender_mb_fn(const char *addr, const char *idn, void *arg);

static pthread_once_t sender_once = PTHREAD_ONCE_INIT;

static void
sender_init_once(void)
{
	g_mime_init();
}

void
sender_init(void)
{
	pthread_once(&sender_once, sender_init_once);
}

/* Does the domain part dom (dlen octets) equal "@domain" entry e? */
static int
sender_entry_match(const char *e, size_t elen, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *eat = memrchr(e, '@', elen);
	size_t llen, dlen;

	if (at == NULL || at == addr || eat == NULL)
		return 0;
	llen = (size_t)(at - addr);
	dlen = strlen(at + 1);
	if (dlen != elen - (size_t)(eat - e) - 1 ||
	    strncasecmp(at + 1, eat + 1, dlen) != 0)
		return 0;
	if (eat == e)		/* "@domain": the whole domain */
		return 1;
	/* RFC 5321 §2.4: the local part is compared exactly */
	return llen == (size_t)(eat - e) && memcmp(addr, e, llen) == 0;
}

int
sender_allowed(const char *list, const char *addr)
{
	const char *p = list;

	if (list == NULL || addr == NULL || addr[0] == '\0')
		return 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t elen = nl ? (size_t)(nl - p) : strlen(p);
		if (elen > 0 && sender_entry_match(p, elen, addr))
			return 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Octets of the header block, up to and with the empty line (RFC 5322
 * §2.1); all of msg when it has no body; 0 when over SENDER_HEADER_MAX. */
static size_t
sender_header_len(const char *msg, size_t len)
{
	size_t max = len < SENDER_HEADER_MAX ? len : SENDER_HEADER_MAX;
	const char *crlf = memmem(msg, max, "\r\n\r\n", 4);
	const char *lf = memmem(msg, max, "\n\n", 2);

	if (crlf != NULL && (lf == NULL || crlf < lf))
		return (size_t)(crlf - msg) + 4;
	if (lf != NULL)
		return (size_t)(lf - msg) + 2;
	return len <= SENDER_HEADER_MAX ? len : 0;
}

static GMimeMessage *
sender_parse(const char *msg, size_t hlen)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, hlen);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(st);
	return m;
}

/* The raw value of the only From: header (RFC 5322 §3.6: exactly one). */
static enum sender_from
sender_from_value(GMimeMessage *m, const char **value)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = g_mime_header_list_get_count(hl), found = 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "From") != 0)
			continue;
		found++;
		*value = g_mime_header_get_raw_value(h);
	}
	if (found == 0)
		return SENDER_FROM_MISSING;
	return found > 1 ? SENDER_FROM_MULTIPLE : SENDER_FROM_OK;
}

/* A mailbox we can judge: "local@domain", both parts present, bounded. */
static int
sender_addr_ok(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at != NULL && at != addr && at[1] != '\0' &&
	    strlen(addr) < SENDER_ADDR_MAX;
}

/* Call fn for every mailbox of l, groups flattened (RFC 5322 §3.4). */
static enum sender_from
sender_walk(InternetAddressList *l, sender_mb_fn *fn, void *arg, int *count,
    int depth)
{
	int n = internet_address_list_length(l);

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		enum sender_from r;
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			/* RFC 5322 §3.4: a group holds mailboxes, never groups */
			r = depth > 0 ? SENDER_FROM_BAD : sender_walk(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), fn, arg, count, 1);
			if (r != SENDER_FROM_OK)
				return r;
			continue;
		}
		InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(ia);
		const char *addr = internet_address_mailbox_get_addr(mb);
		if (!sender_addr_ok(addr) || ++*count > SENDER_FROM_MAX)
			return SENDER_FROM_BAD;
		if (fn(addr, internet_address_mailbox_get_idn_addr(mb), arg))
			return SENDER_FROM_DENIED;
	}
	return SENDER_FROM_OK;
}

/* Parse the header block of msg and call fn per From: mailbox. */
static enum sender_from
sender_from_walk(const char *msg, size_t len, sender_mb_fn *fn, void *arg)
{
	size_t hlen = sender_header_len(msg, len);
	GMimeMessage *m;
	InternetAddressList *l = NULL;
	const char *value = NULL;
	enum sender_from r = SENDER_FROM_BAD;
	int count = 0;

	sender_init();
	if (hlen == 0 || (m = sender_parse(msg, hlen)) == NULL)
		return SENDER_FROM_BAD;
	r = sender_from_value(m, &value);
	if (r == SENDER_FROM_OK) {
		l = internet_address_list_parse(NULL, value);
		r = l == NULL ? SENDER_FROM_BAD :
		    sender_walk(l, fn, arg, &count, 0);
	}
	if (r == SENDER_FROM_OK && count == 0)
		r = SENDER_FROM_BAD;	/* "undisclosed:;" is no author */
	if (l != NULL)
		g_object_unref(l);
	g_object_unref(m);
	return r;
}

struct sender_out {
	char *p;
	size_t len, max;
	const char *list;
};

static int
sender_extract_one(const char *addr, const char *idn, void *arg)
{
	struct sender_out *o = arg;
	int n;

	if (o->max == 0)
		return 0;
	n = snprintf(o->p + o->len, o->max - o->len, "%s%s",
	    o->len ? "\n" : "", addr);
	o->len += n > 0 ? (size_t)n : 0;
	if (o->len >= o->max)
		o->len = o->max - 1;
	return 0;
}

enum sender_from
sender_from_extract(const char *msg, size_t len, char *out, size_t outlen)
{
	struct sender_out o = { out, 0, outlen, NULL };

	if (outlen > 0)
		out[0] = '\0';
	return sender_from_walk(msg, len, sender_extract_one, &o);
}

static int
sender_check_one(const char *addr, const char *idn, void *arg)
{
	struct sender_out *o = arg;

	if (sender_allowed(o->list, addr) ||
	    (idn != NULL && sender_allowed(o->list, idn)))
		return 0;
	if (o->max > 0)
		snprintf(o->p, o->max, "%s", addr);
	return 1;
}

enum sender_from
sender_from_check(const char *msg, size_t len, const char *list, char *bad,
    size_t badlen)
{
	struct sender_out o = { bad, 0, badlen, list };

	if (badlen > 0)
		bad[0] = '\0';
	return sender_from_walk(msg, len, sender_check_one, &o);
}

const char *
sender_from_reason(enum sender_from r)
{
	switch (r) {
	case SENDER_FROM_OK:
		return "ok";
	case SENDER_FROM_MISSING:
		return "message has no From: header";
	case SENDER_FROM_MULTIPLE:
		return "message has more than one From: header";
	case SENDER_FROM_BAD:
		return "From: header cannot be parsed";
	case SENDER_FROM_DENIED:
		break;
	}
	return "From: address not owned by user";
}
