/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c: chaosctl's entry point. Global options (targets, key, output)
 * may appear before or after the command name; everything else belongs to
 * the command, which the commands table (commands.c) names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agents.h"
#include "aws.h"
#include "ctl.h"
#include "discover.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"

enum {
	G_AGENT = 1, G_AGENTS_FILE, G_KEY_FILE, G_KEY_ID, G_OUTPUT, G_TIMEOUT, G_VERBOSE,
	G_CLUSTER, G_SERVICE, G_AZ, G_INSTANCE_ID, G_TAG, G_HOST_COUNT, G_HOST_PERCENT,
	G_AGENT_PORT, G_REGION, G_ENDPOINT, G_KEY_SSM, G_TASK_COUNT, G_TASK_PERCENT, G_SIDECAR,
};

const struct ctl_opt ctl_global_options[] = {
	{ "agent", true, G_AGENT },
	{ "agents-file", true, G_AGENTS_FILE },
	{ "key-file", true, G_KEY_FILE },
	{ "key-id", true, G_KEY_ID },
	{ "output", true, G_OUTPUT },
	{ "timeout", true, G_TIMEOUT },
	{ "verbose", false, G_VERBOSE },
	{ "cluster", true, G_CLUSTER },
	{ "service", true, G_SERVICE },
	{ "az", true, G_AZ },
	{ "instance-id", true, G_INSTANCE_ID },
	{ "tag", true, G_TAG },
	{ "host-count", true, G_HOST_COUNT },
	{ "host-percent", true, G_HOST_PERCENT },
	{ "task-count", true, G_TASK_COUNT },
	{ "task-percent", true, G_TASK_PERCENT },
	{ "sidecar-container", true, G_SIDECAR },
	{ "agent-port", true, G_AGENT_PORT },
	{ "region", true, G_REGION },
	{ "endpoint-url", true, G_ENDPOINT },
	{ "key-ssm-parameter", true, G_KEY_SSM },
	{ NULL, false, 0 },
};

/* The name of a global option, from its id. */
static const char *
opt_name(int id)
{
	size_t i;

	for (i = 0; ctl_global_options[i].name != NULL; i++)
		if (ctl_global_options[i].id == id)
			return ctl_global_options[i].name;
	return "?";
}

/* Add a repeatable option's value, bounded. */
static int
push(const char **list, size_t *n, const char *v, const char *flag)
{
	if (*n == DISCOVER_LIST_MAX)
		return ctl_usage_error("--%s: at most %d", flag, DISCOVER_LIST_MAX);
	list[(*n)++] = v;
	return 0;
}

/* --cluster: ask AWS for the hosts, and make their agents the targets. */
static int
run_discovery(struct ctl *ctl, struct agents *al, const struct discover_opts *o)
{
	struct errbuf eb = { "" };
	struct aws aws;
	size_t i;
	int r;

	if (al->n > 0)
		return ctl_usage_error("give --agent/--agents-file or --cluster, not both");
	if (aws_init(&aws, ctl->region, ctl->endpoint, &eb) != 0 ||
	    discover(&aws, o, &ctl->hosts, &ctl->nhosts, &eb) != 0)
		return ctl_error(CE_UNAVAILABLE, "discovery: %s", eb.msg);
	ctl->by_service = o->service != NULL;
	for (i = 0; i < ctl->nhosts; i++)
		if ((r = agents_add(al, ctl->hosts[i].url)) != 0)
			return r;
	if (ctl->verbose)
		fprintf(stderr, "chaosctl: %zu host(s) in cluster %s (credentials: %s, region "
		    "%s)\n", ctl->nhosts, o->cluster, aws.source, aws.region);
	return 0;
}

