/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_faults.c: "chaosctl faults": list faults on every target agent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "../common/err.h"
#include "../common/spec.h"

void
usage_faults(FILE *out)
{
	fprintf(out,
"usage: chaosctl faults [--state STATE] [--label K=V]...\n"
"\n"
"List the faults every target agent knows: active ones and recently ended ones.\n"
"A fault in state revert_failed may still act: its revert failed and the agent\n"
"retries it.\n"
"\n"
"  --state STATE   only faults in STATE: %s\n"
"  --label K=V     only faults with this label (inject --fault-label; repeatable,\n"
"                  all must match)\n", fault_state_choices());
}

int
cmd_faults(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "state", true, 1 }, { "help", false, 2 }, { "label", true, 3 },
		{ NULL, false, 0 },
	};
	struct ctl_labels labels = { .n = 0 };
	const char *state = NULL, *arg;
	struct ctl_req *reqs;
	size_t i;
	int id, r;

	for (int a = 1; a < argc; a++) {
		if ((id = ctl_getopt(opts, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		if (id == -1)
			return ctl_usage_error("faults: unexpected argument '%s'", argv[a]);
		if (id == 2) {
			usage_faults(stdout);
			return EXIT_ALL_OK;
		}
		if (id == 3) {
			if (ctl_labels_add(&labels, arg) != 0)
				return EXIT_USAGE;
			continue;
		}
		if (fault_state_parse(arg) < 0)
			return ctl_usage_error("--state: '%s' is not one of %s", arg,
			    fault_state_choices());
		state = arg;
	}
	if ((reqs = calloc(ctl->nagents, sizeof(*reqs))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	for (i = 0; i < ctl->nagents; i++) {
		reqs[i].agent = ctl->agents[i];
		reqs[i].method = "GET";
		(void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/v1/faults");
		if (state != NULL)
			(void)snprintf(reqs[i].query, sizeof(reqs[i].query), "state=%s", state);
	}
	if ((r = ctl_send(ctl, reqs, ctl->nagents)) != 0) {
		free(reqs);
		return ctl_error(r, "cannot run requests");
	}
	/* The label filter is ours: drop the faults it does not keep. */
	for (i = 0; labels.n > 0 && i < ctl->nagents; i++) {
		cJSON *list = cJSON_GetObjectItemCaseSensitive(reqs[i].json, "faults");
		int k;

		for (k = cJSON_GetArraySize(list) - 1; k >= 0; k--)
			if (!ctl_labels_match(&labels, cJSON_GetArrayItem(list, k)))
				cJSON_DeleteItemFromArray(list, k);
	}
	if (ctl->output == OUT_JSON) {
		ctl_print_json(ctl, reqs, ctl->nagents, NULL);
	} else {
		size_t shown = 0;

		ctl_print_fault_header(stdout);
		for (i = 0; i < ctl->nagents; i++) {
			const cJSON *f;
			char m[512];

			if (ctl_result_class(&reqs[i]) != EXIT_ALL_OK) {
				ctl_result_error(&reqs[i], m, sizeof(m));
				printf("%-28s error: %s\n", reqs[i].agent, m);
				continue;
			}
			cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(reqs[i].json,
			    "faults")) {
				ctl_print_fault_row(stdout, reqs[i].agent, f);
				shown++;
			}
		}
		if (shown == 0)
			printf("(no faults)\n");
	}
	r = ctl_exit_code(reqs, ctl->nagents);
	ctl_reqs_release(reqs, ctl->nagents);
	free(reqs);
	return r;
}
