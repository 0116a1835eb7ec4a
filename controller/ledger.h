/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger.h: the fault ledger of a run. 'chaosctl run' names a file in its
 * run directory through LEDGER_ENV; every 'chaosctl inject' the experiment
 * starts notes there which agent started which fault, of which type, when,
 * and its deadline. When a stop alarm fires, the run reverts every fault
 * on the agents noted; after the run, the ledger says which faults the
 * report shows (report.c) and whose records the run collects.
 */
#ifndef CHAOS_CTL_LEDGER_H
#define CHAOS_CTL_LEDGER_H

struct ctl;

/* The environment variable naming the ledger file. */
#define LEDGER_ENV "CHAOS_FAULT_LEDGER"

struct cJSON;

/*
 * Append "agent id type created_at expires_at" of fault (an agent's fault
 * object) to the ledger named by LEDGER_ENV; nothing when it names none.
 * A field the fault lacks, or that holds a space, is written "-". Best
 * effort: a fault missing from the ledger still ends at its deadline.
 */
void ledger_note(const char *agent, const struct cJSON *fault);

/*
 * Revert every fault on every agent the ledger at path names (DELETE
 * /v1/faults), reporting each agent's outcome on stderr. Returns 0 (also
 * when there is no ledger: nothing was injected), or -1 when no request
 * could be sent.
 */
int ledger_revert(struct ctl *ctl, const char *path);

#endif
