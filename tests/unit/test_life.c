/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_life.c: the fault life cycle of agent/life.c with a fake burn-cpu
 * backend (tests/unit/fake_ops.c) and a fake job runner: start, the dry
 * run, deadlines, reverts that fail and are retried, the kill switch,
 * crash recovery, and what each step writes to the state file and
 * answers. The answers are captured where the event loop would send them
 * to the worker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fake_ops.h"
#include "../../agent/answer.h"
#include "../../agent/config.h"
#include "../../agent/job.h"
#include "../../agent/life.h"
#include "../../agent/registry.h"
#include "../../agent/state.h"
#include "../../common/err.h"
#include "../../common/spec.h"
#include "../../common/util.h"
#include "../../faults/docker/docker.h"

/* ---- fakes of what the life cycle calls outside its module */

int
job_start(const char *what, job_fn fn, void *arg, int64_t timeout_ms, job_done done,
    void *ctx, struct errbuf *eb)
{
	/* Container targets are not used here: refuse like a full job table. */
	(void)what;
	(void)fn;
	(void)arg;
	(void)timeout_ms;
	(void)done;
	(void)ctx;
	return err_set(eb, CE_BUSY, "no jobs in this test");
}

int
docker_resolve_job(void *arg, cJSON **out, struct errbuf *eb)
{
	(void)arg;
	(void)out;
	return err_set(eb, CE_UNAVAILABLE, "no Docker in this test");
}

void
docker_remember_version(const char *v)
{
	(void)v;
}

void
docker_forget_version(void)
{
}

/* ---- the answers, as the worker would get them */

static struct {
	int n;
	int status;
	char body[4096];
} sent;

static void
capture(uint32_t seq, unsigned gen, struct reply *rp)
{
	(void)seq;
	(void)gen;
	sent.n++;
	sent.status = rp->status;
	(void)snprintf(sent.body, sizeof(sent.body), "%s", rp->body != NULL ? rp->body : "");
}

static int rearms;

static void
rearm(void)
{
	rearms++;
}

static struct config cfg;
static struct registry *reg;
static char dir[64];

static int
setup(void **state)
{
	(void)state;
	fake_ops_reset();
	memset(&sent, 0, sizeof(sent));
	config_defaults(&cfg);
	(void)snprintf(dir, sizeof(dir), "/tmp/test_life.XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)str_copy(cfg.state_dir, sizeof(cfg.state_dir), dir);
	assert_non_null(reg = registry_new(4, 8));
	answer_set_sender(capture);
	life_init(&cfg, reg, rearm);
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	life_release();
	registry_free(reg);
	(void)snprintf(path, sizeof(path), "%s/state.json", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return 0;
}

/* The state file's entries (caller frees). */
static cJSON *
state_entries(void)
{
	struct errbuf eb = { "" };
	cJSON *faults = NULL;

	assert_int_equal(state_load(dir, &faults, &eb), 0);
	return faults;
}

static struct call
a_call(void)
{
	struct call c;

	memset(&c, 0, sizeof(c));
	c.remote = "10.0.0.9";
	c.key_id = "ops1";
	c.seq = 7;
	return c;
}

/* Create and start a burn-cpu fault as the API does. */
static struct fault *
start(const char *json)
{
	cJSON *doc = cJSON_Parse(json);
	struct call c = a_call();
	struct errbuf eb = { "" };
	struct fault_req req;
	struct fault *f;
	bool full;

	assert_non_null(doc);
	assert_int_equal(spec_validate(doc, 3600, &req, &eb), 0);
	cJSON_Delete(doc);
	assert_non_null(f = registry_create(reg, &req, &full));
	f->ops = fault_ops_find(f->req.spec->name);
	f->created_ms = wall_ms();
	f->expires_ms = f->created_ms + f->req.duration * 1000;
	f->deadline_mono = mono_ms() + f->req.duration * 1000;
	(void)str_copy(f->remote, sizeof(f->remote), c.remote);
	(void)str_copy(f->life->key_id, sizeof(f->life->key_id), c.key_id);
	life_start(f, pending_new(&c, f->id));
	return registry_find(reg, f->id) != NULL ? f : NULL;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void
t_start_records_then_commits_and_answers(void **state)
{
	struct fault *f;
	cJSON *st;

	(void)state;
	f = start("{\"type\":\"burn-cpu\",\"duration\":60}");
	assert_non_null(f);
	assert_int_equal(f->state, FAULT_ACTIVE);
	assert_int_equal(fake_calls.prepare, 1);
	assert_int_equal(fake_calls.commit, 1);
	assert_int_equal(sent.n, 1);
	assert_int_equal(sent.status, 201);
	assert_non_null(strstr(sent.body, f->id));
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "id"), f->id);
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "key_id"), "ops1");
	cJSON_Delete(st);
	/* The deadline reverts it and empties the state file. */
	assert_true(life_next_due() == f->deadline_mono);
	life_expire(f->deadline_mono);
	assert_int_equal(f->state, FAULT_EXPIRED);
	assert_string_equal(f->end_reason, "deadline");
	assert_int_equal(fake_calls.revert, 1);
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 0);
	cJSON_Delete(st);
	assert_true(life_next_due() < 0);
}

