/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.c: what every command of chaosctl uses besides the agent client:
 * the error report that returns an exit code of the contract, and the
 * small option parser of the commands' tables.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "../common/err.h"

/* The exit code for a CE_* code; the table is ctl_error's contract in ctl.h. */
static int
exit_status(int code)
{
	switch (code) {
	case CE_OK:
		return EXIT_ALL_OK;
	case CE_NOMEM:
	case CE_SYSTEM:
	case CE_INTERNAL:
		return EXIT_INTERNAL;
	case CE_UNAUTHORIZED:
	case CE_UNAVAILABLE:
	case CE_BUSY:
		return EXIT_TRANSPORT;
	default:
		return EXIT_USAGE;
	}
}

int
ctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("chaosctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return exit_status(code);
}

int
ctl_getopt(const struct ctl_opt *opts, int argc, char **argv, int *i, const char **arg)
{
	const char *a = argv[*i], *eq;
	size_t j, n;

	if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
		return -1;
	eq = strchr(a, '=');
	n = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
	for (j = 0; opts[j].name != NULL; j++) {
		if (strlen(opts[j].name) != n || strncmp(opts[j].name, a + 2, n) != 0)
			continue;
		if (!opts[j].has_arg) {
			if (eq != NULL) {
				ctl_usage_error("--%s takes no value", opts[j].name);
				return -2;
			}
			*arg = NULL;
			return opts[j].id;
		}
		if (eq != NULL) {
			*arg = eq + 1;
		} else if (*i + 1 < argc) {
			*arg = argv[++*i];
		} else {
			ctl_usage_error("--%s needs a value", opts[j].name);
			return -2;
		}
		return opts[j].id;
	}
	ctl_usage_error("unknown option '%s'", a);
	return -2;
}
