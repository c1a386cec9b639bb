/* fuzz_vault.c - the vault file parser (engine/vault.c) on arbitrary
 * bytes, and what runs on a parsed file: the metadata walk, the age
 * warnings, the MAC and every entry's decryption under a fixed key (which
 * must fail cleanly on anything the fuzzer did not seal itself).
 *
 * The name has no directory that exists, so the generation file beside
 * it (PATH.gen) is never found: the run is hermetic.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_meta(const struct vault_meta *m, void *arg)
{
	unsigned *w = arg;

	*w |= vault_meta_warn(m, 1800000000, 90 * 86400);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char master[32] = { 1, 2, 3 };
	static struct vault_keys *k;
	static char *out;
	char err[512];
	unsigned w = 0;
	struct vault *v;

	if (k == NULL) {
		if (sodium_init() < 0)
			abort();
		k = sodium_malloc(sizeof *k);
		out = sodium_malloc(VAULT_SECRET_MAX + 1);
		vault_keys_derive(master, k);
	}
	v = vault_parse((const char *)data, size, "/nonexistent/fuzz/vault",
	    err, sizeof err);
	if (v == NULL)
		return 0;
	vault_list(v, fuzz_meta, &w, err, sizeof err);
	for (size_t i = 0; i < v->n; i++)
		if (vault_entry_open(v, &v->e[i], k, out, err, sizeof err) >= 0)
			abort();	/* nothing here was sealed with k */
	vault_auth(v, k, err, sizeof err);
	vault_close(v);
	return 0;
}
