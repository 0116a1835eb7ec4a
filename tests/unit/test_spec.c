/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_spec.c: the fault table and the POST /v1/faults validator of
 * common/spec.c: defaults, bounds, types, unknown fields and parameters,
 * targets, labels, client ids, and the normalized JSON forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"

/* Parse json and validate it; returns spec_validate's result. */
static int
validate(const char *json, int64_t max_duration, struct fault_req *out, struct errbuf *eb)
{
	cJSON *doc = cJSON_Parse(json);
	int r;

	if (doc == NULL)
		fail_msg("test JSON does not parse: %s", json);
	r = spec_validate(doc, max_duration, out, eb);
	cJSON_Delete(doc);
	return r;
}

/* Expect json to be refused with code, the message containing needle(s). */
static void
expect_bad(const char *json, int code, const char *needle1, const char *needle2)
{
	struct fault_req req, before;
	struct errbuf eb = { "" };
	int r;

	memset(&req, 0xa5, sizeof(req));
	before = req;
	r = validate(json, 3600, &req, &eb);
	if (r != code)
		fail_msg("%s: got %d (%s), want %d", json, r, eb.msg, code);
	if (memcmp(&req, &before, sizeof(req)) != 0)
		fail_msg("%s: out was modified on error", json);
	if (needle1 != NULL && strstr(eb.msg, needle1) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", json, eb.msg, needle1);
	if (needle2 != NULL && strstr(eb.msg, needle2) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", json, eb.msg, needle2);
}

/* Expect json to validate; fills req (caller releases). */
static void
expect_ok(const char *json, int64_t max_duration, struct fault_req *req)
{
	struct errbuf eb = { "" };

	if (validate(json, max_duration, req, &eb) != 0)
		fail_msg("%s: refused: %s", json, eb.msg);
}

static int64_t
param(const struct fault_req *req, const char *name)
{
	const struct spec_value *v = fault_req_get(req, name);

	assert_non_null(v);
	return v->i;
}

/* ---- the table */

static void
t_table_has_burn_cpu(void **state)
{
	const struct spec_fault *f = spec_find("burn-cpu");
	char buf[64];

	(void)state;
	assert_non_null(f);
	assert_string_equal(f->name, "burn-cpu");
	assert_true(f->targets & SPEC_TARGET_HOST);
	assert_true(f->targets & SPEC_TARGET_CONTAINER);
	assert_true(f->revertible);
	assert_int_equal(spec_nparams(f), 2);
	assert_string_equal(f->params[0].name, "load");
	assert_string_equal(f->params[1].name, "cores");
	spec_param_describe(&f->params[0], buf, sizeof(buf));
	assert_string_equal(buf, "integer 1..100 %");
	spec_param_describe(&f->params[1], buf, sizeof(buf));
	assert_string_equal(buf, "integer 0..1024 cores");
	assert_null(spec_find("BURN-CPU"));
	assert_null(spec_find("burn-cpu "));
	assert_null(spec_find(""));
	assert_null(spec_find(NULL));
	assert_true(spec_nfaults >= 1);
}

static void
t_state_names_round_trip(void **state)
{
	static const struct {
		enum fault_state s;
		const char *name;
	} states[] = {
		{ FAULT_PENDING, "pending" }, { FAULT_ACTIVE, "active" },
		{ FAULT_REVERTED, "reverted" }, { FAULT_EXPIRED, "expired" },
		{ FAULT_FAILED, "failed" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(states); i++) {
		assert_string_equal(fault_state_name(states[i].s), states[i].name);
		assert_int_equal(fault_state_parse(states[i].name), (int)states[i].s);
	}
	assert_string_equal(fault_state_name((enum fault_state)99), "unknown");
	assert_int_equal(fault_state_parse("ACTIVE"), -1);
	assert_int_equal(fault_state_parse("activ"), -1);
	assert_int_equal(fault_state_parse("active "), -1);
	assert_int_equal(fault_state_parse(""), -1);
	assert_int_equal(fault_state_parse("unknown"), -1);
}

/* ---- defaults and bounds */

static void
t_burn_cpu_defaults(void **state)
{
	struct fault_req req;
	const struct spec_value *v;
	cJSON *params;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60}", 3600, &req);
	assert_ptr_equal(req.spec, spec_find("burn-cpu"));
	assert_int_equal(req.duration, 60);
	v = fault_req_get(&req, "load");
	assert_non_null(v);
	assert_false(v->set);
	assert_int_equal(v->i, 100);
	v = fault_req_get(&req, "cores");
	assert_non_null(v);
	assert_false(v->set);
	assert_int_equal(v->i, 0);
	assert_null(fault_req_get(&req, "nope"));
	assert_string_equal(req.client_id, "");
	assert_non_null(req.target);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req.target,
	    "kind")), "host");
	assert_true(cJSON_IsObject(req.labels));
	assert_null(req.labels->child);
	params = fault_req_params_json(&req);
	assert_non_null(params);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(params, "load")->valuedouble, 100);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(params, "cores")->valuedouble, 0);
	assert_int_equal(cJSON_GetArraySize(params), 2);
	cJSON_Delete(params);
	fault_req_release(&req);
	assert_null(req.target);
	assert_null(req.labels);
	/* Releasing twice or NULL is harmless. */
	fault_req_release(&req);
	fault_req_release(NULL);

	/* {} means defaults too; null is a wrong type, not "every default". */
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":null}", CE_INVALID,
	    "params: must be an object", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":null}", CE_INVALID,
	    "target: must be an object", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":null}", CE_INVALID,
	    "labels: must be an object", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":null}", CE_INVALID,
	    "client_id", NULL);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{}}", 3600, &req);
	assert_int_equal(param(&req, "load"), 100);
	fault_req_release(&req);
}

