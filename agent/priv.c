/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priv.c: the parent's event loop. One thread, one poll() over: the
 * worker's socket (requests), a signalfd (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD) and a timerfd armed at the earliest fault deadline. Each
 * backend slot is bounded work, so a revert is never queued behind
 * anything slow.
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

#include "auth.h"
#include "config.h"
#include "job.h"
#include "metrics.h"
#include "nonce.h"
#include "notify.h"
#include "priv.h"
#include "proto.h"
#include "registry.h"
#include "route.h"
#include "state.h"
#include "worker.h"
#include "../common/err.h"
#include "../common/jsoncheck.h"
#include "../common/log.h"
#include "../common/sign.h"
#include "../common/util.h"
#include "../faults/docker/docker.h"

#ifndef CHAOS_VERSION
#define CHAOS_VERSION "0.0.0-dev"
#endif

#define RESTART_BURST 5		/* worker restarts allowed ... */
#define RESTART_WINDOW_MS 10000	/* ... within this window before backing off */
#define RESTART_BACKOFF_MS 1000
#define SHUTDOWN_GRACE_MS 30000	/* how long shutdown waits for revert jobs */

struct reply {
	int status;
	enum proto_ctype ctype;
	char *body;		/* malloc'd */
	bool deferred;		/* the handler answers later, through a pending */
};

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
	int64_t started_ms;
	bool ready;		/* the service manager was told */
	char *ipcbuf;
	struct nonce_cache *nonces;	/* replay cache: outlives every worker */
	cJSON *keep;		/* state file entries this build cannot handle */
	int64_t not_before;	/* with a lost journal: refuse ts up to this */
};

static struct parent P;

/* The request fields every handler may use; strings borrowed from req. */
struct call {
	const cJSON *req;
	const char *id;
	const char *state;
	const char *remote;
	const char *key_id;
	uint32_t seq;
	unsigned gen;
};

/* A request answered after a job: who asked, and where the answer goes. */
struct pending {
	uint32_t seq;
	unsigned gen;
	char remote[64];
	char key_id[40];
	char fault_id[FAULT_ID_MAX];
	cJSON *dry;		/* a dry run's target lookup, answered at the end */
};

/* DELETE /v1/faults waits for every revert it started. */
struct group {
	struct pending pd;
	int remaining;
	cJSON *doc;
};

/* One request waiting for a fault to end. */
struct waiter {
	struct pending pd;
	struct group *grp;	/* or NULL: answer with the fault itself */
	struct waiter *next;
};

static struct pending *
pending_new(const struct call *c, const char *fault_id)
{
	struct pending *pd = calloc(1, sizeof(*pd));

	if (pd == NULL)
		return NULL;
	pd->seq = c->seq;
	pd->gen = c->gen;
	(void)str_copy(pd->remote, sizeof(pd->remote), c->remote);
	(void)str_copy(pd->key_id, sizeof(pd->key_id), c->key_id);
	if (fault_id != NULL)
		(void)str_copy(pd->fault_id, sizeof(pd->fault_id), fault_id);
	return pd;
}

static void
pending_free(struct pending *pd)
{
	if (pd == NULL)
		return;
	cJSON_Delete(pd->dry);
	free(pd);
}

/* The audit identity of a pending request. */
static struct call
pending_call(const struct pending *pd)
{
	struct call c;

	memset(&c, 0, sizeof(c));
	c.remote = pd->remote;
	c.key_id = pd->key_id;
	c.seq = pd->seq;
	c.gen = pd->gen;
	return c;
}

static void
reply_json(struct reply *rp, int status, cJSON *doc)
{
	rp->status = status;
	rp->ctype = PROTO_CT_JSON;
	rp->body = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	if (rp->body == NULL) {
		rp->status = 500;
		rp->body = strdup("{\"error\":{\"code\":\"out_of_memory\","
		    "\"message\":\"out of memory\"}}");
	}
}

static void
reply_error(struct reply *rp, int code, const char *msg)
{
	cJSON *doc = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(doc, "error");

	cJSON_AddStringToObject(e, "code", err_name(code));
	cJSON_AddStringToObject(e, "message", msg);
	reply_json(rp, err_http_status(code), doc);
}

static void kill_worker(const char *why);

/* Send rp (and free its body) to the worker that asked, if it still lives. */
static void
send_reply(uint32_t seq, unsigned gen, struct reply *rp)
{
	if (rp->body == NULL)
		reply_error(rp, CE_NOMEM, "out of memory");
	metrics_request(rp->status);
	if (gen == P.worker_gen && P.worker_fd >= 0 &&
	    proto_send(P.worker_fd, MSG_RESPONSE, seq,
	    (uint32_t)rp->status | (uint32_t)rp->ctype << 16, rp->body,
	    rp->body != NULL ? strlen(rp->body) : 0) != 0)
		kill_worker("cannot send the response");
	free(rp->body);
	rp->body = NULL;
}

static void
pending_json(const struct pending *pd, int status, cJSON *doc)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };

	reply_json(&rp, status, doc);
	send_reply(pd->seq, pd->gen, &rp);
}

static void
pending_error(const struct pending *pd, int code, const char *msg)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };

	reply_error(&rp, code, msg);
	send_reply(pd->seq, pd->gen, &rp);
}

