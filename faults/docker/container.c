/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container.c: faults on the containers of ECS tasks, through the Docker
 * Engine API. The target is resolved before prepare (f->targets); prepare
 * writes the containers into the record; commit acts on each of them and
 * marks which ones it hit; revert (pause only) undoes exactly those.
 *
 *   kill-container     POST /containers/{id}/kill?signal=SIG   one-shot
 *   stop-container     POST /containers/{id}/stop?t=GRACE      one-shot
 *   restart-container  POST /containers/{id}/restart?t=GRACE   one-shot
 *   pause-container    POST /containers/{id}/pause, /unpause   revertible
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "../fault.h"
#include "../../common/err.h"
#include "../../common/util.h"

/* Offered only while the Docker socket answers a connect. */
static bool
container_available(char *why, size_t len)
{
	return docker_socket_reachable(fault_env.docker_socket, why, len);
}

static int
container_prepare(struct fault *f, struct errbuf *eb)
{
	cJSON *rec, *arr, *t;

	if (!cJSON_IsArray(f->targets) || cJSON_GetArraySize(f->targets) == 0)
		return err_set(eb, CE_INVALID, "%s needs a container target "
		    "(target.container_id, task, family, container_name or labels)",
		    f->req.spec->name);
	if ((rec = cJSON_CreateObject()) == NULL ||
	    (arr = cJSON_AddArrayToObject(rec, "containers")) == NULL) {
		cJSON_Delete(rec);
		return err_set(eb, CE_NOMEM, "out of memory");
	}
	cJSON_AddStringToObject(rec, "action", f->req.spec->name);
	cJSON_ArrayForEach(t, f->targets) {
		cJSON *o = cJSON_CreateObject();
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "id"));
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t,
		    "name"));

		if (o == NULL || id == NULL || !str_charset_ok(id, "")) {
			cJSON_Delete(o);
			cJSON_Delete(rec);
			return err_set(eb, CE_INTERNAL, "a resolved container has no valid id");
		}
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "name", name != NULL ? name : "");
		cJSON_AddBoolToObject(o, "hit", 0);
		cJSON_AddItemToArray(arr, o);
	}
	f->record = rec;
	return 0;
}

/* The path of the Docker call that performs the fault on container id. */
static void
action_path(const struct fault *f, const char *id, char *buf, size_t len)
{
	const char *name = f->req.spec->name;
	const struct spec_value *v;

	if (strcmp(name, "kill-container") == 0) {
		v = fault_req_get(&f->req, "signal");
		(void)snprintf(buf, len, "/containers/%s/kill?signal=SIG%s", id, v->s);
	} else if (strcmp(name, "stop-container") == 0) {
		v = fault_req_get(&f->req, "grace");
		(void)snprintf(buf, len, "/containers/%s/stop?t=%lld", id, (long long)v->i);
	} else if (strcmp(name, "restart-container") == 0) {
		v = fault_req_get(&f->req, "grace");
		(void)snprintf(buf, len, "/containers/%s/restart?t=%lld", id, (long long)v->i);
	} else {
		(void)snprintf(buf, len, "/containers/%s/pause", id);
	}
}

static int
container_commit(struct fault *f, struct errbuf *eb)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(f->record, "containers"), *c;
	struct docker *d;
	int hit = 0, total = 0, r;
	char first_err[ERRBUF_MAX] = "";

	if ((d = docker_open(fault_env.docker_socket, (long)fault_env.docker_timeout_ms,
	    eb)) == NULL)
		return CE_UNAVAILABLE;
	cJSON_ArrayForEach(c, arr) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
		struct errbuf ceb = { "" };
		char path[256];
		long status = 0;
		cJSON *json = NULL;

		total++;
		action_path(f, id, path, sizeof(path));
		if (docker_call(d, "POST", path, &status, &json, &ceb) == 0 &&
		    (status == 204 || status == 200 || status == 304)) {
			cJSON_ReplaceItemInObjectCaseSensitive(c, "hit", cJSON_CreateBool(1));
			hit++;
		} else {
			char m[ERRBUF_MAX];

			if (ceb.msg[0] == '\0')
				(void)snprintf(ceb.msg, sizeof(ceb.msg), "%ld: %s", status,
				    docker_message(json, "unexpected answer"));
			(void)snprintf(m, sizeof(m), "%.100s: %s", id, ceb.msg);
			cJSON_AddStringToObject(c, "error", m);
			if (first_err[0] == '\0')
				(void)str_copy(first_err, sizeof(first_err), m);
		}
		cJSON_Delete(json);
	}
	docker_close(d);
	cJSON_AddNumberToObject(f->record, "hit", hit);
	if (hit == 0) {
		r = err_set(eb, CE_SYSTEM, "%s hit none of %d containers: %s",
		    f->req.spec->name, total, first_err);
		return r;
	}
	return 0;
}

/* Unpause what pause-container paused; the other actions leave nothing. */
static int
container_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(record,
	    "action"));
	const cJSON *c;
	struct docker *d;
	int failed = 0;
	char first_err[ERRBUF_MAX] = "";

	(void)f;
	if (action == NULL || strcmp(action, "pause-container") != 0)
		return 0;
	if ((d = docker_open(fault_env.docker_socket, (long)fault_env.docker_timeout_ms,
	    eb)) == NULL)
		return CE_UNAVAILABLE;
	/* Unpause every recorded container: commit may have died midway. */
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(record, "containers")) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
		struct errbuf ceb = { "" };
		char path[256];
		long status = 0;
		cJSON *json = NULL;

		if (id == NULL || !str_charset_ok(id, ""))
			continue;
		(void)snprintf(path, sizeof(path), "/containers/%s/unpause", id);
		if (docker_call(d, "POST", path, &status, &json, &ceb) != 0) {
			failed++;
			if (first_err[0] == '\0')
				(void)str_copy(first_err, sizeof(first_err), ceb.msg);
		} else if (status != 204 && status != 200 && status != 404 && status != 409) {
			/* 404: the container is gone; 409: it is not paused. */
			failed++;
			if (first_err[0] == '\0')
				(void)snprintf(first_err, sizeof(first_err), "%.24s: %ld: %s",
				    id, status, docker_message(json, "unexpected answer"));
		}
		cJSON_Delete(json);
	}
	docker_close(d);
	if (failed > 0)
		return err_set(eb, CE_SYSTEM, "%d container(s) not unpaused: %s", failed,
		    first_err);
	return 0;
}

static void
container_describe(const struct fault *f, cJSON *detail)
{
	cJSON_AddItemToObject(detail, "containers", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "containers"), 1));
}

#define CONTAINER_OPS(var, fname) \
	const struct fault_ops var = { \
		.name = fname, \
		.blocking = true, \
		.available = container_available, \
		.prepare = container_prepare, \
		.commit = container_commit, \
		.revert = container_revert, \
		.describe = container_describe, \
	}

CONTAINER_OPS(fault_kill_container_ops, "kill-container");
CONTAINER_OPS(fault_stop_container_ops, "stop-container");
CONTAINER_OPS(fault_restart_container_ops, "restart-container");
CONTAINER_OPS(fault_pause_container_ops, "pause-container");
