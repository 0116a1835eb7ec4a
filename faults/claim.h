/* SPDX-License-Identifier: Apache-2.0 */
/*
 * claim.h: what only one active fault may hold at a time, and which fault
 * holds it. A slot is a name the backend makes up ("net/4026532281/eth0"
 * for an interface of a network namespace, "ecs/tc" for a task's latency
 * and packet loss endpoints); prepare takes it, release gives back every
 * slot of a fault. The parent's memory only: a restarted agent reverts
 * what it left before it takes anything.
 */
#ifndef CHAOS_CLAIM_H
#define CHAOS_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

#define CLAIM_SLOT_MAX 48	/* longest slot name, with its NUL */
#define CLAIMS_MAX 256		/* slots held at once, all backends */

/* The id of the fault holding slot, or NULL when it is free. */
const char *claim_holder(const char *slot);

/* Is there room for n more slots? */
bool claim_room(size_t n);

/*
 * Take slot for fault id. Returns 0, or -1 when the table is full or the
 * slot name too long (check claim_room and claim_holder first).
 */
int claim_take(const char *slot, const char *id);

/* Give back every slot fault id holds; harmless when it holds none. */
void claim_release(const char *id);

#endif
