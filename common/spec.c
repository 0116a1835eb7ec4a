/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec.c: the request validator, against the catalogue of spec_table.c.
 * Error messages follow one shape: "<field>: <why> (allowed: <what>)", so
 * a person fixing a request, or a chaosctl flag, knows exactly what to
 * change.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "spec.h"
#include "util.h"

#define LABEL_KEY_CHARSET "_.:/-"
#define TARGET_STR_MAX 256
/* Container names and ECS values: ARNs, families, "~internal~ecs~pause". */
#define TARGET_CHARSET "_.:/-~@+="
#define STRING_CHARSET "_.:/-"

static const char *const top_fields[] = {
	"type", "duration", "params", "target", "labels", "client_id", "dry_run",
};

const struct spec_fault *
spec_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < spec_nfaults; i++)
		if (strcmp(spec_faults[i].name, name) == 0)
			return &spec_faults[i];
	return NULL;
}

size_t
spec_nparams(const struct spec_fault *f)
{
	size_t n = 0;

	while (n < SPEC_PARAMS_MAX && f->params[n].name != NULL)
		n++;
	return n;
}

void
spec_param_describe(const struct spec_param *p, char *buf, size_t len)
{
	switch (p->type) {
	case SPEC_INT:
		(void)snprintf(buf, len, "integer %lld..%lld%s%s", (long long)p->min,
		    (long long)p->max, p->unit != NULL ? " " : "",
		    p->unit != NULL ? p->unit : "");
		break;
	case SPEC_MILLIS:
		(void)snprintf(buf, len, "milliseconds %lld..%lld",
		    (long long)p->min, (long long)p->max);
		break;
	case SPEC_STRING:
		(void)snprintf(buf, len, "string of %lld..%lld characters [A-Za-z0-9%s]",
		    (long long)p->min, (long long)p->max,
		    p->charset != NULL ? p->charset : STRING_CHARSET);
		break;
	case SPEC_ENUM:
		(void)snprintf(buf, len, "one of %s", p->choices);
		break;
	case SPEC_BOOL:
		(void)snprintf(buf, len, "true or false");
		break;
	case SPEC_RATE:
		(void)snprintf(buf, len, "kbit/s %lld..%lld (e.g. 512kbit, 10mbit, 1gbit)",
		    (long long)p->min, (long long)p->max);
		break;
	}
}

/* Append ", name" (or the first name) to the list in buf; stops when full. */
static void
list_append(char *buf, size_t len, size_t *used, const char *name)
{
	int w = snprintf(buf + *used, len - *used, "%s%s", *used ? ", " : "", name);

	if (w > 0 && (size_t)w < len - *used)
		*used += (size_t)w;
	else
		buf[*used] = '\0';
}

