/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.c: request verification in the worker: header, key id, timestamp
 * window and MAC. The replay cache is the parent's (agent/nonce.c).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "../common/sign.h"
#include "../common/util.h"

struct auth {
	struct sign_key keys[SIGN_KEYS_MAX];
	size_t nkeys;
	int64_t window;
};

static const char *const result_names[] = {
	[AUTH_OK] = "ok",
	[AUTH_MISSING] = "missing_authorization",
	[AUTH_MALFORMED] = "malformed_authorization",
	[AUTH_UNKNOWN_KEY] = "unknown_key_id",
	[AUTH_STALE] = "stale_timestamp",
	[AUTH_FUTURE] = "future_timestamp",
	[AUTH_BEFORE_START] = "timestamp_before_agent_start",
	[AUTH_BAD_SIGNATURE] = "bad_signature",
	[AUTH_REPLAY] = "replayed_nonce",
	[AUTH_CACHE_FULL] = "nonce_cache_full",
	[AUTH_DUPLICATE] = "duplicate_authorization",
};

const char *
auth_result_name(enum auth_result r)
{
	if ((size_t)r < NELEM(result_names))
		return result_names[r];
	return "unknown";
}

struct auth *
auth_new(const struct sign_key *keys, size_t nkeys, int64_t window)
{
	struct auth *a;

	if (nkeys > SIGN_KEYS_MAX)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->keys, keys, nkeys * sizeof(*keys));
	a->nkeys = nkeys;
	a->window = window;
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a->keys, sizeof(a->keys));
	free(a);
}

enum auth_result
auth_verify(struct auth *a, const char *header, const char *method, const char *path,
    const char *canon_query, const void *body, size_t bodylen, int64_t now,
    struct auth_pass *out)
{
	struct sign_auth sa;
	unsigned char mac[SIGN_MAC_LEN];
	const struct sign_key *key = NULL;
	size_t i;

	if (header == NULL)
		return AUTH_MISSING;
	if (sign_parse_header(header, &sa) != 0)
		return AUTH_MALFORMED;
	/* Walk every key, so the time taken does not tell which ids exist. */
	for (i = 0; i < a->nkeys; i++)
		if (strcmp(a->keys[i].id, sa.keyid) == 0)
			key = &a->keys[i];
	if (key == NULL)
		return AUTH_UNKNOWN_KEY;
	if (sa.ts < now - a->window)
		return AUTH_STALE;
	if (sa.ts > now + a->window)
		return AUTH_FUTURE;
	if (sign_compute(key, method, path, canon_query, sa.ts, sa.nonce, body, bodylen,
	    mac) != 0)
		return AUTH_MALFORMED;
	if (sign_mac_cmp(mac, sa.sig) != 0)
		return AUTH_BAD_SIGNATURE;
	(void)str_copy(out->keyid, sizeof(out->keyid), key->id);
	memcpy(out->nonce, sa.nonce, SIGN_NONCE_LEN);
	out->ts = sa.ts;
	return AUTH_OK;
}
