/* tcp_relay: the cheapest possible SMTP proxy, as a reference point.
 *
 * For every accepted connection it opens one connection to the upstream and
 * copies bytes both ways, understanding nothing.  Any proxy that, like jaga,
 * opens one next-hop connection per client session pays at least this much
 * (two TCP connections and every SMTP line crossing user space twice), so
 * its throughput bounds what such a proxy can reach on the same machine.
 * Benchmark helper, not part of jaga.
 *
 * usage: tcp_relay LISTEN_IP LISTEN_PORT UPSTREAM_IP UPSTREAM_PORT THREADS
 * Each thread has its own epoll loop and SO_REUSEPORT listener (like jaga's
 * workers).  Prints "ready" on stdout once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUF_SIZE = 16384 };

struct pair;

struct end {			/* one socket; data read here goes to peer */
	int fd;
	struct pair *pair;
	int eof;		/* read side saw EOF (peer's write side shut) */
	unsigned mask;		/* events registered with epoll */
	size_t off, len;	/* pending bytes in buf not yet written to peer */
	struct end *peer;
	char buf[BUF_SIZE];
};

struct pair {			/* one allocation per proxied session */
	struct end a, b;
	int dead;		/* closed; freed after the current epoll batch */
	struct pair *next_dead;
};

static struct sockaddr_in up_addr;
static struct sockaddr_in listen_addr;

static void watch(int ep, struct end *e, int op)
{
	/* read while nothing is pending for the peer; write while the peer's
	 * data is pending for us */
	struct epoll_event ev = { .data.ptr = e };
	if (!e->eof && e->len == 0)
		ev.events |= EPOLLIN;
	if (e->peer->len > 0)
		ev.events |= EPOLLOUT;
	if (op == EPOLL_CTL_MOD && ev.events == e->mask)
		return;		/* no change, no system call */
	e->mask = ev.events;
	epoll_ctl(ep, op, e->fd, &ev);
}

/* Close both sockets now; free later, since the same epoll batch may still
 * hold an event for the other end. */
static void close_pair(struct end *e, struct pair **dead)
{
	struct pair *p = e->pair;
	close(p->a.fd);
	close(p->b.fd);
	p->dead = 1;
	p->next_dead = *dead;
	*dead = p;
}

/* Write what e holds to its peer; returns -1 on a hard error. */
static int flush_to_peer(struct end *e)
{
	while (e->len > 0) {
		ssize_t w = send(e->peer->fd, e->buf + e->off, e->len, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		e->off += (size_t)w;
		e->len -= (size_t)w;
	}
	e->off = 0;
	if (e->eof)
		shutdown(e->peer->fd, SHUT_WR);
	return 0;
}

static int on_event(int ep, struct end *e, unsigned events)
{
	if (events & EPOLLOUT && flush_to_peer(e->peer) < 0)
		return -1;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && !e->eof && e->len == 0) {
		ssize_t r = recv(e->fd, e->buf, sizeof e->buf, 0);
		if (r < 0 && errno != EAGAIN)
			return -1;
		if (r == 0)
			e->eof = 1;
		if (r > 0)
			e->len = (size_t)r;
		if (flush_to_peer(e) < 0)
			return -1;
	}
	if (e->eof && e->peer->eof && e->len == 0 && e->peer->len == 0)
		return -1;	/* both directions done */
	watch(ep, e, EPOLL_CTL_MOD);
	watch(ep, e->peer, EPOLL_CTL_MOD);
	return 0;
}

static void on_accept(int ep, int lfd)
{
	for (;;) {
		int one = 1, cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct pair *p = calloc(1, sizeof *p);
		if (ufd < 0 || !p ||
		    (connect(ufd, (struct sockaddr *)&up_addr, sizeof up_addr) < 0 &&
		     errno != EINPROGRESS)) {
			close(cfd);
			if (ufd >= 0)
				close(ufd);
			free(p);
			continue;
		}
		struct end *a = &p->a, *b = &p->b;
		a->pair = b->pair = p;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		a->fd = cfd, b->fd = ufd, a->peer = b, b->peer = a;
		watch(ep, a, EPOLL_CTL_ADD);
		watch(ep, b, EPOLL_CTL_ADD);
	}
}

static void *worker(void *arg)
{
	int one = 1, ep = epoll_create1(EPOLL_CLOEXEC);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[128];

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&listen_addr, sizeof listen_addr) < 0 ||
	    listen(lfd, 1024) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("tcp_relay: listen");
		exit(1);
	}
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		struct pair *dead = NULL;
		int n = epoll_wait(ep, evs, 128, -1);
		for (int i = 0; i < n; i++) {
			struct end *e = evs[i].data.ptr;
			if (e == NULL)
				on_accept(ep, lfd);
			else if (!e->pair->dead && on_event(ep, e, evs[i].events) < 0)
				close_pair(e, &dead);
		}
		while (dead) {
			struct pair *next = dead->next_dead;
			free(dead);
			dead = next;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s LISTEN_IP LISTEN_PORT UPSTREAM_IP UPSTREAM_PORT THREADS\n", argv[0]);
		return 2;
	}
	listen_addr.sin_family = up_addr.sin_family = AF_INET;
	listen_addr.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
	up_addr.sin_port = htons((uint16_t)strtol(argv[4], NULL, 10));
	if (inet_pton(AF_INET, argv[1], &listen_addr.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &up_addr.sin_addr) != 1)
		return 2;
	int nthreads = (int)strtol(argv[5], NULL, 10), started = 0;
	pthread_t t;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t, NULL, worker, &started);
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < nthreads)
		usleep(1000);
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