/* True when s is one of the '|'-separated choices. */
static bool
enum_ok(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *c = choices;

	while (c != NULL && *c != '\0') {
		const char *bar = strchr(c, '|');
		size_t clen = bar != NULL ? (size_t)(bar - c) : strlen(c);

		if (clen == n && strncmp(c, s, n) == 0)
			return true;
		c = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

/* Read a JSON number that must be an integer; false if it is not one. */
static bool
json_int(const cJSON *item, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return false;
	d = item->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < -9.0e15 || d > 9.0e15)
		return false;
	*out = (int64_t)d;
	return true;
}

static int
validate_param(const struct spec_fault *f, const struct spec_param *p, const cJSON *item,
    struct spec_value *v, struct errbuf *eb)
{
	char allowed[160];
	int64_t i;

	spec_param_describe(p, allowed, sizeof(allowed));
	switch (p->type) {
	case SPEC_INT:
	case SPEC_MILLIS:
	case SPEC_RATE:
		if (!json_int(item, &i))
			return err_set(eb, CE_INVALID, "params.%s: must be an integer "
			    "(allowed: %s)", p->name, allowed);
		if (i < p->min || i > p->max)
			return err_set(eb, CE_INVALID, "params.%s: %lld is out of range "
			    "(allowed: %s)", p->name, (long long)i, allowed);
		v->i = i;
		break;
	case SPEC_BOOL:
		if (!cJSON_IsBool(item))
			return err_set(eb, CE_INVALID, "params.%s: must be true or false",
			    p->name);
		v->i = cJSON_IsTrue(item) ? 1 : 0;
		break;
	case SPEC_STRING:
	case SPEC_ENUM: {
		const char *s = cJSON_GetStringValue(item);
		size_t len;

		if (s == NULL)
			return err_set(eb, CE_INVALID, "params.%s: must be a string "
			    "(allowed: %s)", p->name, allowed);
		len = strlen(s);
		if (p->type == SPEC_ENUM) {
			if (!enum_ok(p->choices, s))
				return err_set(eb, CE_INVALID, "params.%s: '%.64s' is not "
				    "allowed (allowed: %s)", p->name, s, allowed);
		} else if ((int64_t)len < p->min || (int64_t)len > p->max ||
		    len > SPEC_STR_MAX || !str_charset_ok(s, p->charset != NULL ?
		    p->charset : STRING_CHARSET)) {
			return err_set(eb, CE_INVALID, "params.%s: bad value (allowed: %s)",
			    p->name, allowed);
		} else if (p->check != NULL) {
			char why[128] = "";

			if (p->check(s, why, sizeof(why)) != 0)
				return err_set(eb, CE_INVALID, "params.%s: %s (allowed: %s)",
				    p->name, why, p->help);
		}
		(void)str_copy(v->s, sizeof(v->s), s);
		break;
	}
	}
	(void)f;
	v->set = true;
	return 0;
}

static void
apply_default(const struct spec_param *p, struct spec_value *v)
{
	v->set = false;
	v->i = p->def;
	v->s[0] = '\0';
	if (p->def_str != NULL)
		(void)str_copy(v->s, sizeof(v->s), p->def_str);
}

static int
validate_params(const struct spec_fault *f, const cJSON *params, struct spec_value *values,
    struct errbuf *eb)
{
	const cJSON *item;
	size_t i, n = spec_nparams(f);
	int r;

	for (i = 0; i < n; i++)
		apply_default(&f->params[i], &values[i]);
	/* Absent means every default; null is a wrong type like any other. */
	if (params == NULL)
		goto required;
	if (!cJSON_IsObject(params))
		return err_set(eb, CE_INVALID, "params: must be an object");
	cJSON_ArrayForEach(item, params) {
		for (i = 0; i < n; i++)
			if (strcmp(item->string, f->params[i].name) == 0)
				break;
		if (i == n) {
			char names[256] = "";
			size_t j, used = 0;

			for (j = 0; j < n; j++)
				list_append(names, sizeof(names), &used, f->params[j].name);
			return err_set(eb, CE_INVALID, "params.%.64s: unknown parameter "
			    "for %s (allowed: %s)", item->string, f->name,
			    n ? names : "none");
		}
		if (values[i].set)
			return err_set(eb, CE_INVALID, "params.%s: given twice",
			    f->params[i].name);
		if ((r = validate_param(f, &f->params[i], item, &values[i], eb)) != 0)
			return r;
	}
required:
	for (i = 0; i < n; i++)
		if (f->params[i].required && !values[i].set)
			return err_set(eb, CE_INVALID, "params.%s: required for %s",
			    f->params[i].name, f->name);
	return 0;
}

/* The string selectors of a container target, in the order they print. */
static const char *const target_strings[] = {
	"container_id", "task", "family", "revision", "container_name", "cluster",
};

static int
target_string(const cJSON *item, cJSON *out, struct errbuf *eb)
{
	const char *v = cJSON_GetStringValue(item);

	if (v == NULL || v[0] == '\0' || strlen(v) > TARGET_STR_MAX ||
	    !str_charset_ok(v, TARGET_CHARSET))
		return err_set(eb, CE_INVALID, "target.%s: must be 1-%d characters of "
		    "[A-Za-z0-9_.:/~@+=-]", item->string, TARGET_STR_MAX);
	return cJSON_AddStringToObject(out, item->string, v) != NULL ? 0 : CE_NOMEM;
}

static int
target_selector_labels(const cJSON *item, cJSON *out, struct errbuf *eb)
{
	const cJSON *l;
	cJSON *o;
	int n = 0;

	if (!cJSON_IsObject(item))
		return err_set(eb, CE_INVALID, "target.labels: must be an object of "
		    "label=value strings");
	if ((o = cJSON_AddObjectToObject(out, "labels")) == NULL)
		return CE_NOMEM;
	cJSON_ArrayForEach(l, item) {
		const char *v = cJSON_GetStringValue(l);

		if (++n > SPEC_LABELS_MAX)
			return err_set(eb, CE_INVALID, "target.labels: more than %d labels",
			    SPEC_LABELS_MAX);
		if (l->string[0] == '\0' || strlen(l->string) > SPEC_LABEL_KEY_MAX ||
		    !str_charset_ok(l->string, LABEL_KEY_CHARSET))
			return err_set(eb, CE_INVALID, "target.labels: key '%.64s' must be "
			    "1-%d characters of [A-Za-z0-9_.:/-]", l->string,
			    SPEC_LABEL_KEY_MAX);
		if (v == NULL || strlen(v) > TARGET_STR_MAX || !str_charset_ok(v, TARGET_CHARSET))
			return err_set(eb, CE_INVALID, "target.labels.%s: must be a string "
			    "of at most %d characters of [A-Za-z0-9_.:/~@+=-]", l->string,
			    TARGET_STR_MAX);
		if (cJSON_GetObjectItemCaseSensitive(o, l->string) != NULL)
			return err_set(eb, CE_INVALID, "target.labels.%s: given twice",
			    l->string);
		if (cJSON_AddStringToObject(o, l->string, v) == NULL)
			return CE_NOMEM;
	}
	return 0;
}

/*
 * Normalize the target object: {"kind":"host"}, or a container selector
 * {"kind":"container", container_id|task|family|revision|container_name|
 * cluster|labels..., "count" or "percent"}. A container selector needs at
 * least one criterion, so no request hits every container by accident.
 */
static int
validate_target(const struct spec_fault *f, const cJSON *target, cJSON **out,
    struct errbuf *eb)
{
	const cJSON *item;
	const char *kind = NULL;
	bool selectors = false;
	cJSON *o;
	size_t i;
	int r;

	if ((o = cJSON_CreateObject()) == NULL)
		return CE_NOMEM;
	*out = o;
	if (target != NULL) {
		if (!cJSON_IsObject(target))
			return err_set(eb, CE_INVALID, "target: must be an object");
		cJSON_ArrayForEach(item, target) {
			if (cJSON_GetObjectItemCaseSensitive(target, item->string) != item)
				return err_set(eb, CE_INVALID, "target.%.64s: given twice",
				    item->string);
			if (strcmp(item->string, "kind") == 0) {
				if ((kind = cJSON_GetStringValue(item)) == NULL)
					return err_set(eb, CE_INVALID, "target.kind: must be "
					    "a string (allowed: host, container)");
				continue;
			}
			for (i = 0; i < NELEM(target_strings); i++)
				if (strcmp(item->string, target_strings[i]) == 0)
					break;
			if (i < NELEM(target_strings)) {
				if ((r = target_string(item, o, eb)) != 0)
					return r;
				selectors = true;
			} else if (strcmp(item->string, "labels") == 0) {
				if ((r = target_selector_labels(item, o, eb)) != 0)
					return r;
				selectors = cJSON_GetArraySize(item) > 0 || selectors;
			} else if (strcmp(item->string, "count") == 0 ||
			    strcmp(item->string, "percent") == 0) {
				bool pct = item->string[0] == 'p';
				int64_t v;

				if (!json_int(item, &v) || v < 1 || v > (pct ? 100 : 1000))
					return err_set(eb, CE_INVALID, "target.%s: must be an "
					    "integer from 1 to %d", item->string, pct ? 100 : 1000);
				cJSON_AddNumberToObject(o, item->string, (double)v);
			} else {
				return err_set(eb, CE_INVALID, "target.%.64s: unknown field "
				    "(allowed: kind, container_id, task, family, revision, "
				    "container_name, cluster, labels, count, percent)",
				    item->string);
			}
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "count") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(o, "percent") != NULL)
		return err_set(eb, CE_INVALID, "target: give count or percent, not both");
	if (kind == NULL)
		kind = selectors ? "container" : "host";
	if (strcmp(kind, "host") == 0) {
		if (cJSON_GetArraySize(o) > 0)
			return err_set(eb, CE_INVALID, "target: container selectors need "
			    "kind container");
		if (!(f->targets & SPEC_TARGET_HOST))
			return err_set(eb, CE_INVALID, "target: %s acts on containers: "
			    "give target.container_id, task, family, container_name or labels",
			    f->name);
	} else if (strcmp(kind, "container") == 0) {
		if (!(f->targets & SPEC_TARGET_CONTAINER))
			return err_set(eb, CE_INVALID, "target.kind: %s cannot target "
			    "a container (allowed: host)", f->name);
		if (!selectors)
			return err_set(eb, CE_INVALID, "target: a container target needs at "
			    "least one of container_id, task, family, revision, "
			    "container_name, cluster, labels");
	} else {
		return err_set(eb, CE_INVALID, "target.kind: '%.32s' is not a target "
		    "kind (allowed: host, container)", kind);
	}
	/* kind first, so the normalized object reads naturally. */
	if (cJSON_AddStringToObject(o, "kind", kind) == NULL)
		return CE_NOMEM;
	return 0;
}

int
spec_req_minimal(const struct spec_fault *f, const char *kind, struct fault_req *out)
{
	struct fault_req req;
	size_t i, n = spec_nparams(f);

	memset(&req, 0, sizeof(req));
	req.spec = f;
	for (i = 0; i < n; i++)
		apply_default(&f->params[i], &req.values[i]);
	if ((req.target = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(req.target, "kind", kind) == NULL ||
	    (req.labels = cJSON_CreateObject()) == NULL) {
		fault_req_release(&req);
		return CE_NOMEM;
	}
	*out = req;
	return 0;
}

bool
spec_target_is_container(const struct fault_req *req)
{
	const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req->target,
	    "kind"));

	return k != NULL && strcmp(k, "container") == 0;
}

