/* SPDX-License-Identifier: Apache-2.0 */
/*
 * life.c: the fault life cycle in the parent (see life.h). Each step is
 * bounded work or a job; a request is answered at the end of its chain,
 * and every end is recorded in the state file and audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "config.h"
#include "job.h"
#include "life.h"
#include "metrics.h"
#include "registry.h"
#include "route.h"
#include "state.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../faults/docker/docker.h"

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

static struct {
	const struct config *cfg;
	struct registry *reg;
	void (*rearm)(void);
	cJSON *keep;		/* state file entries this build cannot handle */
} LS;

static void
no_rearm(void)
{
}

void
life_init(const struct config *cfg, struct registry *reg, void (*rearm)(void))
{
	LS.cfg = cfg;
	LS.reg = reg;
	LS.rearm = rearm != NULL ? rearm : no_rearm;
	if (LS.keep == NULL && (LS.keep = cJSON_CreateArray()) == NULL)
		fatalx("out of memory");
}

void
life_release(void)
{
	cJSON_Delete(LS.keep);
	LS.keep = NULL;
}

int64_t
life_docker_job_ms(void)
{
	return LS.cfg->docker_timeout * 1000 * 3 + 5000;
}

/* The bound of a commit or revert job of f's backend. */
static int64_t
job_ms(const struct fault *f)
{
	return f->ops->job_ms > 0 ? f->ops->job_ms : life_docker_job_ms();
}

void
life_save(void)
{
	struct errbuf eb = { "" };

	if (state_save(LS.cfg->state_dir, LS.reg, LS.keep, &eb) != 0)
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
	w->next = f->life->waiters;
	f->life->waiters = w;
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
	struct waiter *w = f->life->waiters, *next;

	f->life->waiters = NULL;
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

	f->life->busy = false;
	f->life->end_wanted = false;
	f->life->end_state = state;
	if (reason != f->life->end_why)
		(void)str_copy(f->life->end_why, sizeof(f->life->end_why), reason);
	f->life->revert_attempts++;
	delay = retry_delay_ms(f->life->revert_attempts);
	f->life->retry_mono = mono_ms() + delay;
	(void)snprintf(f->error, sizeof(f->error), "revert failed (attempt %d): %s; "
	    "retrying in %lld s", f->life->revert_attempts, err, (long long)(delay / 1000));
	if (f->state != FAULT_REVERT_FAILED) {
		f->state = FAULT_REVERT_FAILED;
		metrics_fault_ended(f->req.spec->name, fault_state_name(FAULT_REVERT_FAILED));
		audit(c, "fault_revert_failed", f, err_http_status(CE_SYSTEM), f->error);
	}
	life_save();
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
		    f->life->revert_attempts + 1);
		f->error[0] = '\0';
	}
	if (strcmp(reason, "deadline") == 0 && f->life->revert_attempts == 0) {
		struct timespec ts;
		int64_t now_us;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		metrics_revert_lateness(now_us - f->deadline_mono * 1000);
	}
	f->life->busy = false;
	f->life->end_wanted = false;
	registry_finish(LS.reg, f, state, reason);
	metrics_fault_ended(f->req.spec->name, fault_state_name(state));
	life_save();
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
	struct fault *f = registry_find(LS.reg, id);

	(void)out;
	free(id);
	if (rc != 0)
		docker_forget_version();
	if (f == NULL)
		return;
	end_finish(f, f->life->end_state, f->life->end_why, rc, err, NULL);
	LS.rearm();
}

