/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nonce.h: the replay cache of signed requests, kept by the privileged
 * parent so that it outlives any worker, and journaled in the state
 * directory so that it outlives the agent. A nonce is remembered for
 * twice the signature window after it was accepted: a captured request
 * is stale by then anyway.
 *
 * The journal is a fixed header followed by 24-byte records (nonce, then
 * the expiry as a little-endian int64 of Unix seconds), appended once per
 * accepted request before the request acts, and synced before a request
 * that changes anything acts. It is rewritten with only the live entries
 * when it holds twice the cache's capacity, so it never exceeds
 * 2 x capacity records.
 */
#ifndef CHAOS_AGENT_NONCE_H
#define CHAOS_AGENT_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/sign.h"

struct errbuf;
struct nonce_cache;

enum nonce_result {
	NONCE_OK,		/* new: remembered (and journaled) */
	NONCE_REPLAY,		/* seen within its lifetime */
	NONCE_FULL,		/* too many live nonces to remember one more */
	NONCE_IO,		/* the journal could not be written */
};

/*
 * A cache of cap nonces, each remembered for lifetime seconds. Returns
 * NULL on allocation failure or a cap outside 1..2^24.
 */
struct nonce_cache *nonce_new(size_t cap, int64_t lifetime);

/* Close the journal and free; NULL-safe. */
void nonce_free(struct nonce_cache *c);

/*
 * Open (or create) the journal dir/"nonces" and load its unexpired
 * entries (now: Unix seconds). A missing journal is an empty one. A
 * journal that is not ours or damaged beyond a torn last record is kept
 * as "nonces.corrupt", a fresh one is started, and CE_INVALID is returned
 * with eb saying so: the caller must then refuse every request that could
 * have been accepted before it started (signed up to one window after
 * now). Other failures return CE_SYSTEM with eb set, and every later
 * nonce_check answers NONCE_IO: the caller should not serve. A cache
 * whose journal was never opened works in memory only.
 */
int nonce_journal_open(struct nonce_cache *c, const char *dir, int64_t now,
    struct errbuf *eb);

/*
 * Remember nonce at time now, unless it is known. sync: make the journal
 * record durable (fdatasync) before returning, for requests that change
 * something. Returns an enum nonce_result; on NONCE_FULL and NONCE_IO
 * nothing was remembered.
 */
enum nonce_result nonce_check(struct nonce_cache *c, const unsigned char nonce[SIGN_NONCE_LEN],
    int64_t now, bool sync);

/* Live nonces remembered, and records in the journal now. */
size_t nonce_count(const struct nonce_cache *c);
size_t nonce_journal_records(const struct nonce_cache *c);

#endif
