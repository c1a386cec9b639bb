/* idle_sessions: open many SMTP sessions that read the greeting, send EHLO,
 * read the EHLO reply and then sit idle, to measure a server's memory per
 * idle session.  Benchmark helper, not part of jaga.
 *
 * usage: idle_sessions HOST PORT COUNT SRC_BASE SRC_SPREAD [HOLD_SECS]
 *   SRC_BASE   first source address, e.g. 127.1.0.1; sessions are spread
 *              round-robin over SRC_SPREAD consecutive addresses from it.
 *   HOLD_SECS  how long to hold the sessions once all are idle (default 600);
 *              SIGTERM/SIGINT ends earlier.
 * Prints "ready N failed F" when every session is idle or failed, then
 * "closed N" (sessions the server closed while idle) on exit.
 * Memory: one small struct (~300 bytes) per session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECT, ST_GREETING, ST_EHLO, ST_IDLE, ST_DEAD };
enum { MAX_INFLIGHT = 200, LINE_MAX_LEN = 256 };

struct sess {
	int fd;
	int state;
	size_t len;
	char line[LINE_MAX_LEN];
};

static volatile sig_atomic_t stop;
static void on_sig(int sig) { (void)sig; stop = 1; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_one(int ep, struct sess *s, const struct sockaddr_in *dst,
		    uint32_t src_host)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = s };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	src.sin_addr.s_addr = htonl(src_host);
	if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof *dst) < 0 &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->state = ST_CONNECT;
	s->len = 0;
	return 0;
}

/* Feed received bytes; returns the first digit of a final reply line
 * ("NNN text") once one was seen, else 0. */
static int got_final_reply(struct sess *s, const char *p, size_t n)
{
	int final = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (s->len >= 4 && s->line[3] == ' ')
				final = s->line[0];
			s->len = 0;
		} else if (s->len < LINE_MAX_LEN) {
			s->line[s->len++] = p[i];
		}
	}
	return final;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s HOST PORT COUNT SRC_BASE SRC_SPREAD [HOLD_SECS]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct in_addr base;
	long count = strtol(argv[3], NULL, 10), spread = strtol(argv[5], NULL, 10);
	double hold = argc > 6 ? strtod(argv[6], NULL) : 600;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[4], &base) != 1 || count <= 0 || spread <= 0)
		return 2;
	dst.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);

	struct sess *ss = calloc((size_t)count, sizeof *ss);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!ss || ep < 0)
		return 1;
	long next = 0, inflight = 0, ready = 0, failed = 0, closed = 0;
	int announced = 0;
	double t0 = now(), t_ready = 0;
	struct epoll_event evs[256];

	while (!stop) {
		while (next < count && inflight < MAX_INFLIGHT) {
			uint32_t src = ntohl(base.s_addr) + (uint32_t)(next % spread);
			if (open_one(ep, &ss[next], &dst, src) < 0) {
				ss[next].state = ST_DEAD;
				failed++;
			} else {
				inflight++;
			}
			next++;
		}
		if (!announced && next == count && inflight == 0) {
			t_ready = now();
			printf("ready %ld failed %ld secs %.2f\n", ready, failed, t_ready - t0);
			fflush(stdout);
			announced = 1;
		}
		if (announced && now() - t_ready > hold)
			break;
		int n = epoll_wait(ep, evs, 256, 500);
		for (int i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;
			char buf[4096];
			ssize_t r;
			if (s->state == ST_CONNECT) {
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
				if (err || epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
					goto dead;
				s->state = ST_GREETING;
				continue;
			}
			r = read(s->fd, buf, sizeof buf);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				goto dead;
			}
			if (s->state == ST_IDLE)
				continue;
			int code = got_final_reply(s, buf, (size_t)r);
			if (code == 0)
				continue;
			if (code != '2')
				goto dead;
			if (s->state == ST_GREETING) {
				static const char ehlo[] = "EHLO idle.bench.test\r\n";
				if (write(s->fd, ehlo, sizeof ehlo - 1) != (ssize_t)(sizeof ehlo - 1))
					goto dead;
				s->state = ST_EHLO;
			} else if (s->state == ST_EHLO) {
				s->state = ST_IDLE;
				ready++;
				inflight--;
			}
			continue;
dead:
			if (s->state == ST_IDLE) {
				closed++;
			} else {
				failed++;
				inflight--;
			}
			s->state = ST_DEAD;
			close(s->fd);
		}
	}
	printf("closed %ld\n", closed);
	fflush(stdout);
	return 0;
}
