/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ecs.c: what task mode reads from outside the agent about the ECS
 * fault injection endpoints (faults/ecs): the ECS agent's answers, under
 * every status the mapping knows, ECS_AGENT_URI from the environment, and
 * a client's fault request turned into an endpoint's body.
 * An answer leaves only short printable text behind and maps to a known
 * error with a message; a URI is accepted only in its strict form, and
 * what the parse keeps parses again to itself.
 */
#include <arpa/inet.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../faults/ecs/ecs.h"

static void
check_text(const char *s)
{
	size_t i, n = strlen(s);

	FUZZ_CHECK(n < ECS_TEXT_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

static void
check_answer(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 404, 405, 409, 429, 500, 502 };
	static const char *const ops[] = { "start", "stop", "status" };
	struct ecs_answer a;
	size_t i, k;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		ecs_answer_parse(statuses[i], (const char *)data, size, &a);
		FUZZ_CHECK(a.status == statuses[i]);
		check_text(a.word);
		check_text(a.error);
		for (k = 0; k < 3; k++) {
			struct errbuf eb = { "" };
			int r = ecs_answer_check("network-latency", ops[k], &a, &eb);

			FUZZ_CHECK(r == 0 || r == CE_INVALID || r == CE_UNAVAILABLE ||
			    r == CE_CONFLICT || r == CE_BUSY || r == CE_SYSTEM);
			FUZZ_CHECK(r != 0 || a.status == 200);
			FUZZ_CHECK(r == 0 || eb.msg[0] != '\0');
			FUZZ_CHECK(ecs_answer_refused(&a) == (a.status == 400 ||
			    a.status == 404 || a.status == 409 || a.status == 429));
		}
	}
}

static void
check_uri(const char *s)
{
	struct ecs_uri u, again;
	unsigned char bin[16];
	char why[128] = "";

	if (ecs_uri_parse(s, &u, why, sizeof(why)) != 0) {
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	FUZZ_CHECK(strncmp(u.base, "http://", 7) == 0);
	FUZZ_CHECK(strlen(u.base) < ECS_URI_MAX && strlen(u.base) <= strlen(s));
	FUZZ_CHECK(strncmp(u.base, s, strlen(u.base)) == 0);
	FUZZ_CHECK(strstr(u.base, "..") == NULL && strchr(u.base, '?') == NULL &&
	    strchr(u.base, '@') == NULL && strchr(u.base, ' ') == NULL);
	FUZZ_CHECK(u.base[strlen(u.base) - 1] != '/');
	FUZZ_CHECK(inet_pton(AF_INET, u.addr, bin) == 1 || inet_pton(AF_INET6, u.addr, bin) == 1);
	FUZZ_CHECK(ecs_uri_parse(u.base, &again, why, sizeof(why)) == 0);
	FUZZ_CHECK(strcmp(again.base, u.base) == 0 && strcmp(again.addr, u.addr) == 0);
}

/*
 * The input as a POST /v1/faults document: once the spec accepts it, a
 * latency, loss or blackhole request becomes a body the endpoints accept
 * (the fields they require, Sources never empty) or a 400 naming a
 * parameter; nothing else.
 */
static void
check_request(const uint8_t *data, size_t size)
{
	static const char *const control[] = { "169.254.170.2", "10.0.0.1" };
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size), *body = NULL;
	struct fault_req req;
	struct errbuf eb = { "" };
	const char *ep = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	if (doc == NULL || spec_validate(doc, 3600, &req, &eb) != 0) {
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(doc);
	r = ecs_request(&req, control, 2, &ep, &body, &eb);
	if (r != 0) {
		FUZZ_CHECK(body == NULL && eb.msg[0] != '\0');
		FUZZ_CHECK(r == CE_UNAVAILABLE || strncmp(eb.msg, "params.", 7) == 0);
	} else {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(body, "Sources");

		FUZZ_CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body,
		    "SourcesToFilter")) == 2);
		if (strcmp(ep, ECS_EP_BLACKHOLE) == 0)
			FUZZ_CHECK(src == NULL && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
			    body, "Port")));
		else
			FUZZ_CHECK(cJSON_GetArraySize(src) >= 1 && cJSON_GetArraySize(src) <= 8);
	}
	cJSON_Delete(body);
	fault_req_release(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	check_answer(data, size);
	check_uri(text);
	check_request(data, size);
	free(text);
	return 0;
}
