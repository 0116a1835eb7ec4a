/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_info.c: "chaosctl info": each agent's version, limits, capabilities. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "fanout.h"

void
usage_info(FILE *out)
{
	fprintf(out,
"usage: chaosctl info\n"
"\n"
"Show each target agent's version, host, limits and which faults it can run\n"
"(with the reason when one is unavailable).\n");
}

/* One agent's block: version, host, limits, Docker, and the faults it can run. */
static void
info_row(FILE *out, const struct ctl_req *r, void *arg)
{
	const cJSON *j = r->json, *c;
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "docker");

	(void)arg;
	fprintf(out, "%s\n  version   %s\n  hostname  %s\n  uptime    %.0fs\n"
	    "  limits    max_duration=%.0fs max_faults=%.0f",
	    r->agent,
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "version")),
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hostname")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "uptime_s")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lim, "max_duration")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lim, "max_faults")));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "available")))
		fprintf(out, "\n  docker    engine %s, API %s",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "server_version")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "api_version")));
	else if (d != NULL)
		fprintf(out, "\n  docker    unavailable: %s", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(d, "reason")));
	fprintf(out, "\n  faults   ");
	/* Available faults on one line; the others grouped by reason. */
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "capabilities"))
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "available")))
			fprintf(out, " %s", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(c, "type")));
	fprintf(out, "\n");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "capabilities")) {
		const char *why = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "reason")), *prev_why = NULL;
		const cJSON *e;
		bool first = true, seen = false;

		if (why == NULL)
			continue;
		/* Print each reason once, at its first fault. */
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "capabilities")) {
			if (e == c)
				break;
			prev_why = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(e, "reason"));
			if (prev_why != NULL && strcmp(prev_why, why) == 0)
				seen = true;
		}
		if (seen)
			continue;
		fprintf(out, "  unavailable");
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "capabilities")) {
			const char *w = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(e, "reason"));

			if (w != NULL && strcmp(w, why) == 0) {
				fprintf(out, "%s%s", first ? " " : ", ", cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(e, "type")));
				first = false;
			}
		}
		fprintf(out, ":\n    %s\n", why);
	}
}

int
cmd_info(struct ctl *ctl, int argc, char **argv)
{
	struct fanout fo = FANOUT_INIT;
	int r;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			usage_info(stdout);
			return EXIT_ALL_OK;
		}
		return ctl_usage_error("info: unexpected argument '%s'", argv[1]);
	}
	if ((r = fanout_send_each(ctl, &fo, "GET", "/v1/info", NULL)) == 0) {
		fanout_print(ctl, &fo, info_row, NULL);
		r = fanout_exit_code(&fo);
	}
	fanout_release(&fo);
	return r;
}
