/* cmd.h - the subcommands of jaga; each takes argv from its own name on
 * and returns the process exit status (0 ok, 1 failure, 2 usage). */
#ifndef JAGA_CLI_CMD_H
#define JAGA_CLI_CMD_H

int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_suspend(int argc, char **argv);
int cmd_vault(int argc, char **argv);
int cmd_dkim(int argc, char **argv);
/* "jaga vault test", a verb of "jaga vault" (cmd_vault_test.c). */
int cmd_vault_test(int argc, char **argv);
/* "jaga dns NAME [TYPE]" (cmd_dns.c). */
int cmd_dns(int argc, char **argv);

/* "jaga spf": check_host() of RFC 7208 (cmd_spf.c). */
int cmd_spf(int argc, char **argv);

/* "jaga dmarc check": SPF, DKIM and DMARC of one message (cmd_dmarc.c). */
int cmd_dmarc(int argc, char **argv);

#endif
