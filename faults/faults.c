/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.c: the tables of fault backends, one per spec entry, for each of
 * the agent's modes: on a host (tc, Docker, /proc) and in an ECS task as a
 * sidecar (the ECS fault injection endpoints, the task's own processes).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "fault.h"
#include "ecs/ecs.h"
#include "../common/util.h"

extern const struct fault_ops fault_cpu_ops;
extern const struct fault_ops fault_kill_container_ops;
extern const struct fault_ops fault_stop_container_ops;
extern const struct fault_ops fault_restart_container_ops;
extern const struct fault_ops fault_pause_container_ops;
extern const struct fault_ops fault_kill_process_ops;
extern const struct fault_ops fault_latency_ops;
extern const struct fault_ops fault_loss_ops;
extern const struct fault_ops fault_corrupt_ops;
extern const struct fault_ops fault_duplicate_ops;
extern const struct fault_ops fault_reorder_ops;
extern const struct fault_ops fault_rate_ops;
extern const struct fault_ops fault_blackhole_ops;
extern const struct fault_ops fault_ecs_latency_ops;
extern const struct fault_ops fault_ecs_loss_ops;
extern const struct fault_ops fault_ecs_blackhole_ops;

struct fault_env fault_env;

static const struct fault_ops *const backends[] = {
	&fault_cpu_ops,
	&fault_kill_container_ops,
	&fault_stop_container_ops,
	&fault_restart_container_ops,
	&fault_pause_container_ops,
	&fault_kill_process_ops,
	&fault_latency_ops,
	&fault_loss_ops,
	&fault_corrupt_ops,
	&fault_duplicate_ops,
	&fault_reorder_ops,
	&fault_rate_ops,
	&fault_blackhole_ops,
};

#define NO_DOCKER "task mode: a sidecar has no Docker socket; container faults need " \
	"a host agent on the container instance (EC2 launch type)"
#define NO_NETEM "task mode: the ECS fault injection endpoints offer latency, " \
	"packet loss and port blackhole only; without CAP_NET_ADMIN (never granted on " \
	"Fargate) the agent cannot run tc itself"

/* Task mode: what a sidecar can do, and why not the rest. */
static const struct {
	const char *name;
	const struct fault_ops *ops;
	const char *why_not;
} task_backends[] = {
	{ "burn-cpu", &fault_cpu_ops, NULL },
	{ "kill-process", &fault_kill_process_ops, NULL },
	{ "latency", &fault_ecs_latency_ops, NULL },
	{ "loss", &fault_ecs_loss_ops, NULL },
	{ "blackhole", &fault_ecs_blackhole_ops, NULL },
	{ "kill-container", NULL, NO_DOCKER },
	{ "stop-container", NULL, NO_DOCKER },
	{ "restart-container", NULL, NO_DOCKER },
	{ "pause-container", NULL, NO_DOCKER },
	{ "corrupt", NULL, NO_NETEM },
	{ "duplicate", NULL, NO_NETEM },
	{ "reorder", NULL, NO_NETEM },
	{ "rate", NULL, NO_NETEM },
};

const struct fault_ops *
fault_ops_find(const char *name)
{
	size_t i;

	if (fault_env.task) {
		for (i = 0; i < NELEM(task_backends); i++)
			if (strcmp(task_backends[i].name, name) == 0)
				return task_backends[i].ops;
		return NULL;
	}
	for (i = 0; i < NELEM(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *
fault_ops_why_not(const char *name)
{
	size_t i;

	if (fault_ops_find(name) != NULL)
		return NULL;
	if (fault_env.task)
		for (i = 0; i < NELEM(task_backends); i++)
			if (strcmp(task_backends[i].name, name) == 0)
				return task_backends[i].why_not;
	return "no backend in this build";
}

const struct fault_ops *
fault_ops_for_record(const char *name, const cJSON *record)
{
	static const struct fault_ops *const ecs[] = {
		&fault_ecs_latency_ops, &fault_ecs_loss_ops, &fault_ecs_blackhole_ops,
	};
	size_t i;

	if (cJSON_GetObjectItemCaseSensitive(record, ECS_RECORD_KEY) != NULL) {
		for (i = 0; i < NELEM(ecs); i++)
			if (strcmp(ecs[i]->name, name) == 0)
				return ecs[i];
		return NULL;
	}
	/* Any other record was written by a host backend. */
	for (i = 0; i < NELEM(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
