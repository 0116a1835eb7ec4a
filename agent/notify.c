/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.c: the service manager's readiness protocol without libsystemd.
 * When systemd starts the agent with Type=notify it sets $NOTIFY_SOCKET to
 * a datagram socket (a path, or an abstract name written with a leading
 * '@'); the agent sends "READY=1" there once its worker serves and
 * "STOPPING=1" when it begins to revert everything and stop. Without the
 * variable every call does nothing, so the agent runs the same by hand.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "../common/err.h"

/* The socket address from $NOTIFY_SOCKET, read once at startup. */
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int
notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	size_t n;

	notify_len = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	n = strlen(s);
	if ((s[0] != '/' && s[0] != '@') || n >= sizeof(notify_addr.sun_path))
		return CE_INVALID;
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, s, n);
	/* An abstract name starts with a NUL byte and is not terminated. */
	if (s[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (s[0] == '/' ? 1 : 0));
	/* Children (the worker, jobs, burners) must not talk to systemd. */
	(void)unsetenv("NOTIFY_SOCKET");
	return 0;
}

bool
notify_enabled(void)
{
	return notify_len > 0;
}

int
notify_send(const char *state)
{
	ssize_t n;
	int fd, r = 0;

	if (notify_len == 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return CE_SYSTEM;
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		    (const struct sockaddr *)&notify_addr, notify_len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != strlen(state))
		r = CE_SYSTEM;
	close(fd);
	return r;
}
