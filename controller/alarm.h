/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alarm.h: CloudWatch alarms as stop conditions (--stop-alarm NAME): a run
 * does not start while one is in ALARM, and stops, reverting its faults
 * (ledger.h), when one fires.
 */
#ifndef CHAOS_CTL_ALARM_H
#define CHAOS_CTL_ALARM_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The poll of a watch that is running: once mono_ms() reaches *next_poll,
 * refresh temporary credentials, check the alarms and set *next_poll
 * ALARM_POLL_MS ahead. Returns 1 when one is in ALARM (its
 * name in fired), 0 when none is or it is not time yet, or a CE_* code
 * with eb set (the next poll tries again).
 */
int alarms_poll(struct aws *a, const char *const *names, size_t n, int64_t *next_poll,
    char *fired, size_t len, struct errbuf *eb);

#endif
