/* SPDX-License-Identifier: Apache-2.0 */
/* discover.c: see discover.h. ECS speaks JSON 1.1, EC2 the Query protocol (XML). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "xml.h"
#include "discover.h"
#include "../common/err.h"
#include "../common/util.h"

#define ECS_TARGET "AmazonEC2ContainerServiceV20141113."
#define ECS_JSON "application/x-amz-json-1.1"
#define FORM "application/x-www-form-urlencoded; charset=utf-8"
#define HOSTS_MAX 5000

static int
ecs(const struct aws *a, const char *op, cJSON *req, cJSON **resp, struct errbuf *eb)
{
	char target[128], *body = cJSON_PrintUnformatted(req);
	struct aws_resp r;
	int rc;

	*resp = NULL;
	if (body == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	(void)snprintf(target, sizeof(target), ECS_TARGET "%s", op);
	rc = aws_call(a, "ecs", "ecs", "POST", "/", ECS_JSON, target, body, strlen(body), &r, eb);
	free(body);
	if (rc == 0 && (*resp = cJSON_ParseWithLength(r.body, r.len)) == NULL)
		rc = err_set(eb, CE_SYSTEM, "ecs %s: the answer is not JSON", op);
	aws_resp_free(&r);
	return rc;
}

/* Every ARN of a paginated ECS list call (ListContainerInstances, ListTasks). */
static int
ecs_list(const struct aws *a, const char *op, const char *field, cJSON *req, cJSON *out,
    struct errbuf *eb)
{
	const char *next = NULL;
	char token[2048] = "";
	int rc, pages = 0;

	do {
		cJSON *resp, *it;

		cJSON_DeleteItemFromObjectCaseSensitive(req, "nextToken");
		if (token[0] != '\0')
			cJSON_AddStringToObject(req, "nextToken", token);
		if ((rc = ecs(a, op, req, &resp, eb)) != 0)
			return rc;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(resp, field))
			if (cJSON_IsString(it) && cJSON_GetArraySize(out) < HOSTS_MAX * 10)
				cJSON_AddItemToArray(out, cJSON_CreateString(it->valuestring));
		next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "nextToken"));
		(void)str_copy(token, sizeof(token), next != NULL ? next : "");
		cJSON_Delete(resp);
	} while (token[0] != '\0' && ++pages < 1000);
	return 0;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The text of the first child element named name, or NULL. */
struct ec2_instance {
	char id[32], ip[64], az[32], state[32];
	const struct xml_node *tags;	/* <tagSet>, borrowed from the document */
};

static bool
has_tag(const struct xml_node *tagset, const char *kv)
{
	const char *eq = strchr(kv, '=');
	const struct xml_node *it;

	for (it = tagset != NULL ? tagset->child : NULL; it != NULL; it = it->next) {
		char k[256], v[512];

		xml_text(xml_child(it, "key"), k, sizeof(k));
		xml_text(xml_child(it, "value"), v, sizeof(v));
		if (eq != NULL && strlen(k) == (size_t)(eq - kv) &&
		    strncmp(k, kv, (size_t)(eq - kv)) == 0 && strcmp(v, eq + 1) == 0)
			return true;
	}
	return false;
}

