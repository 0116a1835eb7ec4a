/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fanout.h: the shape most commands share: one request per agent (or per
 * agent and fault), all sent at once by the client, then every answer
 * shown, as a row for people or in one JSON document for programs, and
 * the exit code of the worst. Functions that can fail report the error
 * themselves (ctl_error) and return the exit code.
 */
#ifndef CHAOS_CTL_FANOUT_H
#define CHAOS_CTL_FANOUT_H

#include <stddef.h>
#include <stdio.h>

struct ctl;
struct ctl_req;

/* A growing set of requests; start it with FANOUT_INIT. */
struct fanout {
	struct ctl_req *reqs;	/* owned, with their results */
	size_t n, cap;
};

#define FANOUT_INIT { NULL, 0, 0 }

/*
 * Add a request: method on agent (borrowed) at the path fmt makes, with
 * body (borrowed, may be NULL). Returns 0, or an exit code (reported) when
 * memory ran out or the path is too long.
 */
int fanout_add(struct fanout *fo, const char *agent, const char *method, const char *body,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Add the same request, without a body, for every target agent; query
 * (canonical, may be NULL) is sent with each. Returns 0 or an exit code
 * (reported).
 */
int fanout_add_each(struct fanout *fo, const struct ctl *ctl, const char *method,
    const char *path, const char *query);

/*
 * Send every request at once (ctl_send); each then holds its result.
 * Returns 0, or an exit code (reported) when the client could not run.
 */
int fanout_send(struct ctl *ctl, struct fanout *fo);

/* fanout_add_each then fanout_send: 0, or an exit code (reported). */
int fanout_send_each(struct ctl *ctl, struct fanout *fo, const char *method,
    const char *path, const char *query);

/* How a command shows one answered request in text. */
typedef void fanout_row_fn(FILE *out, const struct ctl_req *r, void *arg);

/*
 * Show one result in text: row(out, r, arg) when the agent said yes, else
 * "AGENT  error: MESSAGE". row may be NULL (errors only).
 */
void fanout_print_one(FILE *out, const struct ctl_req *r, fanout_row_fn *row, void *arg);

/*
 * Show every result on stdout: the JSON document of ctl_print_json with
 * --output json, else fanout_print_one for each in order.
 */
void fanout_print(const struct ctl *ctl, const struct fanout *fo, fanout_row_fn *row,
    void *arg);

/* The exit code of the results: the worst of them (ctl_exit_code). */
int fanout_exit_code(const struct fanout *fo);

/* Free the requests and their results; fo is empty again. */
void fanout_release(struct fanout *fo);

#endif