/* One audit record per mutating request: who, what, outcome. */
static void
audit(const struct call *c, const char *action, const struct fault *f, int status,
    const char *error)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddStringToObject(o, "remote", c != NULL ? c->remote : "agent");
	cJSON_AddStringToObject(o, "key_id", c != NULL ? c->key_id : "");
	if (f != NULL) {
		cJSON_AddStringToObject(o, "fault_id", f->id);
		cJSON_AddStringToObject(o, "type", f->req.spec->name);
		cJSON_AddNumberToObject(o, "duration", (double)f->req.duration);
		cJSON_AddItemToObject(o, "params", fault_req_params_json(&f->req));
		if (f->targets != NULL)
			cJSON_AddItemToObject(o, "targets", cJSON_Duplicate(f->targets, 1));
		cJSON_AddStringToObject(o, "state", fault_state_name(f->state));
	}
	cJSON_AddNumberToObject(o, "status", status);
	if (error != NULL && error[0] != '\0')
		cJSON_AddStringToObject(o, "error", error);
	log_event(LOG_LVL_INFO, "audit", o);
	cJSON_Delete(o);
}

static void
arm_timer(void)
{
	struct itimerspec its;
	int64_t next = registry_next_deadline(P.reg), jn = job_next_deadline();

	if (jn >= 0 && (next < 0 || jn < next))
		next = jn;
	if (P.restart_at != 0 && (next < 0 || P.restart_at < next))
		next = P.restart_at;
	{
		struct fault **all;
		size_t i, n;

		all = registry_all(P.reg, &n);
		for (i = 0; i < n; i++)
			if (all[i]->state == FAULT_REVERT_FAILED && !all[i]->busy &&
			    (next < 0 || all[i]->retry_mono < next))
				next = all[i]->retry_mono;
	}
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

static void
save_state(void)
{
	struct errbuf eb = { "" };

	if (state_save(P.cfg->state_dir, P.reg, P.keep, &eb) != 0)
		log_warnx("state file not updated: %s", eb.msg);
}

static void
waiters_add(struct fault *f, const struct pending *pd, struct group *grp)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		if (grp != NULL)
			grp->remaining--;
		else
			pending_error(pd, CE_NOMEM, "out of memory");
		return;
	}
	w->pd = *pd;
	w->grp = grp;
	w->next = f->waiters;
	f->waiters = w;
}

static void
group_done(struct group *g)
{
	const cJSON *failed;
	int status = 200;

	if (--g->remaining > 0)
		return;
	/* Some revert failed: the kill switch says so, as an error. */
	failed = cJSON_GetObjectItemCaseSensitive(g->doc, "failed");
	if (cJSON_GetArraySize(failed) > 0) {
		cJSON *e = cJSON_AddObjectToObject(g->doc, "error");
		char m[160];

		(void)snprintf(m, sizeof(m), "%d fault(s) could not be reverted (see "
		    "\"failed\"); the agent keeps retrying them", cJSON_GetArraySize(failed));
		cJSON_AddStringToObject(e, "code", err_name(CE_SYSTEM));
		cJSON_AddStringToObject(e, "message", m);
		status = err_http_status(CE_SYSTEM);
	}
	pending_json(&g->pd, status, g->doc);
	free(g);
}

/* The error a waiter gets for a fault whose revert failed. */
static void
revert_failed_message(const struct fault *f, char *buf, size_t len)
{
	(void)snprintf(buf, len, "fault %s: %s", f->id, f->error);
}

/* The fault ended: answer everyone who waited for it. */
static void
waiters_wake(struct fault *f)
{
	struct waiter *w = f->waiters, *next;

	f->waiters = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		if (w->grp != NULL) {
			if (f->state == FAULT_REVERT_FAILED) {
				cJSON *arr = cJSON_GetObjectItemCaseSensitive(w->grp->doc,
				    "failed"), *o;

				if (arr == NULL)
					arr = cJSON_AddArrayToObject(w->grp->doc, "failed");
				if ((o = cJSON_CreateObject()) != NULL) {
					cJSON_AddStringToObject(o, "id", f->id);
					cJSON_AddStringToObject(o, "error", f->error);
					cJSON_AddItemToArray(arr, o);
				}
			}
			group_done(w->grp);
		} else if (f->state == FAULT_REVERT_FAILED) {
			char m[ERRBUF_MAX + 64];

			revert_failed_message(f, m, sizeof(m));
			pending_error(&w->pd, CE_SYSTEM, m);
		} else {
			pending_json(&w->pd, 200, registry_fault_json(f));
		}
		free(w);
	}
}

/* Backoff between revert attempts: 1 s, doubling, at most a minute. */
static int64_t
retry_delay_ms(int attempts)
{
	int64_t d = 1000;

	while (--attempts > 0 && d < 60000)
		d *= 2;
	return d < 60000 ? d : 60000;
}

/*
 * A revert failed: the fault may still act, so it stays (state
 * revert_failed, its record in the state file) and is tried again with
 * backoff, on DELETE, and at shutdown, until a revert succeeds.
 */
static void
revert_failed(struct fault *f, enum fault_state state, const char *reason,
    const char *err, const struct call *c)
{
	int64_t delay;

	f->busy = false;
	f->end_wanted = false;
	f->end_state = state;
	if (reason != f->end_why)
		(void)str_copy(f->end_why, sizeof(f->end_why), reason);
	f->revert_attempts++;
	delay = retry_delay_ms(f->revert_attempts);
	f->retry_mono = mono_ms() + delay;
	(void)snprintf(f->error, sizeof(f->error), "revert failed (attempt %d): %s; "
	    "retrying in %lld s", f->revert_attempts, err, (long long)(delay / 1000));
	if (f->state != FAULT_REVERT_FAILED) {
		f->state = FAULT_REVERT_FAILED;
		metrics_fault_ended(f->req.spec->name, fault_state_name(FAULT_REVERT_FAILED));
		audit(c, "fault_revert_failed", f, err_http_status(CE_SYSTEM), f->error);
	}
	save_state();
	log_warnx("fault %s (%s): %s", f->id, f->req.spec->name, f->error);
	waiters_wake(f);
}

