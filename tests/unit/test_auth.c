/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_auth.c: request verification in the worker (agent/auth.c): key
 * lookup, timestamp window and signature; then, as the agent runs them in
 * turn, the parent's bounded replay cache (agent/nonce.c) with its FIFO
 * expiry and its journal, which carries it across restarts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/auth.h"
#include "../../agent/nonce.h"
#include "../../common/err.h"
#include "../../common/sign.h"
#include "../../common/util.h"

#define NOW INT64_C(1764000000)
#define BODY "{\"type\":\"burn-cpu\",\"duration\":60}"

static struct sign_key keys[2];

/* The replay cache of the verifier made last (the parent's, in the agent). */
static struct nonce_cache *nc;

static struct auth *
new_auth(const struct sign_key *k, size_t n, int64_t window, size_t cache)
{
	nonce_free(nc);
	nc = nonce_new(cache, 2 * window);
	if (nc == NULL)
		return NULL;
	return auth_new(k, n, window);
}

static void
free_auth(struct auth *a)
{
	auth_free(a);
	nonce_free(nc);
	nc = NULL;
}

/* The worker's verification, then the parent's replay check. */
static enum auth_result
verify(struct auth *a, const char *h, const char *method, const char *path,
    const char *query, const char *body, size_t len, int64_t now, char *keyid)
{
	struct auth_pass who;
	enum auth_result r = auth_verify(a, h, method, path, query, body, len, now, &who);

	if (r != AUTH_OK)
		return r;
	switch (nonce_check(nc, who.nonce, now, false)) {
	case NONCE_OK:
		(void)str_copy(keyid, SIGN_KEYID_MAX + 1, who.keyid);
		return AUTH_OK;
	case NONCE_REPLAY:
		return AUTH_REPLAY;
	case NONCE_FULL:
		return AUTH_CACHE_FULL;
	default:
		return AUTH_MALFORMED;
	}
}

static int
keys_setup(void **state)
{
	size_t i;

	(void)state;
	memset(keys, 0, sizeof(keys));
	(void)str_copy(keys[0].id, sizeof(keys[0].id), "ops1");
	(void)str_copy(keys[1].id, sizeof(keys[1].id), "ops2");
	for (i = 0; i < 32; i++) {
		keys[0].key[i] = (unsigned char)i;
		keys[1].key[i] = (unsigned char)(0xa0 + i);
	}
	keys[0].len = 32;
	keys[1].len = 32;
	return 0;
}

/* A header for key k over the request, with a nonce derived from seed. */
static void
make_header(char *out, size_t len, const struct sign_key *k, int64_t ts, uint32_t seed,
    const char *method, const char *path, const char *query, const char *body)
{
	unsigned char nonce[SIGN_NONCE_LEN], mac[SIGN_MAC_LEN];
	char nhex[2 * SIGN_NONCE_LEN + 1], mhex[2 * SIGN_MAC_LEN + 1];
	size_t i;

	for (i = 0; i < SIGN_NONCE_LEN; i++)
		nonce[i] = (unsigned char)(i < 4 ? seed >> (8 * i) : 0x5c);
	assert_int_equal(sign_compute(k, method, path, query, ts, nonce, body,
	    body != NULL ? strlen(body) : 0, mac), 0);
	hex_encode(nonce, sizeof(nonce), nhex);
	hex_encode(mac, sizeof(mac), mhex);
	(void)snprintf(out, len, "CHAOS-HMAC-SHA256 keyid=%s, ts=%lld, nonce=%s, sig=%s",
	    k->id, (long long)ts, nhex, mhex);
}

/* Sign a POST /v1/faults at ts with nonce seed and verify it at now. */
static enum auth_result
post(struct auth *a, int64_t ts, uint32_t seed, int64_t now)
{
	char h[SIGN_HEADER_MAX + 1], keyid[SIGN_KEYID_MAX + 1];

	make_header(h, sizeof(h), &keys[0], ts, seed, "POST", "/v1/faults", "", BODY);
	return verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY), now, keyid);
}

