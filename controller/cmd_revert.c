/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_revert.c: "chaosctl revert ID|--all": undo faults now. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "fanout.h"

void
usage_revert(FILE *out)
{
	fprintf(out,
"usage: chaosctl revert FAULT-ID...\n"
"       chaosctl revert --label K=V [--label K=V]...\n"
"       chaosctl revert --all\n"
"\n"
"Revert faults now instead of at their deadline. With fault ids, every target\n"
"agent is asked; agents that do not know an id are skipped, and the command\n"
"fails only if no agent knew it. --label reverts the active and pending faults\n"
"that carry every label given (inject --fault-label), and only those: what one\n"
"experiment started, not another's; none matching is not an error. --all\n"
"reverts every fault on every target agent (the kill switch). Reverting an\n"
"ended fault is not an error. A fault whose revert failed (state\n"
"revert_failed) is tried again; if it fails again the command exits 1 with\n"
"the agent's error, and the agent keeps retrying.\n");
}

/* One reverted fault: "agent id state". */
static void
revert_row(FILE *out, const struct ctl_req *q, void *arg)
{
	(void)arg;
	fprintf(out, "%-28s %s %s\n", q->agent,
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->json, "id")),
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->json, "state")));
}

/*
 * revert --label: list each agent's faults, then revert the active and
 * pending ones that carry every label. The result is the worst of both
 * rounds; the output shows the reverts (JSON: their results).
 */
static int
revert_labelled(struct ctl *ctl, const struct ctl_labels *labels)
{
	struct fanout lists = FANOUT_INIT, dels = FANOUT_INIT;
	size_t i;
	int r, dr;

	if ((r = fanout_send_each(ctl, &lists, "GET", "/v1/faults", NULL)) != 0)
		goto out;
	r = fanout_exit_code(&lists);
	for (i = 0; i < lists.n; i++) {
		const struct ctl_req *l = &lists.reqs[i];
		const cJSON *f;
		char m[512];

		if (ctl_result_class(l) != EXIT_ALL_OK) {
			ctl_result_error(l, m, sizeof(m));
			fprintf(stderr, "chaosctl: %s: cannot list faults: %s\n", l->agent, m);
			continue;
		}
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(l->json, "faults")) {
			const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f,
			    "state")), *id = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(f, "id"));

			if (st == NULL || id == NULL || strlen(id) > 32 ||
			    (strcmp(st, "active") != 0 && strcmp(st, "pending") != 0 &&
			    strcmp(st, "revert_failed") != 0) ||
			    !ctl_labels_match(labels, f))
				continue;
			if ((dr = fanout_add(&dels, l->agent, "DELETE", NULL, "/v1/faults/%s",
			    id)) != 0) {
				r = dr;
				goto out;
			}
		}
	}
	if (dels.n > 0) {
		if ((dr = fanout_send(ctl, &dels)) != 0) {
			r = dr;
			goto out;
		}
		if ((dr = fanout_exit_code(&dels)) > r)
			r = dr;
	}
	if (ctl->output == OUT_TEXT && dels.n == 0)
		printf("(no active fault carries those labels)\n");
	fanout_print(ctl, &dels, revert_row, NULL);
out:
	fanout_release(&dels);
	fanout_release(&lists);
	return r;
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt revert_options[] = {
	{ "all", false, 1 }, { "help", false, 2 }, { "label", true, 3 },
	{ NULL, false, 0 },
};

int
cmd_revert(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_labels labels = { .n = 0 };
	struct fanout fo = FANOUT_INIT;
	const char *ids[64], *arg;
	size_t nids = 0, i, j;
	bool all = false;
	int id, r;

	for (int a = 1; a < argc; a++) {
		if ((id = ctl_getopt(revert_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		if (id == 2) {
			usage_revert(stdout);
			return EXIT_ALL_OK;
		}
		if (id == 1) {
			all = true;
			continue;
		}
		if (id == 3) {
			if (ctl_labels_add(&labels, arg) != 0)
				return EXIT_USAGE;
			continue;
		}
		if (nids == 64)
			return ctl_usage_error("revert: at most 64 fault ids at once");
		if (strlen(argv[a]) > 32)
			return ctl_usage_error("revert: '%.40s...' is not a fault id", argv[a]);
		ids[nids++] = argv[a];
	}
	if ((all ? 1 : 0) + (nids > 0 ? 1 : 0) + (labels.n > 0 ? 1 : 0) != 1)
		return ctl_usage_error("revert: give fault ids, --label or --all (one of them)");
	if (labels.n > 0)
		return revert_labelled(ctl, &labels);
	/* With ids: request j * nagents + i asks agent i about id j. */
	r = all ? fanout_add_each(&fo, ctl, "DELETE", "/v1/faults", NULL) : 0;
	for (j = 0; j < nids && r == 0; j++)
		for (i = 0; i < ctl->nagents && r == 0; i++)
			r = fanout_add(&fo, ctl->agents[i], "DELETE", NULL, "/v1/faults/%s",
			    ids[j]);
	if (r != 0 || (r = fanout_send(ctl, &fo)) != 0)
		goto out;
	/* An id unknown to some agents is normal; unknown to all is an error. */
	for (j = 0; j < (all ? 1 : nids); j++) {
		bool found = all;

		for (i = 0; i < ctl->nagents; i++) {
			struct ctl_req *q = &fo.reqs[j * ctl->nagents + i];

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
		ctl_print_json(ctl, fo.reqs, fo.n, NULL);
	} else {
		for (i = 0; i < fo.n; i++) {
			const struct ctl_req *q = &fo.reqs[i];
			const cJSON *rv = cJSON_GetObjectItemCaseSensitive(q->json, "reverted");
			const cJSON *f;

			if (!all && q->status == 404)
				continue;
			if (!all || ctl_result_class(q) != EXIT_ALL_OK) {
				fanout_print_one(stdout, q, revert_row, NULL);
				continue;
			}
			printf("%-28s reverted %d fault(s)", q->agent, cJSON_GetArraySize(rv));
			cJSON_ArrayForEach(f, rv)
				printf(" %s", cJSON_GetStringValue(f));
			printf("\n");
		}
	}
out:
	fanout_release(&fo);
	return r;
}