/* EC2 DescribeInstances for ids; calls fill for each instance found. */
static int
ec2_describe(const struct aws *a, cJSON *ids, const struct discover_opts *o, struct host *hosts,
    size_t *nhosts, cJSON *cimap, struct errbuf *eb)
{
	int total = cJSON_GetArraySize(ids), start, rc = 0;

	for (start = 0; start < total && rc == 0; start += 100) {
		char *body;
		size_t cap = 256 + 64 * 100, used;
		int i;
		struct aws_resp r;
		struct xml_node *doc;
		const struct xml_node *rs, *res;
		struct errbuf xe;

		if ((body = malloc(cap)) == NULL)
			return err_set(eb, CE_NOMEM, "out of memory");
		used = (size_t)snprintf(body, cap, "Action=DescribeInstances&Version=2016-11-15");
		for (i = start; i < total && i < start + 100; i++) {
			char enc[96];

			if (aws_form_value(cJSON_GetArrayItem(ids, i)->valuestring, enc,
			    sizeof(enc)) != 0)
				continue;
			used += (size_t)snprintf(body + used, cap - used, "&InstanceId.%d=%s",
			    i - start + 1, enc);
		}
		rc = aws_call(a, "ec2", "ec2", "POST", "/", FORM, NULL, body, used, &r, eb);
		free(body);
		if (rc != 0)
			break;
		doc = xml_parse(r.body, r.len, &xe);
		aws_resp_free(&r);
		if (doc == NULL)
			return err_set(eb, CE_SYSTEM, "ec2 DescribeInstances: the answer is "
			    "not XML (%s)", xe.msg);
		rs = xml_child(doc, "reservationSet");
		for (res = rs != NULL ? rs->child : NULL; res != NULL; res = res->next) {
			const struct xml_node *set = xml_child(res, "instancesSet"), *in;

			for (in = set != NULL ? set->child : NULL; in != NULL; in = in->next) {
				struct ec2_instance e;
				const cJSON *ci;
				struct host *h;
				size_t k;
				bool ok = true;

				memset(&e, 0, sizeof(e));
				xml_text(xml_child(in, "instanceId"), e.id, sizeof(e.id));
				xml_text(xml_child(in, "privateIpAddress"), e.ip, sizeof(e.ip));
				xml_text(xml_child(xml_child(in, "placement"), "availabilityZone"),
				    e.az, sizeof(e.az));
				xml_text(xml_child(xml_child(in, "instanceState"), "name"), e.state,
				    sizeof(e.state));
				e.tags = xml_child(in, "tagSet");
				if (e.id[0] == '\0' || e.ip[0] == '\0' ||
				    strcmp(e.state, "running") != 0)
					continue;
				if (o->nazs > 0) {
					ok = false;
					for (k = 0; k < o->nazs; k++)
						ok |= strcmp(o->azs[k], e.az) == 0;
				}
				for (k = 0; ok && k < o->ntags; k++)
					ok = has_tag(e.tags, o->tags[k]);
				if (!ok || *nhosts >= HOSTS_MAX)
					continue;
				h = &hosts[(*nhosts)++];
				memset(h, 0, sizeof(*h));
				(void)str_copy(h->instance_id, sizeof(h->instance_id), e.id);
				(void)str_copy(h->ip, sizeof(h->ip), e.ip);
				(void)str_copy(h->az, sizeof(h->az), e.az);
				if ((ci = cJSON_GetObjectItemCaseSensitive(cimap, e.id)) != NULL)
					(void)str_copy(h->container_instance,
					    sizeof(h->container_instance), ci->valuestring);
				(void)snprintf(h->url, sizeof(h->url), strchr(e.ip, ':') != NULL ?
				    "http://[%s]:%ld" : "http://%s:%ld", e.ip, o->port);
			}
		}
		xml_free(doc);
	}
	return rc;
}

static int
add_task(struct host *h, const char *arn)
{
	char **t = realloc(h->tasks, (h->ntasks + 1) * sizeof(*t));

	if (t == NULL)
		return -1;
	h->tasks = t;
	if ((h->tasks[h->ntasks] = strdup(arn)) == NULL)
		return -1;
	h->ntasks++;
	return 0;
}

/* Is a task's group that of the service named (or with the ARN) svc? */
static bool
service_group(const char *group, const char *svc)
{
	const char *name = strrchr(svc, '/');

	name = name != NULL ? name + 1 : svc;
	return strncmp(group, "service:", 8) == 0 && strcmp(group + 8, name) == 0;
}

/*
 * The agent port of a task definition's sidecar: its container named
 * o->sidecar, on the port mapping named like it or else the first TCP one
 * (with awsvpc the container port is the port on the task's address).
 * Returns the port, 0 when the definition has no such container, or -1
 * when it has one but not in awsvpc network mode, where its address would
 * be the host's. Answers are cached in tdmap (ARN -> port).
 */