static void
t_load_and_cores_bounds(void **state)
{
	struct fault_req req;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":1}}", 3600, &req);
	assert_int_equal(param(&req, "load"), 1);
	assert_true(fault_req_get(&req, "load")->set);
	fault_req_release(&req);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":100,"
	    "\"cores\":1024}}", 3600, &req);
	assert_int_equal(param(&req, "load"), 100);
	assert_int_equal(param(&req, "cores"), 1024);
	fault_req_release(&req);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"cores\":0,"
	    "\"load\":50.0}}", 3600, &req);
	assert_int_equal(param(&req, "load"), 50);
	assert_int_equal(param(&req, "cores"), 0);
	fault_req_release(&req);

	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":0}}",
	    CE_INVALID, "params.load: 0 is out of range", "integer 1..100 %");
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":101}}",
	    CE_INVALID, "params.load: 101 is out of range", "1..100");
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":-1}}",
	    CE_INVALID, "params.load", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"cores\":1025}}",
	    CE_INVALID, "params.cores: 1025 is out of range", "0..1024 cores");
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"cores\":-1}}",
	    CE_INVALID, "params.cores", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"cores\":1e18}}",
	    CE_INVALID, "params.cores", NULL);
}

static void
t_wrong_json_types_are_rejected(void **state)
{
	(void)state;
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":\"50\"}}",
	    CE_INVALID, "params.load: must be an integer", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":50.5}}",
	    CE_INVALID, "params.load: must be an integer", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":true}}",
	    CE_INVALID, "params.load", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":null}}",
	    CE_INVALID, "params.load", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":[50]}}",
	    CE_INVALID, "params.load", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"cores\":{}}}",
	    CE_INVALID, "params.cores", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":[]}",
	    CE_INVALID, "params: must be an object", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":\"load=5\"}",
	    CE_INVALID, "params: must be an object", NULL);
	expect_bad("{\"type\":5,\"duration\":60}", CE_INVALID, "type: must be a string", NULL);
	expect_bad("{\"type\":null,\"duration\":60}", CE_INVALID, "type", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":\"60\"}", CE_INVALID, "duration", NULL);
	expect_bad("[]", CE_INVALID, "body: must be a JSON object", NULL);
	expect_bad("\"burn-cpu\"", CE_INVALID, "body: must be a JSON object", NULL);
	expect_bad("null", CE_INVALID, "body: must be a JSON object", NULL);
	expect_bad("42", CE_INVALID, "body: must be a JSON object", NULL);
}

