/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_state.c: the state file of agent/state.c: what it keeps of each
 * fault that may still act, reading it back, an unreadable file kept
 * aside, and --revert-all, which never drops a record whose revert
 * failed. Backends are the fakes of tests/unit/fake_ops.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fake_ops.h"
#include "../../agent/life.h"
#include "../../agent/registry.h"
#include "../../agent/state.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"

static char dir[64], path[128], bad[160];

static int
setup(void **state)
{
	(void)state;
	fake_ops_reset();
	(void)snprintf(dir, sizeof(dir), "/tmp/test_state.XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/state.json", dir);
	(void)snprintf(bad, sizeof(bad), "%s/state.json.corrupt", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	(void)unlink(bad);
	(void)rmdir(dir);
	return 0;
}

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	(void)fputs(text, f);
	(void)fclose(f);
}

static struct fault *
add(struct registry *reg, const char *json, enum fault_state st)
{
	cJSON *doc = cJSON_Parse(json);
	struct errbuf eb = { "" };
	struct fault_req req;
	struct fault *f;
	bool full;

	assert_int_equal(spec_validate(doc, 3600, &req, &eb), 0);
	cJSON_Delete(doc);
	assert_non_null(f = registry_create(reg, &req, &full));
	f->ops = fault_ops_find(f->req.spec->name);
	assert_int_equal(f->ops->prepare(f, &eb), 0);
	f->state = st;
	f->created_ms = 1000;
	f->expires_ms = 61000;
	(void)str_copy(f->remote, sizeof(f->remote), "10.1.2.3");
	(void)str_copy(f->life->key_id, sizeof(f->life->key_id), "ops1");
	return f;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void
t_save_keeps_what_may_still_act_and_reads_back(void **state)
{
	struct registry *reg = registry_new(8, 8);
	struct errbuf eb = { "" };
	struct fault *a, *b, *c;
	cJSON *keep = cJSON_Parse("[{\"id\":\"f-00000000000000ff\",\"type\":\"later\"}]");
	cJSON *faults = NULL, *e;

	(void)state;
	a = add(reg, "{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":30}}",
	    FAULT_ACTIVE);
	b = add(reg, "{\"type\":\"burn-cpu\",\"duration\":60}", FAULT_REVERT_FAILED);
	b->life->end_state = FAULT_EXPIRED;
	(void)str_copy(b->life->end_why, sizeof(b->life->end_why), "deadline");
	(void)str_copy(b->error, sizeof(b->error), "revert failed (attempt 1): boom");
	b->life->revert_attempts = 1;
	c = add(reg, "{\"type\":\"burn-cpu\",\"duration\":60}", FAULT_EXPIRED);
	assert_int_equal(state_save(dir, reg, keep, &eb), 0);
	assert_int_equal(state_load(dir, &faults, &eb), 0);
	/* The ended fault is not there; the one this build cannot handle is kept. */
	assert_int_equal(cJSON_GetArraySize(faults), 3);
	e = cJSON_GetArrayItem(faults, 0);
	assert_string_equal(jstr(e, "id"), a->id);
	assert_string_equal(jstr(e, "state"), "active");
	assert_string_equal(jstr(e, "key_id"), "ops1");
	assert_string_equal(jstr(e, "remote"), "10.1.2.3");
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(e, "record"), "fake"), a->id);
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "request"),
	    "params"), "load")), 30);
	e = cJSON_GetArrayItem(faults, 1);
	assert_string_equal(jstr(e, "id"), b->id);
	assert_string_equal(jstr(e, "state"), "revert_failed");
	assert_string_equal(jstr(e, "end_state"), "expired");
	assert_string_equal(jstr(e, "end_reason"), "deadline");
	assert_non_null(strstr(jstr(e, "error"), "boom"));
	assert_string_equal(jstr(cJSON_GetArrayItem(faults, 2), "type"), "later");
	(void)c;
	cJSON_Delete(faults);
	cJSON_Delete(keep);
	registry_free(reg);
}

static void
t_missing_is_empty_and_unreadable_is_kept_aside(void **state)
{
	struct errbuf eb = { "" };
	cJSON *faults = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(state_load(dir, &faults, &eb), 0);
	assert_int_equal(cJSON_GetArraySize(faults), 0);
	cJSON_Delete(faults);
	write_file("{\"version\":1,\"faults\":[]} trailing");
	assert_int_equal(state_load(dir, &faults, &eb), CE_INVALID);
	assert_null(faults);
	assert_non_null(strstr(eb.msg, "state.json.corrupt"));
	assert_int_equal(stat(bad, &st), 0);
	assert_int_equal(stat(path, &st), -1);
	/* A FIFO in its place is refused without blocking, and kept aside too. */
	(void)unlink(bad);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(state_load(dir, &faults, &eb), CE_INVALID);
	assert_int_equal(stat(bad, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void
t_parse_is_strict(void **state)
{
	static const char *const bad_texts[] = {
		"", "null", "[]", "{}", "{\"faults\":{}}", "{\"faults\":[]}{}",
		"{\"faults\":[{\"id\":\"a\\u0000b\"}]}", "{\"faults\":[\"\xff\"]}",
	};
	cJSON *faults;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		assert_int_equal(state_parse(bad_texts[i], strlen(bad_texts[i]), &faults),
		    CE_INVALID);
		assert_null(faults);
	}
	assert_int_equal(state_parse("{\"version\":1,\"faults\":[1,{}]}", 29, &faults), 0);
	assert_int_equal(cJSON_GetArraySize(faults), 2);
	cJSON_Delete(faults);
}

static void
t_revert_all_keeps_what_failed(void **state)
{
	struct errbuf eb = { "" };
	cJSON *faults = NULL;
	int done, left;

	(void)state;
	write_file("{\"version\":1,\"faults\":["
	    "{\"id\":\"f-0000000000000001\",\"type\":\"burn-cpu\",\"record\":{}},"
	    "{\"id\":\"f-0000000000000002\",\"type\":\"latency\",\"record\":{}},"
	    "{\"id\":\"f-0000000000000003\",\"type\":\"no-such\",\"record\":{}}]}");
	fake_calls.revert_rc = CE_SYSTEM;
	assert_int_equal(state_revert_all(dir, &done, &left, &eb), 0);
	assert_int_equal(done, 0);
	assert_int_equal(left, 3);
	assert_int_equal(fake_calls.revert, 2);
	assert_int_equal(state_load(dir, &faults, &eb), 0);
	assert_int_equal(cJSON_GetArraySize(faults), 3);
	assert_string_equal(jstr(cJSON_GetArrayItem(faults, 0), "state"), "revert_failed");
	assert_string_equal(jstr(cJSON_GetArrayItem(faults, 0), "error"), "fake revert failed");
	cJSON_Delete(faults);
	/* Once the reverts work, only the unknown type stays. */
	fake_calls.revert_rc = 0;
	assert_int_equal(state_revert_all(dir, &done, &left, &eb), 0);
	assert_int_equal(done, 2);
	assert_int_equal(left, 1);
	assert_int_equal(state_load(dir, &faults, &eb), 0);
	assert_int_equal(cJSON_GetArraySize(faults), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(faults, 0), "type"), "no-such");
	cJSON_Delete(faults);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_save_keeps_what_may_still_act_and_reads_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_missing_is_empty_and_unreadable_is_kept_aside,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_parse_is_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(t_revert_all_keeps_what_failed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
