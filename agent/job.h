/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.h: blocking work off the parent's event loop. A job is a forked child
 * of the privileged parent that runs one function (a Docker API call, a
 * container lookup), writes its result as one JSON document to a pipe and
 * exits. The parent polls the pipes with everything else, so a slow Docker
 * daemon delays only the request that waits for it, never a revert.
 * Every job has a deadline; at the deadline it is killed and completes with
 * CE_BUSY and "timed out".
 */
#ifndef CHAOS_AGENT_JOB_H
#define CHAOS_AGENT_JOB_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct errbuf;

#define JOB_MAX 64		/* jobs in flight at once */

/*
 * The child's half. Runs with the parent's privileges, in a copy of its
 * memory; may block. Sets *out (may stay NULL) and returns 0, or returns a
 * CE_* code with eb set.
 */
typedef int (*job_fn)(void *arg, struct cJSON **out, struct errbuf *eb);

/*
 * The parent's half, called once from the event loop when the job ended:
 * rc is the child's return code (CE_BUSY when it timed out, CE_SYSTEM when
 * it died without a result), err its message, out its document, which a
 * failed job may send too (borrowed: freed after the call returns; NULL
 * when none came).
 */
typedef void (*job_done)(void *ctx, int rc, const char *err, const struct cJSON *out);

/*
 * Start fn(arg) in a child with a deadline timeout_ms from now; done(ctx,
 * ...) follows later. Returns 0, or a CE_* code with eb set (done is then
 * never called).
 */
int job_start(const char *what, job_fn fn, void *arg, int64_t timeout_ms, job_done done,
    void *ctx, struct errbuf *eb);

/* Add the pipes of running jobs to pfd (room for JOB_MAX); returns how many. */
size_t job_pollfds(struct pollfd *pfd);

/* Handle the pollfds job_pollfds filled (after poll returned). */
void job_dispatch(const struct pollfd *pfd, size_t n);

/* Kill jobs past their deadline (they complete through job_dispatch). */
void job_expire(int64_t now_mono_ms);

/* The earliest job deadline (CLOCK_MONOTONIC ms), or -1 without jobs. */
int64_t job_next_deadline(void);

/* Number of jobs in flight. */
size_t job_count(void);

#endif
