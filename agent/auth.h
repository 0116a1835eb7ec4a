/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.h: verification of signed requests in the worker: key lookup by id,
 * timestamp window, HMAC in constant time, then the replay cache. The
 * nonce is only remembered after the MAC checks out, so nobody without a
 * key can fill the cache.
 */
#ifndef CHAOS_AGENT_AUTH_H
#define CHAOS_AGENT_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct sign_key;
struct auth;

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,		/* no Authorization header */
	AUTH_MALFORMED,		/* unparsable Authorization header */
	AUTH_UNKNOWN_KEY,
	AUTH_STALE,		/* timestamp older than the window */
	AUTH_FUTURE,		/* timestamp newer than the window */
	AUTH_BEFORE_START,	/* signed before this process started */
	AUTH_BAD_SIGNATURE,
	AUTH_REPLAY,		/* nonce seen within twice the window */
	AUTH_CACHE_FULL,	/* too many fresh nonces to remember: refused */
};

/*
 * Create a verifier. keys are copied. window is the allowed clock skew in
 * seconds, cache_size the number of nonces remembered, not_before the
 * earliest acceptable timestamp (this process's start, so a restart does
 * not reopen the replay window). Returns NULL on allocation failure.
 */
struct auth *auth_new(const struct sign_key *keys, size_t nkeys, int64_t window,
    size_t cache_size, int64_t not_before);

/* Free a verifier; NULL-safe. Key material is wiped. */
void auth_free(struct auth *a);

/*
 * Verify one request at time now (unix seconds). header is the
 * Authorization value (NULL when absent). On AUTH_OK, the key id used is
 * copied to keyid (at least 33 bytes). Returns an enum auth_result.
 */
enum auth_result auth_verify(struct auth *a, const char *header, const char *method,
    const char *path, const char *canon_query, const void *body, size_t bodylen,
    int64_t now, char *keyid);

/* A short, stable name for a result ("bad_signature"), for the audit log. */
const char *auth_result_name(enum auth_result r);

/* Number of nonces currently remembered. */
size_t auth_cache_count(const struct auth *a);

#endif