/* Record the end of a fault whose revert is done (rc: how it went). */
static void
end_finish(struct fault *f, enum fault_state state, const char *reason, int rc,
    const char *err, const struct call *c)
{
	if (rc != 0) {
		revert_failed(f, state, reason, err, c);
		return;
	}
	if (f->state == FAULT_REVERT_FAILED) {
		log_info("fault %s (%s) reverted at attempt %d", f->id, f->req.spec->name,
		    f->revert_attempts + 1);
		f->error[0] = '\0';
	}
	if (strcmp(reason, "deadline") == 0 && f->revert_attempts == 0) {
		struct timespec ts;
		int64_t now_us;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		metrics_revert_lateness(now_us - f->deadline_mono * 1000);
	}
	f->busy = false;
	f->end_wanted = false;
	registry_finish(P.reg, f, state, reason);
	metrics_fault_ended(f->req.spec->name, fault_state_name(state));
	save_state();
	audit(c, "fault_end", f, 200, f->error);
	log_info("fault %s (%s) ended: %s (%s)", f->id, f->req.spec->name,
	    fault_state_name(state), reason);
	waiters_wake(f);
}

/* A revert job finished. */
static void
revert_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	char *id = ctx;
	struct fault *f = registry_find(P.reg, id);

	(void)out;
	free(id);
	if (f == NULL)
		return;
	end_finish(f, f->end_state, f->end_why, rc, err, NULL);
	arm_timer();
}

static int
revert_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct fault *f = arg;

	(void)out;
	return f->ops->revert(f, f->record, eb);
}

/* Bound of a job that makes a few Docker calls. */
static int64_t
docker_job_ms(void)
{
	return P.cfg->docker_timeout * 1000 * 3 + 5000;
}

/*
 * End one pending or active fault: revert, record, persist. The state
 * file is rewritten after the revert, so a crash in between leaves the
 * record behind and recovery undoes it again (reverts are idempotent).
 * A blocking backend reverts in a job; pd (or grp) is answered once the
 * fault has ended. A fault a job works on ends when that job is done.
 */
static void
end_fault(struct fault *f, enum fault_state state, const char *reason,
    const struct call *c, const struct pending *pd, struct group *grp)
{
	struct errbuf eb = { "" };
	char *id;
	int rc;

	if (f->state != FAULT_PENDING && f->state != FAULT_ACTIVE &&
	    f->state != FAULT_REVERT_FAILED) {
		if (grp != NULL)
			grp->remaining--;
		else if (pd != NULL)
			pending_json(pd, 200, registry_fault_json(f));
		return;
	}
	/* A revert that failed is tried again, to end as it was meant to. */
	if (f->state == FAULT_REVERT_FAILED) {
		state = f->end_state;
		reason = f->end_why;
	}
	if (pd != NULL || grp != NULL)
		waiters_add(f, grp != NULL ? &grp->pd : pd, grp);
	if (f->busy) {
		/* Its job ends it (a revert running already, or the start). */
		if (!f->end_wanted && f->end_why[0] == '\0') {
			f->end_wanted = true;
			f->end_state = state;
			(void)str_copy(f->end_why, sizeof(f->end_why), reason);
		}
		return;
	}
	if (f->record == NULL) {
		/* Nothing took effect yet. */
		end_finish(f, state, reason, 0, "", c);
		return;
	}
	if (!f->ops->blocking) {
		rc = f->ops->revert(f, f->record, &eb);
		end_finish(f, state, reason, rc, eb.msg, c);
		return;
	}
	f->end_state = state;
	if (reason != f->end_why)
		(void)str_copy(f->end_why, sizeof(f->end_why), reason);
	if ((id = strdup(f->id)) == NULL ||
	    job_start("revert", revert_job, f, docker_job_ms(), revert_done, id, &eb) != 0) {
		free(id);
		end_finish(f, state, reason, CE_SYSTEM, eb.msg[0] ? eb.msg : "out of memory", c);
		return;
	}
	f->busy = true;
}

