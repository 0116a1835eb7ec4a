/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker.c: a small Docker Engine API client and the container lookups of
 * the agent. It runs only in job children: every call may block for up to
 * the configured docker_timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "docker.h"
#include "../fault.h"
#include "../cpu/cgroup.h"
#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"

struct docker {
	CURL *h;
	char socket_path[256];
	long timeout_ms;
	char version[16];
	char server_version[32];
};

/* A raw request; path is absolute ("/version", "/v1.41/containers/json"). */
static int
request(struct docker *d, const char *method, const char *path, long *status, cJSON **json,
    struct errbuf *eb)
{
	char url[1024];
	struct buf b;
	CURLcode cc;

	*json = NULL;
	if (snprintf(url, sizeof(url), "http://docker%s", path) >= (int)sizeof(url))
		return err_set(eb, CE_INVALID, "docker: request path too long");
	buf_init(&b, DOCKER_BODY_MAX);
	curl_easy_reset(d->h);
	(void)curl_easy_setopt(d->h, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
	(void)curl_easy_setopt(d->h, CURLOPT_URL, url);
	(void)curl_easy_setopt(d->h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0) {
		(void)curl_easy_setopt(d->h, CURLOPT_POST, 1L);
		(void)curl_easy_setopt(d->h, CURLOPT_POSTFIELDS, "");
		(void)curl_easy_setopt(d->h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	(void)curl_easy_setopt(d->h, CURLOPT_TIMEOUT_MS, d->timeout_ms);
	(void)curl_easy_setopt(d->h, CURLOPT_CONNECTTIMEOUT_MS, d->timeout_ms);
	(void)curl_easy_setopt(d->h, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(d->h, CURLOPT_PROTOCOLS_STR, "http");
	(void)curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, buf_curl_write);
	(void)curl_easy_setopt(d->h, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(d->h);
	if (cc != CURLE_OK) {
		buf_release(&b);
		if (b.overflow)
			return err_set(eb, CE_SYSTEM, "docker: answer to %s %s is larger "
			    "than %d bytes", method, path, DOCKER_BODY_MAX);
		return err_set(eb, cc == CURLE_OPERATION_TIMEDOUT ? CE_BUSY : CE_UNAVAILABLE,
		    "docker engine at %s: %s %s: %s", d->socket_path, method, path,
		    curl_easy_strerror(cc));
	}
	(void)curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, status);
	if (b.len > 0)
		*json = cJSON_ParseWithLength(b.data, b.len);
	buf_release(&b);
	return 0;
}

/* "1.41" -> 1041; -1 when malformed. */
static int
version_num(const char *v)
{
	int64_t maj, min;
	const char *dot = v != NULL ? strchr(v, '.') : NULL;
	char buf[8];

	if (dot == NULL || (size_t)(dot - v) >= sizeof(buf))
		return -1;
	memcpy(buf, v, (size_t)(dot - v));
	buf[dot - v] = '\0';
	if (parse_i64(buf, 0, 99, &maj) != 0 || parse_i64(dot + 1, 0, 999, &min) != 0)
		return -1;
	return (int)(maj * 1000 + min);
}

/*
 * The API version the engine was last found to speak. The parent keeps it
 * (docker_remember_version, from a job's answer) and every job forked after
 * inherits it, so a fault's calls skip GET /version; the parent forgets it
 * when a Docker job fails, so a restarted or downgraded engine is asked
 * again.
 */
static char known_version[16];

void
docker_remember_version(const char *v)
{
	if (v != NULL && version_num(v) >= version_num(DOCKER_API_MIN) &&
	    version_num(v) <= version_num(DOCKER_API_MAX))
		(void)str_copy(known_version, sizeof(known_version), v);
}

void
docker_forget_version(void)
{
	known_version[0] = '\0';
}

const char *
docker_version(const struct docker *d)
{
	return d->version;
}

struct docker *
docker_open(const char *socket_path, long timeout_ms, struct errbuf *eb)
{
	struct docker *d = calloc(1, sizeof(*d));
	const char *v;
	cJSON *json = NULL;
	long status = 0;

	if (d == NULL) {
		(void)err_set(eb, CE_NOMEM, "out of memory");
		return NULL;
	}
	(void)str_copy(d->socket_path, sizeof(d->socket_path), socket_path);
	d->timeout_ms = timeout_ms;
	if ((d->h = curl_easy_init()) == NULL) {
		free(d);
		(void)err_set(eb, CE_NOMEM, "cannot create a curl handle");
		return NULL;
	}
	if (known_version[0] != '\0') {
		(void)str_copy(d->version, sizeof(d->version), known_version);
		return d;
	}
	if (request(d, "GET", "/version", &status, &json, eb) != 0)
		goto fail;
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "ApiVersion"));
	if (status != 200 || version_num(v) < 0) {
		(void)err_set(eb, CE_UNAVAILABLE, "docker engine at %s: GET /version "
		    "answered %ld without an API version", socket_path, status);
		goto fail;
	}
	if (version_num(v) < version_num(DOCKER_API_MIN)) {
		(void)err_set(eb, CE_UNAVAILABLE, "docker engine at %s speaks API %s; "
		    "at least %s is needed", socket_path, v, DOCKER_API_MIN);
		goto fail;
	}
	(void)str_copy(d->version, sizeof(d->version),
	    version_num(v) > version_num(DOCKER_API_MAX) ? DOCKER_API_MAX : v);
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "Version"));
	(void)str_copy(d->server_version, sizeof(d->server_version), v != NULL ? v : "");
	cJSON_Delete(json);
	return d;
