/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c: the parent's request handlers and their dispatch table, and the
 * replay check in front of them (see api.h). Handlers answer at once or
 * hand the request to the fault life cycle (life.h), which answers it when
 * the fault has started or ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "api.h"
#include "auth.h"
#include "config.h"
#include "job.h"
#include "life.h"
#include "metrics.h"
#include "nonce.h"
#include "registry.h"
#include "route.h"
#include "../common/err.h"
#include "../common/jsoncheck.h"
#include "../common/log.h"
#include "../common/sign.h"
#include "../common/util.h"
#include "../faults/docker/docker.h"
#include "../faults/ecs/ecs.h"
#include "../faults/fault.h"

#ifndef CHAOS_VERSION
#define CHAOS_VERSION "0.0.0-dev"
#endif

static struct {
	const struct config *cfg;
	struct registry *reg;
	struct nonce_cache *nonces;
	int64_t not_before;
	int64_t started_ms;
} A;

void
api_init(const struct config *cfg, struct registry *reg, struct nonce_cache *nonces,
    int64_t not_before)
{
	A.cfg = cfg;
	A.reg = reg;
	A.nonces = nonces;
	A.not_before = not_before;
	A.started_ms = mono_ms();
}


/*
 * Answer /v1/info: host facts, limits and each fault's availability, with
 * the Docker engine's state (docker) and, in task mode, the ECS endpoints'
 * (task), which jobs found out.
 */
static void
info_finish(struct pending *pd, cJSON *docker, cJSON *task)
{
	cJSON *doc = cJSON_CreateObject(), *caps, *lim, *inst;
	char host[256] = "";
	size_t i;

	(void)gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(doc, "version", CHAOS_VERSION);
	cJSON_AddStringToObject(doc, "hostname", host);
	cJSON_AddStringToObject(doc, "mode", A.cfg->mode);
	cJSON_AddNumberToObject(doc, "uptime_s", (double)((mono_ms() - A.started_ms) / 1000));
	inst = cJSON_AddObjectToObject(doc, "instance");
	cJSON_AddBoolToObject(inst, "available", 0);
	cJSON_AddStringToObject(inst, "reason", "instance metadata lookup is not "
	    "implemented in this release");
	cJSON_AddItemToObject(doc, "docker", docker);
	if (task != NULL)
		cJSON_AddItemToObject(doc, "task", task);
	lim = cJSON_AddObjectToObject(doc, "limits");
	cJSON_AddNumberToObject(lim, "max_duration", (double)A.cfg->max_duration);
	cJSON_AddNumberToObject(lim, "max_faults", (double)A.cfg->max_faults);
	cJSON_AddNumberToObject(lim, "max_body", (double)A.cfg->max_body);
	cJSON_AddNumberToObject(lim, "auth_window", (double)A.cfg->auth_window);
	caps = cJSON_AddArrayToObject(doc, "capabilities");
	for (i = 0; i < spec_nfaults; i++) {
		const struct fault_ops *ops = fault_ops_find(spec_faults[i].name);
		cJSON *o = cJSON_CreateObject();
		char why[256] = "";
		bool ok = ops != NULL && (ops->available == NULL ||
		    ops->available(why, sizeof(why)));

		if (ops == NULL)
			(void)str_copy(why, sizeof(why), fault_ops_why_not(spec_faults[i].name));

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

/* On a host: the Docker engine's state came from a job. */
static void
info_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	bool docker_ok = rc == 0 && out != NULL;
	cJSON *d;

	if (docker_ok)
		docker_remember_version(field_str(out, "api_version"));
	else
		docker_forget_version();
	d = docker_ok ? cJSON_Duplicate(out, 1) : cJSON_CreateObject();
	if (!docker_ok) {
		cJSON_AddBoolToObject(d, "available", 0);
		cJSON_AddStringToObject(d, "socket", A.cfg->docker_socket);
		cJSON_AddStringToObject(d, "reason", err);
	}
	info_finish(ctx, d, NULL);
}

/* In a task: what the ECS endpoints answered a probe (no Docker there). */
static void
task_info_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	cJSON *d = cJSON_CreateObject(), *t = cJSON_CreateObject();

	cJSON_AddBoolToObject(d, "available", 0);
	cJSON_AddStringToObject(d, "reason", "task mode: a sidecar has no Docker socket");
	ecs_probe_note(rc, err, out, t);
	info_finish(ctx, d, t);
}

