/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.h: readiness and stopping notifications to the service manager
 * ($NOTIFY_SOCKET, systemd's Type=notify), with no library.
 */
#ifndef CHAOS_AGENT_NOTIFY_H
#define CHAOS_AGENT_NOTIFY_H

#include <stdbool.h>

/*
 * Read $NOTIFY_SOCKET and remove it from the environment, so no child
 * inherits it. Returns 0 (also when it is unset) or CE_INVALID when its
 * value is not a socket path or abstract name.
 */
int notify_init(void);

/* True when a service manager asked for notifications. */
bool notify_enabled(void);

/*
 * Send one state string ("READY=1", "STOPPING=1", "STATUS=..." lines).
 * Returns 0 (also when notifications are off) or CE_SYSTEM.
 */
int notify_send(const char *state);

#endif
