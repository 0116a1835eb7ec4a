/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c: the bounded set of faults, with their API representation. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "life.h"
#include "registry.h"
#include "../common/util.h"

struct registry {
	size_t max_active, history;
	size_t n, cap;
	struct fault **faults;	/* creation order */
};

struct registry *
registry_new(size_t max_active, size_t history)
{
	struct registry *reg = calloc(1, sizeof(*reg));

	if (reg == NULL)
		return NULL;
	reg->max_active = max_active;
	reg->history = history;
	reg->cap = max_active + history + 1;
	if ((reg->faults = calloc(reg->cap, sizeof(*reg->faults))) == NULL) {
		free(reg);
		return NULL;
	}
	return reg;
}

static void
fault_free(struct fault *f)
{
	if (f == NULL)
		return;
	if (f->ops != NULL && f->ops->release != NULL)
		f->ops->release(f);
	fault_req_release(&f->req);
	cJSON_Delete(f->record);
	cJSON_Delete(f->targets);
	if (f->life != NULL)
		cJSON_Delete(f->life->skipped);
	free(f->life);
	free(f);
}

void
registry_free(struct registry *reg)
{
	size_t i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++)
		fault_free(reg->faults[i]);
	free(reg->faults);
	free(reg);
}

/* May the fault still have an effect? Such a fault is never dropped. */
static bool
live(const struct fault *f)
{
	return f->state == FAULT_PENDING || f->state == FAULT_ACTIVE ||
	    f->state == FAULT_REVERT_FAILED;
}

size_t
registry_active(const struct registry *reg)
{
	size_t i, n = 0;

	for (i = 0; i < reg->n; i++)
		if (live(reg->faults[i]))
			n++;
	return n;
}

static void
remove_at(struct registry *reg, size_t i)
{
	memmove(&reg->faults[i], &reg->faults[i + 1],
	    (reg->n - i - 1) * sizeof(*reg->faults));
	reg->n--;
}

/*
 * Drop the oldest ended faults beyond the history bound, never keep (the
 * fault just ended, which its caller still uses).
 */
static void
trim_history(struct registry *reg, const struct fault *keep)
{
	size_t i, ended = reg->n - registry_active(reg);

	for (i = 0; i < reg->n && ended > reg->history;) {
		struct fault *f = reg->faults[i];

		if (f != keep && !live(f)) {
			remove_at(reg, i);
			fault_free(f);
			ended--;
		} else {
			i++;
		}
	}
}

struct fault *
registry_create(struct registry *reg, struct fault_req *req, bool *full)
{
	unsigned char rnd[8];
	struct fault *f;

	*full = false;
	if (registry_active(reg) >= reg->max_active) {
		*full = true;
		return NULL;
	}
	trim_history(reg, NULL);
	if (reg->n == reg->cap) {
		/* Every slot holds history: make room by dropping the oldest. */
		reg->history = reg->history > 0 ? reg->history - 1 : 0;
		trim_history(reg, NULL);
		reg->history++;
		if (reg->n == reg->cap)
			return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (random_bytes(rnd, sizeof(rnd)) != 0 ||
	    (f->life = calloc(1, sizeof(*f->life))) == NULL) {
		free(f);
		return NULL;
	}
	f->id[0] = 'f';
	f->id[1] = '-';
	hex_encode(rnd, sizeof(rnd), f->id + 2);
	f->req = *req;
	memset(req, 0, sizeof(*req));
	f->state = FAULT_PENDING;
	reg->faults[reg->n++] = f;
	return f;
}

struct fault *
registry_adopt(struct registry *reg, const char *id, struct fault_req *req)
{
	struct fault *f;

	if (registry_find(reg, id) != NULL || strlen(id) >= FAULT_ID_MAX)
		return NULL;
	/* Leftovers are never refused for want of room: the array grows. */
	if (reg->n == reg->cap) {
		struct fault **more = reallocarray(reg->faults, reg->cap + 8,
		    sizeof(*more));

		if (more == NULL)
			return NULL;
		reg->faults = more;
		reg->cap += 8;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->life = calloc(1, sizeof(*f->life))) == NULL) {
		free(f);
		return NULL;
	}
	(void)str_copy(f->id, sizeof(f->id), id);
	f->req = *req;
	memset(req, 0, sizeof(*req));
	f->state = FAULT_PENDING;
	reg->faults[reg->n++] = f;
	return f;
}