static int
sidecar_port(const struct aws *a, const struct discover_opts *o, const char *tdarn,
    cJSON *tdmap, long *port, struct errbuf *eb)
{
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(tdmap, tdarn), *c, *pm;
	cJSON *req, *resp, *td;
	const char *mode;
	long p = 0;
	int rc;

	if (cached != NULL) {
		*port = (long)cached->valuedouble;
		return 0;
	}
	if ((req = cJSON_CreateObject()) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	cJSON_AddStringToObject(req, "taskDefinition", tdarn);
	rc = ecs(a, "DescribeTaskDefinition", req, &resp, eb);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	td = cJSON_GetObjectItemCaseSensitive(resp, "taskDefinition");
	mode = jstr(td, "networkMode");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(td, "containerDefinitions")) {
		const char *name = jstr(c, "name");

		if (name == NULL || strcmp(name, o->sidecar) != 0)
			continue;
		p = o->port;
		cJSON_ArrayForEach(pm, cJSON_GetObjectItemCaseSensitive(c, "portMappings")) {
			const cJSON *cp = cJSON_GetObjectItemCaseSensitive(pm, "containerPort");
			const char *proto = jstr(pm, "protocol"), *pname = jstr(pm, "name");

			if (!cJSON_IsNumber(cp) || cp->valuedouble < 1 || cp->valuedouble > 65535 ||
			    (proto != NULL && strcmp(proto, "tcp") != 0))
				continue;
			if (p == o->port || (pname != NULL && strcmp(pname, o->sidecar) == 0))
				p = (long)cp->valuedouble;
			if (pname != NULL && strcmp(pname, o->sidecar) == 0)
				break;
		}
		if (mode == NULL || strcmp(mode, "awsvpc") != 0)
			p = -1;
		break;
	}
	cJSON_Delete(resp);
	if (cJSON_GetArraySize(tdmap) < HOSTS_MAX)
		cJSON_AddNumberToObject(tdmap, tdarn, (double)p);
	*port = p;
	return 0;
}

/* Does DescribeTasks list a container named name in task? */
static bool
has_container(const cJSON *task, const char *name)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(task, "containers")) {
		const char *n = jstr(c, "name");

		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* The private IPv4 address of a task's ENI (awsvpc), into ip; false if none. */
static bool
task_eni_ip(const cJSON *task, char *ip, size_t len)
{
	const cJSON *at, *d;

	cJSON_ArrayForEach(at, cJSON_GetObjectItemCaseSensitive(task, "attachments")) {
		const char *type = jstr(at, "type"), *status = jstr(at, "status");

		if (type == NULL || strcmp(type, "ElasticNetworkInterface") != 0 ||
		    (status != NULL && (strcmp(status, "DELETED") == 0 ||
		    strcmp(status, "DETACHED") == 0)))
			continue;
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(at, "details")) {
			const char *name = jstr(d, "name"), *value = jstr(d, "value");
			unsigned char bin[4];

			if (name != NULL && value != NULL &&
			    strcmp(name, "privateIPv4Address") == 0 &&
			    inet_pton(AF_INET, value, bin) == 1)
				return str_copy(ip, len, value) == 0;
		}
	}
	return false;
}

/*
 * Keep a random sample of arr's items: count of them, or percent (rounded
 * up), or all when both are 0 (a partial Fisher-Yates shuffle). Returns 0
 * or CE_NOMEM (arr unchanged).
 */
static int
sample_json(cJSON *arr, long count, long percent)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), want = n, i;
	cJSON **v;

	if (count > 0 && (size_t)count < n)
		want = (size_t)count;
	else if (percent > 0)
		want = (n * (size_t)percent + 99) / 100;
	if (want == n)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return CE_NOMEM;
	for (i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(arr, 0);
	for (i = 0; i < want; i++) {
		size_t j = i + arc4random_uniform((uint32_t)(n - i));
		cJSON *t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (i < want)
			cJSON_AddItemToArray(arr, v[i]);
		else
			cJSON_Delete(v[i]);
	}
	free(v);
	return 0;
}

/* Does a sidecar task pass the filters? Hosts' filters leave every task out. */
static bool
sidecar_wanted(const struct discover_opts *o, const char *az)
{
	size_t k;
	bool ok = o->nazs == 0;

	if (o->ninstance_ids > 0 || o->ntags > 0)
		return false;
	for (k = 0; k < o->nazs; k++)
		ok |= az != NULL && strcmp(o->azs[k], az) == 0;
	return ok;
}

/*
 * The running tasks of o->service, sampled by --task-count/--task-percent.
 * A task whose definition has the sidecar becomes an entry of sidecars
 * ({"arn", "ip", "port", "az", "ci"}); any other task on a container
 * instance is listed in taskmap under it, the instance in arns. *nobody
 * counts the tasks left with no agent (Fargate without the sidecar).
 */
