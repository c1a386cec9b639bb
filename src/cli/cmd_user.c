/* cmd_user.c - "jaga user": AUTH users.  For now one verb: hash, which
 * reads a password from standard input (never from argv, where other
 * users could see it) and prints the Argon2id string for user_table. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "gateway/users.h"

#define PASS_MAX 1024

static const char user_usage[] =
"usage: jaga user hash\n"
"\n"
"  hash    read a password from standard input (no echo on a terminal) and\n"
"          print its Argon2id hash, for a \"name:hash\" line in user_table\n";

/* Read one line without echo when stdin is a terminal. */
static long
user_read_secret(char *pass, size_t max)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = fread(pass, 1, max, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n == max)
		return -1;
	while (n > 0 && (pass[n - 1] == '\n' || pass[n - 1] == '\r'))
		n--;
	return (long)n;
}

static int
user_hash(void)
{
	char hash[crypto_pwhash_STRBYTES];
	char *pass = sodium_malloc(PASS_MAX);
	long n;
	int r = 1;

	if (pass == NULL) {
		fprintf(stderr, "jaga user hash: cannot allocate locked memory\n");
		return 1;
	}
	n = user_read_secret(pass, PASS_MAX);
	if (n <= 0)
		fprintf(stderr, "jaga user hash: %s\n", n == 0 ?
		    "empty password" : "password longer than 1023 octets");
	else if (users_hash(pass, (size_t)n, hash, sizeof hash) < 0)
		fprintf(stderr, "jaga user hash: out of memory\n");
	else
		r = printf("%s\n", hash) < 0;
	sodium_free(pass);
	return r;
}

int
cmd_user(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(user_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "hash") == 0 && argc == 2)
		return user_hash();
	fprintf(stderr, "jaga user: unknown command \"%s\"\n%s", argv[1],
	    user_usage);
	return 2;
}