fail:
	cJSON_Delete(json);
	docker_close(d);
	return NULL;
}

void
docker_close(struct docker *d)
{
	if (d == NULL)
		return;
	if (d->h != NULL)
		curl_easy_cleanup(d->h);
	free(d);
}

int
docker_call(struct docker *d, const char *method, const char *path, long *status,
    cJSON **json, struct errbuf *eb)
{
	char full[1024];

	if (snprintf(full, sizeof(full), "/v%s%s", d->version, path) >= (int)sizeof(full))
		return err_set(eb, CE_INVALID, "docker: request path too long");
	return request(d, method, full, status, json, eb);
}

const char *
docker_message(const cJSON *json, const char *fallback)
{
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "message"));

	return m != NULL ? m : fallback;
}

bool
docker_socket_reachable(const char *path, char *why, size_t len)
{
	struct sockaddr_un sa;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		(void)snprintf(why, len, "docker socket path %s is too long", path);
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		(void)snprintf(why, len, "socket: %s", strerror(errno));
		return false;
	}
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r != 0 && errno != EAGAIN && errno != EINPROGRESS) {
		(void)snprintf(why, len, "docker socket %s is unreachable: %s", path,
		    strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* ---- container facts ---- */

static const char *
label(const cJSON *labels, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, key));
}

/* The container's primary name without Docker's leading slash. */
static const char *
primary_name(const cJSON *c)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "Names");
	const char *n = cJSON_GetStringValue(cJSON_GetArrayItem(names, 0));

	if (n == NULL) {
		/* Inspect answers carry "Name" instead of "Names". */
		n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Name"));
	}
	if (n == NULL)
		return "";
	return n[0] == '/' ? n + 1 : n;
}

/* Why a container is protected, or NULL when it may be hit. */
static const char *
protected_reason(const cJSON *c, const cJSON *labels)
{
	const char *cn = label(labels, ECS_LABEL_CONTAINER);
	const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Image"));
	const char *name = primary_name(c);

	if (cn != NULL && strcmp(cn, ECS_PAUSE_CONTAINER) == 0)
		return "ECS pause container (owns the task's network namespace)";
	if (strcmp(name, "ecs-agent") == 0 ||
	    (image != NULL && strstr(image, "amazon-ecs-agent") != NULL))
		return "ECS agent container";
	return NULL;
}