static int
service_tasks(const struct aws *a, const struct discover_opts *o, cJSON *arns, cJSON *taskmap,
    cJSON *sidecars, size_t *nobody, struct errbuf *eb)
{
	cJSON *treq = cJSON_CreateObject(), *tarns = cJSON_CreateArray();
	cJSON *tasks = cJSON_CreateArray(), *tdmap = cJSON_CreateObject(), *t;
	int rc, k;

	*nobody = 0;
	if (treq == NULL || tarns == NULL || tasks == NULL || tdmap == NULL) {
		rc = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(treq, "cluster", o->cluster);
	cJSON_AddStringToObject(treq, "serviceName", o->service);
	cJSON_AddStringToObject(treq, "desiredStatus", "RUNNING");
	rc = ecs_list(a, "ListTasks", "taskArns", treq, tarns, eb);
	if (rc == 0 && cJSON_GetArraySize(tarns) == 0)
		rc = err_set(eb, CE_NOT_FOUND, "service %s in cluster %s has no running tasks",
		    o->service, o->cluster);
	for (k = 0; rc == 0 && k < cJSON_GetArraySize(tarns); k += 100) {
		cJSON *dreq = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(dreq, "tasks");
		cJSON *resp;
		int j;

		cJSON_AddStringToObject(dreq, "cluster", o->cluster);
		for (j = k; j < k + 100 && j < cJSON_GetArraySize(tarns); j++)
			cJSON_AddItemToArray(list, cJSON_CreateString(
			    cJSON_GetArrayItem(tarns, j)->valuestring));
		rc = ecs(a, "DescribeTasks", dreq, &resp, eb);
		cJSON_Delete(dreq);
		if (rc != 0)
			break;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(resp, "tasks")) {
			const char *group = jstr(t, "group");

			if (jstr(t, "taskArn") == NULL)
				continue;
			/* A service's tasks are in group "service:NAME". Trust that
			 * over the serviceName filter, which some endpoints (moto)
			 * ignore: a fault must never reach another service's task. */
			if (group != NULL && !service_group(group, o->service))
				continue;
			cJSON_AddItemToArray(tasks, cJSON_Duplicate(t, 1));
		}
		cJSON_Delete(resp);
	}
	if (rc == 0 && cJSON_GetArraySize(tasks) == 0)
		rc = err_set(eb, CE_NOT_FOUND, "service %s in cluster %s has no running tasks",
		    o->service, o->cluster);
	if (rc == 0 && sample_json(tasks, o->task_count, o->task_percent) != 0)
		rc = err_set(eb, CE_NOMEM, "out of memory");
	if (rc != 0)
		goto out;
	cJSON_ArrayForEach(t, tasks) {
		const char *ci = jstr(t, "containerInstanceArn"), *ta = jstr(t, "taskArn");
		const char *td = jstr(t, "taskDefinitionArn"), *az = jstr(t, "availabilityZone");
		char ip[64];
		long port = 0;
		cJSON *l;

		/* Only a task with the sidecar's container costs a look at its
		 * definition (and needs ecs:DescribeTaskDefinition). */
		if (td != NULL && has_container(t, o->sidecar) &&
		    (rc = sidecar_port(a, o, td, tdmap, &port, eb)) != 0)
			break;
		if (port > 0 && task_eni_ip(t, ip, sizeof(ip))) {
			cJSON *e;

			if (!sidecar_wanted(o, az) || cJSON_GetArraySize(sidecars) >= HOSTS_MAX)
				continue;
			e = cJSON_CreateObject();
			cJSON_AddItemToArray(sidecars, e);
			cJSON_AddStringToObject(e, "arn", ta);
			cJSON_AddStringToObject(e, "ip", ip);
			cJSON_AddNumberToObject(e, "port", (double)port);
			cJSON_AddStringToObject(e, "az", az != NULL ? az : "");
			cJSON_AddStringToObject(e, "ci", ci != NULL ? ci : "");
			continue;
		}
		if (ci == NULL) {
			(*nobody)++;	/* Fargate without the sidecar: nothing to ask */
			continue;
		}
		if ((l = cJSON_GetObjectItemCaseSensitive(taskmap, ci)) == NULL) {
			l = cJSON_AddArrayToObject(taskmap, ci);
			cJSON_AddItemToArray(arns, cJSON_CreateString(ci));
		}
		cJSON_AddItemToArray(l, cJSON_CreateString(ta));
	}
out:
	cJSON_Delete(treq);
	cJSON_Delete(tarns);
	cJSON_Delete(tasks);
	cJSON_Delete(tdmap);
	return rc;
}

