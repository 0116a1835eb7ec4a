/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_submit.c: "chaosctl submit CONF...": one AWS Batch job per
 * configuration file, for a job definition whose container runs
 * "chaosctl run" (CHAOS_CONFIG_FILE names the conf inside the image).
 * Same request as the original submit-job.py.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "ctl.h"
#include "../common/err.h"
#include "../common/util.h"

#define SUBMIT_ENV_MAX 64

enum { O_QUEUE = 1, O_DEFINITION, O_VCPU, O_MEMORY, O_ENV, O_DRY_RUN, O_HELP };

void
usage_submit(FILE *out)
{
	fprintf(out,
"usage: chaosctl submit --queue Q --job-definition D [--vcpu N] [--memory MB]\n"
"                       [-e K=V]... CONF...\n"
"\n"
"Submit one AWS Batch job per experiment configuration: job name\n"
"<YYYY-mm-dd_HHMMSS>-<the conf's directory name>, environment\n"
"CHAOS_CONFIG_FILE=<CONF as given> plus each -e, VCPU and MEMORY resource\n"
"requirements, and a one-hour attempt timeout.\n"
"\n"
"  --queue Q            the job queue (required)\n"
"  --job-definition D   the job definition (required)\n"
"  --vcpu N             vCPUs per job (default 1.0)\n"
"  --memory MB          memory per job in MiB (default 2048)\n"
"  -e, --env K=V        one more environment variable (repeatable)\n"
"  --dry-run            print the SubmitJob requests; send nothing\n"
"\n"
"Region, endpoint and credentials as for every AWS call (--region,\n"
"--endpoint-url, AWS_*). Exit status 0 when every job was submitted.\n");
}