static void
t_good_request_is_accepted(void **state)
{
	struct auth *a = new_auth(keys, 2, 30, 1024);
	char h[SIGN_HEADER_MAX + 1], keyid[SIGN_KEYID_MAX + 1] = "";

	(void)state;
	assert_non_null(a);
	assert_int_equal(nonce_count(nc), 0);
	make_header(h, sizeof(h), &keys[0], NOW, 1, "POST", "/v1/faults", "", BODY);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY), NOW,
	    keyid), AUTH_OK);
	assert_string_equal(keyid, "ops1");
	assert_int_equal(nonce_count(nc), 1);
	/* The second key of the file works too, and is reported. */
	make_header(h, sizeof(h), &keys[1], NOW, 2, "GET", "/v1/faults", "state=active", NULL);
	assert_int_equal(verify(a, h, "GET", "/v1/faults", "state=active", NULL, 0, NOW,
	    keyid), AUTH_OK);
	assert_string_equal(keyid, "ops2");
	assert_int_equal(nonce_count(nc), 2);
	free_auth(a);
}

static void
t_missing_malformed_unknown_key(void **state)
{
	struct auth *a = new_auth(keys, 1, 30, 1024);
	struct sign_key other = keys[1];
	char h[SIGN_HEADER_MAX + 1], keyid[SIGN_KEYID_MAX + 1] = "untouched";

	(void)state;
	assert_non_null(a);
	assert_int_equal(verify(a, NULL, "GET", "/v1/info", "", NULL, 0, NOW, keyid),
	    AUTH_MISSING);
	assert_int_equal(verify(a, "", "GET", "/v1/info", "", NULL, 0, NOW, keyid),
	    AUTH_MALFORMED);
	assert_int_equal(verify(a, "Bearer abc", "GET", "/v1/info", "", NULL, 0, NOW,
	    keyid), AUTH_MALFORMED);
	/* Only key ops1 is loaded: ops2 is unknown even with a valid MAC. */
	make_header(h, sizeof(h), &other, NOW, 1, "GET", "/v1/info", "", NULL);
	assert_int_equal(verify(a, h, "GET", "/v1/info", "", NULL, 0, NOW, keyid),
	    AUTH_UNKNOWN_KEY);
	/* The key material of ops1 under another name is unknown too. */
	other = keys[0];
	(void)str_copy(other.id, sizeof(other.id), "ops1x");
	make_header(h, sizeof(h), &other, NOW, 2, "GET", "/v1/info", "", NULL);
	assert_int_equal(verify(a, h, "GET", "/v1/info", "", NULL, 0, NOW, keyid),
	    AUTH_UNKNOWN_KEY);
	assert_string_equal(keyid, "untouched");
	assert_int_equal(nonce_count(nc), 0);
	free_auth(a);
}

static void
t_timestamp_window(void **state)
{
	struct auth *a = new_auth(keys, 1, 30, 1024);

	(void)state;
	assert_non_null(a);
	assert_int_equal(post(a, NOW - 30, 1, NOW), AUTH_OK);
	assert_int_equal(post(a, NOW + 30, 2, NOW), AUTH_OK);
	assert_int_equal(post(a, NOW - 31, 3, NOW), AUTH_STALE);
	assert_int_equal(post(a, NOW - 86400, 4, NOW), AUTH_STALE);
	assert_int_equal(post(a, 0, 5, NOW), AUTH_STALE);
	assert_int_equal(post(a, NOW + 31, 6, NOW), AUTH_FUTURE);
	assert_int_equal(post(a, NOW + 86400, 7, NOW), AUTH_FUTURE);
	assert_int_equal(post(a, INT64_C(99999999999), 8, NOW), AUTH_FUTURE);
	/* Refused timestamps do not consume nonces. */
	assert_int_equal(nonce_count(nc), 2);
	assert_int_equal(post(a, NOW, 3, NOW), AUTH_OK);
	free_auth(a);
}

