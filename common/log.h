/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h: structured logging to stderr. The agent writes one JSON object per
 * line ({"ts","level","proc","msg",...}); chaosctl writes plain
 * "chaosctl: message" lines for people. Module code returns errors and the
 * caller logs once; nothing here ever receives a key, signature or body.
 */
#ifndef CHAOS_LOG_H
#define CHAOS_LOG_H

#include <stdarg.h>

struct cJSON;

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_JSON, LOG_FMT_TEXT };

/* Set the process tag, output format and verbosity. */
void log_init(const char *proc, enum log_format fmt, enum log_level level);

/* Change only the process tag (after fork: "worker", "burner"). */
void log_procinit(const char *proc);

/* Parse "error|warn|info|debug"; returns -1 when unknown. */
int log_level_parse(const char *s);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Write one structured event: the JSON object fields (borrowed, may be
 * NULL) gains "ts", "level", "proc" and "event". Used for audit records.
 */
void log_event(enum log_level level, const char *event, const struct cJSON *fields);

#endif
