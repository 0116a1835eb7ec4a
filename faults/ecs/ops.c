/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ops.c: latency, loss and blackhole in task mode, through the ECS agent's
 * fault injection endpoints (see ecs.h), and the probe that tells /v1/info
 * whether the endpoints serve this task.
 *
 * prepare (parent) builds the start body and writes it, the endpoint and
 * ECS_AGENT_URI to the record; commit (a job) calls /start; revert (a job,
 * or start-up recovery) calls /stop with the same body, from the record
 * alone. A start the ECS agent refused outright (400, 404, 409, 429) is
 * marked in the record so that its revert does not /stop a fault someone
 * else holds; after any other failure the revert calls /stop, since the
 * start may have taken effect in part.
 *
 * The endpoints allow one latency or packet loss fault per task, and one
 * blackhole per protocol and port (a second start of the same port is
 * answered "running" and shares the first one's rules): prepare claims
 * these slots, so a second fault of this agent is a clear 409 here rather
 * than a shared rule that the first fault's revert would remove.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ecs.h"
#include "../claim.h"
#include "../fault.h"
#include "../../common/err.h"
#include "../../common/util.h"

/* The claim slot of a task's latency and packet loss endpoints. */
#define ECS_SLOT_TC "ecs/tc"

/* Never impaired, besides the ECS agent's own address and the caller. */
static const char *const control_path[] = {
	"169.254.170.2",	/* the ECS agent: task metadata, credentials, these endpoints */
	"169.254.169.254",	/* instance metadata (EC2 launch type) */
	"fd00:ec2::254",	/* instance metadata over IPv6 */
};

/* What the last probe of the endpoints found (ecs_probe_note). */
static struct {
	bool refused;		/* the ECS agent refused this task's calls */
	char why[ERRBUF_MAX];
} probe;

static bool
ecs_available(char *why, size_t len)
{
	struct ecs_uri u;
	char w[128];

	if (fault_env.ecs_agent_uri == NULL) {
		(void)snprintf(why, len, "ECS_AGENT_URI is not set: the ECS agent sets it in "
		    "every container of a task (is this agent a task's sidecar?)");
		return false;
	}
	if (ecs_uri_parse(fault_env.ecs_agent_uri, &u, w, sizeof(w)) != 0) {
		(void)snprintf(why, len, "ECS_AGENT_URI '%.96s' %s", fault_env.ecs_agent_uri, w);
		return false;
	}
	if (probe.refused) {
		(void)str_copy(why, len, probe.why);
		return false;
	}
	return true;
}

/* The claim slot a request holds at the ECS agent. */
static void
slot_of(const cJSON *body, const char *endpoint, char *slot, size_t len)
{
	if (strcmp(endpoint, ECS_EP_BLACKHOLE) != 0) {
		(void)str_copy(slot, len, ECS_SLOT_TC);
		return;
	}
	(void)snprintf(slot, len, "ecs/blackhole/%s/%d", cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(body, "Protocol")),
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(body, "Port")));
}

static int
ecs_prepare(struct fault *f, struct errbuf *eb)
{
	const char *exclude[NELEM(control_path) + 2], *endpoint = NULL, *holder;
	struct ecs_uri u;
	cJSON *body = NULL, *rec;
	char why[128], slot[CLAIM_SLOT_MAX];
	size_t i, n = 0;
	int r;

	if (fault_env.ecs_agent_uri == NULL ||
	    ecs_uri_parse(fault_env.ecs_agent_uri, &u, why, sizeof(why)) != 0)
		return err_set(eb, CE_UNAVAILABLE, "ECS_AGENT_URI is missing or unusable");
	for (i = 0; i < NELEM(control_path); i++)
		exclude[n++] = control_path[i];
	exclude[n++] = u.addr;
	/* The caller, so the request that started the fault can stop it. */
	exclude[n++] = f->remote;
	if ((r = ecs_request(&f->req, exclude, n, &endpoint, &body, eb)) != 0) {
		/* An address that is not one (a unix socket caller) is no caller to keep. */
		if (r != CE_INTERNAL)
			return r;
		if ((r = ecs_request(&f->req, exclude, n - 1, &endpoint, &body, eb)) != 0)
			return r;
	}
	slot_of(body, endpoint, slot, sizeof(slot));
	if ((holder = claim_holder(slot)) != NULL) {
		bool tc = strcmp(slot, ECS_SLOT_TC) == 0;

		cJSON_Delete(body);
		return err_set(eb, CE_CONFLICT, "fault %s holds the ECS %s already; the "
		    "endpoints allow one %s at a time: revert it first", holder,
		    tc ? "latency/packet loss endpoints" : slot + 4,
		    tc ? "latency or loss fault per task" : "blackhole per protocol and port");
	}
	if (!claim_room(1)) {
		cJSON_Delete(body);
		return err_set(eb, CE_TOO_MANY, "too many network faults");
	}
	if ((rec = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(rec, ECS_RECORD_KEY, endpoint) == NULL ||
	    cJSON_AddStringToObject(rec, "uri", u.base) == NULL) {
		cJSON_Delete(rec);
		cJSON_Delete(body);
		return err_set(eb, CE_NOMEM, "out of memory");
	}
	cJSON_AddItemToObject(rec, "body", body);
	(void)claim_take(slot, f->id);
	f->record = rec;
	f->priv = f;		/* marks the claim as ours to release */
	return 0;
}

static void
ecs_release(struct fault *f)
{
	claim_release(f->id);
	f->priv = NULL;
}

/* The endpoint, ECS_AGENT_URI and body a record holds, checked. */
static int
record_parts(const cJSON *rec, const char **endpoint, struct ecs_uri *u, const cJSON **body,
    struct errbuf *eb)
{
	const char *ep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec,
	    ECS_RECORD_KEY));
	char why[128];

	if (ep == NULL || (strcmp(ep, ECS_EP_LATENCY) != 0 && strcmp(ep, ECS_EP_LOSS) != 0 &&
	    strcmp(ep, ECS_EP_BLACKHOLE) != 0))
		return err_set(eb, CE_INVALID, "record: no ECS endpoint");
	if (ecs_uri_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "uri")),
	    u, why, sizeof(why)) != 0)
		return err_set(eb, CE_INVALID, "record: ECS_AGENT_URI %s", why);
	*body = cJSON_GetObjectItemCaseSensitive(rec, "body");
	if (!cJSON_IsObject(*body))
		return err_set(eb, CE_INVALID, "record: no request body");
	*endpoint = ep;
	return 0;
}