static void
t_bad_signature_is_not_remembered(void **state)
{
	struct auth *a = new_auth(keys, 1, 30, 1024);
	char h[SIGN_HEADER_MAX + 1], keyid[SIGN_KEYID_MAX + 1];

	(void)state;
	assert_non_null(a);
	make_header(h, sizeof(h), &keys[0], NOW, 77, "POST", "/v1/faults", "", BODY);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", "{}", 2, NOW, keyid),
	    AUTH_BAD_SIGNATURE);
	assert_int_equal(verify(a, h, "DELETE", "/v1/faults", "", BODY, strlen(BODY),
	    NOW, keyid), AUTH_BAD_SIGNATURE);
	assert_int_equal(verify(a, h, "POST", "/v1/faults/f-0123456789abcdef", "", BODY,
	    strlen(BODY), NOW, keyid), AUTH_BAD_SIGNATURE);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "state=active", BODY,
	    strlen(BODY), NOW, keyid), AUTH_BAD_SIGNATURE);
	/* A path too long to sign is malformed, not a crash. */
	{
		char path[SIGN_PATH_MAX + 8];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = '\0';
		assert_int_equal(verify(a, h, "POST", path, "", BODY, strlen(BODY), NOW,
		    keyid), AUTH_MALFORMED);
	}
	/* The failed attempts did not burn the nonce: the real request passes. */
	assert_int_equal(nonce_count(nc), 0);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY), NOW,
	    keyid), AUTH_OK);
	free_auth(a);
}

static void
t_replay_is_detected(void **state)
{
	struct auth *a = new_auth(keys, 1, 30, 1024);
	char h[SIGN_HEADER_MAX + 1], keyid[SIGN_KEYID_MAX + 1];

	(void)state;
	assert_non_null(a);
	make_header(h, sizeof(h), &keys[0], NOW, 5, "POST", "/v1/faults", "", BODY);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY), NOW,
	    keyid), AUTH_OK);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY), NOW,
	    keyid), AUTH_REPLAY);
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY),
	    NOW + 30, keyid), AUTH_REPLAY);
	/* The same nonce re-signed with a new timestamp is still a replay ... */
	assert_int_equal(post(a, NOW + 59, 5, NOW + 59), AUTH_REPLAY);
	assert_int_equal(nonce_count(nc), 1);
	/* ... until twice the window has passed. */
	assert_int_equal(post(a, NOW + 60, 5, NOW + 60), AUTH_OK);
	assert_int_equal(nonce_count(nc), 1);
	/* The original header is now stale, so it cannot come back either. */
	assert_int_equal(verify(a, h, "POST", "/v1/faults", "", BODY, strlen(BODY),
	    NOW + 60, keyid), AUTH_STALE);
	free_auth(a);
}

static void
t_small_cache_fills_then_expires_fifo(void **state)
{
	struct auth *a = new_auth(keys, 1, 30, 3);

	(void)state;
	assert_non_null(a);
	assert_int_equal(post(a, NOW, 1, NOW), AUTH_OK);
	assert_int_equal(post(a, NOW + 10, 2, NOW + 10), AUTH_OK);
	assert_int_equal(post(a, NOW + 20, 3, NOW + 20), AUTH_OK);
	assert_int_equal(nonce_count(nc), 3);
	/* Full of fresh nonces: refused rather than forgetting one. */
	assert_int_equal(post(a, NOW + 25, 4, NOW + 25), AUTH_CACHE_FULL);
	assert_int_equal(post(a, NOW + 59, 4, NOW + 59), AUTH_CACHE_FULL);
	/* Nonce 1 (expires NOW+60) goes first; 2 and 3 are still known. */
	assert_int_equal(post(a, NOW + 60, 4, NOW + 60), AUTH_OK);
	assert_int_equal(nonce_count(nc), 3);
	assert_int_equal(post(a, NOW + 60, 2, NOW + 60), AUTH_REPLAY);
	assert_int_equal(post(a, NOW + 60, 3, NOW + 60), AUTH_REPLAY);
	assert_int_equal(post(a, NOW + 60, 4, NOW + 60), AUTH_REPLAY);
	/* Nonce 2 expires at NOW+70: only then is there room again. */
	assert_int_equal(post(a, NOW + 69, 1, NOW + 69), AUTH_CACHE_FULL);
	assert_int_equal(post(a, NOW + 70, 1, NOW + 70), AUTH_OK);
	assert_int_equal(post(a, NOW + 70, 3, NOW + 70), AUTH_REPLAY);
	/* Much later everything has expired. */
	assert_int_equal(post(a, NOW + 1000, 9, NOW + 1000), AUTH_OK);
	assert_int_equal(nonce_count(nc), 1);
	free_auth(a);
}

