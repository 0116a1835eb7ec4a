/* SPDX-License-Identifier: Apache-2.0 */
/* proc.h: reading facts about processes from /proc. */
#ifndef CHAOS_FAULTS_PROC_H
#define CHAOS_FAULTS_PROC_H

#include <stdint.h>
#include <sys/types.h>

/*
 * The start time of pid in clock ticks since boot (field 22 of
 * /proc/<pid>/stat). Together with the pid it names one process for good,
 * so a recorded pid is never confused with a reused one. Returns 0 or
 * CE_NOT_FOUND when the process is gone.
 */
int proc_starttime(pid_t pid, uint64_t *out);

/*
 * Send sig to pid only if it is still the process that started at
 * starttime. Returns 0 when signalled, CE_NOT_FOUND when it is gone or was
 * replaced, CE_SYSTEM otherwise.
 */
int proc_kill_exact(pid_t pid, uint64_t starttime, int sig);

#endif
