/* SPDX-License-Identifier: Apache-2.0 */
/* faults.c: the table of fault backends, one per spec entry. */
#include <string.h>

#include "fault.h"
#include "../common/util.h"

extern const struct fault_ops fault_cpu_ops;

struct fault_env fault_env;

static const struct fault_ops *const backends[] = {
	&fault_cpu_ops,
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