static void
t_unknown_fields_and_params_are_named(void **state)
{
	(void)state;
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"lod\":50}}",
	    CE_INVALID, "params.lod: unknown parameter for burn-cpu", "allowed: load, cores");
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":50,"
	    "\"Load\":50}}", CE_INVALID, "params.Load: unknown parameter", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"colour\":\"red\"}",
	    CE_INVALID, "colour: unknown field", "client_id");
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"Type\":\"burn-cpu\"}",
	    CE_INVALID, "Type: unknown field", NULL);
	/* Duplicate keys would let the first silently win: refused. */
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"duration\":600}",
	    CE_INVALID, "duration: given twice", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":5,"
	    "\"load\":50}}", CE_INVALID, "params.load: given twice", NULL);
}

static void
t_unknown_fault_type(void **state)
{
	(void)state;
	expect_bad("{\"type\":\"burn-gpu\",\"duration\":60}", CE_NOT_FOUND,
	    "type: unknown fault 'burn-gpu'", "allowed: burn-cpu");
	expect_bad("{\"type\":\"\",\"duration\":60}", CE_NOT_FOUND, "unknown fault", NULL);
	expect_bad("{\"duration\":60}", CE_INVALID, "type: required", NULL);
}

static void
t_duration_bounds(void **state)
{
	struct fault_req req;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":1}", 3600, &req);
	assert_int_equal(req.duration, 1);
	fault_req_release(&req);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":3600}", 3600, &req);
	assert_int_equal(req.duration, 3600);
	fault_req_release(&req);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":3601}", CE_INVALID,
	    "duration: must be an integer from 1 to 3600 seconds", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":0}", CE_INVALID, "duration", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":-5}", CE_INVALID, "duration", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":1.5}", CE_INVALID, "duration", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":1e300}", CE_INVALID, "duration", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":null}", CE_INVALID, "duration", NULL);
	expect_bad("{\"type\":\"burn-cpu\"}", CE_INVALID, "duration: required", NULL);
	/* An agent's max_duration above the hard ceiling is clamped to it. */
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":43200}", 100000, &req);
	assert_int_equal(req.duration, 43200);
	fault_req_release(&req);
	{
		struct fault_req r2;
		struct errbuf eb = { "" };

		assert_int_equal(validate("{\"type\":\"burn-cpu\",\"duration\":43201}", 100000,
		    &r2, &eb), CE_INVALID);
		assert_non_null(strstr(eb.msg, "43200"));
		assert_int_equal(validate("{\"type\":\"burn-cpu\",\"duration\":11}", 10,
		    &r2, &eb), CE_INVALID);
		assert_non_null(strstr(eb.msg, "from 1 to 10 seconds"));
	}
}

static void
t_client_id(void **state)
{
	struct fault_req req;
	char json[256];

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":\"run-42_burn:1.x\"}",
	    3600, &req);
	assert_string_equal(req.client_id, "run-42_burn:1.x");
	fault_req_release(&req);
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"client_id\":\"%s\"}", "0123456789012345678901234567890123456789"
	    "012345678901234567890123");
	expect_ok(json, 3600, &req);
	assert_int_equal(strlen(req.client_id), 64);
	fault_req_release(&req);
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"client_id\":\"%s\"}", "0123456789012345678901234567890123456789"
	    "0123456789012345678901234");
	expect_bad(json, CE_INVALID, "client_id: must be 1-64", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":\"\"}",
	    CE_INVALID, "client_id", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":\"a b\"}",
	    CE_INVALID, "client_id", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":\"a/b\"}",
	    CE_INVALID, "client_id", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"client_id\":7}",
	    CE_INVALID, "client_id", NULL);
}

