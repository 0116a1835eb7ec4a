/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_route.c: the API routing table of agent/route.c: every endpoint of
 * docs/protocol.md, fault id syntax, 404 for unknown paths, 405 with the
 * Allow list for known paths, and odd or hostile paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/route.h"
#include "../../common/err.h"
#include "../../common/util.h"

#define FID "f-0123456789abcdef"

static void
t_every_endpoint_maps_to_its_route(void **state)
{
	static const struct {
		const char *method, *path;
		enum route_id id;
		const char *name;
		bool auth, mutating, takes_body;
	} cases[] = {
		{ "GET", "/v1/health", R_HEALTH, "health", false, false, false },
		{ "GET", "/v1/info", R_INFO, "info", true, false, false },
		{ "GET", "/v1/faults", R_FAULTS_LIST, "faults_list", true, false, false },
		{ "POST", "/v1/faults", R_FAULT_CREATE, "fault_create", true, true, true },
		{ "DELETE", "/v1/faults", R_FAULTS_REVERT_ALL, "faults_revert_all", true, true,
		  false },
		{ "GET", "/v1/faults/" FID, R_FAULT_GET, "fault_get", true, false, false },
		{ "DELETE", "/v1/faults/" FID, R_FAULT_REVERT, "fault_revert", true, true,
		  false },
		{ "GET", "/v1/targets", R_TARGETS, "targets", true, false, false },
		{ "GET", "/metrics", R_METRICS, "metrics", true, false, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct route r;
		const char *allow = "untouched";

		memset(&r, 0x5a, sizeof(r));
		if (route_match(cases[i].method, cases[i].path, &r, &allow) != 0)
			fail_msg("%s %s did not match", cases[i].method, cases[i].path);
		assert_int_equal(r.id, cases[i].id);
		assert_string_equal(r.name, cases[i].name);
		assert_int_equal(r.auth, cases[i].auth);
		assert_int_equal(r.mutating, cases[i].mutating);
		assert_int_equal(r.takes_body, cases[i].takes_body);
		if (cases[i].id == R_FAULT_GET || cases[i].id == R_FAULT_REVERT)
			assert_string_equal(r.fault_id, FID);
		else
			assert_string_equal(r.fault_id, "");
		assert_string_equal(allow, "untouched");
		/* The parent finds the same route by its IPC name. */
		assert_non_null(route_by_name(cases[i].name));
		assert_int_equal(route_by_name(cases[i].name)->id, cases[i].id);
	}
	assert_null(route_by_name("nope"));
	assert_null(route_by_name(""));
	assert_null(route_by_name("Health"));
}

static void
t_fault_id_syntax(void **state)
{
	static const char *const bad[] = {
		"", "f-", "f-0123456789abcde", "f-0123456789abcdef0", "F-0123456789abcdef",
		"f_0123456789abcdef", "g-0123456789abcdef", "f-0123456789ABCDEF",
		"f-0123456789abcdeg", "f-0123456789abcde ", " f-0123456789abcde",
		"f-01234567", "ff0123456789abcdef", "f--123456789abcdef",
		"f-0123456789abcd\xc3\xa9",
	};
	size_t i;

	(void)state;
	assert_true(route_fault_id_ok(FID));
	assert_true(route_fault_id_ok("f-ffffffffffffffff"));
	assert_true(route_fault_id_ok("f-0000000000000000"));
	for (i = 0; i < NELEM(bad); i++)
		if (route_fault_id_ok(bad[i]))
			fail_msg("accepted fault id '%s'", bad[i]);
}

static void
t_bad_fault_ids_are_not_found(void **state)
{
	static const char *const paths[] = {
		"/v1/faults/f-0123", "/v1/faults/F-0123456789ABCDEF",
		"/v1/faults/f-0123456789abcdef0", "/v1/faults/..", "/v1/faults/%2e%2e",
		"/v1/faults/info",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(paths); i++) {
		struct route r, before;
		const char *allow = NULL;

		memset(&r, 0x33, sizeof(r));
		before = r;
		if (route_match("GET", paths[i], &r, &allow) != CE_NOT_FOUND)
			fail_msg("GET %s is not 404", paths[i]);
		/* Not 405 either, whatever the method. */
		assert_int_equal(route_match("POST", paths[i], &r, &allow), CE_NOT_FOUND);
		assert_int_equal(route_match("DELETE", paths[i], &r, &allow), CE_NOT_FOUND);
		assert_null(allow);
		assert_memory_equal(&r, &before, sizeof(r));
	}
}

static void
t_unknown_paths_are_404(void **state)
{
	static const char *const paths[] = {
		"", "/", "v1/health", "/v1", "/v1/", "/v2/health", "/v1/health/",
		"/v1/health//", "//v1/health", "/v1//health", "/v1/HEALTH", "/V1/health",
		"/v1/faults/", "/v1/faults//", "/v1//faults", "//v1/faults",
		"/v1/faults/" FID "/", "/v1/faults/" FID "/x", "/v1/faults//" FID,
		"/v1/faults/" FID "//", "/v1/faults/./" FID, "/v1/info/../faults",
		"/metrics/", "/v1/metrics", "/v1/targets/x", "/v1/health?x=1",
		"/v1/faults?state=active", "/v1/health\n", "/v1/health ",
		"/v1/health\xff",
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(paths); i++) {
		struct route r;
		const char *allow = NULL;

		if (route_match("GET", paths[i], &r, &allow) != CE_NOT_FOUND)
			fail_msg("GET '%s' is not 404", paths[i]);
		assert_null(allow);
	}
}

static void
t_overlong_paths_are_404(void **state)
{
	static char path[70000];
	struct route r;

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memcpy(path, "/v1/faults/f-", 13);
	assert_int_equal(route_match("GET", path, &r, NULL), CE_NOT_FOUND);
	assert_int_equal(route_match("DELETE", path, &r, NULL), CE_NOT_FOUND);
	memcpy(path, "/v1/health/", 11);
	assert_int_equal(route_match("GET", path, &r, NULL), CE_NOT_FOUND);
	/* A fault id followed by padding is not a fault id. */
	memcpy(path, "/v1/faults/" FID, 29);
	assert_int_equal(route_match("GET", path, &r, NULL), CE_NOT_FOUND);
	path[29] = '\0';
	assert_int_equal(route_match("GET", path, &r, NULL), 0);
	assert_string_equal(r.fault_id, FID);
}

static void
t_known_path_other_method_is_405(void **state)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "POST", "/v1/health", "GET" },
		{ "DELETE", "/v1/health", "GET" },
		{ "HEAD", "/v1/health", "GET" },
		{ "get", "/v1/health", "GET" },
		{ "POST", "/v1/info", "GET" },
		{ "PUT", "/v1/faults", "GET, POST, DELETE" },
		{ "PATCH", "/v1/faults", "GET, POST, DELETE" },
		{ "post", "/v1/faults", "GET, POST, DELETE" },
		{ "POST", "/v1/faults/" FID, "GET, DELETE" },
		{ "PUT", "/v1/faults/" FID, "GET, DELETE" },
		{ "DELETE", "/v1/targets", "GET" },
		{ "POST", "/metrics", "GET" },
		{ "", "/metrics", "GET" },
		{ "GETX", "/v1/info", "GET" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct route r, before;
		const char *allow = NULL;

		memset(&r, 0x11, sizeof(r));
		before = r;
		if (route_match(cases[i].method, cases[i].path, &r, &allow) != CE_METHOD)
			fail_msg("%s %s is not 405", cases[i].method, cases[i].path);
		assert_non_null(allow);
		assert_string_equal(allow, cases[i].allow);
		assert_memory_equal(&r, &before, sizeof(r));
		/* allow may be NULL when the caller does not need it. */
		assert_int_equal(route_match(cases[i].method, cases[i].path, &r, NULL),
		    CE_METHOD);
	}
}

