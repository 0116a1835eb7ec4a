/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h: counters kept by the parent (which outlives workers) and
 * rendered as Prometheus text for GET /metrics.
 */
#ifndef CHAOS_AGENT_METRICS_H
#define CHAOS_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct registry;

/* Count one answered request by HTTP status. */
void metrics_request(int status);

/* Count one authentication failure by reason name. */
void metrics_auth_failure(const char *reason);

/* Count a fault start (by type). */
void metrics_fault_started(const char *type);

/* Count a fault end by type and final state name. */
void metrics_fault_ended(const char *type, const char *state);

/* Observe how late a deadline revert ran, in microseconds. */
void metrics_revert_lateness(int64_t us);

/* Count a worker restart. */
void metrics_worker_restart(void);

/* Connections the worker cut (evicted when full, or past request_timeout). */
void metrics_connections_cut(uint64_t evicted, uint64_t timed_out);

/* Render everything; caller frees. NULL on allocation failure. */
char *metrics_render(struct registry *reg);

#endif
