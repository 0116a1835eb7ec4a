/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strikes.c: the strike table (see strikes.h): STRIKES_SETS sets of
 * STRIKES_WAYS entries, the set chosen by a keyed 64-bit mix of the key.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "strikes.h"

#define STRIKES_SETS 512	/* power of two */
#define STRIKES_WAYS 4

struct strike {
	unsigned char key[STRIKES_KEY_LEN];
	uint32_t count;		/* 0: the entry is free */
	int64_t last;		/* the latest strike, monotonic ms */
};

struct strikes {
	uint64_t seed;
	struct strike ent[STRIKES_SETS][STRIKES_WAYS];
};

struct strikes *
strikes_new(uint64_t seed)
{
	struct strikes *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->seed = seed;
	return s;
}

void
strikes_free(struct strikes *s)
{
	free(s);
}

void
strikes_key(const struct sockaddr *sa, unsigned char key[STRIKES_KEY_LEN])
{
	memset(key, 0, STRIKES_KEY_LEN);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(key, &in6->sin6_addr, 8);
	}
}

/* A keyed mix of the 16 key bytes (splitmix64 finalizer over two words). */
static size_t
set_of(const struct strikes *s, const unsigned char key[STRIKES_KEY_LEN])
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = s->seed ^ a;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h ^= b;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)(h & (STRIKES_SETS - 1));
}

static bool
live(const struct strike *e, int64_t now)
{
	return e->count > 0 && now - e->last < STRIKES_FORGET_MS;
}

void
strikes_add(struct strikes *s, const unsigned char key[STRIKES_KEY_LEN], int64_t now)
{
	struct strike *set = s->ent[set_of(s, key)], *victim = &set[0];
	size_t i;

	for (i = 0; i < STRIKES_WAYS; i++) {
		struct strike *e = &set[i];

		if (e->count > 0 && memcmp(e->key, key, STRIKES_KEY_LEN) == 0) {
			if (!live(e, now))
				e->count = 0;
			if (e->count < UINT32_MAX)
				e->count++;
			e->last = now;
			return;
		}
		/* Replace a free or forgotten entry, else the least recently struck. */
		if (!live(victim, now))
			continue;
		if (!live(e, now) || e->last < victim->last)
			victim = e;
	}
	memcpy(victim->key, key, STRIKES_KEY_LEN);
	victim->count = 1;
	victim->last = now;
}

uint32_t
strikes_of(const struct strikes *s, const unsigned char key[STRIKES_KEY_LEN], int64_t now)
{
	const struct strike *set = s->ent[set_of(s, key)];
	size_t i;

	for (i = 0; i < STRIKES_WAYS; i++)
		if (live(&set[i], now) && memcmp(set[i].key, key, STRIKES_KEY_LEN) == 0)
			return set[i].count;
	return 0;
}