static void
t_dry_run_prepares_answers_and_forgets(void **state)
{
	struct fault *f;
	cJSON *st;

	(void)state;
	f = start("{\"type\":\"burn-cpu\",\"duration\":60,\"dry_run\":true}");
	assert_null(f);				/* gone from the registry */
	assert_int_equal(fake_calls.prepare, 1);
	assert_int_equal(fake_calls.commit, 0);
	assert_int_equal(fake_calls.release_priv, 1);	/* prepare's work undone */
	assert_int_equal(sent.status, 200);
	assert_non_null(strstr(sent.body, "\"dry_run\":true"));
	assert_non_null(strstr(sent.body, "fake_of"));	/* the backend described it */
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 0);
	cJSON_Delete(st);
}

static void
t_prepare_failure_is_answered_and_nothing_is_left(void **state)
{
	(void)state;
	fake_calls.prepare_rc = CE_CONFLICT;
	assert_null(start("{\"type\":\"burn-cpu\",\"duration\":60}"));
	assert_int_equal(sent.status, 409);
	assert_non_null(strstr(sent.body, "fake prepare failed"));
	assert_int_equal(fake_calls.commit, 0);
}

static void
t_failed_revert_is_kept_and_retried(void **state)
{
	struct fault *f = start("{\"type\":\"burn-cpu\",\"duration\":60}");
	struct pending *pd;
	struct call c = a_call();
	int64_t t;
	cJSON *st;

	(void)state;
	assert_non_null(f);
	fake_calls.revert_rc = CE_SYSTEM;
	/* Due now (the clock of retries is the real one). */
	f->deadline_mono = mono_ms();
	life_expire(mono_ms());
	assert_int_equal(f->state, FAULT_REVERT_FAILED);
	assert_int_equal(f->life->revert_attempts, 1);
	assert_non_null(strstr(f->error, "fake revert failed"));
	/* Still in the state file, with what it was meant to end as. */
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "state"), "revert_failed");
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "end_state"), "expired");
	cJSON_Delete(st);
	/* Retried with backoff: 1 s, then 2 s. */
	t = life_next_due();
	assert_true(t > mono_ms() + 500 && t <= mono_ms() + 1000);
	usleep((useconds_t)(t - mono_ms() + 5) * 1000);
	life_expire(mono_ms());
	assert_int_equal(fake_calls.revert, 2);
	assert_int_equal(f->life->revert_attempts, 2);
	assert_true(life_next_due() > mono_ms() + 1500);
	/* A DELETE tries now and answers 500 while it fails ... */
	sent.n = 0;
	pd = pending_new(&c, f->id);
	life_revert(f, &c, pd);
	pending_free(pd);
	assert_int_equal(sent.n, 1);
	assert_int_equal(sent.status, 500);
	assert_non_null(strstr(sent.body, "fake revert failed"));
	/* ... and once the revert works the fault ends as it was meant to. */
	fake_calls.revert_rc = 0;
	f->life->retry_mono = mono_ms();
	life_expire(mono_ms());
	assert_int_equal(f->state, FAULT_EXPIRED);
	assert_string_equal(f->end_reason, "deadline");
	assert_int_equal(f->error[0], '\0');
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 0);
	cJSON_Delete(st);
}

