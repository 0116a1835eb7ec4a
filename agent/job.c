/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.c: forked children for blocking work. The result travels as
 * {"rc":N,"error":"...","out":...} over a pipe; end of file on the pipe
 * completes the job, whether the child finished, crashed or was killed
 * at its deadline. The parent reaps job children with everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"

struct job {
	char what[48];
	pid_t pid;
	int fd;
	int64_t deadline;
	bool killed;
	char *buf;
	size_t len, cap;
	bool overflow;
	job_done done;
	void *ctx;
};

static struct job jobs[JOB_MAX];
static size_t njobs;

/* The child: run, report, exit without touching the parent's state. */
static void __attribute__((noreturn))
job_child(int fd, job_fn fn, void *arg)
{
	struct errbuf eb = { "" };
	cJSON *out = NULL, *doc;
	char *text;
	sigset_t none;
	int rc;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/*
	 * Keep only stdio and the result pipe: not the listening socket, the
	 * worker's socket or the state lock (which must die with the parent).
	 */
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0U, 0);
	log_procinit("job");
	rc = fn(arg, &out, &eb);
	doc = cJSON_CreateObject();
	if (doc == NULL)
		_exit(70);
	cJSON_AddNumberToObject(doc, "rc", rc);
	if (rc != 0)
		cJSON_AddStringToObject(doc, "error", eb.msg[0] ? eb.msg : err_name(rc));
	if (out != NULL)
		cJSON_AddItemToObject(doc, "out", out);
	if ((text = cJSON_PrintUnformatted(doc)) == NULL)
		_exit(70);
	{
		size_t len = strlen(text), off = 0;

		if (len > JOB_OUTPUT_MAX) {
			static const char big[] = "{\"rc\":-1,\"error\":\"job result too large\"}";

			text = (char *)(uintptr_t)big;
			len = sizeof(big) - 1;
		}
		while (off < len) {
			ssize_t w = write(fd, text + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(71);
			off += (size_t)w;
		}
	}
	_exit(0);
}

int
job_start(const char *what, job_fn fn, void *arg, int64_t timeout_ms, job_done done,
    void *ctx, struct errbuf *eb)
{
	struct job *j;
	int p[2];
	pid_t pid;

	if (njobs == JOB_MAX)
		return err_set(eb, CE_BUSY, "%d background jobs are running already; "
		    "retry shortly", JOB_MAX);
	if (pipe2(p, O_CLOEXEC) != 0)
		return err_set(eb, CE_SYSTEM, "pipe: %s", strerror(errno));
	/* Flush our buffered log lines so the child does not print them twice. */
	(void)fflush(stderr);
	if ((pid = fork()) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return err_set(eb, CE_SYSTEM, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		close(p[0]);
		job_child(p[1], fn, arg);
	}
	close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	(void)str_copy(j->what, sizeof(j->what), what);
	j->pid = pid;
	j->fd = p[0];
	j->deadline = mono_ms() + timeout_ms;
	j->done = done;
	j->ctx = ctx;
	log_debug("job %d started: %s", (int)pid, what);
	return 0;
}

size_t
job_pollfds(struct pollfd *pfd)
{
	size_t i;

	for (i = 0; i < njobs; i++) {
		pfd[i].fd = jobs[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return njobs;
}

/* Finish job i: parse what it said, remove it, then tell its owner. */
static void
job_finish(size_t i)
{
	struct job j = jobs[i];
	cJSON *doc = NULL;
	const cJSON *rc;
	const char *err = NULL;
	int code = CE_SYSTEM;

	close(j.fd);
	jobs[i] = jobs[--njobs];
	if (j.killed) {
		err = "timed out";
		code = CE_BUSY;
	} else if (j.overflow) {
		err = "job result too large";
	} else if (j.len == 0) {
		err = "job ended without a result";
	} else if ((doc = cJSON_ParseWithLength(j.buf, j.len)) == NULL ||
	    !cJSON_IsNumber(rc = cJSON_GetObjectItemCaseSensitive(doc, "rc"))) {
		err = "job sent a malformed result";
	} else {
		code = (int)rc->valuedouble;
		err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "error"));
	}
	log_debug("job %d (%s) ended: %s", (int)j.pid, j.what, code ? err_name(code) : "ok");
	j.done(j.ctx, code, err != NULL ? err : "", code == 0 && doc != NULL ?
	    cJSON_GetObjectItemCaseSensitive(doc, "out") : NULL);
	cJSON_Delete(doc);
	free(j.buf);
}

void
job_dispatch(const struct pollfd *pfd, size_t n)
{
	size_t i;
	int k;

	/* Completing a job reorders jobs[]: match by descriptor, from the end. */
	for (k = (int)n - 1; k >= 0; k--) {
		struct job *j = NULL;
		bool eof = false;

		if (pfd[k].revents == 0)
			continue;
		for (i = 0; i < njobs; i++)
			if (jobs[i].fd == pfd[k].fd) {
				j = &jobs[i];
				break;
			}
		if (j == NULL)
			continue;
		for (;;) {
			char tmp[16384];
			ssize_t r = read(j->fd, tmp, sizeof(tmp));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r <= 0) {
				eof = true;
				break;
			}
			if (j->overflow || j->len + (size_t)r > JOB_OUTPUT_MAX) {
				j->overflow = true;
				continue;
			}
			if (j->len + (size_t)r > j->cap) {
				size_t cap = j->cap ? j->cap : 4096;
				char *nb;

				while (cap < j->len + (size_t)r)
					cap *= 2;
				if ((nb = realloc(j->buf, cap)) == NULL) {
					j->overflow = true;
					continue;
				}
				j->buf = nb;
				j->cap = cap;
			}
			memcpy(j->buf + j->len, tmp, (size_t)r);
			j->len += (size_t)r;
		}
		if (eof)
			job_finish(i);
	}
}

void
job_expire(int64_t now)
{
	size_t i;

	for (i = 0; i < njobs; i++)
		if (!jobs[i].killed && jobs[i].deadline <= now) {
			log_warnx("job %d (%s) passed its deadline: killing it",
			    (int)jobs[i].pid, jobs[i].what);
			(void)kill(jobs[i].pid, SIGKILL);
			jobs[i].killed = true;
		}
}

int64_t
job_next_deadline(void)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; i < njobs; i++)
		if (!jobs[i].killed && (next < 0 || jobs[i].deadline < next))
			next = jobs[i].deadline;
	return next;
}

size_t
job_count(void)
{
	return njobs;
}
