/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_spec.c: a POST /v1/faults body, as JSON that passed the strict gate
 * (common/jsoncheck.c), through spec_validate
 * (common/spec.c), with this agent's default max_duration and with one
 * above the hard ceiling (which must be clamped).
 */
#include <cjson/cJSON.h>

#include "check_spec.h"
#include "../../common/jsoncheck.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc;

	/* The worker only parses what the strict gate lets through. */
	if (jsoncheck((const char *)data, size, NULL) != 0)
		return 0;
	doc = cJSON_ParseWithLength((const char *)data, size);
	FUZZ_CHECK(doc != NULL);
	check_spec_doc(doc, 3600);
	check_spec_doc(doc, 1000000);
	cJSON_Delete(doc);
	return 0;
}
