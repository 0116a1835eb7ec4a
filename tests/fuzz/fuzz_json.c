/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_json.c: the strict JSON gate (common/jsoncheck.c) against cJSON.
 * Whatever the gate accepts, cJSON must parse; cJSON's printout of it must
 * pass the gate again and print back identically, so no string was cut at
 * a NUL and no invalid UTF-8 reached the agent's answers.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../common/err.h"
#include "../../common/jsoncheck.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errbuf eb = { "" };
	cJSON *doc, *again;
	char *out, *out2;
	int r = jsoncheck((const char *)data, size, &eb);

	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	FUZZ_CHECK(r == 0 || eb.msg[0] != '\0');
	if (r != 0)
		return 0;
	doc = cJSON_ParseWithLength((const char *)data, size);
	FUZZ_CHECK(doc != NULL);
	out = cJSON_PrintUnformatted(doc);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(jsoncheck(out, strlen(out), NULL) == 0);
	again = cJSON_Parse(out);
	FUZZ_CHECK(again != NULL);
	out2 = cJSON_PrintUnformatted(again);
	FUZZ_CHECK(out2 != NULL && strcmp(out, out2) == 0);
	cJSON_free(out2);
	cJSON_free(out);
	cJSON_Delete(again);
	cJSON_Delete(doc);
	return 0;
}