static int
revert_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct fault *f = arg;

	(void)out;
	return f->ops->revert(f, f->record, eb);
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
		state = f->life->end_state;
		reason = f->life->end_why;
	}
	if (pd != NULL || grp != NULL)
		waiters_add(f, grp != NULL ? &grp->pd : pd, grp);
	if (f->life->busy) {
		/* Its job ends it (a revert running already, or the start). */
		if (!f->life->end_wanted && f->life->end_why[0] == '\0') {
			f->life->end_wanted = true;
			f->life->end_state = state;
			(void)str_copy(f->life->end_why, sizeof(f->life->end_why), reason);
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
	f->life->end_state = state;
	if (reason != f->life->end_why)
		(void)str_copy(f->life->end_why, sizeof(f->life->end_why), reason);
	if ((id = strdup(f->id)) == NULL ||
	    job_start("revert", revert_job, f, job_ms(f), revert_done, id, &eb) != 0) {
		free(id);
		end_finish(f, state, reason, CE_SYSTEM, eb.msg[0] ? eb.msg : "out of memory", c);
		return;
	}
	f->life->busy = true;
}

/* End every pending or active fault; returns how many were asked to end. */
static size_t
end_all(const char *reason, const struct call *c, cJSON *ids, struct group *grp)
{
	char (*todo)[FAULT_ID_MAX];
	struct fault **all;
	size_t i, n, m = 0;

	all = registry_all(LS.reg, &n);
	if (n == 0 || (todo = calloc(n, sizeof(*todo))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (all[i]->state == FAULT_ACTIVE || all[i]->state == FAULT_PENDING ||
		    all[i]->state == FAULT_REVERT_FAILED)
			(void)str_copy(todo[m++], FAULT_ID_MAX, all[i]->id);
	/* By id: ending one fault may drop old ones from the registry. */
	for (i = 0; i < m; i++) {
		struct fault *f = registry_find(LS.reg, todo[i]);

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

static void start_finish(struct fault *f, struct pending *pd, int rc, const char *err);

static void
start_abort(struct fault *f, struct pending *pd, int code, const char *msg)
{
	struct call c = pending_call(pd);

	audit(&c, f->req.dry_run ? "fault_dry_run" : "fault_start", f, err_http_status(code), msg);
	pending_error(pd, code, msg);
	waiters_wake(f);
	registry_discard(LS.reg, f);
	pending_free(pd);
	LS.rearm();
}

static void
commit_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	struct fault *f = registry_find(LS.reg, pd->fault_id);
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(out, "record");

	if (f == NULL) {
		pending_free(pd);
		return;
	}
	f->life->busy = false;
	if (rc != 0)
		docker_forget_version();
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
	registry_discard(LS.reg, f);
	LS.rearm();
}

/* The target is known: prepare, record, commit. */
static void
start_prepare(struct fault *f, struct pending *pd)
{
	const struct spec_value *grace;
	struct errbuf eb = { "" };
	int r;

	if (f->life->end_wanted) {
		start_abort(f, pd, CE_CONFLICT, "the fault was reverted before it started");
		return;
	}
	if ((r = f->ops->prepare(f, &eb)) != 0) {
		start_abort(f, pd, r, eb.msg);
		return;
	}
	if (f->req.dry_run) {
		dry_run_finish(f, pd);
		return;
	}
	/* The revert record reaches the disk before the fault takes effect. */
	if ((r = state_save(LS.cfg->state_dir, LS.reg, LS.keep, &eb)) != 0) {
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
	if (job_start("commit", commit_job, f, job_ms(f) +
	    (grace != NULL ? grace->i * 1000 : 0), commit_done, pd, &eb) != 0) {
		start_finish(f, pd, CE_SYSTEM, eb.msg);
		return;
	}
	f->life->busy = true;
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
		f->life->end_wanted = false;
		f->life->end_why[0] = '\0';
		end_fault(f, FAULT_FAILED, "start_failed", &c, NULL, NULL);
		LS.rearm();
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
	if (f->life->end_wanted) {
		f->life->end_wanted = false;
		f->life->end_why[0] = '\0';
		end_fault(f, f->life->end_state, "delete", NULL, NULL, NULL);
	}
	LS.rearm();
}

/* The protected containers a target matched but spared, for the answer. */
static void
keep_skipped(struct fault *f, const cJSON *out)
{
	const cJSON *sk = cJSON_GetObjectItemCaseSensitive(out, "skipped");

	if (cJSON_GetArraySize(sk) > 0 && f->life->skipped == NULL)
		f->life->skipped = cJSON_Duplicate(sk, 1);
}

static void
resolve_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	struct fault *f = registry_find(LS.reg, pd->fault_id);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(out, "targets");

	if (f == NULL) {
		pending_free(pd);
		return;
	}
	f->life->busy = false;
	if (rc != 0) {
		docker_forget_version();
		start_abort(f, pd, rc, err);
		return;
	}
	docker_remember_version(field_str(out, "api_version"));
	if (!cJSON_IsArray(t)) {
		start_abort(f, pd, CE_INTERNAL, "target lookup returned no targets");
		return;
	}
	f->targets = cJSON_Duplicate(t, 1);
	keep_skipped(f, out);
	if (f->req.dry_run)
		pd->dry = cJSON_Duplicate(out, 1);
	start_prepare(f, pd);
}

/*
 * A one-shot container fault (kill, stop, restart) has nothing to undo,
 * so nothing to record before it acts: one job resolves the target,
 * prepares and acts, where a revertible fault needs two with the state
 * file written between them.
 */
static int
resolve_act_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct fault *f = arg;
	const cJSON *t;
	int r;

	if ((r = docker_resolve_job(f, out, eb)) != 0)
		return r;
	t = cJSON_GetObjectItemCaseSensitive(*out, "targets");
	if (!cJSON_IsArray(t))
		return err_set(eb, CE_INTERNAL, "target lookup returned no targets");
	/* This child's copy of the fault: the parent takes what it reports. */
	f->targets = cJSON_Duplicate(t, 1);
	if ((r = f->ops->prepare(f, eb)) != 0 || (r = f->ops->commit(f, eb)) != 0)
		return r;
	cJSON_AddItemToObject(*out, "record", cJSON_Duplicate(f->record, 1));
	return 0;
}

static void
acted_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	struct fault *f = registry_find(LS.reg, pd->fault_id);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(out, "targets");
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(out, "record");

	if (f == NULL) {
		pending_free(pd);
		return;
	}
	f->life->busy = false;
	/* A failed job hit nothing (a one-shot fault that hit none failed). */
	if (rc != 0) {
		docker_forget_version();
		start_abort(f, pd, rc, err);
		return;
	}
	docker_remember_version(field_str(out, "api_version"));
	if (!cJSON_IsArray(t) || !cJSON_IsObject(rec)) {
		start_abort(f, pd, CE_INTERNAL, "the container job reported no targets");
		return;
	}
	f->targets = cJSON_Duplicate(t, 1);
	keep_skipped(f, out);
	f->record = cJSON_Duplicate(rec, 1);
	if (f->life->end_wanted) {
		/* Reverted while it acted: a one-shot fault cannot be taken back. */
		f->life->end_wanted = false;
		f->life->end_why[0] = '\0';
	}
	start_finish(f, pd, 0, "");
}

/* Rebuild one state file entry as a fault of the registry; NULL if it cannot be. */
static struct fault *
adopt(const cJSON *e)
{
	const char *id = field_str(e, "id"), *type = field_str(e, "type");
	const struct spec_fault *spec = spec_find(type);
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e, "record");
	const struct fault_ops *ops = fault_ops_for_record(type != NULL ? type : "", rec);
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
	if ((f = registry_adopt(LS.reg, id, &req)) == NULL) {
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
	f->life->revert_attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e,
	    "revert_attempts"));
	if (f->life->revert_attempts < 0 || f->life->revert_attempts > 1000000)
		f->life->revert_attempts = 0;
	(void)str_copy(f->remote, sizeof(f->remote), field_str(e, "remote") != NULL ?
	    field_str(e, "remote") : "");
	(void)str_copy(f->life->key_id, sizeof(f->life->key_id), field_str(e, "key_id") != NULL ?
	    field_str(e, "key_id") : "");
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
void
life_recover(const cJSON *faults)
{
	const cJSON *e;
	int done = 0, failed = 0, kept = 0;

	cJSON_ArrayForEach(e, faults) {
		struct fault *f = adopt(e);
		struct errbuf eb = { "" };
		int rc;

		if (f == NULL) {
			const char *type = field_str(e, "type");
			const struct fault_ops *ops = fault_ops_for_record(type != NULL ? type :
			    "", cJSON_GetObjectItemCaseSensitive(e, "record"));

			if (ops != NULL && ops->revert(NULL, cJSON_GetObjectItemCaseSensitive(e,
			    "record"), &eb) == 0) {
				log_info("state: reverted a leftover %s fault", type);
				done++;
				continue;
			}
			log_warnx("state: a leftover fault (id '%s', type '%s') cannot be "
			    "handled by this build; kept in the state file", field_str(e, "id") ?
			    field_str(e, "id") : "?", type != NULL ? type : "?");
			(void)cJSON_AddItemToArray(LS.keep, cJSON_Duplicate(e, 1));
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
	life_save();
	if (done + failed + kept > 0)
		log_warnx("a previous run left %d fault(s): %d reverted, %d failed to "
		    "revert (retried), %d kept", done + failed + kept, done, failed, kept);
}

void
life_start(struct fault *f, struct pending *pd)
{
	struct errbuf eb = { "" };

	if (!spec_target_is_container(&f->req)) {
		start_prepare(f, pd);
		return;
	}
	if (!f->req.spec->revertible && f->ops->blocking && !f->req.dry_run) {
		const struct spec_value *grace = fault_req_get(&f->req, "grace");

		if (job_start("resolve and act", resolve_act_job, f, life_docker_job_ms() +
		    (grace != NULL ? grace->i * 1000 : 0), acted_done, pd, &eb) != 0) {
			start_abort(f, pd, CE_SYSTEM, eb.msg);
			return;
		}
		f->life->busy = true;
		return;
	}
	if (job_start("resolve target", docker_resolve_job, f, life_docker_job_ms(),
	    resolve_done, pd, &eb) != 0) {
		start_abort(f, pd, CE_SYSTEM, eb.msg);
		return;
	}
	f->life->busy = true;
}

void
life_revert(struct fault *f, const struct call *c, const struct pending *pd)
{
	end_fault(f, FAULT_REVERTED, "delete", c, pd, NULL);
	LS.rearm();
}

void
life_revert_all(const struct call *c)
{
	struct group *g = calloc(1, sizeof(*g));
	cJSON *ids;

	if (g == NULL || (g->doc = cJSON_CreateObject()) == NULL ||
	    (ids = cJSON_AddArrayToObject(g->doc, "reverted")) == NULL) {
		struct pending pd;

		if (g != NULL)
			cJSON_Delete(g->doc);
		free(g);
		memset(&pd, 0, sizeof(pd));
		pd.seq = c->seq;
		pd.gen = c->gen;
		pending_error(&pd, CE_NOMEM, "out of memory");
		return;
	}
	g->pd.seq = c->seq;
	g->pd.gen = c->gen;
	/* One count for this call: the group answers when it drops to zero. */
	g->remaining = 1;
	(void)end_all("delete_all", c, ids, g);
	audit(c, "fault_revert_all", NULL, 200, NULL);
	LS.rearm();
	group_done(g);
}

void
life_end_all(const char *reason)
{
	(void)end_all(reason, NULL, NULL, NULL);
	LS.rearm();
}

bool
life_child_exited(pid_t pid, int status)
{
	struct fault **all;
	size_t i, n;

	all = registry_all(LS.reg, &n);
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
				end_fault(f, FAULT_FAILED, "stressors_exited", NULL, NULL, NULL);
			}
			LS.rearm();
		}
		return true;
	}
	return false;
}