static void
t_target(void **state)
{
	struct fault_req req;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{\"kind\":\"host\"}}",
	    3600, &req);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req.target,
	    "kind")), "host");
	fault_req_release(&req);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{}}", 3600, &req);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req.target,
	    "kind")), "host");
	fault_req_release(&req);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{\"kind\":\"container\"}}",
	    CE_INVALID, "target: a container target needs at least one of", NULL);
	expect_bad("{\"type\":\"kill-process\",\"target\":{\"kind\":\"container\","
	    "\"family\":\"web\"}}", CE_INVALID, "kill-process cannot target a container",
	    NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{\"kind\":\"vm\"}}",
	    CE_INVALID, "target.kind: 'vm' is not a target kind", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{\"kind\":1}}",
	    CE_INVALID, "target.kind: must be a string", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":{\"kind\":\"host\","
	    "\"id\":\"x\"}}", CE_INVALID, "target.id: unknown field", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"target\":\"host\"}",
	    CE_INVALID, "target: must be an object", NULL);
}

/* Container selectors: validated, normalized, kind inferred. */
static void
t_container_target(void **state)
{
	struct fault_req req;
	const cJSON *t;

	(void)state;
	expect_ok("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"web\",\"container_name\":\"~internal~ecs~pause\","
	    "\"task\":\"arn:aws:ecs:us-east-1:1:task/c/abc\",\"labels\":{\"a.b\":\"c\"},"
	    "\"percent\":50}}", 3600, &req);
	t = req.target;
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "kind")),
	    "container");
	assert_true(spec_target_is_container(&req));
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t,
	    "percent")), 50);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "labels"), "a.b")), "c");
	fault_req_release(&req);
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60}", 3600, &req);
	assert_false(spec_target_is_container(&req));
	fault_req_release(&req);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60}", CE_INVALID,
	    "pause-container acts on containers", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"web\",\"count\":1,\"percent\":5}}", CE_INVALID,
	    "count or percent, not both", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"web\",\"percent\":101}}", CE_INVALID, "target.percent", "1 to 100");
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"web\",\"count\":0}}", CE_INVALID, "target.count", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"w b\"}}", CE_INVALID, "target.family", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"\"}}", CE_INVALID, "target.family", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"family\":\"a\",\"family\":\"b\"}}", CE_INVALID, "given twice", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"pod\":\"x\"}}", CE_INVALID, "target.pod: unknown field", NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"kind\":\"host\",\"family\":\"web\"}}", CE_INVALID, "need kind container",
	    NULL);
	expect_bad("{\"type\":\"pause-container\",\"duration\":60,\"target\":{"
	    "\"labels\":{\"k\":1}}}", CE_INVALID, "target.labels.k", NULL);
}

/* One-shot faults: no duration needed; dry_run round-trips. */
static void
t_one_shot_and_dry_run(void **state)
{
	struct fault_req req, again;
	struct errbuf eb = { "" };
	cJSON *doc;

	(void)state;
	expect_ok("{\"type\":\"kill-container\",\"target\":{\"task\":\"abc\"},"
	    "\"dry_run\":true}", 3600, &req);
	assert_int_equal(req.duration, 0);
	assert_true(req.dry_run);
	assert_string_equal(fault_req_get(&req, "signal")->s, "KILL");
	doc = fault_req_to_json(&req);
	assert_null(cJSON_GetObjectItemCaseSensitive(doc, "duration"));
	assert_int_equal(spec_validate(doc, 3600, &again, &eb), 0);
	assert_true(again.dry_run);
	fault_req_release(&again);
	cJSON_Delete(doc);
	fault_req_release(&req);
	expect_bad("{\"type\":\"pause-container\",\"target\":{\"task\":\"abc\"}}",
	    CE_INVALID, "duration: required", NULL);
	expect_bad("{\"type\":\"kill-container\",\"target\":{\"task\":\"a\"},"
	    "\"dry_run\":1}", CE_INVALID, "dry_run", NULL);
	expect_bad("{\"type\":\"kill-container\",\"target\":{\"task\":\"a\"},"
	    "\"params\":{\"signal\":\"SEGV\"}}", CE_INVALID, "params.signal", "KILL|TERM");
	/* kill-process: pid has no default and stays out of the params. */
	expect_ok("{\"type\":\"kill-process\",\"params\":{\"name\":\"dockerd\"}}",
	    3600, &req);
	doc = fault_req_params_json(&req);
	assert_null(cJSON_GetObjectItemCaseSensitive(doc, "pid"));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
	    "name")), "dockerd");
	cJSON_Delete(doc);
	fault_req_release(&req);
	expect_bad("{\"type\":\"kill-process\",\"params\":{\"pid\":0}}", CE_INVALID,
	    "params.pid", NULL);
}

