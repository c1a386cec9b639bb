/* fuzz_smtp_cmd.c - libFuzzer target for smtp_cmd_parse() and friends.
 *
 * Every input line is parsed with and without SMTPUTF8.  Beyond "no crash,
 * no read past len", every view handed out must lie inside the line, the
 * parameter count must respect its limit, and a line that parses without
 * SMTPUTF8 must parse the same way with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_smtp_cmd_view(struct strview v, const uint8_t *data, size_t size)
{
	if (v.len == 0)
		return;
	if ((const uint8_t *)v.p < data ||
	    (const uint8_t *)v.p + v.len > data + size)
		abort();
}

static void
fuzz_smtp_cmd_check(const struct smtp_cmd *cmd, const uint8_t *data,
    size_t size)
{
	int i;

	if (cmd->nparams < 0 || cmd->nparams > SMTP_ESMTP_PARAMS_MAX)
		abort();
	fuzz_smtp_cmd_view(cmd->arg, data, size);
	for (i = 0; i < cmd->nparams; i++) {
		if (cmd->params[i].key.len == 0)
			abort();
		fuzz_smtp_cmd_view(cmd->params[i].key, data, size);
		fuzz_smtp_cmd_view(cmd->params[i].value, data, size);
		if (smtp_cmd_param(cmd, "SIZE") == NULL &&
		    cmd->params[i].key.len == 4 &&
		    memcmp(cmd->params[i].key.p, "SIZE", 4) == 0)
			abort();
	}
	if (smtp_verb_name(cmd->verb) == NULL)
		abort();
}

/* Does the parsed MAIL command carry a bare SMTPUTF8 parameter? */
static int
fuzz_smtp_cmd_utf8_param(const struct smtp_cmd *cmd)
{
	static const char kw[] = "SMTPUTF8";
	size_t j;
	int i;

	for (i = 0; i < cmd->nparams; i++) {
		const struct smtp_param *p = &cmd->params[i];

		if (p->key.len != sizeof kw - 1 || p->value.len != 0)
			continue;
		for (j = 0; j < p->key.len; j++)
			if ((p->key.p[j] & ~0x20) != kw[j] &&
			    p->key.p[j] != kw[j])
				break;
		if (j == p->key.len)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd plain, utf8;
	enum smtp_cmd_err e0, e1;
	const char *line = (const char *)data;

	e0 = smtp_cmd_parse(line, size, 0, &plain);
	fuzz_smtp_cmd_check(&plain, data, size);
	e1 = smtp_cmd_parse(line, size, 1, &utf8);
	fuzz_smtp_cmd_check(&utf8, data, size);
	if (e0 == CMD_OK && (e1 != CMD_OK || plain.verb != utf8.verb ||
	    plain.nparams != utf8.nparams))
		abort();
	if (e0 == CMD_OK && plain.verb == SMTP_MAIL &&
	    fuzz_smtp_cmd_utf8_param(&plain) !=
	    smtp_cmd_has_smtputf8(line, size))
		abort();
	return 0;
}
