/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alarm.h: CloudWatch alarms as stop conditions (--stop-alarm NAME, for
 * inject and run): nothing starts while one is in ALARM, and what runs is
 * stopped, its faults reverted, when one fires. Functions that can fail
 * report the error (ctl_error) and return an exit code.
 */
#ifndef CHAOS_CTL_ALARM_H
#define CHAOS_CTL_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws.h"

#define ALARMS_MAX 32
#define ALARM_POLL_MS 5000

/* A command's stop alarms; zero it before use. None: n is 0. */
struct alarm_watch {
	const char *names[ALARMS_MAX];	/* borrowed (argv) */
	size_t n;
	struct aws aws;			/* set by alarm_watch_start */
	int64_t next_poll;		/* mono_ms() of the next poll */
};

/* Add one --stop-alarm NAME. Returns 0 or EXIT_USAGE (reported). */
int alarm_watch_add(struct alarm_watch *w, const char *name);

/*
 * Before anything starts: find AWS and look the alarms up once. Returns 0
 * when none is in ALARM (or there are none), the watch then armed;
 * EXIT_SOME_FAILED when one is ("not starting"); EXIT_USAGE for an alarm
 * that does not exist; EXIT_TRANSPORT when AWS could not be asked.
 */
int alarm_watch_start(struct alarm_watch *w, const char *region, const char *endpoint);

/*
 * While it runs: once ALARM_POLL_MS have passed since the last look,
 * refresh temporary credentials and look again. Returns true when an
 * alarm is in ALARM, its name in fired. A failed look is said on stderr
 * and the next poll tries again.
 */
bool alarm_watch_fired(struct alarm_watch *w, char *fired, size_t len);

#endif