static void
api_info(const struct call *c, struct reply *rp)
{
	struct errbuf eb = { "" };
	struct pending *pd = pending_new(c, NULL);
	job_done done = fault_env.task ? task_info_done : info_done;

	if (pd == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		return;
	}
	rp->deferred = true;
	if ((fault_env.task ? job_start("ecs probe", ecs_probe_job, NULL, ECS_CALL_MS + 2000,
	    done, pd, &eb) : job_start("docker ping", docker_ping_job, NULL, 5000, done, pd,
	    &eb)) != 0)
		done(pd, CE_SYSTEM, eb.msg, NULL);
}

static void
api_list(const struct call *c, struct reply *rp)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "faults");
	struct fault **all;
	size_t i, n;
	int want = c->state != NULL ? fault_state_parse(c->state) : -1;

	all = registry_all(A.reg, &n);
	for (i = 0; i < n; i++)
		if (want < 0 || (int)all[i]->state == want)
			cJSON_AddItemToArray(arr, registry_fault_json(all[i]));
	reply_json(rp, 200, doc);
}

static void
api_get(const struct call *c, struct reply *rp)
{
	struct fault *f = c->id != NULL ? registry_find(A.reg, c->id) : NULL;

	if (f == NULL) {
		reply_error(rp, CE_NOT_FOUND, "no such fault");
		return;
	}
	reply_json(rp, 200, registry_fault_json(f));
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
	bool full;
	int r;

	memset(&req, 0, sizeof(req));
	if ((r = spec_validate(body, A.cfg->max_duration, &req, &eb)) != 0) {
		reply_error(rp, r, eb.msg);
		audit(c, "fault_start", NULL, err_http_status(r), eb.msg);
		return;
	}
	/* Idempotency: the same client id names the same fault. */
	if ((f = registry_find_client(A.reg, req.client_id)) != NULL) {
		fault_req_release(&req);
		reply_json(rp, 200, registry_fault_json(f));
		audit(c, "fault_start_repeat", f, 200, NULL);
		return;
	}
	if ((ops = fault_ops_find(req.spec->name)) == NULL)
		(void)str_copy(why, sizeof(why), fault_ops_why_not(req.spec->name));
	if (ops == NULL || (ops->available != NULL && !ops->available(why, sizeof(why)))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "%s is unavailable %s: %s", req.spec->name,
		    fault_env.task ? "in this task" : "on this host", why);
		fault_req_release(&req);
		reply_error(rp, CE_UNAVAILABLE, m);
		audit(c, "fault_start", NULL, 422, m);
		return;
	}
	/*
	 * A sidecar acts on its own task: there is nothing else to select.
	 * Asked after availability, so that a container fault sent to a
	 * sidecar (chaosctl --service keeps its selectors) is told why it is
	 * unavailable, not to drop the selectors it needs.
	 */
	if (fault_env.task && spec_target_is_container(&req)) {
		const char *m = "target: in task mode the agent acts on its own task; leave "
		    "out the container selectors";

		fault_req_release(&req);
		reply_error(rp, CE_INVALID, m);
		audit(c, "fault_start", NULL, 400, m);
		return;
	}
	if (spec_target_is_container(&req) &&
	    !docker_socket_reachable(A.cfg->docker_socket, why, sizeof(why))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "container targets are unavailable on this "
		    "host: %s", why);
		fault_req_release(&req);
		reply_error(rp, CE_UNAVAILABLE, m);
		audit(c, "fault_start", NULL, 422, m);
		return;
	}
	if ((f = registry_create(A.reg, &req, &full)) == NULL) {
		char m[128];

		fault_req_release(&req);
		(void)snprintf(m, sizeof(m), "%lld faults are active already "
		    "(max_faults)", (long long)A.cfg->max_faults);
		reply_error(rp, full ? CE_TOO_MANY : CE_NOMEM, full ? m : "out of memory");
		audit(c, "fault_start", NULL, full ? 429 : 500, m);
		return;
	}
	f->ops = ops;
	f->created_ms = wall_ms();
	f->expires_ms = f->created_ms + f->req.duration * 1000;
	f->deadline_mono = mono_ms() + f->req.duration * 1000;
	(void)str_copy(f->remote, sizeof(f->remote), c->remote);
	(void)str_copy(f->life->key_id, sizeof(f->life->key_id), c->key_id);
	if ((pd = pending_new(c, f->id)) == NULL) {
		reply_error(rp, CE_NOMEM, "out of memory");
		registry_discard(A.reg, f);
		return;
	}
	rp->deferred = true;
	life_start(f, pd);
}

