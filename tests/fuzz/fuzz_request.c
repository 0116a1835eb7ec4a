/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_request.c: what the worker does with an untrusted request before
 * and after authentication, short of the socket: route the method and
 * path (agent/route.c), canonicalize the query and apply the state filter
 * rule, parse and verify the Authorization header (common/sign.c), and
 * validate the JSON body (common/jsoncheck.c, then common/spec.c). The
 * input is
 *
 *   METHOD \n PATH[?QUERY] \n AUTHORIZATION \n BODY
 *
 * with missing parts empty.
 */
#include <cjson/cJSON.h>

#include "check_sign.h"
#include "check_spec.h"
#include "../../agent/route.h"
#include "../../common/jsoncheck.h"

#define QUERY_PARAMS_MAX 8	/* as in agent/worker.c */

/* Cut s at the first '\n'; return what follows (NULL when none). */
static char *
cut_line(char *s)
{
	char *nl = s != NULL ? strchr(s, '\n') : NULL;

	if (nl == NULL)
		return NULL;
	*nl = '\0';
	return nl + 1;
}

static void
check_route(const char *method, const char *path, struct route *r)
{
	const char *allow = NULL;
	int rc = route_match(method, path, r, &allow);

	FUZZ_CHECK(rc == 0 || rc == CE_NOT_FOUND || rc == CE_METHOD);
	if (rc == 0) {
		const struct route *byname = route_by_name(r->name);

		FUZZ_CHECK(byname != NULL && byname->id == r->id);
		FUZZ_CHECK(r->fault_id[0] == '\0' || route_fault_id_ok(r->fault_id));
		FUZZ_CHECK((r->id == R_FAULT_GET || r->id == R_FAULT_REVERT) ==
		    (r->fault_id[0] != '\0'));
		FUZZ_CHECK(allow == NULL);
	} else if (rc == CE_METHOD) {
		const char *a;

		/* The path exists with other methods, never with this one. */
		FUZZ_CHECK(allow != NULL && strncmp(allow, "GET", 3) == 0);
		for (a = allow; *a != '\0';) {
			size_t len = strcspn(a, ",");

			FUZZ_CHECK(strlen(method) != len || strncmp(a, method, len) != 0);
			a += len;
			while (*a == ',' || *a == ' ')
				a++;
		}
		r->id = (enum route_id)-1;
	} else {
		FUZZ_CHECK(allow == NULL);
		r->id = (enum route_id)-1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *path, *header, *body, *query, empty[1] = "";
	struct sign_param params[QUERY_PARAMS_MAX];
	char canon[SIGN_QUERY_MAX + 1] = "";
	struct route r;
	size_t n = 0, i, bodylen;
	const char *method = text;

	/* Split the input; the body keeps any NUL bytes of the input. */
	path = cut_line(text);
	header = cut_line(path);
	body = cut_line(header);
	bodylen = body != NULL ? size - (size_t)(body - text) : 0;
	if (path == NULL)
		path = empty;
	if (header == NULL)
		header = empty;

	memset(&r, 0, sizeof(r));
	if ((query = strchr(path, '?')) != NULL)
		*query++ = '\0';
	check_route(method, path, &r);

	/* Query "a=b&c" as libmicrohttpd hands it over: key, value or "". */
	while (query != NULL && n < QUERY_PARAMS_MAX) {
		char *amp = strchr(query, '&'), *eq;

		if (amp != NULL)
			*amp = '\0';
		params[n].key = query;
		params[n].value = "";
		if ((eq = strchr(query, '=')) != NULL) {
			*eq = '\0';
			params[n].value = eq + 1;
		}
		n++;
		query = amp != NULL ? amp + 1 : NULL;
	}
	check_canonical_query(params, n);
	if (sign_canonical_query(params, n, canon, sizeof(canon)) != 0)
		canon[0] = '\0';
	/* Only GET /v1/faults takes a parameter: state=<a state name>. */
	for (i = 0; i < n; i++) {
		int s = fault_state_parse(params[i].value);

		if (s >= 0)
			FUZZ_CHECK(strcmp(fault_state_name((enum fault_state)s),
			    params[i].value) == 0);
	}

	check_auth_header(header, method, path, canon, body, bodylen);

	/* As the worker: the strict gate first, then cJSON, then the spec. */
	if (body != NULL && jsoncheck(body, bodylen, NULL) == 0) {
		cJSON *doc = cJSON_ParseWithLength(body, bodylen);

		FUZZ_CHECK(doc != NULL);
		check_spec_doc(doc, 3600);
		cJSON_Delete(doc);
	}
	free(text);
	return 0;
}
