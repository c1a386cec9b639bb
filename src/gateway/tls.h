/* tls.h - the server side TLS context (STARTTLS and implicit TLS).
 * TLS 1.2 minimum (RFC 8996); certificate and key from files, or a
 * self-signed pair made once under state_dir/tls/ on first start. */
#ifndef JAGA_GATEWAY_TLS_H
#define JAGA_GATEWAY_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "gateway/params.h"

/* Build the context; on failure returns NULL with a message in err. */
SSL_CTX *tls_server_ctx(const struct settings *st, char *err, size_t errlen);

#endif
