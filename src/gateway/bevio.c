/* bevio.c - writing to a plain socket bufferevent cheaply. */
#include "gateway/bevio.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>

int
bevio_write_plain(struct bufferevent *bev, const void *p, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	ssize_t n = 0;

	if (evbuffer_get_length(out) == 0 && fd >= 0 && len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)	/* EAGAIN, or an error the bufferevent reports */
			n = 0;
	}
	if ((size_t)n == len)
		return 0;
	return evbuffer_add(out, (const char *)p + n, len - (size_t)n);
}