/* Build the public description of one inspected container. */
static cJSON *
describe(const cJSON *insp)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(insp, "Config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(insp, "State");
	const cJSON *hc = cJSON_GetObjectItemCaseSensitive(insp, "HostConfig");
	const cJSON *pidj = cJSON_GetObjectItemCaseSensitive(st, "Pid");
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(insp, "Id"));
	const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hc, "NetworkMode"));
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Status"));
	const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "Image"));
	long pid = cJSON_IsNumber(pidj) ? (long)pidj->valuedouble : 0;
	cJSON *o = cJSON_CreateObject(), *ecs;
	static const struct { const char *field, *label; } ecs_fields[] = {
		{ "cluster", ECS_LABEL_CLUSTER },
		{ "task_arn", ECS_LABEL_TASK_ARN },
		{ "family", ECS_LABEL_FAMILY },
		{ "revision", ECS_LABEL_REVISION },
		{ "container_name", ECS_LABEL_CONTAINER },
	};
	size_t i;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", id != NULL ? id : "");
	cJSON_AddStringToObject(o, "name", primary_name(insp));
	cJSON_AddStringToObject(o, "image", image != NULL ? image : "");
	cJSON_AddStringToObject(o, "state", status != NULL ? status : "unknown");
	cJSON_AddNumberToObject(o, "pid", (double)pid);
	ecs = cJSON_AddObjectToObject(o, "ecs");
	for (i = 0; i < NELEM(ecs_fields); i++) {
		const char *v = label(labels, ecs_fields[i].label);

		if (v != NULL)
			cJSON_AddStringToObject(ecs, ecs_fields[i].field, v);
	}
	cJSON_AddStringToObject(o, "network_mode", nm != NULL ? nm : "");
	if (pid > 0) {
		char ns[64];

		(void)snprintf(ns, sizeof(ns), "/proc/%ld/ns/net", pid);
		cJSON_AddStringToObject(o, "netns", ns);
	}
	/* awsvpc and bridge-sharing tasks: whose namespace this one joined. */
	if (nm != NULL && strncmp(nm, "container:", 10) == 0)
		cJSON_AddStringToObject(o, "netns_owner", nm + 10);
	if (pid > 0) {
		cJSON *cg = cJSON_CreateObject();

		/* No "cgroup" at all for a process that is gone. */
		cgroup_read((pid_t)pid, cg);
		if (cg != NULL && cg->child != NULL)
			cJSON_AddItemToObject(o, "cgroup", cg);
		else
			cJSON_Delete(cg);
	}
	{
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(hc, "CpuQuota");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(hc, "CpuPeriod");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(hc, "NanoCpus");
		double cpus = 0;

		if (cJSON_IsNumber(n) && n->valuedouble > 0)
			cpus = n->valuedouble / 1e9;
		else if (cJSON_IsNumber(q) && q->valuedouble > 0)
			cpus = q->valuedouble / (cJSON_IsNumber(p) && p->valuedouble > 0 ?
			    p->valuedouble : 100000.0);
		/* What binds: a task-level limit above the container's counts. */
		double eff = cgroup_cpu_limit(cJSON_GetObjectItemCaseSensitive(o, "cgroup"));

		if (eff > 0 && (cpus == 0 || eff < cpus))
			cpus = eff;
		if (cpus > 0)
			cJSON_AddNumberToObject(o, "cpu_limit", cpus);
	}
	if (labels != NULL)
		cJSON_AddItemToObject(o, "labels", cJSON_Duplicate(labels, 1));
	return o;
}

static int
inspect(struct docker *d, const char *id, cJSON **out, struct errbuf *eb)
{
	char path[160];
	long status = 0;
	cJSON *json = NULL;
	int r;

	(void)snprintf(path, sizeof(path), "/containers/%.80s/json", id);
	if ((r = docker_call(d, "GET", path, &status, &json, eb)) != 0)
		return r;
	if (status != 200) {
		r = err_set(eb, status == 404 ? CE_NOT_FOUND : CE_SYSTEM, "docker: "
		    "inspect %.20s: %s", id, docker_message(json, "unexpected answer"));
		cJSON_Delete(json);
		return r;
	}
	*out = describe(json);
	cJSON_Delete(json);
	return *out != NULL ? 0 : err_set(eb, CE_NOMEM, "out of memory");
}

