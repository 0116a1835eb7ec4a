/* SPDX-License-Identifier: Apache-2.0 */
/* log.c: JSON-lines or plain-text logging to stderr, bounded per line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "util.h"

#define LOG_MSG_MAX 1024

static const char *log_proc = "chaos";
static enum log_format log_fmt = LOG_FMT_TEXT;
static enum log_level log_lvl = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *proc, enum log_format fmt, enum log_level level)
{
	log_proc = proc;
	log_fmt = fmt;
	log_lvl = level;
}

void
log_procinit(const char *proc)
{
	log_proc = proc;
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < NELEM(level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Emit one JSON line: the standard keys first (so lines read well in a
 * terminal), then a copy of every member of fields (borrowed).
 */
static void
emit_json(enum log_level level, const cJSON *fields)
{
	char ts[32], *line;
	cJSON *obj, *it;
	size_t n;

	if ((obj = cJSON_CreateObject()) == NULL)
		return;
	fmt_rfc3339(wall_ms(), ts, sizeof(ts));
	cJSON_AddStringToObject(obj, "ts", ts);
	cJSON_AddStringToObject(obj, "level", level_names[level]);
	cJSON_AddStringToObject(obj, "proc", log_proc);
	cJSON_ArrayForEach(it, fields)
		cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
	line = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (line == NULL)
		return;
	/* One write per line keeps the lines of parent and worker whole. */
	n = strlen(line);
	line[n] = '\n';
	(void)!write(STDERR_FILENO, line, n + 1);
	free(line);
}

static void
vlog(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	int n;

	if (level > log_lvl)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		(void)snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	if (log_fmt == LOG_FMT_TEXT) {
		(void)fprintf(stderr, "%s: %s%s\n", log_proc,
		    level == LOG_LVL_WARN ? "warning: " :
		    level == LOG_LVL_ERROR ? "error: " : "", msg);
		return;
	} else {
		cJSON *obj = cJSON_CreateObject();

		if (obj == NULL)
			return;
		cJSON_AddStringToObject(obj, "msg", msg);
		emit_json(level, obj);
		cJSON_Delete(obj);
	}
}

#define LOGFN(name, level, useerr)                              \
	void name(const char *fmt, ...)                         \
	{                                                       \
		int saved = errno;                              \
		va_list ap;                                     \
		va_start(ap, fmt);                              \
		vlog(level, (useerr) ? saved : 0, fmt, ap);     \
		va_end(ap);                                     \
		errno = saved;                                  \
	}

LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_event(enum log_level level, const char *event, const cJSON *fields)
{
	cJSON *obj;

	if (level > log_lvl)
		return;
	if ((obj = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(obj, "event", event);
	if (fields != NULL) {
		const cJSON *it;

		cJSON_ArrayForEach(it, fields)
			cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
	}
	if (log_fmt == LOG_FMT_JSON) {
		emit_json(level, obj);
	} else {
		char *s = cJSON_PrintUnformatted(obj);

		if (s != NULL) {
			(void)fprintf(stderr, "%s: %s\n", log_proc, s);
			free(s);
		}
	}
	cJSON_Delete(obj);
}
