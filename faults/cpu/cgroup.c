/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup.c: see cgroup.h. Mount points come from /proc/self/mountinfo. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cgroup.h"
#include "../../common/err.h"
#include "../../common/util.h"

/*
 * The mount point of the v1 hierarchy holding controller, or of the v2
 * hierarchy when controller is NULL. Returns false when there is none.
 */
static bool
find_mount(const char *controller, char *out, size_t len)
{
	char line[1024];
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	if (fp == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype src superopts */
		char *fields[6], *sep = strstr(line, " - "), *p = line, *fstype, *super;
		int i;

		if (sep == NULL)
			continue;
		for (i = 0; i < 5; i++) {
			fields[i] = p;
			if ((p = strchr(p, ' ')) == NULL)
				break;
			*p++ = '\0';
		}
		if (i < 5)
			continue;
		fstype = sep + 3;
		if ((super = strchr(fstype, ' ')) == NULL)
			continue;
		*super++ = '\0';
		if ((super = strchr(super, ' ')) == NULL)	/* skip the source */
			continue;
		super++;
		super[strcspn(super, "\n")] = '\0';
		if (controller == NULL) {
			found = strcmp(fstype, "cgroup2") == 0;
		} else if (strcmp(fstype, "cgroup") == 0) {
			char *opt = super, *next;

			for (; opt != NULL && !found; opt = next) {
				if ((next = strchr(opt, ',')) != NULL)
					*next++ = '\0';
				found = strcmp(opt, controller) == 0;
			}
		}
		if (found && str_copy(out, len, fields[4]) != 0)
			found = false;
	}
	fclose(fp);
	return found;
}

void
cgroup_read(pid_t pid, cJSON *cg)
{
	char path[64], line[1024];
	FILE *fp;

	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (cg == NULL || (fp = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
		char *ctl, *next;

		if (c2 == NULL)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*c2 = '\0';
		/* "0::" is the unified hierarchy; "N:cpu,cpuacct:" a v1 one (and
		 * "N:cpuset:", whose CPUs burners in the container must keep to). */
		if (c2 == c1 + 1) {
			cJSON_AddStringToObject(cg, "unified", c2 + 1);
			continue;
		}
		for (ctl = c1 + 1; ctl != NULL; ctl = next) {
			if ((next = strchr(ctl, ',')) != NULL)
				*next++ = '\0';
			if ((strcmp(ctl, "cpu") == 0 || strcmp(ctl, "cpuacct") == 0 ||
			    strcmp(ctl, "cpuset") == 0) &&
			    cJSON_GetObjectItemCaseSensitive(cg, ctl) == NULL)
				cJSON_AddStringToObject(cg, ctl, c2 + 1);
		}
	}
	fclose(fp);
}

static bool
path_ok(const char *p)
{
	return p != NULL && p[0] == '/' && strstr(p, "..") == NULL && strlen(p) < 512;
}

static int
write_pid(const char *mount, const char *path, pid_t pid, struct errbuf *eb)
{
	char file[1100], num[24];
	int fd, n;
	ssize_t w;

	(void)snprintf(file, sizeof(file), "%s%s/cgroup.procs", mount, path);
	if ((fd = open(file, O_WRONLY | O_CLOEXEC)) < 0)
		return err_set(eb, CE_SYSTEM, "%s: %s", file, strerror(errno));
	n = snprintf(num, sizeof(num), "%d\n", (int)pid);
	w = write(fd, num, (size_t)n);
	close(fd);
	if (w != n)
		return err_set(eb, CE_SYSTEM, "moving burner %d into %s: %s", (int)pid, file,
		    w < 0 ? strerror(errno) : "short write");
	return 0;
}

int
cgroup_join(const cJSON *cg, pid_t pid, struct errbuf *eb)
{
	static const char *const v1[] = { "cpu", "cpuacct" };
	char mount[512];
	bool joined = false;
	size_t i;
	int r;

	for (i = 0; i < NELEM(v1); i++) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg, v1[i]));

		if (p == NULL || !find_mount(v1[i], mount, sizeof(mount)))
			continue;
		if (!path_ok(p))
			return err_set(eb, CE_INVALID, "cgroup path '%.64s' is not usable", p);
		if ((r = write_pid(mount, p, pid, eb)) != 0)
			return r;
		joined = true;
	}
	if (!joined) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg,
		    "unified"));

		if (p == NULL || !find_mount(NULL, mount, sizeof(mount)))
			return err_set(eb, CE_UNAVAILABLE, "the container's CPU cgroup is not "
			    "mounted on this host");
		if (!path_ok(p))
			return err_set(eb, CE_INVALID, "cgroup path '%.64s' is not usable", p);
		if ((r = write_pid(mount, p, pid, eb)) != 0)
			return r;
	}
	return 0;
}

