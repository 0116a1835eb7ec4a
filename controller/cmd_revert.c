/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_revert.c: "chaosctl revert ID|--all": undo faults now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "../common/err.h"

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

/* One DELETE /v1/faults/ID result: "agent id state", or the error. */
static void
print_one(const struct ctl_req *q)
{
	char m[512];

	if (ctl_result_class(q) != EXIT_ALL_OK) {
		ctl_result_error(q, m, sizeof(m));
		printf("%-28s error: %s\n", q->agent, m);
		return;
	}
	printf("%-28s %s %s\n", q->agent,
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
	struct ctl_req *lists, *dels = NULL;
	size_t i, n = 0, cap = 0;
	int r;

	if ((lists = calloc(ctl->nagents, sizeof(*lists))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	for (i = 0; i < ctl->nagents; i++) {
		lists[i].agent = ctl->agents[i];
		lists[i].method = "GET";
		(void)snprintf(lists[i].path, sizeof(lists[i].path), "/v1/faults");
	}
	(void)ctl_send(ctl, lists, ctl->nagents);
	r = ctl_exit_code(lists, ctl->nagents);
	for (i = 0; i < ctl->nagents; i++) {
		const cJSON *f;
		char m[512];

		if (ctl_result_class(&lists[i]) != EXIT_ALL_OK) {
			ctl_result_error(&lists[i], m, sizeof(m));
			fprintf(stderr, "chaosctl: %s: cannot list faults: %s\n", lists[i].agent, m);
			continue;
		}
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(lists[i].json, "faults")) {
			const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f,
			    "state")), *id = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(f, "id"));

			if (st == NULL || id == NULL || strlen(id) > 32 ||
			    (strcmp(st, "active") != 0 && strcmp(st, "pending") != 0 &&
			    strcmp(st, "revert_failed") != 0) ||
			    !ctl_labels_match(labels, f))
				continue;
			if (n == cap) {
				struct ctl_req *d = realloc(dels, (cap ? cap * 2 : 8) * sizeof(*d));

				if (d == NULL) {
					r = ctl_error(CE_NOMEM, "out of memory");
					goto out;
				}
				dels = d;
				cap = cap ? cap * 2 : 8;
			}
			memset(&dels[n], 0, sizeof(dels[n]));
			dels[n].agent = lists[i].agent;
			dels[n].method = "DELETE";
			(void)snprintf(dels[n].path, sizeof(dels[n].path), "/v1/faults/%s", id);
			n++;
		}
	}
	if (n > 0) {
		int dr;

		(void)ctl_send(ctl, dels, n);
		if ((dr = ctl_exit_code(dels, n)) > r)
			r = dr;
	}
	if (ctl->output == OUT_JSON) {
		ctl_print_json(ctl, dels, n, NULL);
	} else {
		if (n == 0)
			printf("(no active fault carries those labels)\n");
		for (i = 0; i < n; i++)
			print_one(&dels[i]);
	}
out:
	ctl_reqs_release(dels, n);
	free(dels);
	ctl_reqs_release(lists, ctl->nagents);
	free(lists);
	return r;
}

int
cmd_revert(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_opt opts[] = {
		{ "all", false, 1 }, { "help", false, 2 }, { "label", true, 3 },
		{ NULL, false, 0 },
	};
	struct ctl_labels labels = { .n = 0 };
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
	n = all ? ctl->nagents : ctl->nagents * nids;
	if ((reqs = calloc(n, sizeof(*reqs))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
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
			const cJSON *f;

			if (!all && reqs[i].status == 404)
				continue;
			if (!all || ctl_result_class(&reqs[i]) != EXIT_ALL_OK) {
				print_one(&reqs[i]);
				continue;
			}
			printf("%-28s reverted %d fault(s)", reqs[i].agent, cJSON_GetArraySize(rv));
			cJSON_ArrayForEach(f, rv)
				printf(" %s", cJSON_GetStringValue(f));
			printf("\n");
		}
	}
	ctl_reqs_release(reqs, n);
	free(reqs);
	return r;
}
