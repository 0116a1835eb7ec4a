/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_targets.c: "chaosctl targets": the containers each agent can hit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "discover.h"
#include "fanout.h"

void
usage_targets(FILE *out)
{
	fprintf(out,
"usage: chaosctl targets\n"
"\n"
"List the containers on each target agent's host, with their ECS task\n"
"family, container name and task id, state and main pid. [protected] marks\n"
"the ECS agent and ECS pause containers, which container faults skip unless\n"
"named with --container-id; [shares netns] marks containers that joined\n"
"another container's network namespace (awsvpc tasks: the pause container's).\n"
"--output json adds network namespace paths, cgroups, CPU limits and labels.\n"
"\n"
"With --cluster (and --service, --az, --tag, ...) it lists the hosts AWS\n"
"discovery found instead: instance, availability zone, agent URL and, with\n"
"--service, the service's tasks on each host; a task reached through its\n"
"sidecar is a row of its own (instance 'sidecar'). It asks no agent.\n");
}

static int
print_hosts(const struct ctl *ctl)
{
	size_t i, t;

	if (ctl->output == OUT_JSON) {
		cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "hosts");
		char *text;

		cJSON_AddStringToObject(doc, "command", "targets");
		for (i = 0; i < ctl->nhosts; i++) {
			const struct host *h = &ctl->hosts[i];
			cJSON *o = cJSON_CreateObject(), *tasks;

			cJSON_AddItemToArray(arr, o);
			cJSON_AddStringToObject(o, "kind", h->sidecar ? "sidecar" : "host");
			cJSON_AddStringToObject(o, "instance_id", h->instance_id);
			cJSON_AddStringToObject(o, "availability_zone", h->az);
			cJSON_AddStringToObject(o, "private_ip", h->ip);
			cJSON_AddStringToObject(o, "agent", h->url);
			cJSON_AddStringToObject(o, "container_instance", h->container_instance);
			tasks = cJSON_AddArrayToObject(o, "tasks");
			for (t = 0; t < h->ntasks; t++)
				cJSON_AddItemToArray(tasks, cJSON_CreateString(h->tasks[t]));
		}
		if ((text = cJSON_Print(doc)) != NULL)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(doc);
		return EXIT_ALL_OK;
	}
	printf("%-20s %-12s %-28s %s\n", "INSTANCE", "AZ", "AGENT", "TASKS");
	for (i = 0; i < ctl->nhosts; i++) {
		const struct host *h = &ctl->hosts[i];

		printf("%-20s %-12s %-28s", h->sidecar ? "sidecar" : h->instance_id,
		    h->az[0] != '\0' ? h->az : "-", h->url);
		for (t = 0; t < h->ntasks; t++) {
			const char *slash = strrchr(h->tasks[t], '/');

			printf("%s%s", t ? "," : " ", slash != NULL ? slash + 1 : h->tasks[t]);
		}
		printf("%s\n", h->ntasks == 0 ? " -" : "");
	}
	return EXIT_ALL_OK;
}

/* The containers one agent reported. */
static void
target_rows(FILE *out, const struct ctl_req *r, void *arg)
{
	const cJSON *t;

	(void)arg;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r->json, "targets"))
		ctl_print_target_row(out, r->agent, t);
}

int
cmd_targets(struct ctl *ctl, int argc, char **argv)
{
	struct fanout fo = FANOUT_INIT;
	int r;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			usage_targets(stdout);
			return EXIT_ALL_OK;
		}
		return ctl_usage_error("targets: unexpected argument '%s'", argv[1]);
	}
	if (ctl->hosts != NULL)
		return print_hosts(ctl);
	if ((r = fanout_send_each(ctl, &fo, "GET", "/v1/targets", NULL)) == 0) {
		if (ctl->output == OUT_TEXT)
			printf("%-28s %-12s %-24s %-9s %-7s %-16s %-16s %s\n", "AGENT",
			    "CONTAINER", "NAME", "STATE", "PID", "FAMILY", "ECS CONTAINER", "TASK");
		fanout_print(ctl, &fo, target_rows, NULL);
		r = fanout_exit_code(&fo);
	}
	fanout_release(&fo);
	return r;
}
