/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_faults.c: "chaosctl faults": list faults on every target agent. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "fanout.h"
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

/* The faults one agent reported; counts them in *(size_t *)arg. */
static void
fault_rows(FILE *out, const struct ctl_req *r, void *arg)
{
	size_t *shown = arg;
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(r->json, "faults")) {
		ctl_print_fault_row(out, r->agent, f);
		(*shown)++;
	}
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt faults_options[] = {
	{ "state", true, 1 }, { "help", false, 2 }, { "label", true, 3 },
	{ NULL, false, 0 },
};

int
cmd_faults(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_labels labels = { .n = 0 };
	struct fanout fo = FANOUT_INIT;
	const char *state = NULL, *arg;
	char query[64] = "";
	size_t i, shown = 0;
	int id, r;

	for (int a = 1; a < argc; a++) {
		if ((id = ctl_getopt(faults_options, argc, argv, &a, &arg)) == -2)
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
	if (state != NULL)
		(void)snprintf(query, sizeof(query), "state=%s", state);
	if ((r = fanout_send_each(ctl, &fo, "GET", "/v1/faults", state != NULL ? query :
	    NULL)) != 0)
		goto out;
	/* The label filter is ours: drop the faults it does not keep. */
	for (i = 0; labels.n > 0 && i < fo.n; i++) {
		cJSON *list = cJSON_GetObjectItemCaseSensitive(fo.reqs[i].json, "faults");
		int k;

		for (k = cJSON_GetArraySize(list) - 1; k >= 0; k--)
			if (!ctl_labels_match(&labels, cJSON_GetArrayItem(list, k)))
				cJSON_DeleteItemFromArray(list, k);
	}
	if (ctl->output == OUT_TEXT)
		ctl_print_fault_header(stdout);
	fanout_print(ctl, &fo, fault_rows, &shown);
	if (ctl->output == OUT_TEXT && shown == 0)
		printf("(no faults)\n");
	r = fanout_exit_code(&fo);
out:
	fanout_release(&fo);
	return r;
}
