/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_run.c: "chaosctl run CONF": run a Chaos Toolkit experiment as its
 * INI configuration says (one section per context, falling back to
 * [DEFAULT]), keep its journal and log in a directory of their own with
 * a report of the run (report.html), and upload them to S3 when a
 * journals bucket is named. The experiment's
 * exit status is chaosctl's; SIGINT and SIGTERM are passed on to chaos so
 * its rollbacks still run. The steps live in run_conf.c, run_exec.c and
 * run_journal.c and run_report.c (run.h); this file is the command around
 * them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "ctl.h"
#include "ini.h"
#include "report.h"
#include "run.h"
#include "../common/err.h"
#include "../common/util.h"

enum {
	O_CONTEXT = 1, O_BUCKET, O_CHAOS, O_RUNS_DIR, O_DRY_RUN, O_HELP, O_STOP_ALARM,
	O_NO_REPORT,
};

/* What the command line and the environment ask of the run. */
struct run_opts {
	const char *conf, *ctx, *bucket, *chaos, *runs_dir;
	struct alarm_watch watch;	/* --stop-alarm */
	bool dry;
	bool verbose;		/* CHAOS_VERBOSE: chaos --verbose, as -v gives */
	bool no_report;		/* --no-report: no report.html */
	bool help;		/* --help: print the usage, nothing else */
};

void
usage_run(FILE *out)
{
	fprintf(out,
"usage: chaosctl run [CONF] [--context C] [--journals-bucket B] [--chaos PATH]\n"
"                    [--runs-dir DIR] [--region R] [--endpoint-url URL]\n"
"                    [--stop-alarm NAME] [--no-report] [--dry-run]\n"
"\n"
"Run the Chaos Toolkit experiment a configuration file describes. CONF (or\n"
"CHAOS_CONFIG_FILE) is an INI file: [DEFAULT] and one section per context,\n"
"each context falling back to [DEFAULT]:\n"
"\n"
"  experiment_path       the experiment, relative to CONF (default experiment.yaml)\n"
"  rollback_strategy     default always\n"
"  hypothesis_strategy   hypothesis_frequency   passed on as they are\n"
"  fail_fast             true or false\n"
"  var_files             comma-separated files, relative to CONF\n"
"  var_overrides         one 'name[:type] = value' per (indented) line\n"
"Values are interpolated as Python's configparser does: %%(key)s is another key's\n"
"value (of the context or [DEFAULT]), %%%% is a '%%'; any other '%%' is an error.\n"
"\n"
"options:\n"
"  --context C           the section to use (or CHAOS_CONTEXT; default [DEFAULT])\n"
"  --journals-bucket B   upload journal.json, chaostoolkit.log and report.html to\n"
"                        s3://B/<start time>_<experiment title>/ (or\n"
"                        CHAOS_JOURNALS_BUCKET)\n"
"  --chaos PATH          the chaos program (default: chaos on PATH)\n"
"  --runs-dir DIR        where each run's directory goes (default CONF's dir/runs)\n"
"  --region R, --endpoint-url URL   (global options) for S3 (default: AWS_REGION,\n"
"                        AWS_ENDPOINT_URL)\n"
"  --stop-alarm NAME     a CloudWatch alarm that stops the run (repeatable): no\n"
"                        start while it is in ALARM; when it fires, chaos is\n"
"                        interrupted (rollbacks run) and every agent the run's\n"
"                        'chaosctl inject' calls reached reverts all its faults\n"
"  --no-report           write no report.html (see 'chaosctl report')\n"
"  --dry-run             print the chaos command line; run nothing\n"
"CHAOS_VERBOSE=1 (true, yes, on; 0, false, no, off) runs chaos --verbose, as -v\n"
"does.\n"
"\n"
"The run directory keeps journal.json, chaostoolkit.log, faults.ledger (which\n"
"agent started which fault: every 'chaosctl inject' of the run notes it),\n"
"run.json (context, configuration, user) and report.html, one HTML page with\n"
"a timeline of the probes, actions, rollbacks and fault windows per agent.\n"
"With the agents' key (--key-file, --key-ssm-parameter, CHAOS_AGENT_KEY_FILE)\n"
"the run also keeps the agents' records of its faults in faults.json, so the\n"
"report shows when and why each ended; without it, their deadlines.\n"
"\n"
"Exit status: Chaos Toolkit's (1 when the hypothesis deviated), 128+N when chaos\n"
"died of signal N, 2 for a bad configuration, 4 when chaosctl could not start it\n"
"(out of memory, fork failed); 1, where chaos says 0, when the hypothesis was\n"
"not met before the method (nothing ran), when a process action of the method\n"
"or the rollbacks exited non-zero (each is named on stderr), or when an upload\n"
"failed.\n"
"AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] or\n"
"AWS_PROFILE in the shared credentials file.\n");
}