static int
validate_labels(const cJSON *labels, cJSON **out, struct errbuf *eb)
{
	const cJSON *item;
	int n = 0;

	if ((*out = cJSON_CreateObject()) == NULL)
		return CE_NOMEM;
	if (labels == NULL)
		return 0;
	if (!cJSON_IsObject(labels))
		return err_set(eb, CE_INVALID, "labels: must be an object of strings");
	cJSON_ArrayForEach(item, labels) {
		const char *v = cJSON_GetStringValue(item);
		const unsigned char *c;

		if (++n > SPEC_LABELS_MAX)
			return err_set(eb, CE_INVALID, "labels: more than %d labels",
			    SPEC_LABELS_MAX);
		if (item->string[0] == '\0' || strlen(item->string) > SPEC_LABEL_KEY_MAX ||
		    !str_charset_ok(item->string, LABEL_KEY_CHARSET))
			return err_set(eb, CE_INVALID, "labels: key '%.64s' must be 1-%d "
			    "characters of [A-Za-z0-9_.:/-]", item->string,
			    SPEC_LABEL_KEY_MAX);
		if (v == NULL || strlen(v) > SPEC_LABEL_VALUE_MAX)
			return err_set(eb, CE_INVALID, "labels.%s: must be a string of "
			    "at most %d bytes", item->string, SPEC_LABEL_VALUE_MAX);
		for (c = (const unsigned char *)v; *c != '\0'; c++)
			if (*c < 0x20 || *c == 0x7f)
				return err_set(eb, CE_INVALID, "labels.%s: control "
				    "characters are not allowed", item->string);
		if (cJSON_GetObjectItemCaseSensitive(*out, item->string) != NULL)
			return err_set(eb, CE_INVALID, "labels.%s: given twice",
			    item->string);
		if (cJSON_AddStringToObject(*out, item->string, v) == NULL)
			return CE_NOMEM;
	}
	return 0;
}

