/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.c: request verification and the nonce replay cache. Nonces live in
 * a ring (oldest first, all with the same lifetime, so expiry is FIFO)
 * indexed by hash chains; both are allocated once at the configured size.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "../common/sign.h"
#include "../common/util.h"

struct nonce_ent {
	unsigned char nonce[SIGN_NONCE_LEN];
	int64_t expires;
	uint32_t next;		/* next ring index + 1 in this chain; 0 ends it */
};

struct auth {
	struct sign_key keys[SIGN_KEYS_MAX];
	size_t nkeys;
	int64_t window;
	int64_t not_before;
	struct nonce_ent *ring;
	uint32_t cap, head, count;
	uint32_t *buckets;	/* ring index + 1 of the chain head; 0 = empty */
	uint32_t nbuckets;	/* power of two */
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
};

const char *
auth_result_name(enum auth_result r)
{
	if ((size_t)r < NELEM(result_names))
		return result_names[r];
	return "unknown";
}

struct auth *
auth_new(const struct sign_key *keys, size_t nkeys, int64_t window, size_t cache_size,
    int64_t not_before)
{
	struct auth *a;

	if (nkeys > SIGN_KEYS_MAX || cache_size == 0 || cache_size > (1u << 24))
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->keys, keys, nkeys * sizeof(*keys));
	a->nkeys = nkeys;
	a->window = window;
	a->not_before = not_before;
	a->cap = (uint32_t)cache_size;
	for (a->nbuckets = 64; a->nbuckets < a->cap; a->nbuckets <<= 1)
		;
	a->ring = calloc(a->cap, sizeof(*a->ring));
	a->buckets = calloc(a->nbuckets, sizeof(*a->buckets));
	if (a->ring == NULL || a->buckets == NULL) {
		auth_free(a);
		return NULL;
	}
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a->keys, sizeof(a->keys));
	free(a->ring);
	free(a->buckets);
	free(a);
}

size_t
auth_cache_count(const struct auth *a)
{
	return a->count;
}

/* Nonces are random, but do not rely on it: mix all of them. */
static uint32_t
nonce_hash(const struct auth *a, const unsigned char *n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < SIGN_NONCE_LEN; i++)
		h = (h ^ n[i]) * 16777619u;
	return h & (a->nbuckets - 1);
}

static void
unlink_ent(struct auth *a, uint32_t idx)
{
	uint32_t *link = &a->buckets[nonce_hash(a, a->ring[idx].nonce)];

	while (*link != 0) {
		if (*link - 1 == idx) {
			*link = a->ring[idx].next;
			return;
		}
		link = &a->ring[*link - 1].next;
	}
}

static bool
cache_seen(const struct auth *a, const unsigned char *nonce)
{
	uint32_t i = a->buckets[nonce_hash(a, nonce)];

	for (; i != 0; i = a->ring[i - 1].next)
		if (memcmp(a->ring[i - 1].nonce, nonce, SIGN_NONCE_LEN) == 0)
			return true;
	return false;
}

static void
cache_expire(struct auth *a, int64_t now)
{
	while (a->count > 0 && a->ring[a->head].expires <= now) {
		unlink_ent(a, a->head);
		a->head = (a->head + 1) % a->cap;
		a->count--;
	}
}

static bool
cache_insert(struct auth *a, const unsigned char *nonce, int64_t expires)
{
	uint32_t idx, b;

	if (a->count == a->cap)
		return false;
	idx = (a->head + a->count) % a->cap;
	memcpy(a->ring[idx].nonce, nonce, SIGN_NONCE_LEN);
	a->ring[idx].expires = expires;
	b = nonce_hash(a, nonce);
	a->ring[idx].next = a->buckets[b];
	a->buckets[b] = idx + 1;
	a->count++;
	return true;
}

enum auth_result
auth_verify(struct auth *a, const char *header, const char *method, const char *path,
    const char *canon_query, const void *body, size_t bodylen, int64_t now, char *keyid)
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
	if (sa.ts < a->not_before)
		return AUTH_BEFORE_START;
	if (sign_compute(key, method, path, canon_query, sa.ts, sa.nonce, body, bodylen,
	    mac) != 0)
		return AUTH_MALFORMED;
	if (sign_mac_cmp(mac, sa.sig) != 0)
		return AUTH_BAD_SIGNATURE;
	cache_expire(a, now);
	if (cache_seen(a, sa.nonce))
		return AUTH_REPLAY;
	if (!cache_insert(a, sa.nonce, now + 2 * a->window))
		return AUTH_CACHE_FULL;
	(void)str_copy(keyid, SIGN_KEYID_MAX + 1, key->id);
	return AUTH_OK;
}
