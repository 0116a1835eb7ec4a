/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject.h: what "chaosctl inject" (cmd_inject.c) hands to its --wait
 * (inject_wait.c): the faults it started, followed to their end.
 */
#ifndef CHAOS_CTL_INJECT_H
#define CHAOS_CTL_INJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/limits.h"

struct alarm_watch;
struct cJSON;
struct ctl;
struct ctl_opt;
struct spec_fault;

/* Room for inject_options' table: parameters, selectors, the rest, the end. */
#define INJECT_OPTS_MAX 40

/*
 * The options of "chaosctl inject f" into opts (INJECT_OPTS_MAX entries,
 * ended by a NULL name): f's parameters, in the spec table's order (each
 * one's id is its index), then the container selectors when f targets
 * containers, then the options of every fault. Names are borrowed: the
 * parameters' from a static ring that holds six faults' worth, the rest
 * from static tables.
 */
void inject_options(const struct spec_fault *f, struct ctl_opt *opts);

/* One started fault. */
struct tracked {
	const char *agent;	/* borrowed */
	char id[FAULT_ID_MAX];
	char state[16];		/* as the agent said last */
	double remaining_ms;
	bool done;		/* in an end state: neither active nor pending */
};

/* Take state and time left from an agent's fault object (may be NULL). */
void inject_track(struct tracked *t, const struct cJSON *fault);

/*
 * Follow the faults until every one has ended, polling their agents;
 * SIGINT and SIGTERM, or an alarm of aw firing, revert those still on.
 * Returns the exit code: 0 when all expired or were reverted, 1 if one
 * failed or an alarm fired, 130 when interrupted (the faults reverted),
 * or an exit code (reported) when the agents could not be asked at all.
 */
int inject_wait(struct ctl *ctl, struct tracked *ts, size_t n, struct alarm_watch *aw);

#endif
