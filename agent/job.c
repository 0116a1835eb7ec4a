/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.c: forked children for blocking work (common/child.h: they die with
 * the parent and report one bounded JSON document). End of file on the
 * report pipe completes the job, whether the child finished, crashed or
 * was killed at its deadline. The parent reaps job children with
 * everything else.
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
#include "../common/child.h"
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

int
job_start(const char *what, job_fn fn, void *arg, int64_t timeout_ms, job_done done,
    void *ctx, struct errbuf *eb)
{
	struct job *j;
	pid_t pid;
	int fd;

	if (njobs == JOB_MAX)
		return err_set(eb, CE_BUSY, "%d background jobs are running already; "
		    "retry shortly", JOB_MAX);
	if (child_spawn("chaos-job", fn, arg, &pid, &fd, eb) != 0)
		return CE_SYSTEM;
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	(void)str_copy(j->what, sizeof(j->what), what);
	j->pid = pid;
	j->fd = fd;
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
	struct errbuf eb = { "" };
	cJSON *out = NULL;
	int code = CE_SYSTEM;

	close(j.fd);
	jobs[i] = jobs[--njobs];
	if (j.killed) {
		code = err_set(&eb, CE_BUSY, "timed out");
	} else if (j.overflow) {
		(void)err_set(&eb, CE_SYSTEM, "job result too large");
	} else {
		code = child_report(j.buf, j.len, &out, &eb);
	}
	log_debug("job %d (%s) ended: %s", (int)j.pid, j.what, code ? err_name(code) : "ok");
	/* A failed job's document still tells what it changed (a commit's record). */
	j.done(j.ctx, code, eb.msg, out);
	cJSON_Delete(out);
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
			if (j->overflow || j->len + (size_t)r > CHILD_REPORT_MAX) {
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