/*
 * Run the ring round many times with hash chains of several entries, and
 * check after each step that exactly the live nonces are remembered.
 */
static void
t_ring_wraps_and_chains_stay_consistent(void **state)
{
	enum { CAP = 100, WINDOW = 5, STEPS = 1000, PER_STEP = 10 };
	struct auth *a = new_auth(keys, 1, WINDOW, CAP);
	uint32_t seed = 1000, s;
	int64_t t;
	int step;

	(void)state;
	assert_non_null(a);
	for (step = 0; step < STEPS / PER_STEP; step++) {
		t = NOW + (int64_t)step * 2;
		/* Lifetime is 2 * WINDOW = 10 s, a step 2 s: 5 steps are live. */
		for (s = 0; s < PER_STEP; s++)
			assert_int_equal(post(a, t, seed + s, t), AUTH_OK);
		assert_int_equal(nonce_count(nc), (size_t)(step < 5 ? step + 1 : 5) * PER_STEP);
		/* The last four steps' nonces (all still live) are replays. */
		if (step >= 4)
			for (s = 0; s < PER_STEP; s++)
				assert_int_equal(post(a, t, seed - 4 * PER_STEP + s, t),
				    AUTH_REPLAY);
		seed += PER_STEP;
	}
	/* Nonces of five steps ago have expired and are accepted again. */
	t = NOW + (int64_t)STEPS / PER_STEP * 2;
	for (s = 0; s < PER_STEP; s++)
		assert_int_equal(post(a, t, seed - 5 * PER_STEP + s, t), AUTH_OK);
	assert_int_equal(nonce_count(nc), 5 * PER_STEP);
	free_auth(a);
}

