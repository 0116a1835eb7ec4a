/* SPDX-License-Identifier: Apache-2.0 */
/* answer.c: answering and auditing requests in the parent (see answer.h). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "answer.h"
#include "metrics.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../faults/fault.h"

static void (*sender)(uint32_t seq, unsigned gen, struct reply *rp);

void
answer_set_sender(void (*send)(uint32_t seq, unsigned gen, struct reply *rp))
{
	sender = send;
}

void
answer_send(uint32_t seq, unsigned gen, struct reply *rp)
{
	if (rp->body == NULL)
		reply_error(rp, CE_NOMEM, "out of memory");
	metrics_request(rp->status);
	if (sender != NULL)
		sender(seq, gen, rp);
	free(rp->body);
	rp->body = NULL;
}

void
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

void
reply_error(struct reply *rp, int code, const char *msg)
{
	cJSON *doc = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(doc, "error");

	cJSON_AddStringToObject(e, "code", err_name(code));
	cJSON_AddStringToObject(e, "message", msg);
	reply_json(rp, err_http_status(code), doc);
}

struct pending *
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

void
pending_free(struct pending *pd)
{
	if (pd == NULL)
		return;
	cJSON_Delete(pd->dry);
	free(pd);
}

/* The audit identity of a pending request. */
struct call
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

void
pending_json(const struct pending *pd, int status, cJSON *doc)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };

	reply_json(&rp, status, doc);
	answer_send(pd->seq, pd->gen, &rp);
}

void
pending_error(const struct pending *pd, int code, const char *msg)
{
	struct reply rp = { 500, PROTO_CT_JSON, NULL, false };

	reply_error(&rp, code, msg);
	answer_send(pd->seq, pd->gen, &rp);
}

/* One audit record per mutating request: who, what, outcome. */
void
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

const char *
field_str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
}
