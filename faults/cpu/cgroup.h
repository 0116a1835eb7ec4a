/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup.h: moving burners into a container's cgroup so its CPU use counts
 * against the container (and its limit throttles them). cg is the "cgroup"
 * object of a resolved target: {"unified": path} on cgroup v2, plus
 * {"cpu": path, "cpuacct": path} where the host still mounts v1 controllers.
 */
#ifndef CHAOS_CPU_CGROUP_H
#define CHAOS_CPU_CGROUP_H

#include <sched.h>
#include <sys/types.h>

struct cJSON;
struct errbuf;

/*
 * Fill cg with the cgroup paths of pid from /proc/PID/cgroup: "unified"
 * (the v2 hierarchy, "0::") and, where v1 controllers are mounted, "cpu",
 * "cpuacct" and "cpuset". Leaves cg as it is when pid is gone or cg is NULL.
 */
void cgroup_read(pid_t pid, struct cJSON *cg);

/* Move pid into the cgroup(s) cg names. Returns 0 or a CE_* code. */
int cgroup_join(const struct cJSON *cg, pid_t pid, struct errbuf *eb);

/*
 * The CPU limit that binds cg, in CPUs (0.5 = half a CPU): the tightest one
 * set on its cgroup or any parent (an ECS task's limit sits on the task's
 * cgroup, above its containers'), or 0 without any.
 */
double cgroup_cpu_limit(const struct cJSON *cg);

/*
 * The CPUs cg may run on (its effective cpuset), into set. Returns 0, or
 * -1 when the cgroup says nothing (no cpuset controller there).
 */
int cgroup_cpuset(const struct cJSON *cg, cpu_set_t *set);

#endif