static int
mkdirs(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (str_copy(tmp, sizeof(tmp), path) != 0)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt run_options[] = {
	{ "context", true, O_CONTEXT }, { "journals-bucket", true, O_BUCKET },
	{ "chaos", true, O_CHAOS }, { "runs-dir", true, O_RUNS_DIR },
	{ "dry-run", false, O_DRY_RUN }, { "help", false, O_HELP },
	{ "stop-alarm", true, O_STOP_ALARM }, { "no-report", false, O_NO_REPORT },
	{ NULL, false, 0 },
};

/*
 * CHAOS_VERBOSE, read by the original wrapper through click's CHAOS_
 * prefix: click's booleans, any case, white space stripped; unset or empty
 * is off. Returns 0 or an exit code (reported) for another value.
 */
static int
env_verbose(bool *on)
{
	static const char *const yes[] = { "1", "true", "t", "yes", "y", "on" };
	static const char *const no[] = { "0", "false", "f", "no", "n", "off" };
	const char *env = getenv("CHAOS_VERBOSE");
	char v[16];
	size_t i;

	*on = false;
	if (env == NULL || env[0] == '\0')
		return 0;
	if (str_copy(v, sizeof(v), env) == 0) {
		const char *t = str_trim(v);

		for (i = 0; i < NELEM(yes); i++)
			if (strcasecmp(t, yes[i]) == 0)
				return (*on = true, 0);
		for (i = 0; i < NELEM(no); i++)
			if (strcasecmp(t, no[i]) == 0)
				return 0;
	}
	return ctl_usage_error("run: CHAOS_VERBOSE: '%s' is not a boolean (1, true, yes, on; "
	    "0, false, no, off)", env);
}

/* Options and positional CONF; the environment fills what they leave. */
static int
parse_opts(int argc, char **argv, struct run_opts *o)
{
	const char *arg;
	int id, a, rc;

	memset(o, 0, sizeof(*o));
	o->ctx = getenv("CHAOS_CONTEXT");
	o->bucket = getenv("CHAOS_JOURNALS_BUCKET");
	o->chaos = "chaos";
	if ((rc = env_verbose(&o->verbose)) != 0)
		return rc;
	for (a = 1; a < argc; a++) {
		if ((id = ctl_getopt(run_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		switch (id) {
		case -1:
			if (o->conf != NULL)
				return ctl_usage_error("run: one configuration file at a time "
				    "('%s' and '%s')", o->conf, argv[a]);
			o->conf = argv[a];
			break;
		case O_CONTEXT: o->ctx = arg; break;
		case O_BUCKET: o->bucket = arg; break;
		case O_CHAOS: o->chaos = arg; break;
		case O_RUNS_DIR: o->runs_dir = arg; break;
		case O_DRY_RUN: o->dry = true; break;
		case O_NO_REPORT: o->no_report = true; break;
		case O_STOP_ALARM:
			if ((rc = alarm_watch_add(&o->watch, arg)) != 0)
				return rc;
			break;
		case O_HELP:
			o->help = true;
			return 0;
		}
	}
	if (o->conf == NULL && (o->conf = getenv("CHAOS_CONFIG_FILE")) == NULL) {
		usage_run(stderr);
		return ctl_usage_error("run: name a configuration file (or set "
		    "CHAOS_CONFIG_FILE)");
	}
	if (o->ctx != NULL && o->ctx[0] == '\0')
		o->ctx = NULL;
	if (o->bucket != NULL && o->bucket[0] == '\0')
		o->bucket = NULL;
	return 0;
}

/* A context that is not a section of the file: say which there are. */
static int
no_such_context(const struct ini *ini, const char *ctx)
{
	const struct ini_section *s;
	char names[512] = "";
	size_t used = 0;

	for (s = ini->sections; s != NULL; s = s->next) {
		int w;

		if (strcmp(s->name, INI_DEFAULT) == 0)
			continue;
		w = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
		    s->name);
		if (w < 0 || (size_t)w >= sizeof(names) - used)
			break;
		used += (size_t)w;
	}
	return ctl_usage_error("%s: no context [%s] (contexts: %s)", ini->file, ctx,
	    used ? names : "none; leave --context out to use [DEFAULT]");
}

/* Read the configuration and build the run from it: confdir, argv, rundir. */
static int
load_run(const struct ctl *ctl, const struct run_opts *o, struct run *r)
{
	struct errbuf eb = { "" };
	char real[PATH_MAX], *slash;
	struct ini ini;
	int rc;

	if (realpath(o->conf, real) == NULL)
		return ctl_usage_error("run: %s: %s", o->conf, strerror(errno));
	/* An unreadable configuration is the user's to fix, unless memory ran out. */
	if ((rc = ini_load(real, &ini, &eb)) != 0)
		return ctl_error(rc == CE_NOMEM ? CE_NOMEM : CE_INVALID, "%s", eb.msg);
	if (o->ctx != NULL && (strcmp(o->ctx, INI_DEFAULT) == 0 ||
	    ini_section(&ini, o->ctx) == NULL)) {
		rc = no_such_context(&ini, o->ctx);
	} else {
		(void)str_copy(r->confdir, sizeof(r->confdir), real);
		if ((slash = strrchr(r->confdir, '/')) != NULL)
			*(slash == r->confdir ? slash + 1 : slash) = '\0';
		rc = run_conf_build(r, &ini, o->ctx, o->chaos, o->runs_dir,
		    ctl->verbose > 0 || o->verbose);
	}
	ini_free(&ini);
	return rc;
}

/* --dry-run: the command line chaos would get, and where. */
static void
print_dry_run(const struct ctl *ctl, const struct run *r)
{
	int i;

	if (ctl->output == OUT_JSON) {
		cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "command");
		char *text;

		for (i = 0; i < r->argc; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(r->argv[i]));
		cJSON_AddStringToObject(doc, "cwd", r->confdir);
		cJSON_AddStringToObject(doc, "run_dir", r->rundir);
		if ((text = cJSON_Print(doc)) != NULL)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(doc);
		return;
	}
	printf("cd %s &&", r->confdir);
	for (i = 0; i < r->argc; i++)
		printf(" %s", r->argv[i]);
	printf("\n");
}

/*
 * The ledger in the run directory, which the run's injects note their
 * faults in; --stop-alarm: no start while one is in ALARM, otherwise the
 * watch runs with chaos.
 */
static int
arm_stop(struct ctl *ctl, struct run_opts *o, const struct run *r, struct run_stop *stop)
{
	memset(stop, 0, sizeof(*stop));
	stop->watch = &o->watch;
	if (snprintf(stop->ledger, sizeof(stop->ledger), "%s/%s", r->rundir, REPORT_LEDGER) >=
	    (int)sizeof(stop->ledger))
		return ctl_usage_error("run: run directory path too long");
	if (o->watch.n == 0)
		return 0;
	return alarm_watch_start(&o->watch, ctl->region, ctl->endpoint);
}

/* Run chaos in its run directory; the exit code of the whole run. */
static int
run_chaos(struct ctl *ctl, const struct run_opts *o, const struct run *r,
    const struct run_stop *stop)
{
	int rc, status = 0, i;

	if (mkdirs(r->rundir) != 0)
		return ctl_usage_error("run: cannot create %s: %s", r->rundir, strerror(errno));
	fprintf(stderr, "chaosctl: run directory %s\n", r->rundir);
	if (ctl->verbose) {
		fprintf(stderr, "chaosctl: >");
		for (i = 0; i < r->argc; i++)
			fprintf(stderr, " %s", r->argv[i]);
		fprintf(stderr, "\n");
	}
	if ((rc = run_exec(ctl, r, stop, &status)) != 0)
		return rc;
	rc = status;
	fprintf(stderr, "chaosctl: chaos exited with status %d\n", rc);
	if (run_journal_check(r) && rc == 0) {
		fprintf(stderr, "chaosctl: Chaos Toolkit says completed, but the run did not do "
		    "what it meant to: exit 1\n");
		rc = EXIT_SOME_FAILED;
	}
	/* What the report is made of; a report that cannot be made fails nothing. */
	run_record(r, o->ctx, o->conf, status);
	if (!o->no_report) {
		run_faults_collect(ctl, r, stop->ledger);
		(void)run_report(r);
	}
	/* Upload whatever the outcome; a failed upload is an error of its own. */
	if (o->bucket != NULL && run_journal_upload(r, o->bucket, ctl->region,
	    ctl->endpoint) != 0 && rc == 0)
		rc = EXIT_SOME_FAILED;
	return rc;
}

int
cmd_run(struct ctl *ctl, int argc, char **argv)
{
	struct run_opts o;
	struct run_stop stop;
	struct run *r;
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (o.help) {
		usage_run(stdout);
		return EXIT_ALL_OK;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ctl_error(CE_NOMEM, "out of memory");
	if ((rc = load_run(ctl, &o, r)) != 0)
		goto out;
	if (o.dry)
		print_dry_run(ctl, r);
	else if ((rc = arm_stop(ctl, &o, r, &stop)) == 0)
		rc = run_chaos(ctl, &o, r, &stop);
out:
	run_conf_release(r);
	free(r);
	return rc;
}
