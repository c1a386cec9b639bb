/* cli_config.c - the configuration as "jaga serve" loads it. */
#include "cli/cli_config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway/params.h"

#define CLI_CONFIG_ERRS_MAX (64 * 1024)

int
cli_config_file(struct config *cfg, const char *file, struct buf *errs)
{
	if (file == NULL && access(JAGA_CONFIG_PATH, F_OK) == 0)
		file = JAGA_CONFIG_PATH;
	if (file != NULL && config_load_file(cfg, file, errs) != 0)
		return 1;
	return 0;
}

int
cli_config_overrides(struct config *cfg, const struct buf *overrides,
    struct buf *errs)
{
	int bad = 0;

	for (size_t off = 0; off < overrides->len;) {
		const char *kv = overrides->data + off;
		const char *eq = strchr(kv, '=');
		char name[128];

		off += strlen(kv) + 1;
		if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof name) {
			buf_printf(errs, "-o %s: expected name=value\n", kv);
			bad++;
			continue;
		}
		snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
		bad += config_set(cfg, name, eq + 1, "-o", errs) < 0;
	}
	return bad;
}

struct config *
cli_config_load(const char *prog, const char *file,
    const struct buf *overrides)
{
	struct config *cfg = config_new(jaga_params, jaga_nparams);
	struct buf errs;

	if (cfg == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return NULL;
	}
	buf_init(&errs, CLI_CONFIG_ERRS_MAX);
	if (cli_config_file(cfg, file, &errs) != 0 ||
	    cli_config_overrides(cfg, overrides, &errs) != 0) {
		fprintf(stderr, "%s: the configuration has errors:\n%s", prog,
		    errs.data ? errs.data : "");
		config_free(cfg);
		cfg = NULL;
	}
	buf_done(&errs);
	return cfg;
}
