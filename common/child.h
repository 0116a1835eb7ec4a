/* SPDX-License-Identifier: Apache-2.0 */
/*
 * child.h: the one way the agent runs a function in a forked child: the
 * agent's background jobs and the helper that enters a task's network
 * namespace both use it. The child dies with its parent (and does nothing
 * if the parent is already gone), keeps no descriptor but stdio and its
 * result pipe, carries a name of its own in ps and logs, runs the
 * function and writes one bounded JSON report, {"rc", "error"?, "out"?},
 * to the pipe before it exits.
 */
#ifndef CHAOS_CHILD_H
#define CHAOS_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct cJSON;
struct errbuf;

/* Largest report a child may write. */
#define CHILD_REPORT_MAX (1024 * 1024)

/*
 * The child's work: set *out (may stay NULL) and return 0, or return a
 * CE_* code with eb set.
 */
typedef int (*child_fn)(void *arg, struct cJSON **out, struct errbuf *eb);

/*
 * Fork a child named name (at most 15 characters: ps, /proc/PID/comm and
 * the log tag) that runs fn(arg). *pid gets its pid and *fd the read end
 * of its report pipe (close-on-exec; the caller closes it). Returns 0 or
 * CE_SYSTEM with eb set.
 */
int child_spawn(const char *name, child_fn fn, void *arg, pid_t *pid, int *fd,
    struct errbuf *eb);

/*
 * Read a child's report to its end, reap the child, and return what it
 * reported: its rc with eb set from its error, and *out (caller frees; may
 * be NULL). A child that dies without a report is CE_SYSTEM. Blocks.
 */
int child_wait(pid_t pid, int fd, struct cJSON **out, struct errbuf *eb);

/*
 * Decode a report of len bytes (for callers that read pipes themselves):
 * returns its rc, sets eb from its error and *out (may be NULL) to a copy
 * of its "out" (caller frees). A malformed report is CE_SYSTEM.
 */
int child_report(const char *buf, size_t len, struct cJSON **out, struct errbuf *eb);

#endif
