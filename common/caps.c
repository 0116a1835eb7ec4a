/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caps.c: capability sets through the raw capget/capset interface (no
 * libcap needed for this much).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "err.h"
#include "util.h"

const struct caps_keep caps_kept[] = {
	{ CAP_KILL, "CAP_KILL",
	  "kill-process; signalling CPU burners, which run as another user" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN",
	  "latency, loss, corrupt, duplicate, reorder, rate, blackhole (tc qdiscs and filters)" },
	{ CAP_SETGID, "CAP_SETGID",
	  "the HTTP worker and CPU burners drop to the configured user's group" },
	{ CAP_SETPCAP, "CAP_SETPCAP",
	  "the HTTP worker and CPU burners empty their bounding set" },
	{ CAP_SETUID, "CAP_SETUID",
	  "the HTTP worker and CPU burners drop to the configured user" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
	  "network faults inside a task: setns into its network namespace" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
	  "container targets: reading /proc/PID/ns/net and /proc/PID/exe of "
	  "processes with other capabilities (kill-process, network faults in tasks)" },
};
const size_t caps_nkept = NELEM(caps_kept);

static int
last_cap(void)
{
	int c = CAP_LAST_CAP;

	/* A newer kernel may know more; the bounding set must lose them too. */
	while (c < 63 && prctl(PR_CAPBSET_READ, (unsigned long)(c + 1), 0, 0, 0) >= 0)
		c++;
	return c;
}

static bool
kept(int cap)
{
	size_t i;

	for (i = 0; i < caps_nkept; i++)
		if (caps_kept[i].cap == cap)
			return true;
	return false;
}

int
caps_restrict(struct errbuf *eb)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int c, last = last_cap();
	size_t i;

	if (geteuid() != 0)
		return 0;
	for (c = 0; c <= last; c++)
		if (!kept(c) && prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return err_set(eb, CE_SYSTEM, "cannot drop capability %d from the "
			    "bounding set: %s", c, strerror(errno));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	for (i = 0; i < caps_nkept; i++) {
		unsigned bit = (unsigned)caps_kept[i].cap;

		data[bit / 32].permitted |= 1u << (bit % 32);
		data[bit / 32].effective |= 1u << (bit % 32);
	}
	if (syscall(SYS_capset, &hdr, data) != 0)
		return err_set(eb, CE_SYSTEM, "capset: %s", strerror(errno));
	return 0;
}

int
caps_drop_bounding(struct errbuf *eb)
{
	int c, last = last_cap();

	if (geteuid() != 0)
		return 0;
	for (c = 0; c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return err_set(eb, CE_SYSTEM, "cannot drop capability %d from the "
			    "bounding set: %s", c, strerror(errno));
	return 0;
}
