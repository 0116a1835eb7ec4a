/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_registry.c: the bounded fault registry of agent/registry.c, driven
 * the way the privileged parent drives it, with a fake burn-cpu backend
 * (tests/unit/fake_ops.c): create, find, list, finish, discard, the
 * max_active and history bounds, deadlines and the API representation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fake_ops.h"
#include "../../agent/registry.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"
#include "../../faults/fault.h"

#define REQ_JSON "{\"type\":\"burn-cpu\",\"duration\":60,\"params\":{\"load\":40}}"

static int
reset(void **state)
{
	(void)state;
	fake_ops_reset();
	return 0;
}

static void
make_req(const char *json, struct fault_req *req)
{
	cJSON *doc = cJSON_Parse(json);
	struct errbuf eb = { "" };

	assert_non_null(doc);
	if (spec_validate(doc, 3600, req, &eb) != 0)
		fail_msg("%s: %s", json, eb.msg);
	cJSON_Delete(doc);
}

/* Create a fault as the parent does: validated request, backend, prepared. */
static struct fault *
start(struct registry *reg, const char *json, int64_t deadline_mono)
{
	struct fault_req req;
	struct errbuf eb = { "" };
	struct fault *f;
	bool full = true;

	make_req(json, &req);
	f = registry_create(reg, &req, &full);
	if (f == NULL) {
		fault_req_release(&req);
		return NULL;
	}
	assert_false(full);
	/* Ownership of target and labels moved into the fault. */
	assert_null(req.target);
	assert_null(req.labels);
	assert_int_equal(f->state, FAULT_PENDING);
	f->ops = fault_ops_find(f->req.spec->name);
	assert_ptr_equal(f->ops, &fault_cpu_ops);
	f->created_ms = wall_ms();
	f->expires_ms = f->created_ms + f->req.duration * 1000;
	f->deadline_mono = deadline_mono;
	assert_int_equal(f->ops->prepare(f, &eb), 0);
	assert_int_equal(f->ops->commit(f, &eb), 0);
	f->state = FAULT_ACTIVE;
	return f;
}

static bool
id_ok(const char *id)
{
	size_t i;

	if (strlen(id) != 18 || id[0] != 'f' || id[1] != '-')
		return false;
	for (i = 2; i < 18; i++)
		if (strchr("0123456789abcdef", id[i]) == NULL)
			return false;
	return true;
}

