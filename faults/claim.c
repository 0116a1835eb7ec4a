/* SPDX-License-Identifier: Apache-2.0 */
/* claim.c: see claim.h. A small table, searched in full: a few dozen slots. */
#include <string.h>

#include "claim.h"
#include "../common/limits.h"
#include "../common/util.h"

static struct {
	char slot[CLAIM_SLOT_MAX];
	char id[FAULT_ID_MAX];
} claims[CLAIMS_MAX];
static size_t nclaims;

const char *
claim_holder(const char *slot)
{
	size_t i;

	for (i = 0; i < nclaims; i++)
		if (strcmp(claims[i].slot, slot) == 0)
			return claims[i].id;
	return NULL;
}

bool
claim_room(size_t n)
{
	return n <= CLAIMS_MAX - nclaims;
}

int
claim_take(const char *slot, const char *id)
{
	if (nclaims == CLAIMS_MAX ||
	    str_copy(claims[nclaims].slot, sizeof(claims[nclaims].slot), slot) != 0 ||
	    str_copy(claims[nclaims].id, sizeof(claims[nclaims].id), id) != 0)
		return -1;
	nclaims++;
	return 0;
}

void
claim_release(const char *id)
{
	size_t i;

	for (i = 0; i < nclaims;) {
		if (strcmp(claims[i].id, id) == 0)
			claims[i] = claims[--nclaims];
		else
			i++;
	}
}
