/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strikes.h: client addresses the worker had to cut a connection from
 * (evicted to make room, or past request_timeout), remembered for a while.
 *
 * When every connection slot is taken, the worker closes the connection
 * whose address has the most recent strikes, the oldest first among
 * equals. Slow clients that reconnect as soon as they are cut therefore
 * evict each other, and a caller that never misbehaved keeps its slot
 * however long its request takes to arrive (a signed DELETE /v1/faults
 * over a slow link, say): without strikes, a fresh connection became the
 * oldest within a few milliseconds of a reconnecting flood.
 *
 * IPv4 addresses count one by one; IPv6 addresses by their /64, which is
 * what one host is usually given. The table is fixed in size (sets of a
 * few entries indexed by a keyed hash, the least recently struck entry
 * replaced), so an attacker with more addresses than entries loses some
 * strikes but cannot grow the worker's memory.
 */
#ifndef CHAOS_AGENT_STRIKES_H
#define CHAOS_AGENT_STRIKES_H

#include <stdint.h>

struct sockaddr;

#define STRIKES_KEY_LEN 16
/* A strike is forgotten this long after the address's last one. */
#define STRIKES_FORGET_MS 60000

struct strikes;

/* seed: secret bits for the hash (random, so addresses cannot be chosen to collide). */
struct strikes *strikes_new(uint64_t seed);
void strikes_free(struct strikes *s);

/*
 * The key of a client address: IPv4 as an IPv4-mapped IPv6 address,
 * IPv6 cut to its /64, anything else (or NULL) all zeros.
 */
void strikes_key(const struct sockaddr *sa, unsigned char key[STRIKES_KEY_LEN]);

/* Count one more strike against key at now (monotonic milliseconds). */
void strikes_add(struct strikes *s, const unsigned char key[STRIKES_KEY_LEN], int64_t now);

/* Strikes against key that are not forgotten at now; 0 for an unknown key. */
uint32_t strikes_of(const struct strikes *s, const unsigned char key[STRIKES_KEY_LEN],
    int64_t now);

#endif
