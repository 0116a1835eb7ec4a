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
	  "kill-process; signalling CPU burners, which run as another user", false },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN",
	  "latency, loss, corrupt, duplicate, reorder, rate, blackhole (tc qdiscs and "
	  "filters)", true },
	{ CAP_SETGID, "CAP_SETGID",
	  "the HTTP worker and CPU burners drop to the configured user's group", false },
	{ CAP_SETPCAP, "CAP_SETPCAP",
	  "the HTTP worker and CPU burners empty their bounding set", false },
	{ CAP_SETUID, "CAP_SETUID",
	  "the HTTP worker and CPU burners drop to the configured user", false },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
	  "network faults inside a task: setns into its network namespace", true },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
	  "container targets: reading /proc/PID/ns/net and /proc/PID/exe of "
	  "processes with other capabilities (kill-process, network faults in tasks)", false },
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
kept(bool task, int cap)
{
	size_t i;

	for (i = 0; i < caps_nkept; i++)
		if (caps_kept[i].cap == cap)
			return !(task && caps_kept[i].host_only);
	return false;
}

/* The calling process's permitted set, as two 32-bit words. */
static int
permitted(uint32_t out[2])
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	out[0] = data[0].permitted;
	out[1] = data[1].permitted;
	return 0;
}

bool
caps_have(int cap)
{
	uint32_t p[2];

	return cap >= 0 && cap < 64 && permitted(p) == 0 &&
	    (p[cap / 32] >> (cap % 32) & 1) != 0;
}

int
caps_restrict(bool task, struct errbuf *eb)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	uint32_t have[2];
	int c, last = last_cap();
	size_t i;

	if (geteuid() != 0)
		return 0;
	if (permitted(have) != 0)
		return err_set(eb, CE_SYSTEM, "capget: %s", strerror(errno));
	for (c = 0; c <= last; c++)
		if (!kept(task, c) && prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return err_set(eb, CE_SYSTEM, "cannot drop capability %d from the "
			    "bounding set: %s", c, strerror(errno));
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	/*
	 * Keep what the table lists and the process has: a service manager or
	 * container that withholds one (no CAP_NET_ADMIN, say) leaves the
	 * agent running with the faults that need it unavailable.
	 */
	for (i = 0; i < caps_nkept; i++) {
		unsigned bit = (unsigned)caps_kept[i].cap;

		if ((have[bit / 32] >> (bit % 32) & 1) == 0 || !kept(task, caps_kept[i].cap))
			continue;
		data[bit / 32].permitted |= 1u << (bit % 32);
		data[bit / 32].effective |= 1u << (bit % 32);
	}
	if (syscall(SYS_capset, &hdr, data) != 0)
		return err_set(eb, CE_SYSTEM, "capset: %s", strerror(errno));
	return 0;
}

size_t
caps_missing(bool task, const struct caps_keep **out, size_t max)
{
	size_t i, n = 0;

	if (geteuid() != 0)
		return 0;
	for (i = 0; i < caps_nkept; i++)
		if (kept(task, caps_kept[i].cap) && !caps_have(caps_kept[i].cap) && n < max)
			out[n++] = &caps_kept[i];
	return n;
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
