/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject_wait.c: "chaosctl inject --wait": follow the faults just started
 * until each has ended, with a progress line on a terminal. Ctrl-C, SIGTERM
 * or a stop alarm reverts the faults still on before chaosctl exits.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alarm.h"
#include "ctl.h"
#include "fanout.h"
#include "inject.h"
#include "../common/util.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void
inject_track(struct tracked *t, const cJSON *fault)
{
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fault, "state"));

	if (st != NULL)
		(void)str_copy(t->state, sizeof(t->state), st);
	t->remaining_ms = cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(fault, "remaining_ms"));
	t->done = st != NULL && strcmp(st, "active") != 0 && strcmp(st, "pending") != 0;
}

/* One request for each fault not yet ended, at /v1/faults/ID, sent. */
static int
track_send(struct ctl *ctl, const struct tracked *ts, size_t n, const char *method,
    struct fanout *fo)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		if (!ts[i].done && (r = fanout_add(fo, ts[i].agent, method, NULL,
		    "/v1/faults/%s", ts[i].id)) != 0)
			return r;
	return fanout_send(ctl, fo);
}

/* Ask each agent to revert its fault now (after Ctrl-C). */
static void
revert_tracked(struct ctl *ctl, struct tracked *ts, size_t n)
{
	struct fanout fo = FANOUT_INIT;
	size_t i, m = 0;

	if (track_send(ctl, ts, n, "DELETE", &fo) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct ctl_req *q;
		char e[512];

		if (ts[i].done)
			continue;
		q = &fo.reqs[m++];
		if (ctl_result_class(q) == EXIT_ALL_OK) {
			inject_track(&ts[i], q->json);
			fprintf(stderr, "chaosctl: reverted %s on %s\n", ts[i].id, q->agent);
		} else {
			ctl_result_error(q, e, sizeof(e));
			fprintf(stderr, "chaosctl: could not revert %s on %s: %s (it still "
			    "ends at its deadline)\n", ts[i].id, q->agent, e);
		}
	}
out:
	fanout_release(&fo);
}

/* How many faults are still on, and (left) the most seconds one has to go. */
static size_t
count_on(const struct tracked *ts, size_t n, double *left)
{
	size_t i, on = 0;

	*left = 0;
	for (i = 0; i < n; i++) {
		if (ts[i].done)
			continue;
		on++;
		if (ts[i].remaining_ms / 1000 > *left)
			*left = ts[i].remaining_ms / 1000;
	}
	return on;
}

/*
 * Ask each agent about its fault still on and take the answer. Returns 0
 * with the number of agents that did not answer in *unreachable, or an
 * exit code (reported) when none could be asked.
 */
static int
poll_tracked(struct ctl *ctl, struct tracked *ts, size_t n, size_t *unreachable)
{
	struct fanout fo = FANOUT_INIT;
	size_t i, m = 0;
	int r;

	*unreachable = 0;
	if ((r = track_send(ctl, ts, n, "GET", &fo)) == 0) {
		for (i = 0; i < n; i++) {
			if (ts[i].done)
				continue;
			if (ctl_result_class(&fo.reqs[m]) == EXIT_ALL_OK)
				inject_track(&ts[i], fo.reqs[m].json);
			else
				(*unreachable)++;
			m++;
		}
	}
	fanout_release(&fo);
	return r;
}

int
inject_wait(struct ctl *ctl, struct tracked *ts, size_t n, struct alarm_watch *aw)
{
	bool tty = isatty(STDERR_FILENO) && ctl->output == OUT_TEXT, fired = false;
	struct sigaction sa, old_int, old_term;
	char name[256] = "";
	int r = EXIT_ALL_OK;
	double left;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (count_on(ts, n, &left) > 0 && !interrupted) {
		struct timespec half = { 0, 500 * 1000000L };
		size_t on, unreachable;

		if (alarm_watch_fired(aw, name, sizeof(name))) {
			fprintf(stderr, "\nchaosctl: stop alarm %s is in ALARM\n", name);
			fired = true;
			break;
		}
		/* Cannot ask (no memory): the faults still end at their deadlines. */
		if ((r = poll_tracked(ctl, ts, n, &unreachable)) != 0)
			break;
		if ((on = count_on(ts, n, &left)) == 0)
			break;
		if (tty)
			fprintf(stderr, "\r\033[Kwaiting: %zu of %zu fault(s) active, %.0fs "
			    "left%s (Ctrl-C reverts)", on, n, left, unreachable ?
			    ", some agents not answering" : "");
		for (int k = 0; k < 2 && !interrupted; k++)
			(void)nanosleep(&half, NULL);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (interrupted) {
		fprintf(stderr, "chaosctl: interrupted; reverting the faults\n");
		revert_tracked(ctl, ts, n);
		r = EXIT_INTERRUPTED;
	} else if (fired) {
		fprintf(stderr, "chaosctl: reverting the faults\n");
		revert_tracked(ctl, ts, n);
		r = EXIT_SOME_FAILED;
	} else if (r == EXIT_ALL_OK) {
		for (i = 0; i < n; i++)
			if (strcmp(ts[i].state, "failed") == 0)
				r = EXIT_SOME_FAILED;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return r;
}
