/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run.h: the steps of "chaosctl run" (cmd_run.c): the chaos command line
 * from the INI configuration (run_conf.c), running chaos with its signals
 * passed on and the stop alarms watched (run_exec.c), reading the journal
 * it leaves and uploading it (run_journal.c), and the report of the run
 * (run_report.c). Functions that can fail report the error (ctl_error)
 * and return an exit code.
 */
#ifndef CHAOS_CTL_RUN_H
#define CHAOS_CTL_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct alarm_watch;
struct ctl;
struct ini;

#define RUN_ARGS_MAX 256	/* chaos's argv, with its NULL */

/* One run: where it happens and what chaos is given. */
struct run {
	char confdir[PATH_MAX];		/* chaos runs here; relative paths start here */
	char experiment[PATH_MAX];	/* the experiment file, absolute */
	char rundir[PATH_MAX];		/* the run's own directory (made by cmd_run.c) */
	char *argv[RUN_ARGS_MAX];	/* chaos's command line, NULL-terminated; owned */
	int argc;
};

/* What the run watches while chaos runs (run_exec). */
struct run_stop {
	struct alarm_watch *watch;	/* started; no alarms: watch->n is 0 */
	char ledger[PATH_MAX];		/* the fault ledger (ledger.h), set for chaos */
};

/*
 * Fill r's experiment, rundir and argv from the configuration: section ctx
 * (NULL: [DEFAULT]), the chaos program, the runs directory (NULL: CONF's
 * directory/runs) and --verbose for chaos. r->confdir must be set. Every
 * key of every section must be a known one. Returns 0 or an exit code
 * (reported: the message names the file and line).
 */
int run_conf_build(struct run *r, const struct ini *ini, const char *ctx, const char *chaos,
    const char *runs_dir, bool verbose);

/* Free what run_conf_build allocated. */
void run_conf_release(struct run *r);

/*
 * Run chaos in r->confdir with r->argv, its own process group and stdin
 * from /dev/null; SIGINT and SIGTERM are passed on to it, and chaosctl
 * waits for it. With stop alarms, polls them; when one fires, chaos gets
 * SIGINT (its rollbacks run) and the ledger's faults are reverted.
 * Returns 0 with chaos's exit status in *status (128+N for a signal; 1 for
 * a run a stop alarm ended that chaos calls a success), or an exit code
 * (reported) when chaos could not be started.
 */
int run_exec(struct ctl *ctl, const struct run *r, const struct run_stop *stop, int *status);

/*
 * Read the run's journal for what Chaos Toolkit's exit status hides (a
 * hypothesis not met before the method, a process action that exited
 * non-zero), saying each on stderr. Returns true when the run must not
 * pass.
 */
bool run_journal_check(const struct run *r);

/*
 * Upload journal.json, chaostoolkit.log and report.html (when there is
 * one; as text/html) to s3://bucket/<start time>_<title>/ (region and
 * endpoint may be NULL). Returns 0, or -1 with the reason on stderr; the
 * files stay in the run directory either way.
 */
int run_journal_upload(const struct run *r, const char *bucket, const char *region,
    const char *endpoint);

/*
 * Write run.json in the run directory: the context (NULL: DEFAULT), the
 * configuration file conf, the experiment, chaosctl's version, the user
 * and host, and chaos's exit status. Best effort: a failure is said on
 * stderr.
 */
void run_record(const struct run *r, const char *ctx, const char *conf, int chaos_status);

/*
 * Ask each agent the ledger names for its record of each fault noted
 * there (GET /v1/faults/{id}) and write them to faults.json in the run
 * directory, for the report. Needs the agents' key from chaosctl's global
 * options or CHAOS_AGENT_KEY_FILE; without one it says so on stderr and
 * writes nothing. Best effort, like run_record.
 */
void run_faults_collect(struct ctl *ctl, const struct run *r, const char *ledger);

/*
 * Render report.html in the run directory from its files (report.h).
 * Returns true when it was written; says why on stderr when not.
 */
bool run_report(const struct run *r);

#endif
