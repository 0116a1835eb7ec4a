/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alarm.h: CloudWatch alarms as stop conditions (--stop-alarm NAME): a run
 * does not start while one is in ALARM, and stops, reverting its faults
 * (ledger.h), when one fires.
 */
#ifndef CHAOS_CTL_ALARM_H
#define CHAOS_CTL_ALARM_H

#include <stddef.h>

struct aws;
struct errbuf;

#define ALARMS_MAX 32
#define ALARM_POLL_MS 5000

/*
 * Look the alarms up. Returns 0 when none is in ALARM, 1 when one is (its
 * name in fired), or a CE_* code (CE_NOT_FOUND for an alarm that does not
 * exist) with eb set.
 */
int alarms_check(const struct aws *a, const char *const *names, size_t n, char *fired,
    size_t len, struct errbuf *eb);

#endif
