/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ecs.c: what task mode reads from outside the agent about the ECS
 * fault injection endpoints (faults/ecs): the ECS agent's answers, under
 * every status the mapping knows, and ECS_AGENT_URI from the environment.
 * An answer leaves only short printable text behind and maps to a known
 * error with a message; a URI is accepted only in its strict form, and
 * what the parse keeps parses again to itself.
 */
#include <arpa/inet.h>

#include "fuzz.h"
#include "../../common/err.h"
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	check_answer(data, size);
	check_uri(text);
	free(text);
	return 0;
}