static void
t_create_find_list(void **state)
{
	struct registry *reg = registry_new(4, 8);
	struct fault *a, *b, **all;
	size_t n;

	(void)state;
	assert_non_null(reg);
	all = registry_all(reg, &n);
	assert_int_equal(n, 0);
	(void)all;
	assert_int_equal(registry_active(reg), 0);

	a = start(reg, REQ_JSON, 1000);
	b = start(reg, "{\"type\":\"burn-cpu\",\"duration\":5,\"client_id\":\"run-1\"}", 2000);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(id_ok(a->id));
	assert_true(id_ok(b->id));
	assert_string_not_equal(a->id, b->id);
	assert_int_equal(registry_active(reg), 2);
	assert_ptr_equal(registry_find(reg, a->id), a);
	assert_ptr_equal(registry_find(reg, b->id), b);
	assert_null(registry_find(reg, "f-0000000000000000"));
	assert_null(registry_find(reg, ""));
	assert_int_equal(a->req.duration, 60);
	assert_int_equal(fault_req_get(&a->req, "load")->i, 40);

	/* Oldest first. */
	all = registry_all(reg, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(all[0], a);
	assert_ptr_equal(all[1], b);

	/* Client ids name faults; the empty id names none. */
	assert_ptr_equal(registry_find_client(reg, "run-1"), b);
	assert_null(registry_find_client(reg, "run-2"));
	assert_null(registry_find_client(reg, ""));
	/* An ended fault still answers for its client id (idempotent POST). */
	registry_finish(reg, b, FAULT_EXPIRED, "deadline");
	assert_ptr_equal(registry_find_client(reg, "run-1"), b);

	registry_free(reg);
	assert_int_equal(fake_calls.release_priv, 2);
	registry_free(NULL);
}

static void
t_ids_are_unique(void **state)
{
	enum { N = 64 };
	struct registry *reg = registry_new(N, 0);
	struct fault **all;
	size_t n, i, j;

	(void)state;
	assert_non_null(reg);
	for (i = 0; i < N; i++)
		assert_non_null(start(reg, REQ_JSON, (int64_t)i));
	all = registry_all(reg, &n);
	assert_int_equal(n, N);
	for (i = 0; i < n; i++) {
		assert_true(id_ok(all[i]->id));
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(all[i]->id, all[j]->id);
	}
	registry_free(reg);
}

static void
t_max_active_is_enforced(void **state)
{
	struct registry *reg = registry_new(2, 4);
	struct fault_req req;
	struct fault *a, *b;
	bool full = false;

	(void)state;
	assert_non_null(reg);
	a = start(reg, REQ_JSON, 10);
	b = start(reg, REQ_JSON, 20);
	assert_non_null(a);
	assert_non_null(b);
	make_req(REQ_JSON, &req);
	assert_null(registry_create(reg, &req, &full));
	assert_true(full);
	/* Refused: the request still belongs to the caller. */
	assert_non_null(req.target);
	assert_int_equal(registry_active(reg), 2);
	/* A pending fault counts as well as an active one. */
	b->state = FAULT_PENDING;
	assert_null(registry_create(reg, &req, &full));
	assert_true(full);
	/* Ending one makes room. */
	registry_finish(reg, a, FAULT_EXPIRED, "deadline");
	assert_int_equal(registry_active(reg), 1);
	full = true;
	assert_non_null(registry_create(reg, &req, &full));
	assert_false(full);
	assert_int_equal(registry_active(reg), 2);
	registry_free(reg);
}

static void
t_state_transitions(void **state)
{
	static const struct {
		enum fault_state s;
		const char *reason;
	} ends[] = {
		{ FAULT_REVERTED, "delete" }, { FAULT_EXPIRED, "deadline" },
		{ FAULT_FAILED, "stressors_exited" },
	};
	struct registry *reg = registry_new(8, 8);
	struct fault *f[3];
	int64_t before = wall_ms();
	size_t i;

	(void)state;
	assert_non_null(reg);
	for (i = 0; i < NELEM(ends); i++) {
		f[i] = start(reg, REQ_JSON, 100 + (int64_t)i);
		assert_non_null(f[i]);
		assert_non_null(f[i]->priv);
	}
	for (i = 0; i < NELEM(ends); i++) {
		int releases = fake_calls.release_priv;

		registry_finish(reg, f[i], ends[i].s, ends[i].reason);
		assert_int_equal(f[i]->state, ends[i].s);
		assert_string_equal(f[i]->end_reason, ends[i].reason);
		assert_true(f[i]->ended_ms >= before && f[i]->ended_ms <= wall_ms());
		/* Backend data is released at once, the record is kept. */
		assert_null(f[i]->priv);
		assert_int_equal(fake_calls.release_priv, releases + 1);
		assert_non_null(f[i]->record);
		/* Still listed and findable. */
		assert_ptr_equal(registry_find(reg, f[i]->id), f[i]);
		assert_int_equal(registry_active(reg), NELEM(ends) - i - 1);
	}
	registry_free(reg);
	/* Freeing did not release twice what was released already. */
	assert_int_equal(fake_calls.release_priv, 3);
}

/*
 * The parent keeps using a fault right after ending it (metrics, audit,
 * the DELETE response), so registry_finish must not free it, even when
 * it is the oldest ended fault and history is full, or history is 0.
 */
static void
t_finished_fault_survives_finish(void **state)
{
	struct registry *reg = registry_new(4, 1);
	struct fault *a, *b, *c, **all;
	char aid[FAULT_ID_MAX];
	size_t n;

	(void)state;
	assert_non_null(reg);
	a = start(reg, REQ_JSON, 10);
	b = start(reg, REQ_JSON, 20);
	assert_non_null(a);
	assert_non_null(b);
	(void)str_copy(aid, sizeof(aid), a->id);
	registry_finish(reg, b, FAULT_REVERTED, "delete");
	/* a is the oldest; ending it pushes history over its bound of 1. */
	registry_finish(reg, a, FAULT_REVERTED, "delete_all");
	assert_int_equal(a->state, FAULT_REVERTED);
	assert_string_equal(a->end_reason, "delete_all");
	assert_ptr_equal(registry_find(reg, aid), a);
	/* The other, earlier-ended fault made room. */
	all = registry_all(reg, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(all[0], a);
	registry_free(reg);

	/* history = 0: the fault lives until the next change. */
	reg = registry_new(2, 0);
	assert_non_null(reg);
	a = start(reg, REQ_JSON, 10);
	assert_non_null(a);
	registry_finish(reg, a, FAULT_EXPIRED, "deadline");
	assert_int_equal(a->state, FAULT_EXPIRED);
	assert_string_equal(a->end_reason, "deadline");
	{
		cJSON *j = registry_fault_json(a);

		assert_non_null(j);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j,
		    "state")), "expired");
		cJSON_Delete(j);
	}
	c = start(reg, REQ_JSON, 20);
	assert_non_null(c);
	all = registry_all(reg, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(all[0], c);
	registry_free(reg);
}

