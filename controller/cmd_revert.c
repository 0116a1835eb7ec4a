/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_revert.c: "chaosctl revert ID|--all": undo faults now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"

void
usage_revert(FILE *out)
{
	fprintf(out,
"usage: chaosctl revert FAULT-ID...\n"
"       chaosctl revert --all\n"
"\n"
"Revert faults now instead of at their deadline. With fault ids, every target\n"
"agent is asked; agents that do not know an id are skipped, and the command\n"
"fails only if no agent knew it. --all reverts every fault on every target\n"
"agent (the kill switch). Reverting an ended fault is not an error.\n");
}

int
cmd_revert(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "all", false, 1 }, { "help", false, 2 }, { NULL, false, 0 },
	};
	const char *ids[64], *arg;
	struct ctl_req *reqs;
	size_t nids = 0, n, i, j;
	bool all = false;
	int id, r;

	for (int a = 1; a < argc; a++) {
		if ((id = ctl_getopt(opts, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		if (id == 2) {
			usage_revert(stdout);
			return EXIT_ALL_OK;
		}
		if (id == 1) {
			all = true;
			continue;
		}
		if (nids == 64)
			return ctl_usage_error("revert: at most 64 fault ids at once");
		if (strlen(argv[a]) > 32)
			return ctl_usage_error("revert: '%.40s...' is not a fault id", argv[a]);
		ids[nids++] = argv[a];
	}
	if (all == (nids > 0))
		return ctl_usage_error("revert: give fault ids or --all (not both)");
	n = all ? ctl->nagents : ctl->nagents * nids;
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL)
		return ctl_usage_error("out of memory");
	for (i = 0; i < n; i++) {
		reqs[i].agent = ctl->agents[i % ctl->nagents];
		reqs[i].method = "DELETE";
		if (all)
			(void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/v1/faults");
		else
			(void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/v1/faults/%s",
			    ids[i / ctl->nagents]);
	}
	(void)ctl_send(ctl, reqs, n);
	r = EXIT_ALL_OK;
	/* An id unknown to some agents is normal; unknown to all is an error. */
	for (j = 0; j < (all ? 1 : nids); j++) {
		bool found = all;

		for (i = 0; i < ctl->nagents; i++) {
			struct ctl_req *q = &reqs[j * ctl->nagents + i];

			if (all || (q->status >= 200 && q->status < 300))
				found = true;
			if (q->status == 404 && !all)
				continue;
			if (ctl_result_class(q) > r)
				r = ctl_result_class(q);
		}
		if (!found && r == EXIT_ALL_OK)
			r = EXIT_SOME_FAILED;
		if (!found && ctl->output == OUT_TEXT)
			fprintf(stderr, "chaosctl: no target agent knows fault '%s'\n", ids[j]);
	}
	if (ctl->output == OUT_JSON) {
		ctl_print_json(ctl, reqs, n, NULL);
	} else {
		for (i = 0; i < n; i++) {
			const cJSON *rv = cJSON_GetObjectItemCaseSensitive(reqs[i].json, "reverted");
			char m[512];

			if (!all && reqs[i].status == 404)
				continue;
			if (ctl_result_class(&reqs[i]) != EXIT_ALL_OK) {
				ctl_result_error(&reqs[i], m, sizeof(m));
				printf("%-28s error: %s\n", reqs[i].agent, m);
			} else if (all) {
				const cJSON *f;

				printf("%-28s reverted %d fault(s)", reqs[i].agent,
				    cJSON_GetArraySize(rv));
				cJSON_ArrayForEach(f, rv)
					printf(" %s", cJSON_GetStringValue(f));
				printf("\n");
			} else {
				printf("%-28s %s %s\n", reqs[i].agent,
				    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				    reqs[i].json, "id")),
				    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				    reqs[i].json, "state")));
			}
		}
	}
	ctl_reqs_release(reqs, n);
	free(reqs);
	return r;
}