void
registry_discard(struct registry *reg, struct fault *f)
{
	size_t i;

	for (i = 0; i < reg->n; i++) {
		if (reg->faults[i] == f) {
			remove_at(reg, i);
			fault_free(f);
			return;
		}
	}
}

void
registry_finish(struct registry *reg, struct fault *f, enum fault_state state,
    const char *reason)
{
	f->state = state;
	f->ended_ms = wall_ms();
	(void)str_copy(f->end_reason, sizeof(f->end_reason), reason);
	if (f->ops != NULL && f->ops->release != NULL)
		f->ops->release(f);
	f->priv = NULL;
	trim_history(reg, f);
}

struct fault *
registry_find(struct registry *reg, const char *id)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (strcmp(reg->faults[i]->id, id) == 0)
			return reg->faults[i];
	return NULL;
}

struct fault *
registry_find_client(struct registry *reg, const char *client_id)
{
	size_t i;

	if (client_id[0] == '\0')
		return NULL;
	for (i = 0; i < reg->n; i++)
		if (strcmp(reg->faults[i]->req.client_id, client_id) == 0)
			return reg->faults[i];
	return NULL;
}

struct fault **
registry_all(struct registry *reg, size_t *n)
{
	*n = reg->n;
	return reg->faults;
}

int64_t
registry_next_deadline(const struct registry *reg)
{
	int64_t best = -1;
	size_t i;

	for (i = 0; i < reg->n; i++) {
		const struct fault *f = reg->faults[i];

		/* A fault a job works on is ended when the job is done. */
		if (f->state == FAULT_ACTIVE && !f->life->busy &&
		    (best < 0 || f->deadline_mono < best))
			best = f->deadline_mono;
	}
	return best;
}

cJSON *
registry_fault_json(const struct fault *f)
{
	cJSON *o = cJSON_CreateObject(), *detail;
	char ts[32];

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddStringToObject(o, "type", f->req.spec->name);
	cJSON_AddStringToObject(o, "state", fault_state_name(f->state));
	cJSON_AddNumberToObject(o, "duration", (double)f->req.duration);
	cJSON_AddItemToObject(o, "params", fault_req_params_json(&f->req));
	cJSON_AddItemToObject(o, "target", cJSON_Duplicate(f->req.target, 1));
	cJSON_AddItemToObject(o, "labels", cJSON_Duplicate(f->req.labels, 1));
	if (f->req.client_id[0] != '\0')
		cJSON_AddStringToObject(o, "client_id", f->req.client_id);
	fmt_rfc3339(f->created_ms, ts, sizeof(ts));
	cJSON_AddStringToObject(o, "created_at", ts);
	fmt_rfc3339(f->expires_ms, ts, sizeof(ts));
	cJSON_AddStringToObject(o, "expires_at", ts);
	if (f->ended_ms != 0) {
		fmt_rfc3339(f->ended_ms, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "ended_at", ts);
		cJSON_AddStringToObject(o, "end_reason", f->end_reason);
	} else {
		cJSON_AddNullToObject(o, "ended_at");
		cJSON_AddNullToObject(o, "end_reason");
		cJSON_AddNumberToObject(o, "remaining_ms",
		    (double)(f->state == FAULT_ACTIVE && f->deadline_mono > mono_ms() ?
		    f->deadline_mono - mono_ms() : 0));
	}
	if (f->life->revert_attempts > 0) {
		cJSON_AddNumberToObject(o, "revert_attempts", f->life->revert_attempts);
		if (f->state == FAULT_REVERT_FAILED)
			cJSON_AddNumberToObject(o, "next_retry_ms", (double)(f->life->retry_mono >
			    mono_ms() ? f->life->retry_mono - mono_ms() : 0));
	}
	if (f->error[0] != '\0')
		cJSON_AddStringToObject(o, "error", f->error);
	else
		cJSON_AddNullToObject(o, "error");
	if (f->life != NULL && cJSON_GetArraySize(f->life->skipped) > 0)
		cJSON_AddItemToObject(o, "skipped", cJSON_Duplicate(f->life->skipped, 1));
	if ((detail = cJSON_AddObjectToObject(o, "detail")) != NULL && f->ops != NULL &&
	    f->ops->describe != NULL && f->record != NULL)
		f->ops->describe(f, detail);
	return o;
}
