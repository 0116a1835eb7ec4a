/* SPDX-License-Identifier: Apache-2.0 */
/*
 * answer.h: how the parent answers and audits a request. A request is a
 * struct call while its handler runs; one that is answered later (after a
 * job, or when a fault has ended) is kept as a struct pending. Answers go
 * back to the worker through the sender the event loop registers, and
 * are dropped when the worker that asked is gone.
 */
#ifndef CHAOS_AGENT_ANSWER_H
#define CHAOS_AGENT_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "../common/limits.h"

struct cJSON;
struct fault;

/* The request fields every handler may use; strings borrowed from req. */
struct call {
	const struct cJSON *req;
	const char *id;
	const char *state;
	const char *remote;
	const char *key_id;
	uint32_t seq;
	unsigned gen;		/* the worker that asked */
};

/* An answer being built: status, content type and a malloc'd body. */
struct reply {
	int status;
	enum proto_ctype ctype;
	char *body;
	bool deferred;		/* the handler answers later, through a pending */
};

/* A request answered after a job: who asked, and where the answer goes. */
struct pending {
	uint32_t seq;
	unsigned gen;
	char remote[64];
	char key_id[40];
	char fault_id[FAULT_ID_MAX];
	struct cJSON *dry;	/* a dry run's target lookup, answered at the end */
};

/*
 * Register the function that delivers an answer to worker generation gen
 * (the event loop's). It takes the reply's body.
 */
void answer_set_sender(void (*send)(uint32_t seq, unsigned gen, struct reply *rp));

/* Deliver rp (and free its body); a NULL body becomes a 500. */
void answer_send(uint32_t seq, unsigned gen, struct reply *rp);

/* Fill rp from doc (taken) or from an error code and sentence. */
void reply_json(struct reply *rp, int status, struct cJSON *doc);
void reply_error(struct reply *rp, int code, const char *msg);

/* Keep a request for a later answer; NULL on OOM. Free with pending_free. */
struct pending *pending_new(const struct call *c, const char *fault_id);
void pending_free(struct pending *pd);

/* The audit identity of a pending request. */
struct call pending_call(const struct pending *pd);

/* Answer a pending request with doc (taken) or an error. */
void pending_json(const struct pending *pd, int status, struct cJSON *doc);
void pending_error(const struct pending *pd, int code, const char *msg);

/*
 * One audit line: who (c, or the agent itself when NULL), what (action and
 * the fault, may be NULL), the outcome (status and error, may be NULL).
 */
void audit(const struct call *c, const char *action, const struct fault *f, int status,
    const char *error);

/* The string member name of o, or NULL. */
const char *field_str(const struct cJSON *o, const char *name);

#endif