static void
t_new_checks_limits_and_names(void **state)
{
	struct sign_key many[SIGN_KEYS_MAX + 1];

	(void)state;
	memset(many, 0, sizeof(many));
	assert_null(new_auth(many, SIGN_KEYS_MAX + 1, 30, 64));
	assert_null(new_auth(keys, 1, 30, 0));
	assert_null(new_auth(keys, 1, 30, (1u << 24) + 1));
	auth_free(NULL);
	{
		struct auth *a = new_auth(many, SIGN_KEYS_MAX, 30, 1);

		assert_non_null(a);
		free_auth(a);
	}
	assert_string_equal(auth_result_name(AUTH_OK), "ok");
	assert_string_equal(auth_result_name(AUTH_MISSING), "missing_authorization");
	assert_string_equal(auth_result_name(AUTH_MALFORMED), "malformed_authorization");
	assert_string_equal(auth_result_name(AUTH_UNKNOWN_KEY), "unknown_key_id");
	assert_string_equal(auth_result_name(AUTH_STALE), "stale_timestamp");
	assert_string_equal(auth_result_name(AUTH_FUTURE), "future_timestamp");
	assert_string_equal(auth_result_name(AUTH_BEFORE_START),
	    "timestamp_before_agent_start");
	assert_string_equal(auth_result_name(AUTH_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(auth_result_name(AUTH_REPLAY), "replayed_nonce");
	assert_string_equal(auth_result_name(AUTH_CACHE_FULL), "nonce_cache_full");
	assert_string_equal(auth_result_name((enum auth_result)42), "unknown");
}

/* The verifier copies the keys: the caller may wipe its own copy. */
static void
t_keys_are_copied(void **state)
{
	struct sign_key mine[1];
	struct auth *a;

	(void)state;
	mine[0] = keys[0];
	a = new_auth(mine, 1, 30, 64);
	assert_non_null(a);
	memset(mine, 0, sizeof(mine));
	assert_int_equal(post(a, NOW, 1, NOW), AUTH_OK);
	free_auth(a);
}


/* ---- the journal: the replay cache across agent restarts */

static char tmpdir[64];

static int
dir_setup(void **state)
{
	(void)state;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_auth.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
dir_teardown(void **state)
{
	char path[128];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/nonces.corrupt", tmpdir);
	(void)unlink(path);
	(void)rmdir(tmpdir);
	return 0;
}

/* Each test starts without a journal. */
static int
journal_reset(void **state)
{
	char path[128];

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	(void)unlink(path);
	return 0;
}

static void
nonce_of(uint32_t seed, unsigned char *n)
{
	size_t i;

	for (i = 0; i < SIGN_NONCE_LEN; i++)
		n[i] = (unsigned char)(i < 4 ? seed >> (8 * i) : 0xa5);
}

static long
journal_size(void)
{
	char path[128];
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void
t_journal_carries_nonces_across_restarts(void **state)
{
	struct nonce_cache *c = nonce_new(64, 60);
	struct errbuf eb = { "" };
	unsigned char n[SIGN_NONCE_LEN];
	uint32_t i;

	(void)state;
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW, &eb), 0);
	for (i = 1; i <= 5; i++) {
		nonce_of(i, n);
		assert_int_equal(nonce_check(c, n, NOW, i % 2 == 0), NONCE_OK);
	}
	assert_int_equal(nonce_journal_records(c), 5);
	assert_int_equal(journal_size(), 8 + 5 * 24);
	nonce_free(c);

	/* A new process: everything seen is still a replay. */
	c = nonce_new(64, 60);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW + 10, &eb), 0);
	assert_int_equal(nonce_count(c), 5);
	for (i = 1; i <= 5; i++) {
		nonce_of(i, n);
		assert_int_equal(nonce_check(c, n, NOW + 10, false), NONCE_REPLAY);
	}
	nonce_of(6, n);
	assert_int_equal(nonce_check(c, n, NOW + 10, true), NONCE_OK);
	nonce_free(c);

	/* After their lifetime they are gone, and not loaded again. */
	c = nonce_new(64, 60);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW + 60, &eb), 0);
	assert_int_equal(nonce_count(c), 1);	/* only nonce 6, seen at NOW+10 */
	nonce_of(1, n);
	assert_int_equal(nonce_check(c, n, NOW + 60, false), NONCE_OK);
	nonce_free(c);
}

static void
t_journal_torn_record_is_dropped(void **state)
{
	struct nonce_cache *c = nonce_new(64, 60);
	struct errbuf eb = { "" };
	unsigned char n[SIGN_NONCE_LEN];
	char path[128];
	int fd;

	(void)state;
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW, &eb), 0);
	nonce_of(7, n);
	assert_int_equal(nonce_check(c, n, NOW, true), NONCE_OK);
	nonce_free(c);
	/* A crash in the middle of an append. */
	(void)snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	c = nonce_new(64, 60);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW + 1, &eb), 0);
	assert_int_equal(nonce_check(c, n, NOW + 1, false), NONCE_REPLAY);
	/* Rewritten whole on open. */
	assert_int_equal(journal_size(), 8 + 24);
	nonce_free(c);
}

