/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ecs.c: task mode's side of the ECS fault injection endpoints
 * (faults/ecs): the bodies a fault request becomes (byte for byte: it is
 * what the ECS agent validates), the 400 that names each parameter the
 * endpoints cannot honour, the reading of the ECS agent's answers, and the
 * strict parse of ECS_AGENT_URI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../faults/ecs/ecs.h"

static const char *const control[] = {
	"169.254.170.2", "169.254.169.254", "fd00:ec2::254", "127.0.0.1", "169.254.170.2",
};
#define CONTROL_JSON "[\"169.254.170.2/32\",\"169.254.169.254/32\",\"fd00:ec2::254/128\"," \
	"\"127.0.0.1/32\"]"

/*
 * The endpoint and body a POST /v1/faults document becomes; returns the
 * code, with the body as text in out (or the message).
 */
static int
translate(const char *doc, const char **endpoint, char *out, size_t len)
{
	struct fault_req req;
	struct errbuf eb = { "" };
	cJSON *d = cJSON_Parse(doc), *body = NULL;
	char *text;
	int r;

	assert_non_null(d);
	memset(&req, 0, sizeof(req));
	assert_int_equal(spec_validate(d, 3600, &req, &eb), 0);
	cJSON_Delete(d);
	r = ecs_request(&req, control, 5, endpoint, &body, &eb);
	fault_req_release(&req);
	if (r != 0) {
		assert_null(body);
		(void)snprintf(out, len, "%s", eb.msg);
		return r;
	}
	text = cJSON_PrintUnformatted(body);
	(void)snprintf(out, len, "%s", text);
	cJSON_free(text);
	cJSON_Delete(body);
	return 0;
}

static void
t_latency_default_impairs_every_destination(void **state)
{
	const char *ep = NULL;
	char body[1024];

	(void)state;
	assert_int_equal(translate("{\"type\":\"latency\",\"duration\":60}", &ep, body,
	    sizeof(body)), 0);
	assert_string_equal(ep, "network-latency");
	assert_string_equal(body, "{\"DelayMilliseconds\":100,\"JitterMilliseconds\":0,"
	    "\"Sources\":[\"0.0.0.0/0\"],\"SourcesToFilter\":" CONTROL_JSON "}");
}

static void
t_latency_dest_and_jitter(void **state)
{
	const char *ep = NULL;
	char body[1024];

	(void)state;
	assert_int_equal(translate("{\"type\":\"latency\",\"duration\":60,\"params\":"
	    "{\"delay\":250,\"jitter\":40,\"dest\":\"10.0.0.0/16,fd00::1\"}}", &ep, body,
	    sizeof(body)), 0);
	assert_string_equal(body, "{\"DelayMilliseconds\":250,\"JitterMilliseconds\":40,"
	    "\"Sources\":[\"10.0.0.0/16\",\"fd00::1/128\"],\"SourcesToFilter\":"
	    CONTROL_JSON "}");
}

static void
t_loss_body(void **state)
{
	const char *ep = NULL;
	char body[1024];

	(void)state;
	assert_int_equal(translate("{\"type\":\"loss\",\"duration\":60,\"params\":"
	    "{\"percent\":100,\"dest\":\"192.0.2.0/24\"}}", &ep, body, sizeof(body)), 0);
	assert_string_equal(ep, "network-packet-loss");
	assert_string_equal(body, "{\"LossPercent\":100,\"Sources\":[\"192.0.2.0/24\"],"
	    "\"SourcesToFilter\":" CONTROL_JSON "}");
}

static void
t_blackhole_one_port_egress(void **state)
{
	const char *ep = NULL;
	char body[1024];

	(void)state;
	assert_int_equal(translate("{\"type\":\"blackhole\",\"duration\":60,\"params\":"
	    "{\"dest_port\":\"5432\",\"protocol\":\"tcp\"}}", &ep, body, sizeof(body)), 0);
	assert_string_equal(ep, "network-blackhole-port");
	assert_string_equal(body, "{\"Port\":5432,\"Protocol\":\"tcp\",\"TrafficType\":"
	    "\"egress\",\"SourcesToFilter\":" CONTROL_JSON "}");
}

