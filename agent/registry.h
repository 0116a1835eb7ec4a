/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.h: every fault the agent knows, active or recently ended. The
 * parent owns it; nothing else touches it. Bounded: at most max_active
 * faults in effect and history ended ones kept for listing (the oldest
 * ended fault is dropped first).
 */
#ifndef CHAOS_AGENT_REGISTRY_H
#define CHAOS_AGENT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "../faults/fault.h"

struct cJSON;
struct registry;

/* Create a registry; NULL on allocation failure. */
struct registry *registry_new(size_t max_active, size_t history);

/* Free the registry and every fault in it (without reverting); NULL-safe. */
void registry_free(struct registry *reg);

/*
 * Allocate a new PENDING fault with a fresh random id, taking ownership of
 * req (its target and labels). Returns NULL on allocation failure or when
 * max_active faults are already pending or active (*full is then true).
 */
struct fault *registry_create(struct registry *reg, struct fault_req *req, bool *full);

/*
 * Add a fault left by an earlier run under its own id, taking ownership of
 * req, as PENDING; the caller sets its state. Not bounded by max_active:
 * a leftover is never refused. NULL when the id is taken or on OOM.
 */
struct fault *registry_adopt(struct registry *reg, const char *id, struct fault_req *req);

/* Remove a fault that never took effect and free it. */
void registry_discard(struct registry *reg, struct fault *f);

/*
 * Mark f ended with state and reason, and release its backend data. The
 * fault stays listed until history pushes it out; f itself stays valid
 * at least until the next registry_create or registry_finish.
 */
void registry_finish(struct registry *reg, struct fault *f, enum fault_state state,
    const char *reason);

/* Lookups; NULL when absent. */
struct fault *registry_find(struct registry *reg, const char *id);
struct fault *registry_find_client(struct registry *reg, const char *client_id);

/* The faults, oldest first; *n gets the count. Valid until the next change. */
struct fault **registry_all(struct registry *reg, size_t *n);

/* Number of faults that may have an effect: PENDING, ACTIVE, REVERT_FAILED. */
size_t registry_active(const struct registry *reg);

/* The earliest deadline (CLOCK_MONOTONIC ms) of an active fault, or -1. */
int64_t registry_next_deadline(const struct registry *reg);

/* The API representation of a fault. Caller frees; NULL on OOM. */
struct cJSON *registry_fault_json(const struct fault *f);

#endif