/* The conf's directory name: "library/x/experiment.conf" -> "x". */
static void
dir_name(const char *path, char *out, size_t len)
{
	const char *end = strrchr(path, '/'), *start;

	if (end == NULL) {
		(void)str_copy(out, len, ".");
		return;
	}
	for (start = end; start > path && start[-1] != '/'; start--)
		;
	if ((size_t)(end - start) >= len)
		end = start + len - 1;
	memcpy(out, start, (size_t)(end - start));
	out[end - start] = '\0';
	if (out[0] == '\0')
		(void)str_copy(out, len, "/");
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt submit_options[] = {
	{ "queue", true, O_QUEUE }, { "job-definition", true, O_DEFINITION },
	{ "vcpu", true, O_VCPU }, { "memory", true, O_MEMORY },
	{ "env", true, O_ENV }, { "dry-run", false, O_DRY_RUN }, { "help", false, O_HELP },
	{ NULL, false, 0 },
};

int
cmd_submit(struct ctl *ctl, int argc, char **argv)
{
	const char *queue = NULL, *def = NULL, *vcpu = "1.0", *envs[SUBMIT_ENV_MAX],
	    *confs[256], *arg;
	size_t nenv = 0, nconf = 0, i, j;
	char memory[24] = "2048";
	struct errbuf eb = { "" };
	struct aws aws;
	cJSON *results;
	int id, a, failed = 0;
	bool dry = false;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-e") == 0) {
			if (a + 1 >= argc)
				return ctl_usage_error("-e: needs K=V");
			argv[a] = (char *)(uintptr_t)"--env";
		}
		if ((id = ctl_getopt(submit_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		switch (id) {
		case -1:
			if (nconf == NELEM(confs))
				return ctl_usage_error("submit: at most %zu files", NELEM(confs));
			confs[nconf++] = argv[a];
			break;
		case O_QUEUE: queue = arg; break;
		case O_DEFINITION: def = arg; break;
		case O_VCPU: {
			char *end;
			double v = strtod(arg, &end);

			if (*end != '\0' || !(v > 0 && v <= 256))
				return ctl_usage_error("--vcpu: '%s' is not a number of vCPUs "
				    "(0 < N <= 256)", arg);
			vcpu = arg;
			break;
		}
		case O_MEMORY: {
			int64_t v;

			if (parse_i64(arg, 128, 4194304, &v) != 0)
				return ctl_usage_error("--memory: '%s' is not MiB from 128 to "
				    "4194304", arg);
			(void)snprintf(memory, sizeof(memory), "%lld", (long long)v);
			break;
		}
		case O_ENV:
			if (strchr(arg, '=') == NULL || arg[0] == '=')
				return ctl_usage_error("-e: '%s' is not KEY=VALUE", arg);
			if (nenv == SUBMIT_ENV_MAX)
				return ctl_usage_error("-e: at most %d", SUBMIT_ENV_MAX);
			envs[nenv++] = arg;
			break;
		case O_DRY_RUN:
			dry = true;
			break;
		case O_HELP:
			usage_submit(stdout);
			return EXIT_ALL_OK;
		}
	}
	if (queue == NULL || def == NULL || nconf == 0) {
		usage_submit(stderr);
		return ctl_usage_error("submit: --queue, --job-definition and at least one "
		    "CONF are required");
	}
	if (!dry && aws_init(&aws, ctl->region, ctl->endpoint, &eb) != 0)
		return ctl_error(CE_UNAVAILABLE, "submit: %s", eb.msg);
	results = cJSON_CreateArray();
	for (i = 0; i < nconf; i++) {
		cJSON *req = cJSON_CreateObject(), *co, *env, *rr, *e, *resp = NULL, *res;
		char name[160], dir[96], stamp[32], *body;
		time_t now = time(NULL);
		struct aws_resp r;
		struct tm tm;
		int rc;

		(void)localtime_r(&now, &tm);
		(void)strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H%M%S", &tm);
		dir_name(confs[i], dir, sizeof(dir));
		(void)snprintf(name, sizeof(name), "%s-%s", stamp, dir);
		/* Batch job names: letters, digits, - and _ only, 128 at most. */
		for (j = 0; name[j] != '\0'; j++)
			if (!(isalnum((unsigned char)name[j]) || name[j] == '-' || name[j] == '_'))
				name[j] = '_';
		name[128] = '\0';
		cJSON_AddStringToObject(req, "jobName", name);
		cJSON_AddStringToObject(req, "jobQueue", queue);
		cJSON_AddStringToObject(req, "jobDefinition", def);
		co = cJSON_AddObjectToObject(req, "containerOverrides");
		env = cJSON_AddArrayToObject(co, "environment");
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", "CHAOS_CONFIG_FILE");
		cJSON_AddStringToObject(e, "value", confs[i]);
		cJSON_AddItemToArray(env, e);
		for (j = 0; j < nenv; j++) {
			const char *eq = strchr(envs[j], '=');
			char k[256];

			(void)snprintf(k, sizeof(k), "%.*s", (int)(eq - envs[j]), envs[j]);
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "name", k);
			cJSON_AddStringToObject(e, "value", eq + 1);
			cJSON_AddItemToArray(env, e);
		}
		rr = cJSON_AddArrayToObject(co, "resourceRequirements");
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "type", "VCPU");
		cJSON_AddStringToObject(e, "value", vcpu);
		cJSON_AddItemToArray(rr, e);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "type", "MEMORY");
		cJSON_AddStringToObject(e, "value", memory);
		cJSON_AddItemToArray(rr, e);
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(req, "timeout"),
		    "attemptDurationSeconds", 3600);
		res = cJSON_CreateObject();
		if (dry) {
			cJSON_AddStringToObject(res, "conf", confs[i]);
			cJSON_AddItemToObject(res, "request", req);
			cJSON_AddItemToArray(results, res);
			continue;
		}
		body = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		cJSON_AddStringToObject(res, "conf", confs[i]);
		cJSON_AddStringToObject(res, "job_name", name);
		if (ctl->output == OUT_TEXT)
			fprintf(stderr, "chaosctl: submitting %s as %s\n", confs[i], name);
		rc = body == NULL ? err_set(&eb, CE_NOMEM, "out of memory") :
		    aws_call(&aws, "batch", "batch", "POST", "/v1/submitjob", "application/json",
		    NULL, body, strlen(body), &r, &eb);
		free(body);
		if (rc == 0 && (resp = cJSON_ParseWithLength(r.body, r.len)) != NULL &&
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "jobId")) != NULL) {
			const char *jid = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(resp, "jobId"));

			cJSON_AddBoolToObject(res, "ok", 1);
			cJSON_AddStringToObject(res, "job_id", jid);
			if (ctl->output == OUT_TEXT)
				printf("%s\t%s\t%s\n", confs[i], name, jid);
		} else {
			failed++;
			cJSON_AddBoolToObject(res, "ok", 0);
			cJSON_AddStringToObject(res, "error", rc != 0 ? eb.msg : "no jobId in the "
			    "answer");
			fprintf(stderr, "chaosctl: submit %s: %s\n", confs[i], rc != 0 ? eb.msg :
			    "no jobId in the answer");
		}
		if (rc == 0)
			aws_resp_free(&r);
		cJSON_Delete(resp);
		cJSON_AddItemToArray(results, res);
	}
	if (ctl->output == OUT_JSON || dry) {
		cJSON *doc = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(doc, "command", "submit");
		cJSON_AddItemToObject(doc, "jobs", results);
		if ((text = cJSON_Print(doc)) != NULL)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(doc);
	} else {
		cJSON_Delete(results);
	}
	return failed == 0 ? EXIT_ALL_OK : EXIT_SOME_FAILED;
}
