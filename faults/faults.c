/* SPDX-License-Identifier: Apache-2.0 */
/* faults.c: the table of fault backends, one per spec entry. */
#include <string.h>

#include "fault.h"
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

const struct fault_ops *
fault_ops_find(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
