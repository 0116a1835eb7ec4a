/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.h: the state file, <state_dir>/state.json, holding the revert
 * record of every fault that is pending or active. It is rewritten
 * atomically (temporary file, fsync, rename, fsync of the directory)
 * before a fault takes effect and after one ends, so that whatever the
 * file lists is exactly what may still need undoing after a crash.
 */
#ifndef CHAOS_AGENT_STATE_H
#define CHAOS_AGENT_STATE_H

struct errbuf;
struct registry;

/* Write the pending and active faults of reg. Returns 0 or CE_SYSTEM. */
int state_save(const char *dir, struct registry *reg, struct errbuf *eb);

/*
 * Revert everything the state file lists, then empty it. Used at startup
 * and by --revert-all. *nreverted gets the number of faults handled.
 * Returns 0, or a negative code if the file is unreadable (it is then
 * kept, renamed with a .corrupt suffix, so nothing is silently lost).
 */
int state_recover(const char *dir, int *nreverted, struct errbuf *eb);

/*
 * Take the state directory's lock so that only one agent (or one
 * --revert-all) uses it. Returns the lock descriptor (kept open for the
 * life of the process) or a negative code with eb set.
 */
int state_lock(const char *dir, struct errbuf *eb);

#endif