static void
api_revert(const struct call *c, struct reply *rp)
{
	struct fault *f = c->id != NULL ? registry_find(A.reg, c->id) : NULL;
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
	life_revert(f, c, pd);
	pending_free(pd);
}

static void
api_revert_all(const struct call *c, struct reply *rp)
{
	rp->deferred = true;
	life_revert_all(c);
}

static void
targets_done(void *ctx, int rc, const char *err, const cJSON *out)
{
	struct pending *pd = ctx;
	cJSON *doc;

	if (rc != 0) {
		docker_forget_version();
		pending_error(pd, rc, err);
	} else {
		docker_remember_version(field_str(out, "api_version"));
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
	if (fault_env.task)
		(void)str_copy(why, sizeof(why), "task mode: a sidecar has no Docker socket");
	if (fault_env.task || !docker_socket_reachable(A.cfg->docker_socket, why, sizeof(why))) {
		char m[320];

		(void)snprintf(m, sizeof(m), "cannot list containers: %s", why);
		pending_free(pd);
		reply_error(rp, CE_UNAVAILABLE, m);
		return;
	}
	rp->deferred = true;
	if (job_start("list targets", docker_targets_job, NULL, life_docker_job_ms(), targets_done,
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
	if ((rp->body = metrics_render(A.reg)) == NULL)
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

	if (ts <= A.not_before) {
		why = AUTH_BEFORE_START;
	} else {
		switch (nonce_check(A.nonces, nonce, wall_ms() / 1000, rt->mutating)) {
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
			answer_send(c->seq, c->gen, &rp);
			return false;
		}
	}
	if ((o = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(o, "remote", c->remote);
		cJSON_AddStringToObject(o, "method", field_str(c->req, "method") != NULL ?
		    field_str(c->req, "method") : "");
		cJSON_AddStringToObject(o, "path", field_str(c->req, "path") != NULL ?
		    field_str(c->req, "path") : "");
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
	answer_send(c->seq, c->gen, &rp);
	return false;
}

int
api_request(const char *payload, size_t len, uint32_t seq, unsigned gen)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };
	struct call c;
	const struct route *rt;
	unsigned char nonce[SIGN_NONCE_LEN];
	cJSON *req = NULL;
	size_t i;

	if (jsoncheck(payload, len, NULL) != 0 ||
	    (req = cJSON_ParseWithLength(payload, len)) == NULL ||
	    (rt = route_by_name(field_str(req, "route") != NULL ?
	    field_str(req, "route") : "")) == NULL) {
		cJSON_Delete(req);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.id = field_str(req, "id");
	c.state = field_str(req, "state");
	c.remote = field_str(req, "remote") != NULL ? field_str(req, "remote") : "unknown";
	c.key_id = field_str(req, "key_id") != NULL ? field_str(req, "key_id") : "";
	c.seq = seq;
	c.gen = gen;
	/* Defense in depth: re-check what the worker already checked. */
	if ((c.id != NULL && !route_fault_id_ok(c.id)) ||
	    (c.state != NULL && fault_state_parse(c.state) < 0) ||
	    hex_decode(field_str(req, "nonce") != NULL ? field_str(req, "nonce") : "",
	    nonce, sizeof(nonce)) != 0 ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(req, "ts"))) {
		cJSON_Delete(req);
		return -1;
	}
	if (!fresh_request(&c, rt, nonce,
	    (int64_t)cJSON_GetObjectItemCaseSensitive(req, "ts")->valuedouble)) {
		cJSON_Delete(req);
		return 0;
	}
	for (i = 0; i < NELEM(dispatch); i++)
		if (dispatch[i].id == rt->id)
			break;
	if (i == NELEM(dispatch)) {
		cJSON_Delete(req);
		return -1;
	}
	dispatch[i].fn(&c, &rp);
	cJSON_Delete(req);
	if (!rp.deferred)
		answer_send(c.seq, c.gen, &rp);
	return 0;
}
