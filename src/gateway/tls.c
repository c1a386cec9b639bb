/* tls.c - the server side TLS context. */
#include "gateway/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define SELFSIGNED_DAYS 3650

static void
tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char ssl[256] = "";

	if (e)
		ERR_error_string_n(e, ssl, sizeof ssl);
	snprintf(err, errlen, "%s %s: %s", what, path,
	    e ? ssl : strerror(errno));
	ERR_clear_error();
}

/* A self-signed X.509 certificate for an EC P-256 key, CN = host name. */
static X509 *
tls_make_cert(EVP_PKEY *key, const char *host)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint64_t serial;

	if (x == NULL)
		return NULL;
	if (RAND_bytes((unsigned char *)&serial, sizeof serial) != 1)
		goto fail;
	X509_set_version(x, 2);
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * SELFSIGNED_DAYS);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Write a PEM file with the given mode, atomically (temp file + rename). */
static int
tls_write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fchmod(fileno(f), mode) < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		ok = 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Make state_dir/tls/selfsigned.{crt,key} unless they exist. */
static int
tls_selfsigned(const struct settings *st, char *crt, char *key, size_t len,
    char *err, size_t errlen)
{
	char dir[4096];
	EVP_PKEY *pk;
	X509 *x;
	int r = -1;

	snprintf(dir, sizeof dir, "%s/tls", st->state_dir);
	snprintf(crt, len, "%s/selfsigned.crt", dir);
	snprintf(key, len, "%s/selfsigned.key", dir);
	if (access(crt, R_OK) == 0 && access(key, R_OK) == 0)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		tls_err(err, errlen, "cannot create", dir);
		return -1;
	}
	pk = EVP_EC_gen("P-256");
	x = pk ? tls_make_cert(pk, st->hostname) : NULL;
	if (x && tls_write_pem(key, 0600, pk, NULL) == 0 &&
	    tls_write_pem(crt, 0644, NULL, x) == 0) {
		r = 0;
		log_msg(LOG_LVL_INFO, "tls", "made a self-signed certificate "
		    "%s for %s; set tls_cert_file and tls_key_file for a real "
		    "one", crt, st->hostname);
	} else {
		tls_err(err, errlen, "cannot write", dir);
	}
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

SSL_CTX *
tls_server_ctx(const struct settings *st, char *err, size_t errlen)
{
	char crt[4096], key[4096];
	SSL_CTX *ctx;

	if (st->tls_cert_file[0]) {
		snprintf(crt, sizeof crt, "%s", st->tls_cert_file);
		snprintf(key, sizeof key, "%s", st->tls_key_file[0] ?
		    st->tls_key_file : st->tls_cert_file);
	} else if (tls_selfsigned(st, crt, key, sizeof crt, err, errlen) < 0) {
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		tls_err(err, errlen, "cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
		tls_err(err, errlen, "cannot load certificate", crt);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "cannot load private key", key);
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "key does not match certificate", crt);
	} else {
		return ctx;
	}
	SSL_CTX_free(ctx);
	return NULL;
}