/* Each parameter the endpoints cannot honour: 400 naming it. */
static void
t_refusals_name_the_parameter(void **state)
{
	static const struct {
		const char *type, *params, *named;
	} cases[] = {
		{ "latency", "\"interface\":\"eth1\"", "params.interface:" },
		{ "latency", "\"source_port\":\"80\"", "params.source_port:" },
		{ "latency", "\"force\":true", "params.force:" },
		{ "latency", "\"dest_port\":\"3306\"", "params.dest_port:" },
		{ "latency", "\"protocol\":\"tcp\"", "params.protocol:" },
		{ "latency", "\"jitter\":5,\"correlation\":25", "params.correlation:" },
		{ "latency", "\"jitter\":5,\"distribution\":\"normal\"", "params.distribution:" },
		{ "loss", "\"correlation\":10", "params.correlation:" },
		{ "loss", "\"protocol\":\"udp\"", "params.protocol:" },
		{ "blackhole", "", "params.dest_port:" },
		{ "blackhole", "\"dest_port\":\"80,443\",\"protocol\":\"tcp\"",
		  "params.dest_port:" },
		{ "blackhole", "\"dest_port\":\"80\"", "params.protocol:" },
		{ "blackhole", "\"dest_port\":\"80\",\"protocol\":\"udp\",\"dest\":\"10.0.0.1\"",
		  "params.dest:" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *ep = NULL;
		char doc[512], msg[512];

		(void)snprintf(doc, sizeof(doc), "{\"type\":\"%s\",\"duration\":60,"
		    "\"params\":{%s}}", cases[i].type, cases[i].params);
		assert_int_equal(translate(doc, &ep, msg, sizeof(msg)), CE_INVALID);
		if (strncmp(msg, cases[i].named, strlen(cases[i].named)) != 0)
			fail_msg("%s: '%s' does not start with '%s'", doc, msg, cases[i].named);
	}
}

static void
t_no_endpoint_for_other_faults(void **state)
{
	const char *ep = NULL;
	char msg[512];

	(void)state;
	assert_int_equal(translate("{\"type\":\"corrupt\",\"duration\":60}", &ep, msg,
	    sizeof(msg)), CE_UNAVAILABLE);
}

static void
t_answers_read(void **state)
{
	static const char big[] = "{\"Status\":\"running\",\"Error\":\"";
	struct ecs_answer a;
	char buf[2048];

	(void)state;
	ecs_answer_parse(200, "{\"Status\":\"running\"}", 20, &a);
	assert_int_equal(strlen("{\"Status\":\"running\"}"), 20);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.word, "running");
	assert_string_equal(a.error, "");
	/* The rate limiter's plain text, with its newline. */
	ecs_answer_parse(429, "You have reached maximum request limit.\n", 40, &a);
	assert_string_equal(a.error, "You have reached maximum request limit.");
	assert_string_equal(a.word, "");
	/* Control characters never reach a message; long texts are cut. */
	(void)snprintf(buf, sizeof(buf), "{\"Error\":\"bad\\u001b[31m\\nthing\"}");
	ecs_answer_parse(500, buf, strlen(buf), &a);
	assert_string_equal(a.error, "bad [31m thing");
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, big, sizeof(big) - 1);
	ecs_answer_parse(500, buf, sizeof(buf), &a);
	assert_true(strlen(a.error) < ECS_TEXT_MAX);
	ecs_answer_parse(502, NULL, 0, &a);
	assert_int_equal(a.status, 502);
	assert_string_equal(a.error, "");
}

static int
check(long status, const char *word, const char *error, const char *op, char *msg)
{
	struct ecs_answer a;
	struct errbuf eb = { "" };
	int r;

	memset(&a, 0, sizeof(a));
	a.status = status;
	(void)snprintf(a.word, sizeof(a.word), "%s", word);
	(void)snprintf(a.error, sizeof(a.error), "%s", error);
	r = ecs_answer_check("network-latency", op, &a, &eb);
	(void)snprintf(msg, ERRBUF_MAX, "%s", eb.msg);
	return r;
}

