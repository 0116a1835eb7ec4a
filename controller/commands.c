/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands.c: chaosctl's commands table, the main help printed from it,
 * and "chaosctl help", which reads the same table.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "../common/util.h"

const struct ctl_opt ctl_help_options[] = { { "help", false, 1 }, { NULL, false, 0 } };

const struct cmd ctl_commands[] = {
	{ "inject", cmd_inject, "start a fault on every target agent", usage_inject, true, NULL },
	{ "faults", cmd_faults, "list the faults of every target agent", usage_faults, true,
	  faults_options },
	{ "revert", cmd_revert, "revert faults by id, by fault label, or all (--all)",
	  usage_revert, true, revert_options },
	{ "info", cmd_info, "show each agent's version, limits and capabilities", usage_info,
	  true, ctl_help_options },
	{ "targets", cmd_targets, "list the containers on every target agent's host",
	  usage_targets, true, ctl_help_options },
	{ "run", cmd_run, "run a Chaos Toolkit experiment from its configuration file",
	  usage_run, false, run_options },
	{ "report", cmd_report, "render a run's journal as one HTML page with a timeline",
	  usage_report, false, report_options },
	{ "submit", cmd_submit, "submit experiment runs as AWS Batch jobs", usage_submit,
	  false, submit_options },
	{ "keygen", cmd_keygen, "create a new agent key file", usage_keygen, false,
	  keygen_options },
	{ "completion", cmd_completion, "print a bash or zsh completion script",
	  usage_completion, false, completion_options },
	{ "version", cmd_version, "print chaosctl's version", usage_version, false,
	  ctl_help_options },
	{ "help", cmd_help, "show help for chaosctl or one command", usage_help, false,
	  ctl_help_options },
};
const size_t ctl_ncommands = NELEM(ctl_commands);

void
ctl_main_usage(FILE *out)
{
	size_t i;

	fprintf(out,
"usage: chaosctl [global options] <command> [options]\n"
"\n"
"Drive chaos-agents: start time-bounded faults on many hosts at once, list\n"
"and revert them.\n"
"\n"
"commands:\n");
	for (i = 0; i < ctl_ncommands; i++)
		fprintf(out, "  %-10s %s\n", ctl_commands[i].name, ctl_commands[i].summary);
	fprintf(out,
"\n"
"global options (before or after the command):\n"
"  --agent URL         an agent, e.g. http://10.0.1.17:8421 (repeatable)\n"
"  --agents-file FILE  agent URLs, one per line ('#' comments)\n"
"  --key-file FILE     the agents' key file (mode 0600)\n"
"  --key-ssm-parameter NAME   the key file's text from an SSM SecureString\n"
"  --key-id ID         which key of the file to sign with (default: the first)\n"
"  --output text|json  text for people (default), one JSON document for programs\n"
"  --timeout SECONDS   per-agent request timeout, 1-300 (default 10)\n"
"  -v, --verbose       show each request on stderr\n"
"\n"
"agents found through AWS (instead of --agent):\n"
"  --cluster NAME      the ECS cluster's container instances, as http://<private ip>:<port>\n"
"  --service NAME      only the hosts running this service's tasks; container\n"
"                      faults then hit only those tasks. A task whose definition\n"
"                      has the sidecar (awsvpc: Fargate or EC2) is reached at its\n"
"                      ENI's address and the sidecar's container port instead\n"
"  --az AZ, --instance-id ID, --tag K=V   filters (repeatable; EC2 tags; the\n"
"                      last two choose hosts only and leave sidecars out)\n"
"  --host-count N, --host-percent P       a random sample of the hosts\n"
"  --task-count N, --task-percent P       a random sample of the service's tasks\n"
"  --sidecar-container NAME   the sidecar's container name (default chaos-agent)\n"
"  --agent-port PORT   the host agents' port (default 8421)\n"
"  --region R, --endpoint-url URL         AWS region and endpoint (default:\n"
"                      AWS_REGION, AWS_ENDPOINT_URL; credentials as the AWS SDKs)\n"
"\n"
"environment:\n"
"  CHAOS_AGENTS          comma-separated agent URLs (used when no --agent is given)\n"
"  CHAOS_AGENT_KEY_FILE  key file (used when no --key-file is given)\n"
"\n"
"exit status:\n"
"  0    every target agent succeeded\n"
"  1    at least one agent answered with an error (bad parameters, conflict, ...)\n"
"  2    usage error: bad options or arguments, unreadable key file\n"
"  3    at least one agent was unreachable, timed out or rejected the signature\n"
"  4    chaosctl itself failed: out of memory, cannot fork or start libcurl\n"
"  130  interrupted during --wait (the faults were reverted)\n"
"\n"
"Run 'chaosctl help <command>' or 'chaosctl <command> --help' for details;\n"
"'chaosctl inject <fault> --help' lists a fault's parameters.\n");
}

void
usage_help(FILE *out)
{
	fprintf(out, "usage: chaosctl help [COMMAND]\n");
}

int
cmd_help(struct ctl *ctl, int argc, char **argv)
{
	size_t i;

	(void)ctl;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_main_usage(stdout);
		return EXIT_ALL_OK;
	}
	for (i = 0; i < ctl_ncommands; i++) {
		if (strcmp(ctl_commands[i].name, argv[1]) == 0) {
			ctl_commands[i].usage(stdout);
			return EXIT_ALL_OK;
		}
	}
	return ctl_usage_error("help: '%s' is not a command", argv[1]);
}
