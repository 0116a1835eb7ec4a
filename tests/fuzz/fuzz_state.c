/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_state.c: the state file as crash recovery reads it: the parser of
 * agent/state.c, then, for every entry, what recovery does before it
 * reverts: rebuild the request through the validator (common/spec.c) and
 * the record's type through the fault table. Whatever the file holds, no
 * crash, and an accepted file is an array.
 */
#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../agent/state.h"
#include "../../common/err.h"
#include "../../common/spec.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *faults = NULL;
	const cJSON *e;
	int r = state_parse((const char *)data, size, &faults);

	FUZZ_CHECK(r == 0 || r == CE_INVALID);
	FUZZ_CHECK((r == 0) == (faults != NULL));
	if (r != 0)
		return 0;
	FUZZ_CHECK(cJSON_IsArray(faults));
	cJSON_ArrayForEach(e, faults) {
		struct fault_req req;
		struct errbuf eb = { "" };
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e,
		    "type"));

		if (spec_validate(cJSON_GetObjectItemCaseSensitive(e, "request"),
		    SPEC_DURATION_MAX, &req, &eb) == 0) {
			FUZZ_CHECK(req.spec != NULL);
			fault_req_release(&req);
		}
		(void)spec_find(type);
	}
	cJSON_Delete(faults);
	return 0;
}
