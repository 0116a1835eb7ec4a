/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caps.h: the capabilities the agent keeps. Root has every capability; the
 * privileged parent needs a handful (the table in caps.c says which fault
 * needs which, and docs/security.md repeats it), so at startup it drops
 * the rest from its bounding, permitted, effective and inheritable sets.
 * Children that need none (the HTTP worker, CPU burners) drop their
 * bounding set entirely before they change user, so nothing they could
 * ever execute regains a capability.
 */
#ifndef CHAOS_CAPS_H
#define CHAOS_CAPS_H

#include <stdbool.h>
#include <stddef.h>

struct errbuf;

/* One kept capability and why. */
struct caps_keep {
	int cap;
	const char *name;	/* "CAP_KILL", as systemd units write it */
	const char *why;	/* the fault or step that needs it */
	bool host_only;		/* needed on a host only: task mode drops it */
};

/* The kept capabilities, in the order docs/security.md lists them. */
extern const struct caps_keep caps_kept[];
extern const size_t caps_nkept;

/*
 * Reduce the calling process to the kept capabilities it has: bounding
 * set first, then permitted, effective and inheritable; ambient cleared.
 * One the process lacks (withheld by a service manager or a container) is
 * not an error: the faults that need it are then unavailable. In task
 * mode (task true) the host-only ones go too, even when the task grants
 * them. Only meaningful for root: returns 0 without doing anything
 * otherwise. Returns 0 or CE_SYSTEM with eb naming the step that failed.
 */
int caps_restrict(bool task, struct errbuf *eb);

/* Does the calling process hold cap in its permitted set? */
bool caps_have(int cap);

/*
 * The kept capabilities the process (root) does not hold, into out (at
 * most max), the host-only ones left out in task mode. Returns how many.
 */
size_t caps_missing(bool task, const struct caps_keep **out, size_t max);

/*
 * Empty the calling process's bounding set (needs CAP_SETPCAP, which the
 * parent keeps for this). Call in a child before it drops to an
 * unprivileged user; does nothing when not root. Returns 0 or CE_SYSTEM.
 */
int caps_drop_bounding(struct errbuf *eb);

#endif
