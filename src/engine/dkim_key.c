/* dkim_key.c - new DKIM keys and the TXT record to publish (RFC 6376
 * §3.6.1, RFC 8463 §4).  The key table is in dkim_keytab.c. */
#include "engine/dkim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* The public half as p= wants it: SubjectPublicKeyInfo for RSA, the raw
 * 32 octets for Ed25519. */
static int
dkim_keygen_txt(EVP_PKEY *pk, int ed, char *txt, size_t txtlen)
{
	unsigned char raw[1200], *q = raw;
	char b64[1700];
	size_t rawlen = sizeof raw;
	int len;

	if (ed) {
		if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) != 1)
			return -1;
	} else {
		if (i2d_PUBKEY(pk, NULL) > (int)sizeof raw ||
		    (len = i2d_PUBKEY(pk, &q)) <= 0)
			return -1;
		rawlen = (size_t)len;
	}
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)rawlen);
	len = snprintf(txt, txtlen, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" :
	    "rsa", b64);
	return len < 0 || (size_t)len >= txtlen ? -1 : 0;
}

static int
dkim_keygen_write(EVP_PKEY *pk, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FILE *f;
	int ok;

	if (fd < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		unlink(path);
	return ok ? 0 : -1;
}

int
dkim_keygen(const char *type, int bits, const char *path, char *txt,
    size_t txtlen, char *reason, size_t rlen)
{
	int ed = strcmp(type, "ed25519") == 0;
	EVP_PKEY *pk;
	int rc = -1;

	if (!ed && strcmp(type, "rsa") != 0) {
		snprintf(reason, rlen, "type is rsa or ed25519");
		return -1;
	}
	if (!ed && (bits < 1024 || bits > 8192)) {
		snprintf(reason, rlen, "rsa bits from 1024 to 8192 (RFC 8301)");
		return -1;
	}
	pk = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	if (pk == NULL)
		snprintf(reason, rlen, "key generation failed");
	else if (dkim_keygen_txt(pk, ed, txt, txtlen) < 0)
		snprintf(reason, rlen, "record does not fit");
	else if (dkim_keygen_write(pk, path) < 0)
		snprintf(reason, rlen, "cannot create %s: %s", path,
		    errno == EEXIST ? "it exists" : strerror(errno));
	else
		rc = 0;
	EVP_PKEY_free(pk);
	return rc;
}
