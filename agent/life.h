/* SPDX-License-Identifier: Apache-2.0 */
/*
 * life.h: the life cycle of faults in the parent. Starting a fault is a
 * chain of steps, each of which may wait for a job:
 *
 *   resolve (container targets only, a job) -> prepare (in the parent) ->
 *   record in the state file -> commit (a job for blocking backends) ->
 *   active (revertible) or completed (one-shot)
 *
 * and ending one is revert (a job for blocking backends) -> recorded ->
 * answered. A revert that fails keeps the fault, as revert_failed, and is
 * retried with backoff. Requests that wait for a fault to end (DELETE, the
 * kill switch) are answered when it has. The event loop drives time
 * (life_expire, life_next_due) and children (life_child_exited); the API
 * handlers start and end faults.
 */
#ifndef CHAOS_AGENT_LIFE_H
#define CHAOS_AGENT_LIFE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../faults/fault.h"

struct call;
struct cJSON;
struct config;
struct pending;
struct registry;
struct waiter;

/*
 * The parent's bookkeeping of one fault, which no backend needs: it hangs
 * off struct fault as an opaque pointer (the registry allocates and frees
 * it; it owns no memory once the fault has ended).
 */
struct fault_life {
	bool busy;			/* a job works on the fault */
	bool end_wanted;		/* end it as soon as that job is done */
	enum fault_state end_state;	/* how it ends once reverted */
	char end_why[32];
	struct waiter *waiters;		/* requests answered when it ends */
	int revert_attempts;		/* failed reverts so far */
	int64_t retry_mono;		/* CLOCK_MONOTONIC ms of the next try */
	char key_id[40];		/* who started it (audit) */
	struct cJSON *skipped;		/* protected containers the target spared */
};

/*
 * Set up: the configuration, the registry, and the function to call when
 * the next due time may have changed (the loop re-arms its timer).
 */
void life_init(const struct config *cfg, struct registry *reg, void (*rearm)(void));

/* Release what life_init and the recovery kept. */
void life_release(void);

/* Rewrite the state file from the registry (a warning when it fails). */
void life_save(void);

/*
 * Start f, created by the API from a validated request, and answer pd
 * (taken) at the end of the chain or where it fails. A dry run goes
 * through resolution and prepare, then answers with what would be hit.
 */
void life_start(struct fault *f, struct pending *pd);

/* DELETE of one fault: revert it (again, if its revert failed) and answer pd (copied). */
void life_revert(struct fault *f, const struct call *c, const struct pending *pd);

/* DELETE /v1/faults: revert every fault and answer c once all are done. */
void life_revert_all(const struct call *c);

/* Shutdown: start reverting every fault; their jobs finish meanwhile. */
void life_end_all(const char *reason);

/* A child exited: true when it belonged to a fault (a burner, say). */
bool life_child_exited(pid_t pid, int status);

/* End faults whose deadline passed and retry failed reverts that are due. */
void life_expire(int64_t now_mono);

/* The earliest deadline or retry (CLOCK_MONOTONIC ms), or -1. */
int64_t life_next_due(void);

/*
 * Undo the faults a previous run left (the state file's entries), before
 * the agent serves; see life.c.
 */
void life_recover(const struct cJSON *leftovers);

/* The bound of a job that makes a few Docker calls, in ms. */
int64_t life_docker_job_ms(void);

#endif