static void
t_history_drops_oldest_ended_first(void **state)
{
	struct registry *reg = registry_new(8, 2);
	struct fault *f[5], **all;
	char ids[5][FAULT_ID_MAX];
	size_t i, n;

	(void)state;
	assert_non_null(reg);
	for (i = 0; i < 5; i++) {
		f[i] = start(reg, REQ_JSON, 100 + (int64_t)i);
		assert_non_null(f[i]);
		(void)str_copy(ids[i], sizeof(ids[i]), f[i]->id);
	}
	/* End 1, 2 and 3; 0 and 4 stay active. */
	registry_finish(reg, f[1], FAULT_EXPIRED, "deadline");
	registry_finish(reg, f[2], FAULT_EXPIRED, "deadline");
	registry_finish(reg, f[3], FAULT_REVERTED, "delete");
	assert_null(registry_find(reg, ids[1]));
	assert_non_null(registry_find(reg, ids[2]));
	assert_non_null(registry_find(reg, ids[3]));
	/* Active faults are never dropped, however old. */
	assert_ptr_equal(registry_find(reg, ids[0]), f[0]);
	assert_ptr_equal(registry_find(reg, ids[4]), f[4]);
	all = registry_all(reg, &n);
	assert_int_equal(n, 4);
	assert_ptr_equal(all[0], f[0]);
	assert_ptr_equal(all[1], f[2]);
	assert_ptr_equal(all[2], f[3]);
	assert_ptr_equal(all[3], f[4]);
	/* New faults push out more history. */
	for (i = 0; i < 4; i++)
		assert_non_null(start(reg, REQ_JSON, 1));
	all = registry_all(reg, &n);
	assert_int_equal(registry_active(reg), 6);
	assert_int_equal(n, 8);
	registry_free(reg);
}