/* End every pending or active fault; returns how many were asked to end. */
static size_t
end_all(const char *reason, const struct call *c, cJSON *ids, struct group *grp)
{
	char (*todo)[FAULT_ID_MAX];
	struct fault **all;
	size_t i, n, m = 0;

	all = registry_all(P.reg, &n);
	if (n == 0 || (todo = calloc(n, sizeof(*todo))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (all[i]->state == FAULT_ACTIVE || all[i]->state == FAULT_PENDING ||
		    all[i]->state == FAULT_REVERT_FAILED)
			(void)str_copy(todo[m++], FAULT_ID_MAX, all[i]->id);
	/* By id: ending one fault may drop old ones from the registry. */
	for (i = 0; i < m; i++) {
		struct fault *f = registry_find(P.reg, todo[i]);

		if (f == NULL)
			continue;
		if (ids != NULL)
			cJSON_AddItemToArray(ids, cJSON_CreateString(f->id));
		if (grp != NULL)
			grp->remaining++;
		end_fault(f, FAULT_REVERTED, reason, c, NULL, grp);
	}
	free(todo);
	return m;
}

/* Host facts, limits and capabilities; Docker's state comes from a job. */
static void
info_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	cJSON *doc = cJSON_CreateObject(), *caps, *lim, *inst, *d;
	char host[256] = "";
	bool docker_ok = rc == 0 && out != NULL;
	size_t i;

	(void)gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(doc, "version", CHAOS_VERSION);
	cJSON_AddStringToObject(doc, "hostname", host);
	cJSON_AddNumberToObject(doc, "uptime_s", (double)((mono_ms() - P.started_ms) / 1000));
	inst = cJSON_AddObjectToObject(doc, "instance");
	cJSON_AddBoolToObject(inst, "available", 0);
	cJSON_AddStringToObject(inst, "reason", "instance metadata lookup is not "
	    "implemented in this release");
	d = docker_ok ? cJSON_Duplicate(out, 1) : cJSON_CreateObject();
	if (!docker_ok) {
		cJSON_AddBoolToObject(d, "available", 0);
		cJSON_AddStringToObject(d, "socket", P.cfg->docker_socket);
		cJSON_AddStringToObject(d, "reason", err);
	}
	cJSON_AddItemToObject(doc, "docker", d);
	lim = cJSON_AddObjectToObject(doc, "limits");
	cJSON_AddNumberToObject(lim, "max_duration", (double)P.cfg->max_duration);
	cJSON_AddNumberToObject(lim, "max_faults", (double)P.cfg->max_faults);
	cJSON_AddNumberToObject(lim, "max_body", (double)P.cfg->max_body);
	cJSON_AddNumberToObject(lim, "auth_window", (double)P.cfg->auth_window);
	caps = cJSON_AddArrayToObject(doc, "capabilities");
	for (i = 0; i < spec_nfaults; i++) {
		const struct fault_ops *ops = fault_ops_find(spec_faults[i].name);
		cJSON *o = cJSON_CreateObject();
		char why[256] = "no backend in this build";
		bool ok = ops != NULL && (ops->available == NULL ||
		    ops->available(why, sizeof(why)));

		cJSON_AddItemToArray(caps, o);
		cJSON_AddStringToObject(o, "type", spec_faults[i].name);
		cJSON_AddBoolToObject(o, "available", ok);
		if (!ok)
			cJSON_AddStringToObject(o, "reason", why);
		cJSON_AddBoolToObject(o, "revertible", spec_faults[i].revertible);
	}
	pending_json(pd, 200, doc);
	pending_free(pd);
}

static void
api_info(const struct call *c, struct reply *rp)
{
	struct errbuf eb = { "" };
	struct pending *pd = pending_new(c, NULL);

	if (pd == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		return;
	}
	rp->deferred = true;
	if (job_start("docker ping", docker_ping_job, NULL, 5000, info_done, pd, &eb) != 0)
		info_done(pd, CE_SYSTEM, eb.msg, NULL);
}

static void
api_list(const struct call *c, struct reply *rp)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "faults");
	struct fault **all;
	size_t i, n;
	int want = c->state != NULL ? fault_state_parse(c->state) : -1;

	all = registry_all(P.reg, &n);
	for (i = 0; i < n; i++)
		if (want < 0 || (int)all[i]->state == want)
			cJSON_AddItemToArray(arr, registry_fault_json(all[i]));
	reply_json(rp, 200, doc);
}

static void
api_get(const struct call *c, struct reply *rp)
{
	struct fault *f = c->id != NULL ? registry_find(P.reg, c->id) : NULL;

	if (f == NULL) {
		reply_error(rp, CE_NOT_FOUND, "no such fault");
		return;
	}
	reply_json(rp, 200, registry_fault_json(f));
}

/*
 * Starting a fault is a chain of steps, each of which may wait for a job:
 *   resolve (container targets only, a job) -> prepare (in the parent) ->
 *   record in the state file -> commit (a job for blocking backends) ->
 *   active (revertible) or completed (one-shot).
 * The request is answered at the end of the chain, or where it fails.
 */
static void start_finish(struct fault *f, struct pending *pd, int rc, const char *err);

static void
start_abort(struct fault *f, struct pending *pd, int code, const char *msg)
{
	struct call c = pending_call(pd);

	audit(&c, f->dry_run ? "fault_dry_run" : "fault_start", f, err_http_status(code), msg);
	pending_error(pd, code, msg);
	waiters_wake(f);
	registry_discard(P.reg, f);
	pending_free(pd);
	arm_timer();
}

static void
commit_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	struct fault *f = registry_find(P.reg, pd->fault_id);
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(out, "record");

	if (f == NULL) {
		pending_free(pd);
		return;
	}
	f->busy = false;
	if (rec != NULL && cJSON_IsObject(rec)) {
		cJSON_Delete(f->record);
		f->record = cJSON_Duplicate(rec, 1);
	}
	start_finish(f, pd, rc, err);
}

static int
commit_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct fault *f = arg;
	int rc = f->ops->commit(f, eb);

	if (f->record != NULL && (*out = cJSON_CreateObject()) != NULL)
		cJSON_AddItemToObject(*out, "record", cJSON_Duplicate(f->record, 1));
	return rc;
}

/*
 * A dry run went through every check and lookup a real start makes (target
 * resolution, prepare: victims, CPUs, interfaces, conflicts) and stops
 * short of the state file and commit. Answer with what would be hit, audit
 * it, and forget the fault (releasing what prepare took).
 */
static void
dry_run_finish(struct fault *f, struct pending *pd)
{
	struct call c = pending_call(pd);
	cJSON *doc = pd->dry != NULL ? pd->dry : cJSON_CreateObject(), *detail;

	pd->dry = NULL;
	cJSON_AddBoolToObject(doc, "dry_run", 1);
	cJSON_AddStringToObject(doc, "type", f->req.spec->name);
	if (cJSON_GetObjectItemCaseSensitive(doc, "target") == NULL)
		cJSON_AddItemToObject(doc, "target", cJSON_Duplicate(f->req.target, 1));
	cJSON_AddItemToObject(doc, "params", fault_req_params_json(&f->req));
	if ((detail = cJSON_AddObjectToObject(doc, "detail")) != NULL &&
	    f->ops->describe != NULL && f->record != NULL)
		f->ops->describe(f, detail);
	audit(&c, "fault_dry_run", f, 200, NULL);
	pending_json(pd, 200, doc);
	pending_free(pd);
	registry_discard(P.reg, f);
	arm_timer();
}

