/* SPDX-License-Identifier: Apache-2.0 */
/* child.c: forked children with a bounded JSON report (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "err.h"
#include "file.h"
#include "log.h"
#include "util.h"

/* The child: run, report, exit without touching the parent's state. */
static void __attribute__((noreturn))
child_main(const char *name, pid_t parent, int fd, child_fn fn, void *arg)
{
	struct errbuf eb = { "" };
	cJSON *out = NULL, *doc;
	sigset_t none;
	char *text;
	size_t len;
	int rc;

	/* Die with the parent; if it is gone already, do nothing at all. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(72);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	/*
	 * Keep only stdio and the report pipe: not the listening socket, the
	 * worker's socket or the state lock, which must die with the parent.
	 */
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0U, 0);
	(void)prctl(PR_SET_NAME, name);
	log_procinit(name);
	rc = fn(arg, &out, &eb);
	if ((doc = cJSON_CreateObject()) == NULL)
		_exit(70);
	cJSON_AddNumberToObject(doc, "rc", rc);
	if (rc != 0)
		cJSON_AddStringToObject(doc, "error", eb.msg[0] ? eb.msg : err_name(rc));
	if (out != NULL)
		cJSON_AddItemToObject(doc, "out", out);
	if ((text = cJSON_PrintUnformatted(doc)) == NULL)
		_exit(70);
	if ((len = strlen(text)) > CHILD_REPORT_MAX) {
		static const char big[] = "{\"rc\":-11,\"error\":\"the report is too large\"}";

		text = (char *)(uintptr_t)big;
		len = sizeof(big) - 1;
	}
	_exit(file_write_all(fd, text, len) == 0 ? 0 : 71);
}

int
child_spawn(const char *name, child_fn fn, void *arg, pid_t *pid, int *fd,
    struct errbuf *eb)
{
	pid_t parent = getpid(), p;
	int pp[2];

	if (pipe2(pp, O_CLOEXEC) != 0)
		return err_set(eb, CE_SYSTEM, "pipe: %s", strerror(errno));
	/* Flush buffered log lines so the child does not print them twice. */
	(void)fflush(stderr);
	if ((p = fork()) < 0) {
		int e = errno;

		close(pp[0]);
		close(pp[1]);
		return err_set(eb, CE_SYSTEM, "fork: %s", strerror(e));
	}
	if (p == 0) {
		close(pp[0]);
		child_main(name, parent, pp[1], fn, arg);
	}
	close(pp[1]);
	*pid = p;
	*fd = pp[0];
	return 0;
}

int
child_report(const char *buf, size_t len, cJSON **out, struct errbuf *eb)
{
	cJSON *doc;
	const cJSON *rc, *o;
	int code;

	if (out != NULL)
		*out = NULL;
	if (len == 0)
		return err_set(eb, CE_SYSTEM, "the child ended without a report");
	if ((doc = cJSON_ParseWithLength(buf, len)) == NULL ||
	    !cJSON_IsNumber(rc = cJSON_GetObjectItemCaseSensitive(doc, "rc"))) {
		cJSON_Delete(doc);
		return err_set(eb, CE_SYSTEM, "the child sent a malformed report");
	}
	code = (int)rc->valuedouble;
	if (code > 0 || code < -100)
		code = CE_SYSTEM;
	if (code != 0) {
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
		    "error"));

		(void)err_set(eb, code, "%s", e != NULL ? e : err_name(code));
	}
	o = cJSON_GetObjectItemCaseSensitive(doc, "out");
	if (out != NULL && o != NULL)
		*out = cJSON_Duplicate(o, 1);
	cJSON_Delete(doc);
	return code;
}

int
child_wait(pid_t pid, int fd, cJSON **out, struct errbuf *eb)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int st, r;

	if ((buf = malloc(CHILD_REPORT_MAX + 1)) == NULL) {
		close(fd);
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return err_set(eb, CE_NOMEM, "out of memory");
	}
	for (;;) {
		n = read(fd, buf + len, CHILD_REPORT_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((len += (size_t)n) > CHILD_REPORT_MAX)
			break;
	}
	close(fd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (len > CHILD_REPORT_MAX)
		r = err_set(eb, CE_SYSTEM, "the child's report is too large");
	else
		r = child_report(buf, len, out, eb);
	free(buf);
	return r;
}