static void
t_discard_removes_and_releases(void **state)
{
	struct registry *reg = registry_new(2, 2);
	struct fault_req req;
	struct fault *a, *b, **all;
	char aid[FAULT_ID_MAX];
	bool full;
	size_t n;

	(void)state;
	assert_non_null(reg);
	a = start(reg, REQ_JSON, 10);
	assert_non_null(a);
	(void)str_copy(aid, sizeof(aid), a->id);
	make_req(REQ_JSON, &req);
	b = registry_create(reg, &req, &full);
	assert_non_null(b);
	/* Never prepared: no backend, nothing to release but the request. */
	registry_discard(reg, b);
	all = registry_all(reg, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(all[0], a);
	registry_discard(reg, a);
	assert_int_equal(fake_calls.release_priv, 1);
	assert_null(registry_find(reg, aid));
	assert_int_equal(registry_active(reg), 0);
	all = registry_all(reg, &n);
	assert_int_equal(n, 0);
	registry_free(reg);
}

static void
t_next_deadline(void **state)
{
	struct registry *reg = registry_new(8, 8);
	struct fault *a, *b, *c;

	(void)state;
	assert_non_null(reg);
	assert_int_equal(registry_next_deadline(reg), -1);
	a = start(reg, REQ_JSON, 5000);
	b = start(reg, REQ_JSON, 3000);
	c = start(reg, REQ_JSON, 4000);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(registry_next_deadline(reg), 3000);
	registry_finish(reg, b, FAULT_REVERTED, "delete");
	assert_int_equal(registry_next_deadline(reg), 4000);
	/* A pending fault has no deadline yet. */
	c->state = FAULT_PENDING;
	assert_int_equal(registry_next_deadline(reg), 5000);
	c->state = FAULT_ACTIVE;
	registry_finish(reg, c, FAULT_EXPIRED, "deadline");
	registry_finish(reg, a, FAULT_FAILED, "stressors_exited");
	assert_int_equal(registry_next_deadline(reg), -1);
	registry_free(reg);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void
t_fault_json(void **state)
{
	struct registry *reg = registry_new(2, 2);
	struct fault *f;
	cJSON *j, *p;
	const char *s;

	(void)state;
	assert_non_null(reg);
	f = start(reg, "{\"type\":\"burn-cpu\",\"duration\":8,\"params\":{\"load\":60,"
	    "\"cores\":1},\"labels\":{\"experiment\":\"cpu-stress\"},"
	    "\"client_id\":\"run-42-burn\"}", mono_ms() + 8000);
	assert_non_null(f);
	f->created_ms = INT64_C(1764000000413);
	f->expires_ms = INT64_C(1764000008413);
	j = registry_fault_json(f);
	assert_non_null(j);
	assert_string_equal(jstr(j, "id"), f->id);
	assert_string_equal(jstr(j, "type"), "burn-cpu");
	assert_string_equal(jstr(j, "state"), "active");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "duration")->valuedouble, 8);
	p = cJSON_GetObjectItemCaseSensitive(j, "params");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "load")->valuedouble, 60);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "cores")->valuedouble, 1);
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "target"), "kind"), "host");
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "labels"), "experiment"),
	    "cpu-stress");
	assert_string_equal(jstr(j, "client_id"), "run-42-burn");
	assert_string_equal(jstr(j, "created_at"), "2025-11-24T16:00:00.413Z");
	assert_string_equal(jstr(j, "expires_at"), "2025-11-24T16:00:08.413Z");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "ended_at")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "end_reason")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error")));
	{
		double rem = cJSON_GetObjectItemCaseSensitive(j, "remaining_ms")->valuedouble;

		assert_true(rem > 6000 && rem <= 8000);
	}
	/* The backend's details, from its describe slot. */
	assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(j, "detail"), "fake_of"),
	    f->id);
	cJSON_Delete(j);

	(void)str_copy(f->error, sizeof(f->error), "stressors exited");
	registry_finish(reg, f, FAULT_FAILED, "stressors_exited");
	j = registry_fault_json(f);
	assert_non_null(j);
	assert_string_equal(jstr(j, "state"), "failed");
	s = jstr(j, "ended_at");
	assert_non_null(s);
	assert_int_equal(strlen(s), 24);
	assert_int_equal(s[23], 'Z');
	assert_string_equal(jstr(j, "end_reason"), "stressors_exited");
	assert_string_equal(jstr(j, "error"), "stressors exited");
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "remaining_ms"));
	cJSON_Delete(j);
	registry_free(reg);

	/* No client id: no client_id field; no record: an empty detail. */
	reg = registry_new(2, 2);
	assert_non_null(reg);
	{
		struct fault_req req;
		bool full;

		make_req(REQ_JSON, &req);
		f = registry_create(reg, &req, &full);
		assert_non_null(f);
	}
	j = registry_fault_json(f);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "client_id"));
	assert_string_equal(jstr(j, "state"), "pending");
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "detail")->child);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "remaining_ms")->valuedouble, 0);
	cJSON_Delete(j);
	registry_free(reg);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
	const struct CMUnitTest tests[] = {
		T(t_create_find_list),
		T(t_ids_are_unique),
		T(t_max_active_is_enforced),
		T(t_state_transitions),
		T(t_finished_fault_survives_finish),
		T(t_history_drops_oldest_ended_first),
		T(t_discard_removes_and_releases),
		T(t_next_deadline),
		T(t_fault_json),
	};
#undef T

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
