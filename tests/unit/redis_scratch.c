/* redis_scratch.c - a redis-server of a unit test's own (see
 * redis_scratch.h). */
#include "redis_scratch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A port free on 127.0.0.1 now (the kernel picks it); -1 on failure. */
static int
rs_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The child: exec redis-server on port, its log to /dev/null. */
static void
rs_exec(const char *port, const char *test)
{
	int null = open("/dev/null", O_WRONLY);

	if (null >= 0)
		dup2(null, STDOUT_FILENO);	/* Redis logs there */
	execlp("redis-server", "redis-server", "--port", port, "--bind",
	    "127.0.0.1", "--save", "", "--appendonly", "no",
	    "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
	fprintf(stderr, "%s: cannot run redis-server "
	    "(install it: scripts/deps.sh test)\n", test);
	_exit(127);
}

int
redis_scratch_start(struct redis_scratch *rs, const char *test, int db)
{
	char port[16];

	if (rs->port <= 0 && (rs->port = rs_free_port()) < 0) {
		fprintf(stderr, "%s: no free loopback port\n", test);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", rs->port);
	snprintf(rs->url, sizeof(rs->url), "redis://127.0.0.1:%d/%d",
	    rs->port, db);
	if ((rs->pid = fork()) == 0)
		rs_exec(port, test);
	for (int i = 0; i < 250 && rs->pid > 0; i++) {
		if (waitpid(rs->pid, NULL, WNOHANG) == rs->pid) {
			rs->pid = -1;
			break;
		}
		if (redis_scratch_cmd(rs, "PING") == 0)
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "%s: redis-server on port %d did not answer\n",
	    test, rs->port);
	return -1;
}

void
redis_scratch_stop(struct redis_scratch *rs)
{
	if (rs->pid > 0) {
		kill(rs->pid, SIGTERM);
		waitpid(rs->pid, NULL, 0);
	}
	rs->pid = -1;
}

redisReply *
redis_scratch_reply(const struct redis_scratch *rs, const char *cmd)
{
	struct timeval tv = { 0, 200000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", rs->port, tv);
	redisReply *rep = NULL;

	if (c != NULL && c->err == 0)
		rep = redisCommand(c, cmd);
	if (c != NULL)
		redisFree(c);
	return rep;
}

int
redis_scratch_cmd(const struct redis_scratch *rs, const char *cmd)
{
	redisReply *rep = redis_scratch_reply(rs, cmd);
	int ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;

	freeReplyObject(rep);
	return ok ? 0 : -1;
}
