/* relay.c - the open-relay decision (never an open relay).
 *
 * An untrusted client may only hand us mail whose real final destination
 * is one of our local domains.  The decision is made on the parsed address
 * (mail/addr.c): source routes are already dropped there (RFC 5321 §3.6.1,
 * Appendix C) and the final domain decides; what the parser cannot know is
 * which local-part syntax some mail system behind us would route on, so
 * every such trick is refused outright.
 */
#include "engine/relay.h"

#include <assert.h>
#include <string.h>

/* ASCII-only case folding: UTF-8 domains compare byte for byte, and the
 * locale must not fold 8-bit bytes (strcasecmp would, in Latin-1). */
static int
relay_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
relay_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	if (strlen(a) != blen)
		return 0;
	for (i = 0; i < blen; i++)
		if (relay_lower((unsigned char)a[i]) !=
		    relay_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int
relay_is_local_domain(const struct relay_policy *p, const char *domain)
{
	const char *const *d;
	size_t n;

	assert(p != NULL && domain != NULL);
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || p->local_domains == NULL)
		return 0;
	/* Exact match only: "evil.example.com" is not local because
	 * "example.com" is. */
	for (d = p->local_domains; *d != NULL; d++)
		if (relay_eq(*d, domain, n))
			return 1;
	return 0;
}

/* UTF-8 characters that Unicode compatibility normalization (NFKC,
 * UAX #15) turns into text holding "@", "%", "!" or ":" (the complete
 * list from the Unicode data: fullwidth, small and vertical forms and four
 * more).  A mailbox store that normalizes local parts would see routing
 * syntax where we saw none. */
static const char *const relay_lookalikes[] = {
	"\xef\xbc\xa0", "\xef\xb9\xab",	/* U+FF20, U+FE6B  @ */
	"\xef\xbc\x85", "\xef\xb9\xaa",	/* U+FF05, U+FE6A  % */
	"\xef\xbc\x81", "\xef\xb9\x97",	/* U+FF01, U+FE57  ! */
	"\xef\xbc\x9a", "\xef\xb9\x95",	/* U+FF1A, U+FE55  : */
	"\xef\xb8\x93", "\xef\xb8\x95",	/* U+FE13 :, U+FE15 ! */
	"\xe2\x80\xbc", "\xe2\x81\x88",	/* U+203C !!, U+2048 ?! */
	"\xe2\x81\x89", "\xe2\xa9\xb4",	/* U+2049 !?, U+2A74 ::= */
	NULL
};

/* Local-part characters that some MTA somewhere routes on: "@" (a quoted
 * "user@evil"@local), "%" (the percent hack, RFC 1123 §5.2.16), "!" (UUCP
 * bang paths) and ":" (RFC 822 route syntax), and their look-alikes. */
static int
relay_has_routing(const struct addr *rcpt)
{
	const char *const *l;

	if (strpbrk(rcpt->local_decoded, "@%!:") != NULL)
		return 1;
	if (!(rcpt->flags & ADDR_F_UTF8))
		return 0;
	for (l = relay_lookalikes; *l != NULL; l++)
		if (strstr(rcpt->local_decoded, *l) != NULL)
			return 1;
	return 0;
}

/* An address literal is local only when listed exactly, brackets and all;
 * no other spelling of the same address is matched. */
static int
relay_literal_is_local(const struct relay_policy *p, const char *lit)
{
	const char *const *d;

	if (p->local_domains == NULL)
		return 0;
	for (d = p->local_domains; *d != NULL; d++)
		if (relay_eq(*d, lit, strlen(lit)))
			return 1;
	return 0;
}

enum relay_verdict
relay_check(const struct relay_policy *p, const struct addr *rcpt,
    int trusted)
{
	assert(p != NULL && rcpt != NULL);
	if (trusted)
		return RELAY_OK;
	if (rcpt->flags & ADDR_F_NULL)
		return RELAY_DENIED;
	/* RFC 5321 §4.1.1.3: <Postmaster> is always ours (the parser sets
	 * the flag for nothing else; checked again all the same). */
	if (rcpt->flags & ADDR_F_NODOMAIN)
		return relay_eq("postmaster", rcpt->local_decoded,
		    strlen(rcpt->local_decoded)) ? RELAY_OK : RELAY_DENIED;
	if (relay_has_routing(rcpt))
		return RELAY_ROUTING;
	/* "local.test." would pass an exact compare once the dot is gone,
	 * yet resolvers behind us treat it differently: refuse. */
	if (rcpt->flags & ADDR_F_TRAILDOT)
		return RELAY_ROUTING;
	if (rcpt->flags & ADDR_F_LITERAL)
		return relay_literal_is_local(p, rcpt->domain) ?
		    RELAY_OK : RELAY_DENIED;
	return relay_is_local_domain(p, rcpt->domain) ?
	    RELAY_OK : RELAY_DENIED;
}

const char *
relay_reason(enum relay_verdict v)
{
	switch (v) {
	case RELAY_OK:
		return "";
	case RELAY_DENIED:
		return "Relay access denied";
	case RELAY_ROUTING:
		return "Routing syntax in recipient address not allowed";
	}
	return "Relay access denied";
}