static int
list(struct docker *d, bool all, cJSON **out, struct errbuf *eb)
{
	long status = 0;
	int r;

	if ((r = docker_call(d, "GET", all ? "/containers/json?all=1" : "/containers/json",
	    &status, out, eb)) != 0)
		return r;
	if (status != 200 || !cJSON_IsArray(*out)) {
		r = err_set(eb, CE_SYSTEM, "docker: listing containers: %s",
		    docker_message(*out, "unexpected answer"));
		cJSON_Delete(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

int
docker_ping_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct docker *d;

	(void)arg;
	/* A ping asks the engine itself (this is a child: the parent keeps its copy). */
	docker_forget_version();
	if ((d = docker_open(fault_env.docker_socket, 3000, eb)) == NULL)
		return CE_UNAVAILABLE;
	*out = cJSON_CreateObject();
	cJSON_AddBoolToObject(*out, "available", 1);
	cJSON_AddStringToObject(*out, "socket", fault_env.docker_socket);
	cJSON_AddStringToObject(*out, "api_version", d->version);
	cJSON_AddStringToObject(*out, "server_version", d->server_version);
	docker_close(d);
	return 0;
}

int
docker_targets_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct docker *d;
	cJSON *arr = NULL, *c, *targets;
	int r, n = 0;

	(void)arg;
	if ((d = docker_open(fault_env.docker_socket, (long)fault_env.docker_timeout_ms,
	    eb)) == NULL)
		return CE_UNAVAILABLE;
	if ((r = list(d, true, &arr, eb)) != 0)
		goto out;
	*out = cJSON_CreateObject();
	targets = cJSON_AddArrayToObject(*out, "targets");
	cJSON_ArrayForEach(c, arr) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
		cJSON *o = NULL;
		struct errbuf ieb = { "" };

		if (id == NULL || ++n > DOCKER_CONTAINERS_MAX)
			break;
		/* A container may vanish between list and inspect: skip it. */
		if (inspect(d, id, &o, &ieb) != 0)
			continue;
		if (protected_reason(c, cJSON_GetObjectItemCaseSensitive(c, "Labels")) != NULL)
			cJSON_AddStringToObject(o, "protected", protected_reason(c,
			    cJSON_GetObjectItemCaseSensitive(c, "Labels")));
		cJSON_AddItemToArray(targets, o);
	}
	cJSON_AddStringToObject(*out, "api_version", d->version);
out:
	cJSON_Delete(arr);
	docker_close(d);
	return r;
}

/* ---- target resolution ---- */

/* v equals want, or ends with "/" + want (an ARN matched by its last part). */
static bool
arn_match(const char *v, const char *want)
{
	size_t lv, lw;

	if (v == NULL)
		return false;
	if (strcmp(v, want) == 0)
		return true;
	lv = strlen(v);
	lw = strlen(want);
	return lv > lw && v[lv - lw - 1] == '/' && strcmp(v + lv - lw, want) == 0;
}

static bool
id_or_name_match(const cJSON *c, const char *want)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(c, "Names"), *n;
	size_t lw = strlen(want);

	/* Ids by prefix, like the docker CLI, but at least 12 characters. */
	if (id != NULL && lw >= 12 && strncmp(id, want, lw) == 0)
		return true;
	cJSON_ArrayForEach(n, names) {
		const char *s = cJSON_GetStringValue(n);

		if (s != NULL && strcmp(s[0] == '/' ? s + 1 : s, want) == 0)
			return true;
	}
	return false;
}

static bool
matches(const cJSON *c, const cJSON *t)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(c, "Labels"), *l;
	const char *v;

	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "container_id"))) &&
	    !id_or_name_match(c, v))
		return false;
	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "task"))) &&
	    !arn_match(label(labels, ECS_LABEL_TASK_ARN), v))
		return false;
	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "cluster"))) &&
	    !arn_match(label(labels, ECS_LABEL_CLUSTER), v))
		return false;
	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "family"))) &&
	    (label(labels, ECS_LABEL_FAMILY) == NULL ||
	    strcmp(label(labels, ECS_LABEL_FAMILY), v) != 0))
		return false;
	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "revision"))) &&
	    (label(labels, ECS_LABEL_REVISION) == NULL ||
	    strcmp(label(labels, ECS_LABEL_REVISION), v) != 0))
		return false;
	if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "container_name"))) &&
	    (label(labels, ECS_LABEL_CONTAINER) == NULL ||
	    strcmp(label(labels, ECS_LABEL_CONTAINER), v) != 0))
		return false;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(t, "labels")) {
		const char *have = label(labels, l->string);

		if (have == NULL || strcmp(have, cJSON_GetStringValue(l)) != 0)
			return false;
	}
	return true;
}

/* Selectors named in t, for messages: "task=..., family=...". */
static void
selector_text(const cJSON *t, char *buf, size_t len)
{
	const cJSON *item;
	size_t used = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(item, t) {
		int w;

		if (strcmp(item->string, "kind") == 0)
			continue;
		if (cJSON_IsString(item))
			w = snprintf(buf + used, len - used, "%s%s=%s", used ? ", " : "",
			    item->string, item->valuestring);
		else if (cJSON_IsNumber(item))
			w = snprintf(buf + used, len - used, "%s%s=%lld", used ? ", " : "",
			    item->string, (long long)item->valuedouble);
		else if (cJSON_IsObject(item)) {
			const cJSON *l;

			w = 0;
			cJSON_ArrayForEach(l, item) {
				int x = snprintf(buf + used + (size_t)w, len - used - (size_t)w,
				    "%slabel %s=%s", used + (size_t)w ? ", " : "", l->string,
				    cJSON_GetStringValue(l));
				if (x < 0 || (size_t)x >= len - used - (size_t)w)
					return;
				w += x;
			}
		} else
			continue;
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
	}
}