/*
 * The hosts of the container instances in arns (with their service tasks
 * from taskmap), filtered and sampled, into *out and *n. Returns 0 with *n >= 1,
 * or a CE_* code (CE_NOT_FOUND when no host is left).
 */
static int
instance_hosts(const struct aws *a, const struct discover_opts *o, cJSON *arns,
    const cJSON *taskmap, struct host **out, size_t *n, struct errbuf *eb)
{
	cJSON *ids = cJSON_CreateArray(), *cimap = cJSON_CreateObject();
	struct host *hosts = NULL;
	size_t nhosts = 0, i;
	int rc = 0, k;

	if (ids == NULL || cimap == NULL) {
		rc = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < cJSON_GetArraySize(arns); k += 100) {
		cJSON *dreq = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(dreq,
		    "containerInstances"), *resp, *ci;
		int j;

		cJSON_AddStringToObject(dreq, "cluster", o->cluster);
		for (j = k; j < k + 100 && j < cJSON_GetArraySize(arns); j++)
			cJSON_AddItemToArray(list, cJSON_CreateString(
			    cJSON_GetArrayItem(arns, j)->valuestring));
		rc = ecs(a, "DescribeContainerInstances", dreq, &resp, eb);
		cJSON_Delete(dreq);
		if (rc != 0)
			goto out;
		cJSON_ArrayForEach(ci, cJSON_GetObjectItemCaseSensitive(resp,
		    "containerInstances")) {
			const char *id = jstr(ci, "ec2InstanceId"), *arn = jstr(ci,
			    "containerInstanceArn");
			size_t m;
			bool want = o->ninstance_ids == 0;

			for (m = 0; m < o->ninstance_ids; m++)
				want |= id != NULL && strcmp(o->instance_ids[m], id) == 0;
			if (id == NULL || arn == NULL || !want)
				continue;
			cJSON_AddItemToArray(ids, cJSON_CreateString(id));
			cJSON_AddStringToObject(cimap, id, arn);
		}
		cJSON_Delete(resp);
	}
	if (cJSON_GetArraySize(ids) == 0) {
		rc = err_set(eb, CE_NOT_FOUND, "no container instance of cluster %s matches "
		    "--instance-id", o->cluster);
		goto out;
	}
	if ((hosts = calloc((size_t)cJSON_GetArraySize(ids), sizeof(*hosts))) == NULL) {
		rc = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ec2_describe(a, ids, o, hosts, &nhosts, cimap, eb)) != 0)
		goto out;
	if (nhosts == 0) {
		rc = err_set(eb, CE_NOT_FOUND, "no running instance of cluster %s matches the "
		    "filters (--az, --tag)", o->cluster);
		goto out;
	}
	for (i = 0; i < nhosts; i++) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(taskmap,
		    hosts[i].container_instance), *t;

		cJSON_ArrayForEach(t, l)
			if (add_task(&hosts[i], t->valuestring) != 0) {
				rc = err_set(eb, CE_NOMEM, "out of memory");
				goto out;
			}
	}
	/* A random sample, when asked: a partial Fisher-Yates shuffle. */
	{
		size_t want = nhosts;

		if (o->count > 0 && (size_t)o->count < nhosts)
			want = (size_t)o->count;
		else if (o->percent > 0)
			want = (nhosts * (size_t)o->percent + 99) / 100;
		for (i = 0; i < want; i++) {
			size_t j = i + arc4random_uniform((uint32_t)(nhosts - i));
			struct host tmp = hosts[i];

			hosts[i] = hosts[j];
			hosts[j] = tmp;
		}
		for (i = want; i < nhosts; i++) {
			size_t m;

			for (m = 0; m < hosts[i].ntasks; m++)
				free(hosts[i].tasks[m]);
			free(hosts[i].tasks);
		}
		nhosts = want;
	}
	*out = hosts;
	*n = nhosts;
	hosts = NULL;
	nhosts = 0;
out:
	hosts_free(hosts, nhosts);
	cJSON_Delete(ids);
	cJSON_Delete(cimap);
	return rc;
}