static void
t_kill_switch_reports_what_it_could_not_revert(void **state)
{
	struct fault *a = start("{\"type\":\"burn-cpu\",\"duration\":60}");
	struct fault *b = start("{\"type\":\"burn-cpu\",\"duration\":60}");
	struct call c = a_call();

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	fake_calls.revert_rc = CE_SYSTEM;
	sent.n = 0;
	life_revert_all(&c);
	assert_int_equal(sent.n, 1);
	assert_int_equal(sent.status, 500);
	assert_non_null(strstr(sent.body, "\"failed\""));
	assert_non_null(strstr(sent.body, a->id));
	assert_non_null(strstr(sent.body, b->id));
	assert_int_equal(a->state, FAULT_REVERT_FAILED);
	fake_calls.revert_rc = 0;
	sent.n = 0;
	life_revert_all(&c);
	assert_int_equal(sent.status, 200);
	assert_null(strstr(sent.body, "\"failed\""));
	assert_int_equal(a->state, FAULT_REVERTED);
	assert_string_equal(a->end_reason, "delete_all");
}

static void
t_recovery_keeps_history_and_retries_failures(void **state)
{
	cJSON *left = cJSON_Parse("["
	    "{\"id\":\"f-00000000000000a1\",\"type\":\"burn-cpu\",\"record\":{\"x\":1},"
	    " \"request\":{\"type\":\"burn-cpu\",\"duration\":30,\"params\":{\"load\":20}}},"
	    "{\"id\":\"f-00000000000000a2\",\"type\":\"burn-cpu\",\"record\":{\"x\":2}},"
	    "{\"id\":\"f-00000000000000a3\",\"type\":\"no-such-fault\",\"record\":{}}]");
	struct fault *f;
	cJSON *st;

	(void)state;
	assert_non_null(left);
	life_recover(left);
	cJSON_Delete(left);
	assert_int_equal(fake_calls.revert, 2);
	f = registry_find(reg, "f-00000000000000a1");
	assert_non_null(f);
	assert_int_equal(f->state, FAULT_REVERTED);
	assert_string_equal(f->end_reason, "reverted_at_startup");
	assert_int_equal(fault_req_get(&f->req, "load")->i, 20);
	/* Without its request (an older file) it is rebuilt with defaults. */
	f = registry_find(reg, "f-00000000000000a2");
	assert_non_null(f);
	assert_int_equal(f->state, FAULT_REVERTED);
	/* An unknown type is kept for a later build, not dropped. */
	assert_null(registry_find(reg, "f-00000000000000a3"));
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "type"), "no-such-fault");
	cJSON_Delete(st);
}

static void
t_recovery_failure_stays_in_the_state_file(void **state)
{
	cJSON *left = cJSON_Parse("[{\"id\":\"f-00000000000000b1\",\"type\":\"burn-cpu\","
	    "\"record\":{\"x\":1}}]");
	struct fault *f;
	cJSON *st;

	(void)state;
	fake_calls.revert_rc = CE_SYSTEM;
	life_recover(left);
	cJSON_Delete(left);
	f = registry_find(reg, "f-00000000000000b1");
	assert_non_null(f);
	assert_int_equal(f->state, FAULT_REVERT_FAILED);
	st = state_entries();
	assert_int_equal(cJSON_GetArraySize(st), 1);
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "state"), "revert_failed");
	assert_string_equal(jstr(cJSON_GetArrayItem(st, 0), "end_reason"),
	    "reverted_at_startup");
	cJSON_Delete(st);
	fake_calls.revert_rc = 0;
	f->life->retry_mono = mono_ms();
	life_expire(mono_ms());
	assert_int_equal(f->state, FAULT_REVERTED);
	assert_string_equal(f->end_reason, "reverted_at_startup");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_start_records_then_commits_and_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_dry_run_prepares_answers_and_forgets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_prepare_failure_is_answered_and_nothing_is_left,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_failed_revert_is_kept_and_retried,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_kill_switch_reports_what_it_could_not_revert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_recovery_keeps_history_and_retries_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(t_recovery_failure_stays_in_the_state_file,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