/* The target is known: prepare, record, commit. */
static void
start_prepare(struct fault *f, struct pending *pd)
{
	const struct spec_value *grace;
	struct errbuf eb = { "" };
	int r;

	if (f->end_wanted) {
		start_abort(f, pd, CE_CONFLICT, "the fault was reverted before it started");
		return;
	}
	if ((r = f->ops->prepare(f, &eb)) != 0) {
		start_abort(f, pd, r, eb.msg);
		return;
	}
	if (f->dry_run) {
		dry_run_finish(f, pd);
		return;
	}
	/* The revert record reaches the disk before the fault takes effect. */
	if ((r = state_save(P.cfg->state_dir, P.reg, P.keep, &eb)) != 0) {
		char m[ERRBUF_MAX + 64];

		(void)snprintf(m, sizeof(m), "cannot record the fault: %s", eb.msg);
		if (!f->ops->blocking)
			(void)f->ops->revert(f, f->record, NULL);
		start_abort(f, pd, CE_SYSTEM, m);
		return;
	}
	if (!f->ops->blocking) {
		r = f->ops->commit(f, &eb);
		start_finish(f, pd, r, eb.msg);
		return;
	}
	/* A graceful stop may take its grace period on top of the calls. */
	grace = fault_req_get(&f->req, "grace");
	if (job_start("commit", commit_job, f, docker_job_ms() +
	    (grace != NULL ? grace->i * 1000 : 0), commit_done, pd, &eb) != 0) {
		start_finish(f, pd, CE_SYSTEM, eb.msg);
		return;
	}
	f->busy = true;
}

static void
start_finish(struct fault *f, struct pending *pd, int rc, const char *err)
{
	struct call c = pending_call(pd);
	bool revertible = f->req.spec->revertible;

	f->state = FAULT_ACTIVE;
	if (rc != 0) {
		(void)str_copy(f->error, sizeof(f->error), err);
		audit(&c, "fault_start", f, err_http_status(rc), err);
		pending_error(pd, rc, err);
		pending_free(pd);
		/* Undo whatever part took effect; the fault ends failed. */
		f->end_wanted = false;
		f->end_why[0] = '\0';
		end_fault(f, FAULT_FAILED, "start_failed", &c, NULL, NULL);
		arm_timer();
		return;
	}
	metrics_fault_started(f->req.spec->name);
	audit(&c, "fault_start", f, 201, NULL);
	if (!revertible) {
		/* One-shot: done now; its record has nothing left to undo. */
		end_finish(f, FAULT_COMPLETED, "completed", 0, "", &c);
		pending_json(pd, 201, registry_fault_json(f));
		pending_free(pd);
		return;
	}
	log_info("fault %s (%s) active for %llds", f->id, f->req.spec->name,
	    (long long)f->req.duration);
	pending_json(pd, 201, registry_fault_json(f));
	pending_free(pd);
	if (f->end_wanted) {
		f->end_wanted = false;
		f->end_why[0] = '\0';
		end_fault(f, f->end_state, "delete", NULL, NULL, NULL);
	}
	arm_timer();
}

static void
resolve_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	struct fault *f = registry_find(P.reg, pd->fault_id);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(out, "targets");

	if (f == NULL) {
		pending_free(pd);
		return;
	}
	f->busy = false;
	if (rc != 0) {
		start_abort(f, pd, rc, err);
		return;
	}
	if (!cJSON_IsArray(t)) {
		start_abort(f, pd, CE_INTERNAL, "target lookup returned no targets");
		return;
	}
	f->targets = cJSON_Duplicate(t, 1);
	if (f->dry_run)
		pd->dry = cJSON_Duplicate(out, 1);
	start_prepare(f, pd);
}

static void
api_create(const struct call *c, struct reply *rp)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(c->req, "body");
	const struct fault_ops *ops;
	struct fault_req req;
	struct errbuf eb = { "" };
	struct pending *pd;
	struct fault *f;
	char why[256] = "no backend in this build";
	bool full, container;
	int r;

	memset(&req, 0, sizeof(req));
	if ((r = spec_validate(body, P.cfg->max_duration, &req, &eb)) != 0) {
		reply_error(rp, r, eb.msg);
		audit(c, "fault_start", NULL, err_http_status(r), eb.msg);
		return;
	}
	/* Idempotency: the same client id names the same fault. */
	if ((f = registry_find_client(P.reg, req.client_id)) != NULL) {
		fault_req_release(&req);
		reply_json(rp, 200, registry_fault_json(f));
		audit(c, "fault_start_repeat", f, 200, NULL);
		return;
	}
	ops = fault_ops_find(req.spec->name);
	if (ops == NULL || (ops->available != NULL && !ops->available(why, sizeof(why)))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "%s is unavailable on this host: %s",
		    req.spec->name, why);
		fault_req_release(&req);
		reply_error(rp, CE_UNAVAILABLE, m);
		audit(c, "fault_start", NULL, 422, m);
		return;
	}
	container = spec_target_is_container(&req);
	if (container && !docker_socket_reachable(P.cfg->docker_socket, why, sizeof(why))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "container targets are unavailable on this "
		    "host: %s", why);
		fault_req_release(&req);
		reply_error(rp, CE_UNAVAILABLE, m);
		audit(c, "fault_start", NULL, 422, m);
		return;
	}
	if ((f = registry_create(P.reg, &req, &full)) == NULL) {
		char m[128];

		fault_req_release(&req);
		(void)snprintf(m, sizeof(m), "%lld faults are active already "
		    "(max_faults)", (long long)P.cfg->max_faults);
		reply_error(rp, full ? CE_TOO_MANY : CE_NOMEM, full ? m : "out of memory");
		audit(c, "fault_start", NULL, full ? 429 : 500, m);
		return;
	}
	f->ops = ops;
	f->dry_run = f->req.dry_run;
	f->created_ms = wall_ms();
	f->expires_ms = f->created_ms + f->req.duration * 1000;
	f->deadline_mono = mono_ms() + f->req.duration * 1000;
	(void)str_copy(f->remote, sizeof(f->remote), c->remote);
	(void)str_copy(f->key_id, sizeof(f->key_id), c->key_id);
	if ((pd = pending_new(c, f->id)) == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		registry_discard(P.reg, f);
		return;
	}
	rp->deferred = true;
	if (!container) {
		start_prepare(f, pd);
		return;
	}
	if (job_start("resolve target", docker_resolve_job, f, docker_job_ms(), resolve_done,
	    pd, &eb) != 0) {
		start_abort(f, pd, CE_SYSTEM, eb.msg);
		return;
	}
	f->busy = true;
}