/* Network scope strings go through their parsers; rates are kbit/s. */
static void
t_network_params(void **state)
{
	struct fault_req req;

	(void)state;
	expect_ok("{\"type\":\"latency\",\"duration\":60,\"params\":{\"delay\":200,"
	    "\"dest\":\"10.0.0.0/8,fd00::/64\",\"dest_port\":\"3306,5432\","
	    "\"protocol\":\"tcp\"}}", 3600, &req);
	assert_string_equal(fault_req_get(&req, "dest")->s, "10.0.0.0/8,fd00::/64");
	assert_int_equal(fault_req_get(&req, "delay")->i, 200);
	fault_req_release(&req);
	expect_ok("{\"type\":\"rate\",\"duration\":60,\"params\":{\"rate\":8}}", 3600,
	    &req);
	fault_req_release(&req);
	expect_bad("{\"type\":\"rate\",\"duration\":60,\"params\":{\"rate\":7}}",
	    CE_INVALID, "params.rate", "kbit/s 8..");
	expect_bad("{\"type\":\"loss\",\"duration\":60,\"params\":{\"dest\":"
	    "\"10.0.0.0/33\"}}", CE_INVALID, "params.dest", "prefix");
	expect_bad("{\"type\":\"loss\",\"duration\":60,\"params\":{\"dest\":"
	    "\"host.example\"}}", CE_INVALID, "params.dest", NULL);
	expect_bad("{\"type\":\"loss\",\"duration\":60,\"params\":{\"dest_port\":"
	    "\"1,2,3,4,5,6,7,8,9\"}}", CE_INVALID, "params.dest_port", "more than 8");
	expect_bad("{\"type\":\"loss\",\"duration\":60,\"params\":{\"source_port\":"
	    "\"0\"}}", CE_INVALID, "params.source_port", NULL);
	expect_bad("{\"type\":\"blackhole\",\"duration\":60,\"params\":{\"interface\":"
	    "\"eth0/1\"}}", CE_INVALID, "params.interface", NULL);
	expect_bad("{\"type\":\"latency\",\"duration\":60,\"params\":{\"delay\":0}}",
	    CE_INVALID, "params.delay", NULL);
	expect_bad("{\"type\":\"blackhole\",\"params\":{}}", CE_INVALID, "duration",
	    NULL);
}

