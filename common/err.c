/* SPDX-License-Identifier: Apache-2.0 */
/* err.c: names and HTTP statuses of the CE_* error codes. */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static const struct {
	int code;
	const char *name;
	int http;
} err_table[] = {
	{ CE_OK, "ok", 200 },
	{ CE_INTERNAL, "internal", 500 },
	{ CE_NOMEM, "out_of_memory", 500 },
	{ CE_INVALID, "invalid_argument", 400 },
	{ CE_UNAUTHORIZED, "unauthenticated", 401 },
	{ CE_NOT_FOUND, "not_found", 404 },
	{ CE_METHOD, "method_not_allowed", 405 },
	{ CE_CONFLICT, "conflict", 409 },
	{ CE_TOO_LARGE, "body_too_large", 413 },
	{ CE_UNAVAILABLE, "unavailable", 422 },
	{ CE_TOO_MANY, "too_many_faults", 429 },
	{ CE_SYSTEM, "system_error", 500 },
	{ CE_BUSY, "busy", 503 },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
err_set(struct errbuf *eb, int code, const char *fmt, ...)
{
	va_list ap;

	if (eb != NULL) {
		va_start(ap, fmt);
		(void)vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
err_name(int code)
{
	size_t i;

	for (i = 0; i < NELEM(err_table); i++)
		if (err_table[i].code == code)
			return err_table[i].name;
	return "internal";
}

int
err_http_status(int code)
{
	size_t i;

	for (i = 0; i < NELEM(err_table); i++)
		if (err_table[i].code == code)
			return err_table[i].http;
	return 500;
}

int
err_from_http_status(int status)
{
	size_t i;

	if (status >= 200 && status < 300)
		return CE_OK;
	for (i = 1; i < NELEM(err_table); i++)
		if (err_table[i].http == status)
			return err_table[i].code;
	return CE_INTERNAL;
}
