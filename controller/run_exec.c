/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run_exec.c: running chaos for "chaosctl run". chaosctl stays its parent
 * for the whole run: it passes SIGINT and SIGTERM on, so the experiment's
 * rollbacks run, waits for it, and meanwhile watches the stop alarms.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alarm.h"
#include "ctl.h"
#include "ledger.h"
#include "run.h"
#include "../common/err.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

static void
forward(int sig)
{
	got_signal = sig;
	if (child_pid > 0)
		(void)kill((pid_t)child_pid, sig);
}

/* In the child: become chaos, or exit 126/127 as a shell would. */
static void __attribute__((noreturn))
exec_chaos(const struct run *r, const struct run_stop *stop)
{
	int devnull;

	/* Its own process group: a terminal's Ctrl-C reaches it once, from us. */
	(void)setpgid(0, 0);
	/*
	 * We pass SIGINT and SIGTERM on, and a stop alarm sends SIGINT: chaos
	 * must act on them even if we were started with them ignored, as a
	 * background job of a script is (an ignored signal survives exec).
	 */
	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	if ((devnull = open("/dev/null", O_RDONLY)) >= 0) {
		(void)dup2(devnull, 0);
		if (devnull > 2)
			close(devnull);
	}
	if (stop->ledger[0] != '\0')
		(void)setenv(LEDGER_ENV, stop->ledger, 1);
	if (chdir(r->confdir) != 0) {
		fprintf(stderr, "chaosctl: %s: %s\n", r->confdir, strerror(errno));
		_exit(126);
	}
	if (strchr(r->argv[0], '/') != NULL)
		execv(r->argv[0], r->argv);
	else
		execvp(r->argv[0], r->argv);
	fprintf(stderr, "chaosctl: cannot run %s: %s (install Chaos Toolkit, or "
	    "give --chaos PATH)\n", r->argv[0], strerror(errno));
	_exit(127);
}

/*
 * Poll the stop alarms while chaos runs. When one fires: SIGINT to chaos
 * (its rollbacks run) and every fault the ledger names is reverted.
 * Returns true when it fired.
 */
static bool
stop_fired(struct ctl *ctl, pid_t pid, const struct run_stop *stop)
{
	char name[256] = "";

	if (!alarm_watch_fired(stop->watch, name, sizeof(name)))
		return false;
	fprintf(stderr, "chaosctl: stop alarm %s is in ALARM: interrupting the run and "
	    "reverting its faults\n", name);
	(void)kill(pid, SIGINT);
	(void)ledger_revert(ctl, stop->ledger);
	return true;
}

int
run_exec(struct ctl *ctl, const struct run *r, const struct run_stop *stop, int *status)
{
	struct sigaction sa, oint, oterm;
	bool fired = false;
	int st = 0;
	pid_t pid;

	if ((pid = fork()) < 0)
		return ctl_error(CE_SYSTEM, "run: fork: %s", strerror(errno));
	if (pid == 0)
		exec_chaos(r, stop);
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	/* Without alarms to watch (or once one fired), a plain blocking wait. */
	for (;;) {
		struct timespec ts = { 0, 100 * 1000000L };
		pid_t w = waitpid(pid, &st, stop->watch->n > 0 && !fired ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			st = 0;
			break;
		}
		if (w != 0)
			continue;	/* interrupted by a signal we passed on */
		if ((fired = stop_fired(ctl, pid, stop)))
			continue;
		(void)nanosleep(&ts, NULL);
	}
	child_pid = 0;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	if (got_signal)
		fprintf(stderr, "chaosctl: passed signal %d on to chaos, which ended\n",
		    (int)got_signal);
	if (WIFSIGNALED(st))
		*status = 128 + WTERMSIG(st);
	else if (fired && WEXITSTATUS(st) == 0)
		*status = EXIT_SOME_FAILED;
	else
		*status = WEXITSTATUS(st);
	return 0;
}