static void
t_labels(void **state)
{
	struct fault_req req;
	char json[8192], val[300];
	size_t used, i;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"experiment\":"
	    "\"cpu-stress\",\"team\":\"sre on call\",\"a.b/c:d-e_f\":\"\"}}", 3600, &req);
	assert_int_equal(cJSON_GetArraySize(req.labels), 3);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req.labels,
	    "team")), "sre on call");
	fault_req_release(&req);

	/* 16 labels are fine, 17 are not. */
	used = (size_t)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"labels\":{");
	for (i = 0; i < 16; i++)
		used += (size_t)snprintf(json + used, sizeof(json) - used, "%s\"k%zu\":\"v\"",
		    i ? "," : "", i);
	(void)snprintf(json + used, sizeof(json) - used, "}}");
	expect_ok(json, 3600, &req);
	assert_int_equal(cJSON_GetArraySize(req.labels), 16);
	fault_req_release(&req);
	(void)snprintf(json + used, sizeof(json) - used, ",\"k16\":\"v\"}}");
	expect_bad(json, CE_INVALID, "labels: more than 16 labels", NULL);

	/* Value length: 256 ok, 257 not. */
	memset(val, 'v', 256);
	val[256] = '\0';
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"labels\":{\"k\":\"%s\"}}", val);
	expect_ok(json, 3600, &req);
	fault_req_release(&req);
	val[256] = 'v';
	val[257] = '\0';
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"labels\":{\"k\":\"%s\"}}", val);
	expect_bad(json, CE_INVALID, "labels.k: must be a string of at most 256", NULL);

	/* Key rules. */
	memset(val, 'k', 65);
	val[65] = '\0';
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"labels\":{\"%s\":\"v\"}}", val);
	expect_bad(json, CE_INVALID, "labels: key", NULL);
	val[64] = '\0';
	(void)snprintf(json, sizeof(json), "{\"type\":\"burn-cpu\",\"duration\":60,"
	    "\"labels\":{\"%s\":\"v\"}}", val);
	expect_ok(json, 3600, &req);
	fault_req_release(&req);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"\":\"v\"}}",
	    CE_INVALID, "labels: key", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"a b\":\"v\"}}",
	    CE_INVALID, "labels: key 'a b'", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"%s\":\"v\"}}",
	    CE_INVALID, "labels: key", NULL);

	/* Values: strings without control characters. */
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"k\":1}}",
	    CE_INVALID, "labels.k: must be a string", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"k\":null}}",
	    CE_INVALID, "labels.k", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"k\":\"a\\nb\"}}",
	    CE_INVALID, "labels.k: control characters", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"k\":\"a\\u007fb\"}}",
	    CE_INVALID, "labels.k: control characters", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":{\"k\":\"1\","
	    "\"k\":\"2\"}}", CE_INVALID, "labels.k: given twice", NULL);
	expect_bad("{\"type\":\"burn-cpu\",\"duration\":60,\"labels\":[\"a\"]}",
	    CE_INVALID, "labels: must be an object", NULL);
}

/* The worker forwards fault_req_to_json; the parent validates it again. */
static void
t_to_json_round_trips(void **state)
{
	struct fault_req a, b;
	struct errbuf eb = { "" };
	cJSON *doc;
	char *text;

	(void)state;
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":120,\"params\":{\"load\":80},"
	    "\"labels\":{\"experiment\":\"cpu-stress\"},\"client_id\":\"run-42-burn\"}",
	    3600, &a);
	doc = fault_req_to_json(&a);
	assert_non_null(doc);
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(text);
	assert_int_equal(spec_validate(doc, 3600, &b, &eb), 0);
	assert_ptr_equal(a.spec, b.spec);
	assert_int_equal(b.duration, 120);
	assert_int_equal(param(&b, "load"), 80);
	assert_int_equal(param(&b, "cores"), 0);
	assert_string_equal(b.client_id, "run-42-burn");
	assert_true(cJSON_Compare(a.labels, b.labels, 1));
	assert_true(cJSON_Compare(a.target, b.target, 1));
	/* Defaults are spelled out, so the parent sees exactly what was checked. */
	assert_non_null(strstr(text, "\"cores\":0"));
	assert_non_null(strstr(text, "\"kind\":\"host\""));
	free(text);
	cJSON_Delete(doc);
	fault_req_release(&a);
	fault_req_release(&b);

	/* Without a client id none is invented. */
	expect_ok("{\"type\":\"burn-cpu\",\"duration\":5}", 3600, &a);
	doc = fault_req_to_json(&a);
	assert_non_null(doc);
	assert_null(cJSON_GetObjectItemCaseSensitive(doc, "client_id"));
	cJSON_Delete(doc);
	fault_req_release(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_table_has_burn_cpu),
		cmocka_unit_test(t_state_names_round_trip),
		cmocka_unit_test(t_burn_cpu_defaults),
		cmocka_unit_test(t_load_and_cores_bounds),
		cmocka_unit_test(t_wrong_json_types_are_rejected),
		cmocka_unit_test(t_unknown_fields_and_params_are_named),
		cmocka_unit_test(t_unknown_fault_type),
		cmocka_unit_test(t_duration_bounds),
		cmocka_unit_test(t_client_id),
		cmocka_unit_test(t_target),
		cmocka_unit_test(t_container_target),
		cmocka_unit_test(t_one_shot_and_dry_run),
		cmocka_unit_test(t_network_params),
		cmocka_unit_test(t_labels),
		cmocka_unit_test(t_to_json_round_trips),
	};

	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