/* Append the sidecar agents to hosts: one per task, at its ENI address. */
static int
add_sidecars(const cJSON *sidecars, struct host **hosts, size_t *n, struct errbuf *eb)
{
	size_t more = (size_t)cJSON_GetArraySize(sidecars), i = *n;
	struct host *nh;
	const cJSON *e;

	if (more == 0)
		return 0;
	if ((nh = realloc(*hosts, (*n + more) * sizeof(*nh))) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	*hosts = nh;
	cJSON_ArrayForEach(e, sidecars) {
		struct host *h = &nh[i];

		memset(h, 0, sizeof(*h));
		h->sidecar = true;
		*n = ++i;
		(void)str_copy(h->ip, sizeof(h->ip), jstr(e, "ip"));
		(void)str_copy(h->az, sizeof(h->az), jstr(e, "az"));
		(void)str_copy(h->container_instance, sizeof(h->container_instance),
		    jstr(e, "ci"));
		(void)snprintf(h->url, sizeof(h->url), "http://%s:%ld", h->ip,
		    (long)cJSON_GetObjectItemCaseSensitive(e, "port")->valuedouble);
		if (add_task(h, jstr(e, "arn")) != 0)
			return err_set(eb, CE_NOMEM, "out of memory");
	}
	return 0;
}

int
discover(const struct aws *a, const struct discover_opts *o, struct host **out, size_t *n,
    struct errbuf *eb)
{
	cJSON *req = cJSON_CreateObject(), *arns = cJSON_CreateArray();
	cJSON *taskmap = cJSON_CreateObject(), *sidecars = cJSON_CreateArray();
	struct host *hosts = NULL;
	size_t nhosts = 0, nobody = 0, nside;
	int rc;

	*out = NULL;
	*n = 0;
	if (req == NULL || arns == NULL || taskmap == NULL || sidecars == NULL) {
		rc = err_set(eb, CE_NOMEM, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(req, "cluster", o->cluster);
	if (o->service != NULL) {
		if ((rc = service_tasks(a, o, arns, taskmap, sidecars, &nobody, eb)) != 0)
			goto out;
		nside = (size_t)cJSON_GetArraySize(sidecars);
		if (cJSON_GetArraySize(arns) == 0 && nside == 0) {
			if (nobody > 0)
				rc = err_set(eb, CE_NOT_FOUND, "service %s in cluster %s: %zu "
				    "task(s) on Fargate without the %s sidecar and none on "
				    "container instances or with the sidecar (docs/sidecar.md)",
				    o->service, o->cluster, nobody, o->sidecar);
			else
				rc = err_set(eb, CE_NOT_FOUND, "service %s in cluster %s: no task "
				    "with the %s sidecar passes the filters", o->service,
				    o->cluster, o->sidecar);
			goto out;
		}
	} else {
		nside = 0;
		cJSON_AddStringToObject(req, "status", "ACTIVE");
		if ((rc = ecs_list(a, "ListContainerInstances", "containerInstanceArns", req, arns,
		    eb)) != 0)
			goto out;
		if (cJSON_GetArraySize(arns) == 0) {
			rc = err_set(eb, CE_NOT_FOUND, "cluster %s has no active container "
			    "instances", o->cluster);
			goto out;
		}
	}
	if (cJSON_GetArraySize(arns) > 0) {
		rc = instance_hosts(a, o, arns, taskmap, &hosts, &nhosts, eb);
		/* Filters that leave no host are fine when sidecars are left. */
		if (rc == CE_NOT_FOUND && nside > 0)
			rc = 0;
		if (rc != 0)
			goto out;
	}
	if ((rc = add_sidecars(sidecars, &hosts, &nhosts, eb)) != 0)
		goto out;
	*out = hosts;
	*n = nhosts;
	hosts = NULL;
	nhosts = 0;
out:
	hosts_free(hosts, nhosts);
	cJSON_Delete(req);
	cJSON_Delete(arns);
	cJSON_Delete(taskmap);
	cJSON_Delete(sidecars);
	return rc;
}

void
hosts_free(struct host *h, size_t n)
{
	size_t i, m;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (m = 0; m < h[i].ntasks; m++)
			free(h[i].tasks[m]);
		free(h[i].tasks);
	}
	free(h);
}
