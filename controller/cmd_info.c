/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_info.c: "chaosctl info": each agent's version, limits, capabilities. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "../common/err.h"

void
usage_info(FILE *out)
{
	fprintf(out,
"usage: chaosctl info\n"
"\n"
"Show each target agent's version, host, limits and which faults it can run\n"
"(with the reason when one is unavailable).\n");
}

int
cmd_info(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_req *reqs;
	size_t i;
	int r;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			usage_info(stdout);
			return EXIT_ALL_OK;
		}
		return ctl_usage_error("info: unexpected argument '%s'", argv[1]);
	}
	if ((reqs = calloc(ctl->nagents, sizeof(*reqs))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	for (i = 0; i < ctl->nagents; i++) {
		reqs[i].agent = ctl->agents[i];
		reqs[i].method = "GET";
		(void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/v1/info");
	}
	(void)ctl_send(ctl, reqs, ctl->nagents);
	if (ctl->output == OUT_JSON) {
		ctl_print_json(ctl, reqs, ctl->nagents, NULL);
	} else {
		for (i = 0; i < ctl->nagents; i++) {
			const cJSON *j = reqs[i].json, *c;
			const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
			char m[512];

			if (ctl_result_class(&reqs[i]) != EXIT_ALL_OK) {
				ctl_result_error(&reqs[i], m, sizeof(m));
				printf("%s\n  error: %s\n", reqs[i].agent, m);
				continue;
			}
			printf("%s\n  version   %s\n  hostname  %s\n  uptime    %.0fs\n"
			    "  limits    max_duration=%.0fs max_faults=%.0f",
			    reqs[i].agent,
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "version")),
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hostname")),
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "uptime_s")),
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lim, "max_duration")),
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(lim, "max_faults")));
			{
				const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "docker");

				if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "available")))
					printf("\n  docker    engine %s, API %s",
					    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d,
					    "server_version")), cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(d, "api_version")));
				else if (d != NULL)
					printf("\n  docker    unavailable: %s", cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(d, "reason")));
				printf("\n  faults   ");
			}
			/* Available faults on one line; the others grouped by reason. */
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "capabilities"))
				if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "available")))
					printf(" %s", cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(c, "type")));
			printf("\n");
			cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "capabilities")) {
				const char *why = cJSON_GetStringValue(
				    cJSON_GetObjectItemCaseSensitive(c, "reason")), *prev_why = NULL;
				const cJSON *d;
				bool first = true, seen = false;

				if (why == NULL)
					continue;
				/* Print each reason once, at its first fault. */
				cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j,
				    "capabilities")) {
					if (d == c)
						break;
					prev_why = cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(d, "reason"));
					if (prev_why != NULL && strcmp(prev_why, why) == 0)
						seen = true;
				}
				if (seen)
					continue;
				printf("  unavailable");
				cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j,
				    "capabilities")) {
					const char *w = cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(d, "reason"));

					if (w != NULL && strcmp(w, why) == 0) {
						printf("%s%s", first ? " " : ", ", cJSON_GetStringValue(
						    cJSON_GetObjectItemCaseSensitive(d, "type")));
						first = false;
					}
				}
				printf(":\n    %s\n", why);
			}
		}
	}
	r = ctl_exit_code(reqs, ctl->nagents);
	ctl_reqs_release(reqs, ctl->nagents);
	free(reqs);
	return r;
}
