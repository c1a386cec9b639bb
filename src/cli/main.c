/* main.c - jaga: one binary, one subcommand per task (DESIGN.md). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve, "run the gateway daemon" },
	{ "config", cmd_config, "check a configuration, print parameters" },
	{ "user", cmd_user, "manage AUTH identities (add, list, revoke, import)" },
	{ "suspend", cmd_suspend, "suspended identities (list, show, lift)" },
	{ "vault", cmd_vault, "upstream credentials encrypted at rest (init, set, "
	    "list, rotate, rekey, remove)" },
	{ "dkim", cmd_dkim, "DKIM signatures (verify, sign, keygen)" },
	{ "dns", cmd_dns, "look a name up through jaga's resolver" },
	{ "spf", cmd_spf, "check a client IP against a sender's SPF record" },
	{ "dmarc", cmd_dmarc, "SPF, DKIM and DMARC of a message (check)" },
};

static int
usage(FILE *out)
{
	fprintf(out, "usage: jaga COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n\"jaga COMMAND --help\" tells more; "
	    "\"jaga --version\" prints the version.\n");
	return out == stdout ? 0 : 2;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0) {	/* random numbers, locked memory */
		fprintf(stderr, "jaga: cannot initialise libsodium\n");
		return 1;
	}
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("jaga %s\n", JAGA_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "jaga: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
