/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_json.c: validated requests as values and as JSON: parameter lookup,
 * the normalized params object, and the POST document the worker forwards
 * to the parent (which validates it again).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "spec.h"

void
fault_req_release(struct fault_req *req)
{
	if (req == NULL)
		return;
	cJSON_Delete(req->target);
	cJSON_Delete(req->labels);
	req->target = NULL;
	req->labels = NULL;
}

const struct spec_value *
fault_req_get(const struct fault_req *req, const char *name)
{
	size_t i, n = spec_nparams(req->spec);

	for (i = 0; i < n; i++)
		if (strcmp(req->spec->params[i].name, name) == 0)
			return &req->values[i];
	return NULL;
}

cJSON *
fault_req_params_json(const struct fault_req *req)
{
	cJSON *obj = cJSON_CreateObject();
	size_t i, n = spec_nparams(req->spec);

	if (obj == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct spec_param *p = &req->spec->params[i];
		const struct spec_value *v = &req->values[i];
		cJSON *item = NULL;

		switch (p->type) {
		case SPEC_INT:
		case SPEC_MILLIS:
		case SPEC_RATE:
			/* Unset, and no valid default: an optional choice (kill-process pid). */
			if (!v->set && (p->def < p->min || p->def > p->max))
				continue;
			item = cJSON_CreateNumber((double)v->i);
			break;
		case SPEC_BOOL:
			item = cJSON_CreateBool(v->i != 0);
			break;
		case SPEC_STRING:
		case SPEC_ENUM:
			/* An unset string without default is omitted. */
			if (!v->set && p->def_str == NULL)
				continue;
			item = cJSON_CreateString(v->s);
			break;
		}
		if (item == NULL || !cJSON_AddItemToObject(obj, p->name, item)) {
			cJSON_Delete(item);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

cJSON *
fault_req_to_json(const struct fault_req *req)
{
	cJSON *doc = cJSON_CreateObject(), *params;

	if (doc == NULL)
		return NULL;
	if ((params = fault_req_params_json(req)) == NULL ||
	    !cJSON_AddItemToObject(doc, "params", params)) {
		cJSON_Delete(params);
		goto fail;
	}
	if (req->dry_run && cJSON_AddBoolToObject(doc, "dry_run", 1) == NULL)
		goto fail;
	/* A one-shot fault without a duration stays without one. */
	if (req->duration > 0 &&
	    cJSON_AddNumberToObject(doc, "duration", (double)req->duration) == NULL)
		goto fail;
	if (cJSON_AddStringToObject(doc, "type", req->spec->name) == NULL ||
	    !cJSON_AddItemToObject(doc, "target", cJSON_Duplicate(req->target, 1)) ||
	    !cJSON_AddItemToObject(doc, "labels", cJSON_Duplicate(req->labels, 1)))
		goto fail;
	if (req->client_id[0] != '\0' &&
	    cJSON_AddStringToObject(doc, "client_id", req->client_id) == NULL)
		goto fail;
	return doc;
fail:
	cJSON_Delete(doc);
	return NULL;
}