/* Read a small file under mount+path into buf. */
static bool
read_file(const char *mount, const char *path, const char *name, char *buf, size_t len)
{
	char file[1100];
	ssize_t n;
	int fd;

	(void)snprintf(file, sizeof(file), "%s%s/%s", mount, path, name);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/*
 * The limit set on one cgroup directory, in CPUs, or 0 without one. v1:
 * cpu.cfs_quota_us is -1 without a limit; v2: cpu.max is "max 100000" or
 * "50000 100000".
 */
static double
limit_at(const char *mount, const char *path, bool v1)
{
	char q[64], per[64], *sp;
	int64_t quota, period;

	if (v1) {
		if (!read_file(mount, path, "cpu.cfs_quota_us", q, sizeof(q)) ||
		    !read_file(mount, path, "cpu.cfs_period_us", per, sizeof(per)) ||
		    parse_i64(q, -1, INT64_MAX, &quota) != 0 ||
		    parse_i64(per, 1, INT64_MAX, &period) != 0 || quota <= 0)
			return 0;
		return (double)quota / (double)period;
	}
	if (!read_file(mount, path, "cpu.max", q, sizeof(q)) || (sp = strchr(q, ' ')) == NULL)
		return 0;
	*sp = '\0';
	if (strcmp(q, "max") == 0 || parse_i64(q, 1, INT64_MAX, &quota) != 0 ||
	    parse_i64(sp + 1, 1, INT64_MAX, &period) != 0)
		return 0;
	return (double)quota / (double)period;
}

double
cgroup_cpu_limit(const cJSON *cg)
{
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg, "cpu"));
	char mount[512], dir[512], *slash;
	double best = 0;
	bool v1 = true;

	if (!path_ok(p) || !find_mount("cpu", mount, sizeof(mount))) {
		v1 = false;
		p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg, "unified"));
		if (!path_ok(p) || !find_mount(NULL, mount, sizeof(mount)))
			return 0;
	}
	/*
	 * The tightest limit on the way up: ECS puts a task's CPU limit on the
	 * task's cgroup (/ecs/TASK on v1, ecstasks-TASK.slice on v2), above
	 * the containers' own.
	 */
	if (str_copy(dir, sizeof(dir), p) != 0)
		return 0;
	for (;;) {
		double l = limit_at(mount, dir, v1);

		if (l > 0 && (best == 0 || l < best))
			best = l;
		if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	return best;
}

/* Parse a cpuset list ("0-3,8,10-11") into set. Returns 0 or -1. */
static int
parse_cpulist(char *s, cpu_set_t *set)
{
	char *tok, *next;

	CPU_ZERO(set);
	s[strcspn(s, "\n")] = '\0';
	for (tok = s; tok != NULL && *tok != '\0'; tok = next) {
		char *dash;
		int64_t a, b;

		if ((next = strchr(tok, ',')) != NULL)
			*next++ = '\0';
		if ((dash = strchr(tok, '-')) != NULL)
			*dash = '\0';
		if (parse_i64(tok, 0, CPU_SETSIZE - 1, &a) != 0 ||
		    parse_i64(dash != NULL ? dash + 1 : tok, a, CPU_SETSIZE - 1, &b) != 0)
			return -1;
		for (; a <= b; a++)
			CPU_SET((int)a, set);
	}
	return CPU_COUNT(set) > 0 ? 0 : -1;
}

int
cgroup_cpuset(const cJSON *cg, cpu_set_t *set)
{
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg, "cpuset"));
	char mount[512], list[1024];

	if (path_ok(p) && find_mount("cpuset", mount, sizeof(mount)) &&
	    (read_file(mount, p, "cpuset.effective_cpus", list, sizeof(list)) ||
	    read_file(mount, p, "cpuset.cpus", list, sizeof(list))))
		return parse_cpulist(list, set);
	p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg, "unified"));
	if (path_ok(p) && find_mount(NULL, mount, sizeof(mount)) &&
	    read_file(mount, p, "cpuset.cpus.effective", list, sizeof(list)))
		return parse_cpulist(list, set);
	return -1;
}