/* Is argv[i] one of the global options? (-v is the only short one.) */
static bool
is_global(const char *a)
{
	size_t i;

	if (strcmp(a, "-v") == 0)
		return true;
	if (strncmp(a, "--", 2) != 0)
		return false;
	for (i = 0; ctl_global_options[i].name != NULL; i++) {
		size_t n = strlen(ctl_global_options[i].name);

		if (strncmp(a + 2, ctl_global_options[i].name, n) == 0 &&
		    (a[2 + n] == '\0' || a[2 + n] == '='))
			return true;
	}
	return false;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	struct agents al;
	char **rest;
	const char *agents_file = NULL;
	struct discover_opts dopt;
	bool curl_up = false;
	int nrest = 0, i, r;
	size_t c;

	log_init("chaosctl", LOG_FMT_TEXT, LOG_LVL_INFO);
	memset(&ctl, 0, sizeof(ctl));
	agents_init(&al);
	ctl.timeout_ms = 10000;
	memset(&dopt, 0, sizeof(dopt));
	dopt.port = 8421;
	dopt.sidecar = "chaos-agent";
	if ((rest = calloc((size_t)argc + 1, sizeof(*rest))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	rest[nrest++] = argv[0];
	/* Pull the global options out wherever they are; "--" ends options. */
	for (i = 1; i < argc; i++) {
		const char *arg = NULL;
		int id;

		if (strcmp(argv[i], "--") == 0) {
			for (; i < argc; i++)
				rest[nrest++] = argv[i];
			break;
		}
		if (!is_global(argv[i])) {
			rest[nrest++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "-v") == 0) {
			ctl.verbose++;
			continue;
		}
		if ((id = ctl_getopt(ctl_global_options, argc, argv, &i, &arg)) < 0) {
			r = EXIT_USAGE;
			goto out;
		}
		switch (id) {
		case G_AGENT:
			if ((r = agents_add(&al, arg)) != 0)
				goto out;
			break;
		case G_AGENTS_FILE:
			agents_file = arg;
			break;
		case G_CLUSTER:
			dopt.cluster = arg;
			break;
		case G_SERVICE:
			dopt.service = arg;
			break;
		case G_AZ:
			if ((r = push(dopt.azs, &dopt.nazs, arg, "az")) != 0)
				goto out;
			break;
		case G_INSTANCE_ID:
			if ((r = push(dopt.instance_ids, &dopt.ninstance_ids, arg,
			    "instance-id")) != 0)
				goto out;
			break;
		case G_TAG:
			if (strchr(arg, '=') == NULL || arg[0] == '=') {
				r = ctl_usage_error("--tag: '%s' is not KEY=VALUE (an EC2 tag "
				    "of the hosts)", arg);
				goto out;
			}
			if ((r = push(dopt.tags, &dopt.ntags, arg, "tag")) != 0)
				goto out;
			break;
		case G_HOST_COUNT:
		case G_HOST_PERCENT:
		case G_TASK_COUNT:
		case G_TASK_PERCENT:
		case G_AGENT_PORT: {
			int64_t v;
			int64_t max = id == G_HOST_PERCENT || id == G_TASK_PERCENT ? 100 :
			    id == G_AGENT_PORT ? 65535 : 5000;

			if (parse_i64(arg, 1, max, &v) != 0) {
				r = ctl_usage_error("--%s: '%s' is not a number from 1 to %lld",
				    opt_name(id), arg, (long long)max);
				goto out;
			}
			if (id == G_HOST_COUNT)
				dopt.count = (long)v;
			else if (id == G_HOST_PERCENT)
				dopt.percent = (long)v;
			else if (id == G_TASK_COUNT)
				dopt.task_count = (long)v;
			else if (id == G_TASK_PERCENT)
				dopt.task_percent = (long)v;
			else
				dopt.port = (long)v;
			break;
		}
		case G_SIDECAR:
			if (arg[0] == '\0' || strlen(arg) > 255) {
				r = ctl_usage_error("--sidecar-container: '%s' is not a container "
				    "name", arg);
				goto out;
			}
			dopt.sidecar = arg;
			break;
		case G_REGION:
			ctl.region = arg;
			break;
		case G_ENDPOINT:
			ctl.endpoint = arg;
			break;
		case G_KEY_SSM:
			ctl.key_ssm = arg;
			break;
		case G_KEY_FILE:
			ctl.key_file = arg;
			break;
		case G_KEY_ID:
			ctl.key_id = arg;
			break;
		case G_OUTPUT:
			if (strcmp(arg, "json") == 0) {
				ctl.output = OUT_JSON;
			} else if (strcmp(arg, "text") == 0) {
				ctl.output = OUT_TEXT;
			} else {
				r = ctl_usage_error("--output: '%s' is not text or json", arg);
				goto out;
			}
			break;
		case G_TIMEOUT: {
			int64_t v;

			if (parse_i64(arg, 1, 300, &v) != 0) {
				r = ctl_usage_error("--timeout: '%s' is not a number of "
				    "seconds from 1 to 300", arg);
				goto out;
			}
			ctl.timeout_ms = (long)v * 1000;
			break;
		}
		case G_VERBOSE:
			ctl.verbose++;
			break;
		}
	}
	rest[nrest] = NULL;
	if (nrest < 2) {
		ctl_main_usage(stderr);
		r = EXIT_USAGE;
		goto out;
	}
	if (strcmp(rest[1], "--help") == 0 || strcmp(rest[1], "-h") == 0) {
		ctl_main_usage(stdout);
		r = EXIT_ALL_OK;
		goto out;
	}
	if (strcmp(rest[1], "--version") == 0) {
		r = cmd_version(&ctl, nrest - 1, rest + 1);
		goto out;
	}
	for (c = 0; c < ctl_ncommands; c++)
		if (strcmp(ctl_commands[c].name, rest[1]) == 0)
			break;
	if (c == ctl_ncommands) {
		r = ctl_usage_error("'%s' is not a command; see 'chaosctl --help'",
		    rest[1]);
		goto out;
	}
	ctl.cmd = ctl_commands[c].name;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		r = ctl_error(CE_INTERNAL, "cannot initialize libcurl");
		goto out;
	}
	curl_up = true;
	if (ctl_commands[c].needs_agents) {
		bool wants_help = false;

		for (i = 2; i < nrest; i++)
			if (strcmp(rest[i], "--help") == 0 || strcmp(rest[i], "-h") == 0)
				wants_help = true;
		if (!wants_help) {
			if (dopt.cluster == NULL && (dopt.service != NULL || dopt.nazs > 0 ||
			    dopt.ninstance_ids > 0 || dopt.ntags > 0 || dopt.count > 0 ||
			    dopt.percent > 0)) {
				r = ctl_usage_error("--service, --az, --instance-id, --tag, "
				    "--host-count and --host-percent need --cluster");
				goto out;
			}
			if (dopt.count > 0 && dopt.percent > 0) {
				r = ctl_usage_error("give --host-count or --host-percent, "
				    "not both");
				goto out;
			}
			if (dopt.service == NULL && (dopt.task_count > 0 ||
			    dopt.task_percent > 0)) {
				r = ctl_usage_error("--task-count and --task-percent need "
				    "--cluster and --service");
				goto out;
			}
			if (dopt.task_count > 0 && dopt.task_percent > 0) {
				r = ctl_usage_error("give --task-count or --task-percent, "
				    "not both");
				goto out;
			}
			if (dopt.cluster != NULL &&
			    (r = run_discovery(&ctl, &al, &dopt)) != 0)
				goto out;
			if ((r = agents_resolve(&al, agents_file)) != 0)
				goto out;
			ctl.agents = al.urls;
			ctl.nagents = al.n;
			/* Listing discovered hosts asks no agent: no key needed. */
			if (!(dopt.cluster != NULL && strcmp(ctl.cmd, "targets") == 0) &&
			    (r = ctl_load_key(&ctl)) != 0)
				goto out;
		}
	}
	r = ctl_commands[c].run(&ctl, nrest - 1, rest + 1);
out:
	if (curl_up)
		curl_global_cleanup();
	/* Every path frees what it allocated (sanitizer builds check leaks). */
	agents_release(&al);
	hosts_free(ctl.hosts, ctl.nhosts);
	free(rest);
	return r;
}
