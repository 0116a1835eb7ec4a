/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priv.c: the parent's event loop. One thread, one poll() over: the
 * worker's socket (requests), a signalfd (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD), a timerfd armed at the earliest fault deadline, revert retry,
 * job deadline or worker restart, and the pipes of running jobs. It
 * supervises the worker (start, restart with backoff, kill on a bad
 * message), reaps children, and hands requests to api.c and time and
 * children to life.c. Each step is bounded work, so a revert is never
 * queued behind anything slow.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "api.h"
#include "config.h"
#include "job.h"
#include "life.h"
#include "metrics.h"
#include "nonce.h"
#include "notify.h"
#include "priv.h"
#include "proto.h"
#include "registry.h"
#include "worker.h"
#include "../common/err.h"
#include "../common/jsoncheck.h"
#include "../common/log.h"
#include "../common/util.h"

#define RESTART_BURST 5		/* worker restarts allowed ... */
#define RESTART_WINDOW_MS 10000	/* ... within this window before backing off */
#define RESTART_BACKOFF_MS 1000
#define SHUTDOWN_GRACE_MS 30000	/* how long shutdown waits for revert jobs */

struct parent {
	const struct priv_args *args;
	const struct config *cfg;
	struct registry *reg;
	int sigfd, timerfd;
	pid_t worker_pid;
	int worker_fd;
	unsigned worker_gen;	/* bumped per worker: stale answers are dropped */
	int64_t restart_at;	/* mono ms when a delayed restart is due, or 0 */
	int64_t burst_start;
	int burst;
	bool ready;		/* the service manager was told */
	char *ipcbuf;
	struct nonce_cache *nonces;	/* replay cache: outlives every worker */
};

static struct parent P;

static void
kill_worker(const char *why)
{
	if (P.worker_pid > 0) {
		log_warnx("killing worker %d: %s", (int)P.worker_pid, why);
		(void)kill(P.worker_pid, SIGKILL);
	}
	if (P.worker_fd >= 0) {
		close(P.worker_fd);
		P.worker_fd = -1;
	}
}

/* answer.h's sender: to the worker that asked, if it still lives. */
static void
send_to_worker(uint32_t seq, unsigned gen, struct reply *rp)
{
	if (gen == P.worker_gen && P.worker_fd >= 0 &&
	    proto_send(P.worker_fd, MSG_RESPONSE, seq,
	    (uint32_t)rp->status | (uint32_t)rp->ctype << 16, rp->body,
	    rp->body != NULL ? strlen(rp->body) : 0) != 0)
		kill_worker("cannot send the response");
}

static void
arm_timer(void)
{
	struct itimerspec its;
	int64_t next = life_next_due(), jn = job_next_deadline();

	if (jn >= 0 && (next < 0 || jn < next))
		next = jn;
	if (P.restart_at != 0 && (next < 0 || P.restart_at < next))
		next = P.restart_at;
	memset(&its, 0, sizeof(its));
	if (next >= 0) {
		/* An absolute time of zero would disarm: never ask for it. */
		if (next < 1)
			next = 1;
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (next % 1000) * 1000000;
	}
	if (timerfd_settime(P.timerfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		log_warn("timerfd_settime");
}


/* A worker serves: the first time, the agent is ready. */
static void
worker_ready(void)
{
	char status[320];

	if (P.ready)
		return;
	P.ready = true;
	(void)snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s",
	    P.args->bound);
	if (notify_send(status) != 0)
		log_warn("cannot notify the service manager");
	log_info("ready: serving on %s", P.args->bound);
}

static void
handle_stat(const struct proto_msg *m)
{
	cJSON *o = cJSON_ParseWithLength(m->payload, m->len);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const char *af = field_str(o, "auth_failure");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ready"))) {
		cJSON_Delete(o);
		worker_ready();
		return;
	}
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "cut"))) {
		const cJSON *cut = cJSON_GetObjectItemCaseSensitive(o, "cut");
		double ev = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cut,
		    "evicted")), to = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(cut, "timed_out"));

		if (!(ev >= 0 && ev < 1e9 && to >= 0 && to < 1e9)) {
			cJSON_Delete(o);
			kill_worker("malformed stat message");
			return;
		}
		metrics_connections_cut((uint64_t)ev, (uint64_t)to);
		cJSON_Delete(o);
		return;
	}
	if (!cJSON_IsNumber(st)) {
		cJSON_Delete(o);
		kill_worker("malformed stat message");
		return;
	}
	metrics_request((int)st->valuedouble);
	if (af != NULL)
		metrics_auth_failure(af);
	cJSON_Delete(o);
}

