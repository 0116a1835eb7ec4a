/* SPDX-License-Identifier: Apache-2.0 */
/* output.c: text tables for people. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

	return s != NULL ? s : "-";
}

void
ctl_print_fault_header(FILE *out)
{
	fprintf(out, "%-28s %-20s %-10s %-9s %-24s %s\n", "AGENT", "FAULT", "TYPE",
	    "STATE", "EXPIRES|ENDED", "PARAMS");
}

void
ctl_print_fault_row(FILE *out, const char *agent, const cJSON *fault)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(fault, "params"), *p;
	const char *state = str(fault, "state");
	char ps[256] = "";
	size_t used = 0;

	cJSON_ArrayForEach(p, params) {
		char *v = cJSON_PrintUnformatted(p);
		int w;

		if (v == NULL)
			continue;
		w = snprintf(ps + used, sizeof(ps) - used, "%s%s=%s", used ? " " : "",
		    p->string, v);
		cJSON_free(v);
		if (w < 0 || (size_t)w >= sizeof(ps) - used)
			break;
		used += (size_t)w;
	}
	fprintf(out, "%-28s %-20s %-10s %-9s %-24s %s\n", agent, str(fault, "id"),
	    str(fault, "type"), state, strcmp(state, "active") == 0 ||
	    strcmp(state, "pending") == 0 ? str(fault, "expires_at") : str(fault, "ended_at"),
	    ps);
	if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fault, "error")) != NULL)
		fprintf(out, "%-28s   error: %s\n", "", str(fault, "error"));
}
