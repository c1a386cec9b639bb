/* session.h - one SMTP server session (RFC 5321), the before-queue proxy.
 *
 * The session reads commands, answers them, and relays the envelope to the
 * listener's next hop in lockstep; its 250 after DATA comes only after the
 * next hop accepted the message.  It owns the socket and frees itself. */
#ifndef JAGA_GATEWAY_SESSION_H
#define JAGA_GATEWAY_SESSION_H

#include <event2/util.h>
#include <sys/socket.h>

#include "gateway/params.h"

struct session;
struct worker;

/* Take over an accepted, admitted socket (server_enter said ADMIT_OK). */
void session_start(struct worker *w, const struct listener_spec *ls,
    evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen);

/* The worker is stopping: answer 421 4.3.2 now if idle, else as soon as
 * the transaction in flight has its answer. */
void session_drain(struct session *s);
/* The next session in the worker's list (for walking it). */
struct session *session_next(const struct session *s);

/* A fresh 12-character session id in out (>= 13 bytes). */
void session_make_id(char *out);

#endif