static void
t_journal_not_ours_is_set_aside(void **state)
{
	struct nonce_cache *c;
	struct errbuf eb = { "" };
	unsigned char n[SIGN_NONCE_LEN];
	char path[128], bad[160];
	struct stat st;
	FILE *f;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/nonces", tmpdir);
	(void)snprintf(bad, sizeof(bad), "%s/nonces.corrupt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	(void)fputs("not a journal at all", f);
	(void)fclose(f);
	c = nonce_new(64, 60);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW, &eb), CE_INVALID);
	assert_non_null(strstr(eb.msg, "unreadable"));
	assert_int_equal(stat(bad, &st), 0);
	/* A fresh journal is in use. */
	nonce_of(8, n);
	assert_int_equal(nonce_check(c, n, NOW, true), NONCE_OK);
	assert_int_equal(journal_size(), 8 + 24);
	nonce_free(c);
	(void)unlink(bad);

	/* A FIFO in its place neither hangs the agent nor is read. */
	(void)unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	c = nonce_new(64, 60);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW, &eb), CE_INVALID);
	assert_int_equal(stat(bad, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	nonce_free(c);
	(void)unlink(bad);
}

static void
t_journal_stays_bounded(void **state)
{
	struct nonce_cache *c = nonce_new(4, 10);
	struct errbuf eb = { "" };
	unsigned char n[SIGN_NONCE_LEN];
	uint32_t i;

	(void)state;
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW, &eb), 0);
	for (i = 0; i < 200; i++) {
		nonce_of(1000 + i, n);
		/* Four a second: the oldest expire as new ones come. */
		assert_int_equal(nonce_check(c, n, NOW + i / 4 * 10, false), NONCE_OK);
		assert_true(nonce_journal_records(c) <= 2 * 4);
		assert_true(journal_size() <= 8 + 2 * 4 * 24);
	}
	/* The last four are known, in the journal too. */
	nonce_free(c);
	c = nonce_new(4, 10);
	assert_int_equal(nonce_journal_open(c, tmpdir, NOW + 199 / 4 * 10, &eb), 0);
	for (i = 196; i < 200; i++) {
		nonce_of(1000 + i, n);
		assert_int_equal(nonce_check(c, n, NOW + 199 / 4 * 10, false), NONCE_REPLAY);
	}
	nonce_free(c);
}

static void
t_journal_unwritable_fails_closed(void **state)
{
	struct nonce_cache *c = nonce_new(8, 60);
	struct errbuf eb = { "" };
	unsigned char n[SIGN_NONCE_LEN];

	(void)state;
	assert_int_equal(nonce_journal_open(c, "/nonexistent/dir", NOW, &eb), CE_SYSTEM);
	assert_non_null(strstr(eb.msg, "/nonexistent/dir/nonces"));
	nonce_of(9, n);
	assert_int_equal(nonce_check(c, n, NOW, false), NONCE_IO);
	/* Nothing was remembered, so nothing is refused as a replay later. */
	assert_int_equal(nonce_count(c), 0);
	nonce_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_good_request_is_accepted),
		cmocka_unit_test(t_missing_malformed_unknown_key),
		cmocka_unit_test(t_timestamp_window),
		cmocka_unit_test(t_bad_signature_is_not_remembered),
		cmocka_unit_test(t_replay_is_detected),
		cmocka_unit_test(t_small_cache_fills_then_expires_fifo),
		cmocka_unit_test(t_ring_wraps_and_chains_stay_consistent),
		cmocka_unit_test(t_new_checks_limits_and_names),
		cmocka_unit_test(t_keys_are_copied),
	};

	const struct CMUnitTest journal[] = {
		cmocka_unit_test_setup(t_journal_carries_nonces_across_restarts, journal_reset),
		cmocka_unit_test_setup(t_journal_torn_record_is_dropped, journal_reset),
		cmocka_unit_test_setup(t_journal_not_ours_is_set_aside, journal_reset),
		cmocka_unit_test_setup(t_journal_stays_bounded, journal_reset),
		cmocka_unit_test_setup(t_journal_unwritable_fails_closed, journal_reset),
	};
	int r = cmocka_run_group_tests_name("auth", tests, keys_setup, NULL);

	return r + cmocka_run_group_tests_name("journal", journal, dir_setup, dir_teardown);
}