static void
worker_readable(void)
{
	struct proto_msg m;
	int r = proto_recv(P.worker_fd, P.ipcbuf, &m);

	if (r == CE_NOT_FOUND) {
		close(P.worker_fd);
		P.worker_fd = -1;
		return;
	}
	if (r != 0) {
		kill_worker(r == CE_TOO_LARGE ? "oversized message" : "invalid message");
		return;
	}
	switch (m.type) {
	case MSG_REQUEST:
		if (api_request(m.payload, m.len, m.seq, P.worker_gen) != 0)
			kill_worker("malformed request message");
		arm_timer();
		break;
	case MSG_STAT:
		handle_stat(&m);
		break;
	default:
		kill_worker("unexpected message type");
	}
}

/* Close every descriptor but 0-2 and keep[]; keep must be sorted. */
static void
close_except(const int *keep, size_t n)
{
	unsigned lo = 3;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			(void)close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	(void)close_range(lo, ~0U, 0);
}

static void
start_worker(void)
{
	struct worker_args wa;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair");
		P.restart_at = mono_ms() + RESTART_BACKOFF_MS;
		return;
	}
	memset(&wa, 0, sizeof(wa));
	wa.listen_fd = P.args->listen_fd;
	wa.parent_fd = sv[1];
	wa.cfg = P.cfg;
	wa.keys = P.args->keys;
	wa.nkeys = P.args->nkeys;
	wa.drop = P.args->drop;
	wa.uid = P.args->uid;
	wa.gid = P.args->gid;
	if ((pid = fork()) < 0) {
		log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		P.restart_at = mono_ms() + RESTART_BACKOFF_MS;
		return;
	}
	if (pid == 0) {
		sigset_t none;
		int keep[2];

		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		keep[0] = wa.listen_fd < wa.parent_fd ? wa.listen_fd : wa.parent_fd;
		keep[1] = wa.listen_fd < wa.parent_fd ? wa.parent_fd : wa.listen_fd;
		close_except(keep, 2);
		worker_main(&wa);
	}
	close(sv[1]);
	P.worker_gen++;
	P.worker_pid = pid;
	P.worker_fd = sv[0];
	P.restart_at = 0;
	log_info("worker %d started", (int)pid);
}

static void
schedule_restart(void)
{
	int64_t now = mono_ms();

	if (now - P.burst_start > RESTART_WINDOW_MS) {
		P.burst_start = now;
		P.burst = 0;
	}
	metrics_worker_restart();
	if (++P.burst > RESTART_BURST) {
		log_warnx("worker restarting too often; next start in %d ms",
		    RESTART_BACKOFF_MS);
		P.restart_at = now + RESTART_BACKOFF_MS;
		arm_timer();
		return;
	}
	start_worker();
}

static void
reap(bool stopping)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == P.worker_pid) {
			if (WIFSIGNALED(status))
				log_warnx("worker %d killed by signal %d (%s)", (int)pid,
				    WTERMSIG(status), sigabbrev_np(WTERMSIG(status)) ?
				    sigabbrev_np(WTERMSIG(status)) : "?");
			else
				log_warnx("worker %d exited with status %d", (int)pid,
				    WEXITSTATUS(status));
			P.worker_pid = -1;
			if (P.worker_fd >= 0) {
				close(P.worker_fd);
				P.worker_fd = -1;
			}
			if (!stopping)
				schedule_restart();
			continue;
		}
		(void)life_child_exited(pid, status);
	}
}

static void
expire_due(void)
{
	int64_t now = mono_ms();

	life_expire(now);
	job_expire(now);
	if (P.restart_at != 0 && P.restart_at <= now && P.worker_pid < 0)
		start_worker();
	arm_timer();
}

