/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.h: the one error vocabulary shared by the agent and chaosctl.
 * Functions return 0 or a negative CE_* code; a struct errbuf carries the
 * human sentence (which parameter, why, what is allowed) next to it. Each
 * code has one stable machine name (the API's error.code) and one HTTP
 * status, so a fault's failure reads the same in logs, API and CLI.
 */
#ifndef CHAOS_ERR_H
#define CHAOS_ERR_H

#include <stddef.h>

enum chaos_err {
	CE_OK = 0,
	CE_INTERNAL = -1,	/* a bug or an impossible state: 500 */
	CE_NOMEM = -2,		/* allocation failed: 500 */
	CE_INVALID = -3,	/* the request is malformed or out of bounds: 400 */
	CE_UNAUTHORIZED = -4,	/* authentication failed: 401 */
	CE_NOT_FOUND = -5,	/* no such fault, path or target: 404 */
	CE_METHOD = -6,		/* method not allowed on this path: 405 */
	CE_CONFLICT = -7,	/* a conflicting fault is active: 409 */
	CE_TOO_LARGE = -8,	/* body over the configured cap: 413 */
	CE_UNAVAILABLE = -9,	/* capability unavailable on this host: 422 */
	CE_TOO_MANY = -10,	/* concurrent fault limit reached: 429 */
	CE_SYSTEM = -11,	/* a system call failed: 500 */
	CE_BUSY = -12,		/* temporarily unable, retry: 503 */
};

#define ERRBUF_MAX 256

/* A bounded, always NUL-terminated error sentence. */
struct errbuf {
	char msg[ERRBUF_MAX];
};

/*
 * Format a message into eb (may be NULL) and return code, so callers can
 * write "return err_set(eb, CE_INVALID, "...", ...)". Truncates silently.
 */
int err_set(struct errbuf *eb, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The stable machine name of code ("invalid_argument"); never NULL. */
const char *err_name(int code);

/* The HTTP status for code (200 for CE_OK). */
int err_http_status(int code);

/* Map an HTTP status back to the closest code (for clients). */
int err_from_http_status(int status);

#endif
