/* bevio.h - writing to a plain (non-TLS) socket bufferevent cheaply. */
#ifndef JAGA_GATEWAY_BEVIO_H
#define JAGA_GATEWAY_BEVIO_H

#include <stddef.h>

struct bufferevent;

/* Queue len bytes on bev, a socket bufferevent WITHOUT TLS.  When nothing
 * is queued yet, the bytes go straight to the socket and only what the
 * kernel did not take is queued: a reply then costs one send() instead of
 * arming and disarming write interest (two epoll_ctl calls) around it.
 * Returns 0, or -1 when out of memory. */
int bevio_write_plain(struct bufferevent *bev, const void *p, size_t len);

#endif
