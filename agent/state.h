/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.h: the state file, <state_dir>/state.json, holding every fault
 * that may still have an effect (pending, active, or whose revert failed)
 * with its revert record and its request. It is rewritten atomically
 * (temporary file, fsync, rename, fsync of the directory) before a fault
 * takes effect and after one ends, so that whatever the file lists is
 * exactly what may still need undoing after a crash; a record leaves it
 * only once its revert succeeded.
 *
 *   {"version":1, "faults":[{"id", "type", "state", "created_ms",
 *     "expires_ms", "request", "remote", "key_id", "targets"?, "record",
 *     "end_state"?, "end_reason"?, "error"?, "revert_attempts"?}, ...]}
 *
 * An entry of a type this build does not know is kept as it is.
 */
#ifndef CHAOS_AGENT_STATE_H
#define CHAOS_AGENT_STATE_H

#include <stddef.h>

struct cJSON;
struct errbuf;
struct registry;

/*
 * Write the faults of reg that may still have an effect and have a
 * record, followed by the entries of keep (an array, may be NULL: entries
 * this build could not adopt). Returns 0 or CE_SYSTEM.
 */
int state_save(const char *dir, struct registry *reg, const struct cJSON *keep,
    struct errbuf *eb);

/*
 * Read the state file's entries into *faults (a new array, caller frees;
 * empty when there is no file). Returns 0, or CE_INVALID when the file is
 * unreadable: it is then kept, renamed with a .corrupt suffix, so nothing
 * is silently lost, and eb says so.
 */
int state_load(const char *dir, struct cJSON **faults, struct errbuf *eb);

/*
 * Parse state file text: one JSON object whose "faults" is an array.
 * *faults gets that array (caller frees). Returns 0 or CE_INVALID.
 */
int state_parse(const char *text, size_t len, struct cJSON **faults);

/*
 * --revert-all: revert every entry of the state file; write back the
 * entries whose revert failed (and those of unknown type), with the
 * error. *nreverted and *nleft get the counts. Returns 0 (also when some
 * are left: see *nleft) or a negative code when the file could not be
 * read or written.
 */
int state_revert_all(const char *dir, int *nreverted, int *nleft, struct errbuf *eb);

/*
 * Take the state directory's lock so that only one agent (or one
 * --revert-all) uses it. Returns the lock descriptor (kept open for the
 * life of the process) or a negative code with eb set.
 */
int state_lock(const char *dir, struct errbuf *eb);

#endif
