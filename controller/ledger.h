/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger.h: the fault ledger of a run. 'chaosctl run --stop-alarm' names a
 * file in its run directory through LEDGER_ENV; every 'chaosctl inject' the
 * experiment starts notes there which agent started which fault; when a
 * stop alarm fires, the run reverts every fault on the agents noted.
 */
#ifndef CHAOS_CTL_LEDGER_H
#define CHAOS_CTL_LEDGER_H

struct ctl;

/* The environment variable naming the ledger file. */
#define LEDGER_ENV "CHAOS_FAULT_LEDGER"

/*
 * Append "agent fault_id" to the ledger named by LEDGER_ENV; nothing when
 * it names none. Best effort: a fault missing from the ledger still ends
 * at its deadline.
 */
void ledger_note(const char *agent, const char *fault_id);

/*
 * Revert every fault on every agent the ledger at path names (DELETE
 * /v1/faults), reporting each agent's outcome on stderr. Returns 0 (also
 * when there is no ledger: nothing was injected), or -1 when no request
 * could be sent.
 */
int ledger_revert(struct ctl *ctl, const char *path);

#endif