static void
api_revert(const struct call *c, struct reply *rp)
{
	struct fault *f = c->id != NULL ? registry_find(P.reg, c->id) : NULL;
	struct pending *pd;

	if (f == NULL) {
		reply_error(rp, CE_NOT_FOUND, "no such fault");
		audit(c, "fault_revert", NULL, 404, "no such fault");
		return;
	}
	/* Idempotent: an ended fault is reported as it is. */
	if ((pd = pending_new(c, f->id)) == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		return;
	}
	rp->deferred = true;
	end_fault(f, FAULT_REVERTED, "delete", c, pd, NULL);
	pending_free(pd);
	arm_timer();
}

static void
api_revert_all(const struct call *c, struct reply *rp)
{
	struct group *g = calloc(1, sizeof(*g));
	cJSON *ids;

	if (g == NULL || (g->doc = cJSON_CreateObject()) == NULL ||
	    (ids = cJSON_AddArrayToObject(g->doc, "reverted")) == NULL) {
		if (g != NULL)
			cJSON_Delete(g->doc);
		free(g);
		reply_error(rp, CE_NOMEM, "out of memory");
		return;
	}
	g->pd.seq = c->seq;
	g->pd.gen = c->gen;
	rp->deferred = true;
	/* One count for this call: the group answers when it drops to zero. */
	g->remaining = 1;
	(void)end_all("delete_all", c, ids, g);
	audit(c, "fault_revert_all", NULL, 200, NULL);
	arm_timer();
	group_done(g);
}

static void
targets_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	cJSON *doc;

	if (rc != 0) {
		pending_error(pd, rc, err);
	} else {
		doc = cJSON_Duplicate(out, 1);
		pending_json(pd, 200, doc);
	}
	pending_free(pd);
}

static void
api_targets(const struct call *c, struct reply *rp)
{
	struct errbuf eb = { "" };
	struct pending *pd = pending_new(c, NULL);
	char why[256];

	if (pd == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		return;
	}
	if (!docker_socket_reachable(P.cfg->docker_socket, why, sizeof(why))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "cannot list containers: %s", why);
		pending_free(pd);
		reply_error(rp, CE_UNAVAILABLE, m);
		return;
	}
	rp->deferred = true;
	if (job_start("list targets", docker_targets_job, NULL, docker_job_ms(), targets_done,
	    pd, &eb) != 0) {
		pending_error(pd, CE_SYSTEM, eb.msg);
		pending_free(pd);
	}
}

static void
api_metrics(const struct call *c, struct reply *rp)
{
	(void)c;
	rp->status = 200;
	rp->ctype = PROTO_CT_TEXT;
	if ((rp->body = metrics_render(P.reg)) == NULL)
		reply_error(rp, CE_NOMEM, "out of memory");
}

/* The only requests the parent answers. */
static const struct {
	enum route_id id;
	void (*fn)(const struct call *, struct reply *);
} dispatch[] = {
	{ R_INFO, api_info },
	{ R_FAULTS_LIST, api_list },
	{ R_FAULT_CREATE, api_create },
	{ R_FAULTS_REVERT_ALL, api_revert_all },
	{ R_FAULT_GET, api_get },
	{ R_FAULT_REVERT, api_revert },
	{ R_TARGETS, api_targets },
	{ R_METRICS, api_metrics },
};

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