int
priv_run(const struct priv_args *args)
{
	sigset_t mask;
	struct signalfd_siginfo si;
	bool stopping = false;
	int64_t stop_deadline = 0;

	memset(&P, 0, sizeof(P));
	P.args = args;
	P.cfg = args->cfg;
	P.worker_pid = -1;
	P.worker_fd = -1;
	if ((P.reg = registry_new((size_t)P.cfg->max_faults, (size_t)P.cfg->history)) == NULL ||
	    (P.ipcbuf = malloc(PROTO_BUF_SIZE)) == NULL ||
	    (P.nonces = nonce_new((size_t)P.cfg->nonce_cache, 2 * P.cfg->auth_window)) == NULL)
		fatalx("out of memory");
	{
		struct errbuf eb = { "" };
		int64_t now = wall_ms() / 1000, not_before = 0;
		int r = nonce_journal_open(P.nonces, P.cfg->state_dir, now, &eb);

		if (r == CE_INVALID) {
			/* Whatever it held may have been accepted up to one window ahead. */
			not_before = now + P.cfg->auth_window;
			log_warnx("%s", eb.msg);
		} else if (r != 0) {
			fatalx("%s", eb.msg);
		} else if (nonce_count(P.nonces) > 0) {
			log_info("replay cache: %zu nonce(s) of the last %lld s remembered "
			    "from the journal", nonce_count(P.nonces),
			    (long long)(2 * P.cfg->auth_window));
		}
		api_init(P.cfg, P.reg, P.nonces, not_before);
	}
	answer_set_sender(send_to_worker);
	life_init(P.cfg, P.reg, arm_timer);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("sigprocmask");
	(void)signal(SIGPIPE, SIG_IGN);
	if ((P.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fatal("signalfd");
	if ((P.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0)
		fatal("timerfd_create");
	life_recover(args->leftovers);
	cJSON_Delete(args->leftovers);
	arm_timer();
	start_worker();
	for (;;) {
		struct pollfd pfd[3 + JOB_MAX] = {
			{ .fd = P.sigfd, .events = POLLIN },
			{ .fd = P.timerfd, .events = POLLIN },
			{ .fd = P.worker_fd, .events = POLLIN },
		};
		size_t njob = job_pollfds(&pfd[3]);
		int timeout = -1;

		if (stopping) {
			int64_t left = stop_deadline - mono_ms();

			if (job_count() == 0)
				break;
			if (left <= 0) {
				log_warnx("%zu reverts did not finish in time; the state file "
				    "keeps them for the next start or --revert-all", job_count());
				break;
			}
			timeout = (int)left;
		}
		if (poll(pfd, 3 + njob, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t ticks;

			(void)!read(P.timerfd, &ticks, sizeof(ticks));
			expire_due();
		}
		if (P.worker_fd >= 0 && pfd[2].revents != 0)
			worker_readable();
		job_dispatch(&pfd[3], njob);
		while (read(P.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGCHLD:
				reap(stopping);
				break;
			case SIGHUP:
				log_info("SIGHUP ignored: restart the agent to change its "
				    "configuration");
				break;
			default:
				if (stopping)
					break;
				log_info("signal %d: reverting every fault and stopping",
				    (int)si.ssi_signo);
				stopping = true;
				(void)notify_send("STOPPING=1\nSTATUS=reverting every fault");
				/* Stop serving first, then undo everything. */
				if (P.worker_pid > 0) {
					(void)kill(P.worker_pid, SIGKILL);
					(void)waitpid(P.worker_pid, NULL, 0);
					P.worker_pid = -1;
				}
				if (P.worker_fd >= 0) {
					close(P.worker_fd);
					P.worker_fd = -1;
				}
				stop_deadline = mono_ms() + SHUTDOWN_GRACE_MS;
				life_end_all("shutdown");
			}
		}
		/* The worker slot stays in pfd[2]; a closed one is skipped by fd -1. */
	}
	reap(true);
	registry_free(P.reg);
	nonce_free(P.nonces);
	life_release();
	free(P.ipcbuf);
	log_info("stopped");
	return 0;
}