void
life_expire(int64_t now)
{
	struct fault **all;
	size_t i, n;

	all = registry_all(LS.reg, &n);
	for (i = 0; i < n; i++) {
		struct fault *f = all[i];

		if (f->state == FAULT_ACTIVE && !f->life->busy && f->deadline_mono <= now) {
			end_fault(f, FAULT_EXPIRED, "deadline", NULL, NULL, NULL);
			all = registry_all(LS.reg, &n);
			i = (size_t)-1;
		} else if (f->state == FAULT_REVERT_FAILED && !f->life->busy &&
		    f->life->retry_mono <= now) {
			/* Push the next try out first, so a revert that fails at
			 * once cannot spin this loop. */
			f->life->retry_mono = now + retry_delay_ms(f->life->revert_attempts + 1);
			end_fault(f, f->life->end_state, f->life->end_why, NULL, NULL, NULL);
			all = registry_all(LS.reg, &n);
			i = (size_t)-1;
		}
	}
}

int64_t
life_next_due(void)
{
	int64_t next = registry_next_deadline(LS.reg);
	struct fault **all;
	size_t i, n;

	all = registry_all(LS.reg, &n);
	for (i = 0; i < n; i++)
		if (all[i]->state == FAULT_REVERT_FAILED && !all[i]->life->busy &&
		    (next < 0 || all[i]->life->retry_mono < next))
			next = all[i]->life->retry_mono;
	return next;
}