static const char *
str_field(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

/*
 * The replay check, here rather than in the worker so that no restart of
 * the worker (and, through the journal, of the agent) forgets a nonce.
 * Answers 401 itself and returns false when the request must not run.
 */
static bool
fresh_request(const struct call *c, const struct route *rt, const unsigned char *nonce,
    int64_t ts)
{
	static const char unauth[] = "{\"error\":{\"code\":\"unauthenticated\","
	    "\"message\":\"authentication required\"}}";
	/* Reverting is idempotent and safe to repeat: the kill switch works
	 * even when the cache is full or its journal cannot be written. */
	bool kill_switch = rt->id == R_FAULTS_REVERT_ALL || rt->id == R_FAULT_REVERT;
	enum auth_result why;
	struct reply rp;
	cJSON *o;

	if (ts <= P.not_before) {
		why = AUTH_BEFORE_START;
	} else {
		switch (nonce_check(P.nonces, nonce, wall_ms() / 1000, rt->mutating)) {
		case NONCE_OK:
			return true;
		case NONCE_REPLAY:
			why = AUTH_REPLAY;
			break;
		case NONCE_FULL:
			if (kill_switch) {
				log_warnx("nonce cache full: %s from %s accepted without "
				    "remembering its nonce (a revert is safe to repeat)",
				    rt->name, c->remote);
				return true;
			}
			why = AUTH_CACHE_FULL;
			break;
		case NONCE_IO:
		default:
			if (kill_switch) {
				log_warnx("replay journal not writable: %s from %s accepted "
				    "(a revert is safe to repeat)", rt->name, c->remote);
				return true;
			}
			log_warnx("replay journal not writable: %s from %s refused",
			    rt->name, c->remote);
			rp.status = 503;
			rp.ctype = PROTO_CT_JSON;
			rp.deferred = false;
			reply_error(&rp, CE_BUSY, "the agent cannot record the request's "
			    "nonce (state_dir not writable); only reverts are accepted");
			send_reply(c->seq, c->gen, &rp);
			return false;
		}
	}
	if ((o = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(o, "remote", c->remote);
		cJSON_AddStringToObject(o, "method", str_field(c->req, "method") != NULL ?
		    str_field(c->req, "method") : "");
		cJSON_AddStringToObject(o, "path", str_field(c->req, "path") != NULL ?
		    str_field(c->req, "path") : "");
		cJSON_AddStringToObject(o, "reason", auth_result_name(why));
		cJSON_AddStringToObject(o, "key_id", c->key_id);
		cJSON_AddNumberToObject(o, "status", 401);
		log_event(LOG_LVL_WARN, "auth_failure", o);
		cJSON_Delete(o);
	}
	metrics_auth_failure(auth_result_name(why));
	rp.status = 401;
	rp.ctype = PROTO_CT_JSON;
	rp.deferred = false;
	rp.body = strdup(unauth);
	send_reply(c->seq, c->gen, &rp);
	return false;
}

static void
handle_request(const struct proto_msg *m)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };
	struct call c;
	const struct route *rt;
	unsigned char nonce[SIGN_NONCE_LEN];
	cJSON *req = NULL;
	size_t i;

	if (jsoncheck(m->payload, m->len, NULL) != 0 ||
	    (req = cJSON_ParseWithLength(m->payload, m->len)) == NULL ||
	    (rt = route_by_name(str_field(req, "route") != NULL ?
	    str_field(req, "route") : "")) == NULL) {
		cJSON_Delete(req);
		kill_worker("malformed request message");
		return;
	}
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.id = str_field(req, "id");
	c.state = str_field(req, "state");
	c.remote = str_field(req, "remote") != NULL ? str_field(req, "remote") : "unknown";
	c.key_id = str_field(req, "key_id") != NULL ? str_field(req, "key_id") : "";
	c.seq = m->seq;
	c.gen = P.worker_gen;
	/* Defense in depth: re-check what the worker already checked. */
	if ((c.id != NULL && !route_fault_id_ok(c.id)) ||
	    (c.state != NULL && fault_state_parse(c.state) < 0) ||
	    hex_decode(str_field(req, "nonce") != NULL ? str_field(req, "nonce") : "",
	    nonce, sizeof(nonce)) != 0 ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(req, "ts"))) {
		cJSON_Delete(req);
		kill_worker("request message with invalid fields");
		return;
	}
	if (!fresh_request(&c, rt, nonce,
	    (int64_t)cJSON_GetObjectItemCaseSensitive(req, "ts")->valuedouble)) {
		cJSON_Delete(req);
		return;
	}
	for (i = 0; i < NELEM(dispatch); i++)
		if (dispatch[i].id == rt->id)
			break;
	if (i == NELEM(dispatch)) {
		cJSON_Delete(req);
		kill_worker("request for a route the parent does not serve");
		return;
	}
	dispatch[i].fn(&c, &rp);
	cJSON_Delete(req);
	if (!rp.deferred)
		send_reply(c.seq, c.gen, &rp);
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
	const char *af = str_field(o, "auth_failure");

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
		handle_request(&m);
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
		struct fault **all;
		size_t i, n;

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
		all = registry_all(P.reg, &n);
		for (i = 0; i < n; i++) {
			struct fault *f = all[i];
			bool lost = false;

			if (f->ops == NULL || f->ops->child_exited == NULL || f->priv == NULL)
				continue;
			if (!f->ops->child_exited(f, pid, status, &lost))
				continue;
			if (lost && f->state == FAULT_ACTIVE) {
				/* Stressors stop themselves at the deadline too. */
				if (mono_ms() >= f->deadline_mono - 250) {
					end_fault(f, FAULT_EXPIRED, "deadline", NULL, NULL, NULL);
				} else {
					(void)snprintf(f->error, sizeof(f->error),
					    "every stressor process exited before the deadline");
					end_fault(f, FAULT_FAILED, "stressors_exited", NULL,
					    NULL, NULL);
				}
				arm_timer();
			}
			break;
		}
	}
}

static void
expire_due(void)
{
	struct fault **all;
	size_t i, n;
	int64_t now = mono_ms();

	all = registry_all(P.reg, &n);
	for (i = 0; i < n; i++) {
		struct fault *f = all[i];

		if (f->state == FAULT_ACTIVE && !f->busy && f->deadline_mono <= now) {
			end_fault(f, FAULT_EXPIRED, "deadline", NULL, NULL, NULL);
			all = registry_all(P.reg, &n);
			i = (size_t)-1;
		} else if (f->state == FAULT_REVERT_FAILED && !f->busy &&
		    f->retry_mono <= now) {
			/* Push the next try out first, so a revert that fails at
			 * once cannot spin this loop. */
			f->retry_mono = now + retry_delay_ms(f->revert_attempts + 1);
			end_fault(f, f->end_state, f->end_why, NULL, NULL, NULL);
			all = registry_all(P.reg, &n);
			i = (size_t)-1;
		}
	}
	job_expire(now);
	if (P.restart_at != 0 && P.restart_at <= now && P.worker_pid < 0)
		start_worker();
	arm_timer();
}