/* Every method the Allow header lists is in fact accepted on that path. */
static void
t_allow_lists_are_truthful(void **state)
{
	static const char *const paths[] = {
		"/v1/health", "/v1/info", "/v1/faults", ("/v1/faults/" FID), "/v1/targets",
		"/metrics",
	};
	static const char *const methods[] = { "GET", "POST", "DELETE", "PUT" };
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(paths); i++) {
		struct route r;
		const char *allow = NULL;

		assert_int_equal(route_match("PUT", paths[i], &r, &allow), CE_METHOD);
		for (j = 0; j < NELEM(methods); j++) {
			bool listed = strstr(allow, methods[j]) != NULL;
			int rc = route_match(methods[j], paths[i], &r, NULL);

			if (listed != (rc == 0))
				fail_msg("%s %s: listed=%d but route_match=%d", methods[j],
				    paths[i], listed, rc);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_every_endpoint_maps_to_its_route),
		cmocka_unit_test(t_fault_id_syntax),
		cmocka_unit_test(t_bad_fault_ids_are_not_found),
		cmocka_unit_test(t_unknown_paths_are_404),
		cmocka_unit_test(t_overlong_paths_are_404),
		cmocka_unit_test(t_known_path_other_method_is_405),
		cmocka_unit_test(t_allow_lists_are_truthful),
	};

	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
