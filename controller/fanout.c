/* SPDX-License-Identifier: Apache-2.0 */
/* fanout.c: see fanout.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fanout.h"
#include "../common/err.h"
#include "../common/util.h"

int
fanout_add(struct fanout *fo, const char *agent, const char *method, const char *body,
    const char *fmt, ...)
{
	struct ctl_req *r;
	va_list ap;
	int n;

	if (fo->n == fo->cap) {
		size_t cap = fo->cap > 0 ? fo->cap * 2 : 16;
		struct ctl_req *nr = reallocarray(fo->reqs, cap, sizeof(*nr));

		if (nr == NULL)
			return ctl_error(CE_NOMEM, "out of memory");
		fo->reqs = nr;
		fo->cap = cap;
	}
	r = &fo->reqs[fo->n];
	memset(r, 0, sizeof(*r));
	r->agent = agent;
	r->method = method;
	r->body = body;
	va_start(ap, fmt);
	n = vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->path))
		return ctl_usage_error("request path '%.40s...' longer than %zu bytes", r->path,
		    sizeof(r->path) - 1);
	fo->n++;
	return 0;
}

int
fanout_add_each(struct fanout *fo, const struct ctl *ctl, const char *method,
    const char *path, const char *query)
{
	size_t i;
	int r;

	if (query != NULL && strlen(query) >= sizeof(fo->reqs[0].query))
		return ctl_usage_error("query '%.40s...' longer than %zu bytes", query,
		    sizeof(fo->reqs[0].query) - 1);
	for (i = 0; i < ctl->nagents; i++) {
		if ((r = fanout_add(fo, ctl->agents[i], method, NULL, "%s", path)) != 0)
			return r;
		if (query != NULL)
			(void)str_copy(fo->reqs[fo->n - 1].query, sizeof(fo->reqs[0].query), query);
	}
	return 0;
}

int
fanout_send(struct ctl *ctl, struct fanout *fo)
{
	int r;

	if ((r = ctl_send(ctl, fo->reqs, fo->n)) != 0)
		return ctl_error(r, "cannot send the requests");
	return 0;
}

int
fanout_send_each(struct ctl *ctl, struct fanout *fo, const char *method, const char *path,
    const char *query)
{
	int r;

	if ((r = fanout_add_each(fo, ctl, method, path, query)) != 0)
		return r;
	return fanout_send(ctl, fo);
}

void
fanout_print_one(FILE *out, const struct ctl_req *r, fanout_row_fn *row, void *arg)
{
	char m[512];

	if (ctl_result_class(r) != EXIT_ALL_OK) {
		ctl_result_error(r, m, sizeof(m));
		fprintf(out, "%-28s error: %s\n", r->agent, m);
	} else if (row != NULL) {
		row(out, r, arg);
	}
}

void
fanout_print(const struct ctl *ctl, const struct fanout *fo, fanout_row_fn *row, void *arg)
{
	size_t i;

	if (ctl->output == OUT_JSON) {
		ctl_print_json(ctl, fo->reqs, fo->n, NULL);
		return;
	}
	for (i = 0; i < fo->n; i++)
		fanout_print_one(stdout, &fo->reqs[i], row, arg);
	fflush(stdout);
}

int
fanout_exit_code(const struct fanout *fo)
{
	return ctl_exit_code(fo->reqs, fo->n);
}

void
fanout_release(struct fanout *fo)
{
	if (fo->reqs != NULL)
		ctl_reqs_release(fo->reqs, fo->n);
	free(fo->reqs);
	memset(fo, 0, sizeof(*fo));
}