static int
ecs_commit(struct fault *f, struct errbuf *eb)
{
	const cJSON *body;
	const char *ep;
	struct ecs_answer a;
	struct ecs_uri u;
	int r;

	if ((r = record_parts(f->record, &ep, &u, &body, eb)) != 0 ||
	    (r = ecs_call(u.base, ep, "start", body, ECS_THROTTLE_MS, &a, eb)) != 0)
		return r;
	if ((r = ecs_answer_check(ep, "start", &a, eb)) != 0 && ecs_answer_refused(&a))
		cJSON_AddBoolToObject(f->record, "refused", 1);
	return r;
}

static int
ecs_revert(struct fault *f, const cJSON *record, struct errbuf *eb)
{
	const cJSON *body;
	const char *ep;
	struct ecs_answer a;
	struct ecs_uri u;
	int r;

	(void)f;
	/* Nothing took effect: the ECS agent refused the start. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(record, "refused")))
		return 0;
	if ((r = record_parts(record, &ep, &u, &body, eb)) != 0 ||
	    (r = ecs_call(u.base, ep, "stop", body, ECS_THROTTLE_MS, &a, eb)) != 0)
		return r;
	return ecs_answer_check(ep, "stop", &a, eb);
}

static void
ecs_describe(const struct fault *f, cJSON *detail)
{
	cJSON_AddStringToObject(detail, "endpoint", cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(f->record, ECS_RECORD_KEY)));
	cJSON_AddItemToObject(detail, "request", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(f->record, "body"), 1));
}

int
ecs_probe_job(void *arg, cJSON **out, struct errbuf *eb)
{
	struct ecs_answer a;
	struct ecs_uri u;
	cJSON *body;
	char why[128];
	int r;

	(void)arg;
	if (fault_env.ecs_agent_uri == NULL ||
	    ecs_uri_parse(fault_env.ecs_agent_uri, &u, why, sizeof(why)) != 0)
		return err_set(eb, CE_UNAVAILABLE, "ECS_AGENT_URI is missing or unusable");
	/* A complete latency body: older ECS agents validate it on /status too. */
	if ((body = cJSON_Parse("{\"DelayMilliseconds\":0,\"JitterMilliseconds\":0,"
	    "\"Sources\":[\"0.0.0.0/0\"]}")) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	r = ecs_call(u.base, ECS_EP_LATENCY, "status", body, 0, &a, eb);
	cJSON_Delete(body);
	if (r != 0)
		return r;
	if ((*out = cJSON_CreateObject()) == NULL)
		return err_set(eb, CE_NOMEM, "out of memory");
	cJSON_AddNumberToObject(*out, "status", (double)a.status);
	cJSON_AddStringToObject(*out, "word", a.word);
	cJSON_AddStringToObject(*out, "error", a.error);
	return 0;
}

void
ecs_probe_note(int rc, const char *err, const cJSON *out, cJSON *info)
{
	struct ecs_answer a;
	struct errbuf eb = { "" };
	const char *state;
	int r;

	cJSON_AddStringToObject(info, "uri", fault_env.ecs_agent_uri != NULL ?
	    fault_env.ecs_agent_uri : "");
	if (rc != 0) {
		/* No answer says nothing about the task: keep what was known. */
		cJSON_AddStringToObject(info, "endpoints", "unreachable");
		cJSON_AddStringToObject(info, "reason", err);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.status = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(out, "status"));
	(void)str_copy(a.word, sizeof(a.word), cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(out, "word")));
	(void)str_copy(a.error, sizeof(a.error), cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(out, "error")));
	r = ecs_answer_check(ECS_EP_LATENCY, "status", &a, &eb);
	if (r == 0) {
		probe.refused = false;
		state = "available";
		cJSON_AddStringToObject(info, "latency_or_loss", a.word);
	} else if (r == CE_UNAVAILABLE) {
		probe.refused = true;
		(void)str_copy(probe.why, sizeof(probe.why), eb.msg);
		state = "refused";
	} else {
		/* Throttled or failed: nothing learnt about the task. */
		state = "unknown";
	}
	cJSON_AddStringToObject(info, "endpoints", state);
	if (r != 0)
		cJSON_AddStringToObject(info, "reason", eb.msg);
}

#define ECS_OPS(var, fname) \
	const struct fault_ops var = { \
		.name = fname, \
		.blocking = true, \
		.job_ms = ECS_JOB_MS, \
		.available = ecs_available, \
		.prepare = ecs_prepare, \
		.commit = ecs_commit, \
		.revert = ecs_revert, \
		.describe = ecs_describe, \
		.release = ecs_release, \
	}

ECS_OPS(fault_ecs_latency_ops, "latency");
ECS_OPS(fault_ecs_loss_ops, "loss");
ECS_OPS(fault_ecs_blackhole_ops, "blackhole");
