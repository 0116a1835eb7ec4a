/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_ops.c: fake fault backends for unit tests (see fake_ops.h). The real
 * faults/faults.c table links against it in place of faults/cpu/cpu.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake_ops.h"
#include "../../common/err.h"
#include "../../faults/fault.h"

struct fake_calls fake_calls;

void
fake_ops_reset(void)
{
	memset(&fake_calls, 0, sizeof(fake_calls));
}

static int
fake_prepare(struct fault *f, struct errbuf *eb)
{
	fake_calls.prepare++;
	if (fake_calls.prepare_rc != 0)
		return err_set(eb, fake_calls.prepare_rc, "fake prepare failed");
	if ((f->priv = malloc(16)) == NULL)
		return CE_NOMEM;
	if ((f->record = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(f->record, "fake", f->id) == NULL)
		return CE_NOMEM;
	return 0;
}

static int
fake_commit(struct fault *f, struct errbuf *eb)
{
	(void)f;
	(void)eb;
	fake_calls.commit++;
	return 0;
}

static int
fake_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	(void)f;
	(void)record;
	fake_calls.revert++;
	if (fake_calls.revert_rc != 0)
		return err_set(eb, fake_calls.revert_rc, "fake revert failed");
	return 0;
}

static void
fake_describe(const struct fault *f, cJSON *detail)
{
	fake_calls.describe++;
	(void)cJSON_AddStringToObject(detail, "fake_of", f->id);
}

static void
fake_release(struct fault *f)
{
	fake_calls.release++;
	if (f->priv != NULL) {
		fake_calls.release_priv++;
		free(f->priv);
		f->priv = NULL;
	}
}

const struct fault_ops fault_cpu_ops = {
	.name = "burn-cpu",
	.available = NULL,
	.prepare = fake_prepare,
	.commit = fake_commit,
	.revert = fake_revert,
	.child_exited = NULL,
	.describe = fake_describe,
	.release = fake_release,
};

/* The other backends faults.c lists: present for the linker, same fakes. */
#define FAKE_OPS(var, fname) \
	const struct fault_ops var = { \
		.name = fname, \
		.prepare = fake_prepare, \
		.commit = fake_commit, \
		.revert = fake_revert, \
		.describe = fake_describe, \
		.release = fake_release, \
	}

FAKE_OPS(fault_kill_container_ops, "kill-container");
FAKE_OPS(fault_stop_container_ops, "stop-container");
FAKE_OPS(fault_restart_container_ops, "restart-container");
FAKE_OPS(fault_pause_container_ops, "pause-container");
FAKE_OPS(fault_kill_process_ops, "kill-process");
FAKE_OPS(fault_latency_ops, "latency");
FAKE_OPS(fault_loss_ops, "loss");
FAKE_OPS(fault_corrupt_ops, "corrupt");
FAKE_OPS(fault_duplicate_ops, "duplicate");
FAKE_OPS(fault_reorder_ops, "reorder");
FAKE_OPS(fault_rate_ops, "rate");
FAKE_OPS(fault_blackhole_ops, "blackhole");
FAKE_OPS(fault_ecs_latency_ops, "latency");
FAKE_OPS(fault_ecs_loss_ops, "loss");
FAKE_OPS(fault_ecs_blackhole_ops, "blackhole");
