/* SPDX-License-Identifier: Apache-2.0 */
/* host.c: host and namespace facts for the network faults (see host.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host.h"
#include "../../common/util.h"

const char *
net_tc_path(void)
{
	static const char *const paths[] = {
		"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc",
	};
	size_t i;

	for (i = 0; i < NELEM(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* Is sch_netem loaded, built in, or loadable as a module? */
bool
net_netem_present(char *why, size_t len)
{
	struct utsname u;
	char line[256], path[512];
	FILE *fp;
	bool found = false;
	static const char *const exts[] = { "", ".xz", ".zst", ".gz" };
	size_t i;

	/* Loaded or built in: the kernel says so under /sys/module. */
	if (access("/sys/module/sch_netem", F_OK) == 0)
		return true;
	if ((fp = fopen("/proc/modules", "re")) != NULL) {
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strncmp(line, "sch_netem ", 10) == 0;
		fclose(fp);
	}
	if (found || uname(&u) != 0)
		return found || (snprintf(why, len, "uname failed") < 0);
	(void)snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", u.release);
	if ((fp = fopen(path, "re")) != NULL) {
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strstr(line, "/sch_netem.ko") != NULL;
		fclose(fp);
	}
	for (i = 0; !found && i < NELEM(exts); i++) {
		(void)snprintf(path, sizeof(path),
		    "/lib/modules/%s/kernel/net/sched/sch_netem.ko%s", u.release, exts[i]);
		found = access(path, R_OK) == 0;
	}
	if (!found && access("/lib/modules", F_OK) != 0)
		(void)snprintf(why, len, "sch_netem is not loaded, and this agent cannot "
		    "see /lib/modules (a service's ProtectKernelModules?) to load it: "
		    "load it at boot (modprobe sch_netem)");
	else if (!found)
		(void)snprintf(why, len, "sch_netem is not loaded and kernel %s has no "
		    "sch_netem module", u.release);
	return found;
}

/* The interface of the default route in pid's namespace, from /proc. */
int
net_default_ifname(pid_t pid, char *out, size_t len)
{
	char path[64], line[512];
	FILE *fp;
	int found = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/net/route", (int)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		while (found != 0 && fgets(line, sizeof(line), fp) != NULL) {
			char ifn[32], *tab = strchr(line, '\t');

			/* Iface Destination Gateway Flags ... Mask ... */
			if (tab == NULL || (size_t)(tab - line) >= sizeof(ifn))
				continue;
			memcpy(ifn, line, (size_t)(tab - line));
			ifn[tab - line] = '\0';
			if (strncmp(tab + 1, "00000000\t", 9) == 0 &&
			    strstr(tab, "\t00000000\t") != NULL)
				found = str_copy(out, len, ifn);
		}
		fclose(fp);
	}
	if (found == 0)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/%d/net/ipv6_route", (int)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		while (found != 0 && fgets(line, sizeof(line), fp) != NULL) {
			char *last = strrchr(line, ' ');

			/* dst dstlen src srclen nexthop metric ref use flags iface */
			if (strncmp(line, "00000000000000000000000000000000 00 ", 36) != 0 ||
			    last == NULL)
				continue;
			last[strcspn(last, "\n")] = '\0';
			if (strcmp(last + 1, "lo") != 0)
				found = str_copy(out, len, last + 1);
		}
		fclose(fp);
	}
	return found;
}

bool
net_ifname_exists(pid_t pid, const char *ifname)
{
	char path[64], line[512];
	FILE *fp;
	bool found = false;
	size_t n = strlen(ifname);

	(void)snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		const char *p = line + strspn(line, " ");

		found = strncmp(p, ifname, n) == 0 && p[n] == ':';
	}
	fclose(fp);
	return found;
}

int
net_ns_inode(pid_t pid, uint64_t *ino)
{
	char path[64];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) != 0)
		return -1;
	*ino = (uint64_t)st.st_ino;
	return 0;
}