int
docker_resolve_job(void *arg, cJSON **out, struct errbuf *eb)
{
	const struct fault *f = arg;
	const cJSON *t = f->req.target;
	const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(t, "count");
	const cJSON *pct = cJSON_GetObjectItemCaseSensitive(t, "percent");
	const char *want_cn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t,
	    "container_name"));
	bool named = cJSON_GetObjectItemCaseSensitive(t, "container_id") != NULL ||
	    (want_cn != NULL && strcmp(want_cn, ECS_PAUSE_CONTAINER) == 0);
	struct docker *d;
	cJSON *arr = NULL, *c, *skipped, *targets, **cand = NULL;
	size_t ncand = 0, want, i, searched = 0, not_running = 0;
	char sel[512];
	int r;

	if ((d = docker_open(fault_env.docker_socket, (long)fault_env.docker_timeout_ms,
	    eb)) == NULL)
		return CE_UNAVAILABLE;
	if ((r = list(d, true, &arr, eb)) != 0)
		goto out;
	*out = cJSON_CreateObject();
	targets = cJSON_AddArrayToObject(*out, "targets");
	skipped = cJSON_AddArrayToObject(*out, "skipped");
	if ((cand = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*cand))) == NULL) {
		r = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(c, arr) {
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(c, "Labels");
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c,
		    "State"));
		const char *why;

		if (++searched > DOCKER_CONTAINERS_MAX)
			break;
		if (!matches(c, t))
			continue;
		if (state == NULL || strcmp(state, "running") != 0) {
			not_running++;
			continue;
		}
		if ((why = protected_reason(c, labels)) != NULL && !named) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "id", cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(c, "Id")));
			cJSON_AddStringToObject(s, "name", primary_name(c));
			cJSON_AddStringToObject(s, "reason", why);
			cJSON_AddItemToArray(skipped, s);
			continue;
		}
		cand[ncand++] = c;
	}
	selector_text(t, sel, sizeof(sel));
	cJSON_AddNumberToObject(*out, "searched", (double)searched);
	cJSON_AddNumberToObject(*out, "matched", (double)ncand);
	if (ncand == 0) {
		if (cJSON_GetArraySize(skipped) > 0)
			r = err_set(eb, CE_NOT_FOUND, "only protected containers match %s "
			    "(%d skipped: the ECS agent and ECS pause containers are hit "
			    "only when named by container_id)", sel,
			    cJSON_GetArraySize(skipped));
		else if (not_running > 0)
			r = err_set(eb, CE_CONFLICT, "%zu containers match %s but none of "
			    "them is running", not_running, sel);
		else
			r = err_set(eb, CE_NOT_FOUND, "no container matches %s (searched "
			    "%zu containers on this host)", sel, searched);
		goto out;
	}
	want = ncand;
	if (cJSON_IsNumber(cnt))
		want = (size_t)cnt->valuedouble < ncand ? (size_t)cnt->valuedouble : ncand;
	else if (cJSON_IsNumber(pct))
		want = (ncand * (size_t)pct->valuedouble + 99) / 100;
	if (want == 0)
		want = 1;
	/* A uniform random choice: a partial Fisher-Yates shuffle. */
	for (i = 0; i < want; i++) {
		size_t j = i + arc4random_uniform((uint32_t)(ncand - i));
		cJSON *tmp = cand[i];

		cand[i] = cand[j];
		cand[j] = tmp;
	}
	for (i = 0; i < want; i++) {
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cand[i],
		    "Id"));
		cJSON *o = NULL;

		if (id == NULL || (r = inspect(d, id, &o, eb)) != 0) {
			if (id == NULL)
				r = err_set(eb, CE_SYSTEM, "docker: a container without an id");
			goto out;
		}
		cJSON_AddItemToArray(targets, o);
	}
	cJSON_AddNumberToObject(*out, "chosen", (double)want);
	cJSON_AddStringToObject(*out, "api_version", d->version);
	r = 0;
out:
	if (r != 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(cand);
	cJSON_Delete(arr);
	docker_close(d);
	return r;
}
