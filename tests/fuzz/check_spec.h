/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_spec.h: the invariants of spec_validate, shared by fuzz_spec and
 * fuzz_request. A request that validates must respect every bound of the
 * table, and what fault_req_to_json makes of it (what the worker forwards
 * to the parent) must validate again to the same request.
 */
#ifndef CHAOS_TEST_CHECK_SPEC_H
#define CHAOS_TEST_CHECK_SPEC_H

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"

static void
check_req(const struct fault_req *r, int64_t max_duration)
{
	size_t i, n;

	FUZZ_CHECK(r->spec != NULL && spec_find(r->spec->name) == r->spec);
	/* One-shot faults may come without a duration (0). */
	FUZZ_CHECK((r->duration == 0 && !r->spec->revertible) ||
	    (r->duration >= 1 && r->duration <= max_duration &&
	    r->duration <= SPEC_DURATION_MAX));
	n = spec_nparams(r->spec);
	for (i = 0; i < n; i++) {
		const struct spec_param *p = &r->spec->params[i];
		const struct spec_value *v = &r->values[i];

		switch (p->type) {
		case SPEC_INT:
		case SPEC_MILLIS:
		case SPEC_RATE:
			/* An optional number without a default stays unset. */
			if (v->set || (p->def >= p->min && p->def <= p->max))
				FUZZ_CHECK(v->i >= p->min && v->i <= p->max);
			break;
		case SPEC_BOOL:
			FUZZ_CHECK(v->i == 0 || v->i == 1);
			break;
		case SPEC_STRING:
		case SPEC_ENUM:
			FUZZ_CHECK(strlen(v->s) <= SPEC_STR_MAX);
			break;
		}
	}
	FUZZ_CHECK(strlen(r->client_id) <= SPEC_CLIENT_ID_MAX);
	FUZZ_CHECK(str_charset_ok(r->client_id, "_.:-"));
	FUZZ_CHECK(cJSON_IsObject(r->target));
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->target, "kind")));
	FUZZ_CHECK(cJSON_IsObject(r->labels));
	FUZZ_CHECK(cJSON_GetArraySize(r->labels) <= SPEC_LABELS_MAX);
}

/* Validate doc; on success check it and its round trip. */
static void
check_spec_doc(const cJSON *doc, int64_t max_duration)
{
	struct fault_req a, b;
	struct errbuf eb = { "" };
	cJSON *j, *again;
	char *text;
	size_t i, n;
	int r;

	r = spec_validate(doc, max_duration, &a, &eb);
	FUZZ_CHECK(r == 0 || r == CE_INVALID || r == CE_NOT_FOUND || r == CE_NOMEM);
	if (r != 0) {
		FUZZ_CHECK(eb.msg[0] != '\0' || r == CE_NOMEM);
		return;
	}
	check_req(&a, max_duration);
	j = fault_req_to_json(&a);
	FUZZ_CHECK(j != NULL);
	text = cJSON_PrintUnformatted(j);
	FUZZ_CHECK(text != NULL);
	again = cJSON_Parse(text);
	FUZZ_CHECK(again != NULL);
	r = spec_validate(again, max_duration, &b, &eb);
	if (r != 0)
		fprintf(stderr, "round trip refused: %s\n%s\n", eb.msg, text);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(a.spec == b.spec);
	FUZZ_CHECK(a.duration == b.duration);
	n = spec_nparams(a.spec);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(a.values[i].i == b.values[i].i);
		FUZZ_CHECK(strcmp(a.values[i].s, b.values[i].s) == 0);
	}
	FUZZ_CHECK(strcmp(a.client_id, b.client_id) == 0);
	FUZZ_CHECK(cJSON_Compare(a.target, b.target, 1));
	FUZZ_CHECK(cJSON_Compare(a.labels, b.labels, 1));
	fault_req_release(&b);
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(j);
	fault_req_release(&a);
}

#endif
