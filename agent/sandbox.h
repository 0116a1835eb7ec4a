/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox.h: confine the network-facing worker. Called once the worker
 * holds every descriptor it will ever need: drops to the unprivileged user
 * (verified by trying to regain root), forbids new privileges and loads the
 * allow-list seccomp filter. Anything not on the list kills the process.
 */
#ifndef CHAOS_AGENT_SANDBOX_H
#define CHAOS_AGENT_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Drop to uid/gid (when drop is true; the agent may run unprivileged in
 * development) and verify the drop. Returns 0 or fails with fatal().
 */
void sandbox_drop(bool drop, uid_t uid, gid_t gid);

/* Load the seccomp filter. Never returns an error: failure is fatal. */
void sandbox_enter(void);

#endif