static void
t_answers_mapped(void **state)
{
	char m[ERRBUF_MAX];

	(void)state;
	assert_int_equal(check(200, "running", "", "start", m), 0);
	assert_int_equal(check(200, "stopped", "", "stop", m), 0);
	assert_int_equal(check(200, "not-running", "", "status", m), 0);
	assert_int_equal(check(200, "stopped", "", "start", m), CE_SYSTEM);
	assert_int_equal(check(400, "", "enableFaultInjection is not enabled for task: arn:x",
	    "start", m), CE_UNAVAILABLE);
	assert_non_null(strstr(m, "enableFaultInjection is not enabled for task: arn:x"));
	assert_int_equal(check(400, "", "bridge mode is not supported. Please use either host "
	    "or awsvpc mode.", "start", m), CE_UNAVAILABLE);
	assert_int_equal(check(400, "", "invalid value x for parameter Sources", "start", m),
	    CE_INVALID);
	assert_non_null(strstr(m, "invalid value x for parameter Sources"));
	assert_int_equal(check(404, "", "", "start", m), CE_UNAVAILABLE);
	assert_non_null(strstr(m, "1.88.0"));
	assert_int_equal(check(409, "", "There is already one network packet loss fault running",
	    "start", m), CE_CONFLICT);
	assert_non_null(strstr(m, "packet loss fault running"));
	assert_int_equal(check(429, "", "You have reached maximum request limit.", "stop", m),
	    CE_BUSY);
	assert_non_null(strstr(m, "throttled"));
	assert_int_equal(check(500, "", "internal error", "stop", m), CE_SYSTEM);
	assert_int_equal(check(503, "", "", "stop", m), CE_SYSTEM);
}

static void
t_refused_means_nothing_changed(void **state)
{
	struct ecs_answer a;
	static const long refused[] = { 400, 404, 409, 429 }, maybe[] = { 0, 200, 500, 502 };
	size_t i;

	(void)state;
	memset(&a, 0, sizeof(a));
	for (i = 0; i < 4; i++) {
		a.status = refused[i];
		assert_true(ecs_answer_refused(&a));
		a.status = maybe[i];
		assert_false(ecs_answer_refused(&a));
	}
}

static void
t_uri_parsed(void **state)
{
	struct ecs_uri u;
	char why[128];

	(void)state;
	assert_int_equal(ecs_uri_parse("http://169.254.170.2/api/0a1b2c3d-4567-89ab", &u, why,
	    sizeof(why)), 0);
	assert_string_equal(u.base, "http://169.254.170.2/api/0a1b2c3d-4567-89ab");
	assert_string_equal(u.addr, "169.254.170.2");
	assert_int_equal(ecs_uri_parse("http://127.0.0.1:51678/api/x/", &u, why, sizeof(why)), 0);
	assert_string_equal(u.base, "http://127.0.0.1:51678/api/x");
	assert_int_equal(ecs_uri_parse("http://[fd00:ec2::2]:80/api/x", &u, why, sizeof(why)), 0);
	assert_string_equal(u.addr, "fd00:ec2::2");
	assert_string_equal(u.base, "http://[fd00:ec2::2]:80/api/x");
}

static void
t_uri_refused(void **state)
{
	static const char *const bad[] = {
		"", "https://169.254.170.2/api/x", "http://ecs-agent/api/x",
		"http://169.254.170.2", "http://169.254.170.2/", "http://169.254.170.2/api/../x",
		"http://169.254.170.2/a?b",
		"http://u@169.254.170.2/api/x", "http://169.254.170.2:0/api/x",
		"http://169.254.170.2:70000/api/x", "http://169.254.170.2:8x/api/x",
		"http://[fd00::1/api/x", "http://[]/api/x", "http://169.254.170/api/x",
		"http://169.254.170.2/api//x", "http://169.254.170.2/api/x y",
	};
	struct ecs_uri u;
	char why[128], longer[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ecs_uri_parse(bad[i], &u, why, sizeof(why)) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(ecs_uri_parse(NULL, &u, why, sizeof(why)), -1);
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "http://1.2.3.4/", 15);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(ecs_uri_parse(longer, &u, why, sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_latency_default_impairs_every_destination),
		cmocka_unit_test(t_latency_dest_and_jitter),
		cmocka_unit_test(t_loss_body),
		cmocka_unit_test(t_blackhole_one_port_egress),
		cmocka_unit_test(t_refusals_name_the_parameter),
		cmocka_unit_test(t_no_endpoint_for_other_faults),
		cmocka_unit_test(t_answers_read),
		cmocka_unit_test(t_answers_mapped),
		cmocka_unit_test(t_refused_means_nothing_changed),
		cmocka_unit_test(t_uri_parsed),
		cmocka_unit_test(t_uri_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