int
spec_validate(const cJSON *doc, int64_t max_duration, struct fault_req *out,
    struct errbuf *eb)
{
	struct fault_req req;
	const cJSON *item, *type, *dur, *cid;
	size_t i;
	int r;

	memset(&req, 0, sizeof(req));
	if (!cJSON_IsObject(doc))
		return err_set(eb, CE_INVALID, "body: must be a JSON object");
	cJSON_ArrayForEach(item, doc) {
		for (i = 0; i < NELEM(top_fields); i++)
			if (strcmp(item->string, top_fields[i]) == 0)
				break;
		if (i == NELEM(top_fields)) {
			char names[160] = "";
			size_t used = 0;

			/* The list comes from the table, so it cannot drift. */
			for (i = 0; i < NELEM(top_fields); i++)
				list_append(names, sizeof(names), &used, top_fields[i]);
			return err_set(eb, CE_INVALID, "%.64s: unknown field (allowed: %s)",
			    item->string, names);
		}
		/* cJSON keeps duplicate keys; the first would silently win. */
		if (cJSON_GetObjectItemCaseSensitive(doc, item->string) != item)
			return err_set(eb, CE_INVALID, "%s: given twice", item->string);
	}
	type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	if (type == NULL)
		return err_set(eb, CE_INVALID, "type: required");
	if (!cJSON_IsString(type))
		return err_set(eb, CE_INVALID, "type: must be a string");
	if ((req.spec = spec_find(type->valuestring)) == NULL) {
		char names[256] = "";
		size_t used = 0;

		for (i = 0; i < spec_nfaults; i++)
			list_append(names, sizeof(names), &used, spec_faults[i].name);
		return err_set(eb, CE_NOT_FOUND, "type: unknown fault '%.64s' "
		    "(allowed: %s)", type->valuestring, names);
	}
	if (max_duration > SPEC_DURATION_MAX)
		max_duration = SPEC_DURATION_MAX;
	dur = cJSON_GetObjectItemCaseSensitive(doc, "duration");
	/* One-shot faults act once: a duration is optional and unused. */
	if (dur == NULL && !req.spec->revertible)
		req.duration = 0;
	else if (dur == NULL)
		return err_set(eb, CE_INVALID, "duration: required (allowed: integer "
		    "1..%lld seconds)", (long long)max_duration);
	else if (!json_int(dur, &req.duration) || req.duration < 1 ||
	    req.duration > max_duration)
		return err_set(eb, CE_INVALID, "duration: must be an integer from 1 to "
		    "%lld seconds (this agent's max_duration)", (long long)max_duration);
	item = cJSON_GetObjectItemCaseSensitive(doc, "dry_run");
	if (item != NULL && !cJSON_IsBool(item))
		return err_set(eb, CE_INVALID, "dry_run: must be true or false");
	req.dry_run = cJSON_IsTrue(item);
	cid = cJSON_GetObjectItemCaseSensitive(doc, "client_id");
	if (cid != NULL) {
		const char *s = cJSON_GetStringValue(cid);

		if (s == NULL || s[0] == '\0' || strlen(s) > SPEC_CLIENT_ID_MAX ||
		    !str_charset_ok(s, "_.:-"))
			return err_set(eb, CE_INVALID, "client_id: must be 1-%d "
			    "characters of [A-Za-z0-9_.:-]", SPEC_CLIENT_ID_MAX);
		(void)str_copy(req.client_id, sizeof(req.client_id), s);
	}
	if ((r = validate_params(req.spec, cJSON_GetObjectItemCaseSensitive(doc, "params"),
	    req.values, eb)) != 0)
		goto fail;
	if ((r = validate_target(req.spec, cJSON_GetObjectItemCaseSensitive(doc, "target"),
	    &req.target, eb)) != 0)
		goto fail;
	if ((r = validate_labels(cJSON_GetObjectItemCaseSensitive(doc, "labels"),
	    &req.labels, eb)) != 0)
		goto fail;
	*out = req;
	return 0;
fail:
	fault_req_release(&req);
	return r;
}
