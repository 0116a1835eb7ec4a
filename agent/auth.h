/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.h: verification of signed requests in the worker: key lookup by id,
 * timestamp window, HMAC in constant time. A request that passes goes to
 * the parent with its nonce, and the parent's replay cache (nonce.h)
 * decides whether it was seen before: the cache then outlives any worker,
 * and only requests whose MAC checks out can fill it.
 */
#ifndef CHAOS_AGENT_AUTH_H
#define CHAOS_AGENT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../common/sign.h"

struct auth;

/* What a request that passed carries on to the parent. */
struct auth_pass {
	char keyid[SIGN_KEYID_MAX + 1];
	unsigned char nonce[SIGN_NONCE_LEN];
	int64_t ts;
};

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,		/* no Authorization header */
	AUTH_MALFORMED,		/* unparsable Authorization header */
	AUTH_UNKNOWN_KEY,
	AUTH_STALE,		/* timestamp older than the window */
	AUTH_FUTURE,		/* timestamp newer than the window */
	AUTH_BEFORE_START,	/* signed before a lost replay journal was restarted */
	AUTH_BAD_SIGNATURE,
	AUTH_REPLAY,		/* nonce seen within twice the window (the parent) */
	AUTH_CACHE_FULL,	/* too many fresh nonces to remember (the parent) */
	AUTH_DUPLICATE,		/* more than one Authorization header */
};

/*
 * Create a verifier. keys are copied. window is the allowed clock skew in
 * seconds. Returns NULL on allocation failure or too many keys.
 */
struct auth *auth_new(const struct sign_key *keys, size_t nkeys, int64_t window);

/* Free a verifier; NULL-safe. Key material is wiped. */
void auth_free(struct auth *a);

/*
 * Verify one request at time now (unix seconds). header is the
 * Authorization value (NULL when absent). On AUTH_OK, out gets the key
 * id used, the nonce and the timestamp; whether the nonce is new is the
 * parent's question. Returns an enum auth_result (never AUTH_REPLAY,
 * AUTH_CACHE_FULL, AUTH_BEFORE_START or AUTH_DUPLICATE: others decide
 * those).
 */
enum auth_result auth_verify(struct auth *a, const char *header, const char *method,
    const char *path, const char *canon_query, const void *body, size_t bodylen,
    int64_t now, struct auth_pass *out);

/* A short, stable name for a result ("bad_signature"), for the audit log. */
const char *auth_result_name(enum auth_result r);


#endif