/* Rebuild one state file entry as a fault of the registry; NULL if it cannot be. */
static struct fault *
adopt(const cJSON *e)
{
	const char *id = str_field(e, "id"), *type = str_field(e, "type");
	const struct spec_fault *spec = spec_find(type);
	const struct fault_ops *ops = fault_ops_find(type != NULL ? type : "");
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e, "record");
	const cJSON *tg = cJSON_GetObjectItemCaseSensitive(e, "targets");
	struct errbuf eb = { "" };
	struct fault_req req;
	struct fault *f;

	if (id == NULL || !route_fault_id_ok(id) || spec == NULL || ops == NULL ||
	    !cJSON_IsObject(rec))
		return NULL;
	/* The request as it was validated then; an older file lacks it. */
	memset(&req, 0, sizeof(req));
	if (spec_validate(cJSON_GetObjectItemCaseSensitive(e, "request"), SPEC_DURATION_MAX,
	    &req, &eb) != 0 || req.spec != spec) {
		fault_req_release(&req);
		if (spec_req_minimal(spec, cJSON_IsArray(tg) ? "container" : "host", &req) != 0)
			return NULL;
	}
	if ((f = registry_adopt(P.reg, id, &req)) == NULL) {
		fault_req_release(&req);
		return NULL;
	}
	f->ops = ops;
	f->record = cJSON_Duplicate(rec, 1);
	f->targets = cJSON_IsArray(tg) ? cJSON_Duplicate(tg, 1) : NULL;
	f->created_ms = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e,
	    "created_ms"));
	f->expires_ms = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e,
	    "expires_ms"));
	f->deadline_mono = mono_ms();
	f->revert_attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e,
	    "revert_attempts"));
	if (f->revert_attempts < 0 || f->revert_attempts > 1000000)
		f->revert_attempts = 0;
	(void)str_copy(f->remote, sizeof(f->remote), str_field(e, "remote") != NULL ?
	    str_field(e, "remote") : "");
	(void)str_copy(f->key_id, sizeof(f->key_id), str_field(e, "key_id") != NULL ?
	    str_field(e, "key_id") : "");
	f->state = FAULT_ACTIVE;
	return f;
}

/*
 * Undo what the previous run left, before serving. A fault reverted here
 * stays listed (state reverted, end_reason reverted_at_startup) and is
 * audited like any end; one whose revert fails stays in the state file as
 * revert_failed and is retried. An entry this build cannot rebuild is
 * still reverted from its record if its type is known, and kept in the
 * state file otherwise.
 */
static void
recover_leftovers(const cJSON *faults)
{
	const cJSON *e;
	int done = 0, failed = 0, kept = 0;

	cJSON_ArrayForEach(e, faults) {
		struct fault *f = adopt(e);
		struct errbuf eb = { "" };
		int rc;

		if (f == NULL) {
			const char *type = str_field(e, "type");
			const struct fault_ops *ops = fault_ops_find(type != NULL ? type : "");

			if (ops != NULL && ops->revert(NULL, cJSON_GetObjectItemCaseSensitive(e,
			    "record"), &eb) == 0) {
				log_info("state: reverted a leftover %s fault", type);
				done++;
				continue;
			}
			log_warnx("state: a leftover fault (id '%s', type '%s') cannot be "
			    "handled by this build; kept in the state file", str_field(e, "id") ?
			    str_field(e, "id") : "?", type != NULL ? type : "?");
			(void)cJSON_AddItemToArray(P.keep, cJSON_Duplicate(e, 1));
			kept++;
			continue;
		}
		rc = f->ops->revert(f, f->record, &eb);
		end_finish(f, FAULT_REVERTED, "reverted_at_startup", rc, eb.msg, NULL);
		if (rc == 0)
			done++;
		else
			failed++;
	}
	save_state();
	if (done + failed + kept > 0)
		log_warnx("a previous run left %d fault(s): %d reverted, %d failed to "
		    "revert (retried), %d kept", done + failed + kept, done, failed, kept);
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
	P.started_ms = mono_ms();
	if ((P.reg = registry_new((size_t)P.cfg->max_faults, (size_t)P.cfg->history)) == NULL ||
	    (P.ipcbuf = malloc(PROTO_BUF_SIZE)) == NULL ||
	    (P.nonces = nonce_new((size_t)P.cfg->nonce_cache, 2 * P.cfg->auth_window)) == NULL)
		fatalx("out of memory");
	{
		struct errbuf eb = { "" };
		int64_t now = wall_ms() / 1000;
		int r = nonce_journal_open(P.nonces, P.cfg->state_dir, now, &eb);

		if (r == CE_INVALID) {
			/* Whatever it held may have been accepted up to one window ahead. */
			P.not_before = now + P.cfg->auth_window;
			log_warnx("%s", eb.msg);
		} else if (r != 0) {
			fatalx("%s", eb.msg);
		} else if (nonce_count(P.nonces) > 0) {
			log_info("replay cache: %zu nonce(s) of the last %lld s remembered "
			    "from the journal", nonce_count(P.nonces),
			    (long long)(2 * P.cfg->auth_window));
		}
	}
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
	if ((P.keep = cJSON_CreateArray()) == NULL)
		fatalx("out of memory");
	recover_leftovers(args->leftovers);
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
				(void)end_all("shutdown", NULL, NULL, NULL);
			}
		}
		/* The worker slot stays in pfd[2]; a closed one is skipped by fd -1. */
	}
	reap(true);
	registry_free(P.reg);
	nonce_free(P.nonces);
	cJSON_Delete(P.keep);
	free(P.ipcbuf);
	log_info("stopped");
	return 0;
}
