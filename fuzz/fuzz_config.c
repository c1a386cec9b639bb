/* fuzz_config.c - the configuration parser (util/config.c) and the checks
 * of jaga's table and settings_load (gateway/params.c) on arbitrary bytes.
 *
 * The input is the text of a configuration file, read through fmemopen.
 * Name resolution is stubbed: a next hop URL with a host name would
 * otherwise send the fuzzer to DNS, which is slow and not hermetic.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/params.h"
#include "util/buf.h"
#include "util/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	return EAI_NONAME;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config *c = config_new(jaga_params, jaga_nparams);
	struct settings s;
	struct buf errs;
	FILE *f;

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	if (c == NULL)
		return 0;
	buf_init(&errs, 1 << 20);
	f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "r") : NULL;
	if (f != NULL) {
		config_load_stream(c, f, "fuzz.conf", &errs);
		fclose(f);
	}
	settings_load(&s, c, &errs);
	settings_done(&s);
	if (devnull != NULL)
		config_print(c, devnull, 1, 1);
	buf_done(&errs);
	config_free(c);
	return 0;
}
