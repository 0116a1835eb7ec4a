/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec.h: the fault specification table, the single source of truth for
 * every fault's name, parameters (type, unit, bounds, default), targets and
 * revertibility. The agent's worker validates requests against it, the
 * privileged parent validates them again, and chaosctl builds its inject
 * flags and --help from it. Adding a fault = one entry here + one ops file.
 */
#ifndef CHAOS_SPEC_H
#define CHAOS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct errbuf;

#define SPEC_PARAMS_MAX 12
#define SPEC_STR_MAX 128	/* longest string parameter value */
#define SPEC_CLIENT_ID_MAX 64
#define SPEC_LABELS_MAX 16
#define SPEC_LABEL_KEY_MAX 64
#define SPEC_LABEL_VALUE_MAX 256
#define SPEC_DURATION_MAX 43200	/* hard ceiling (12 h); agents configure lower */

enum spec_type {
	SPEC_INT,		/* JSON integer within [min, max] */
	SPEC_MILLIS,		/* JSON integer milliseconds; CLI accepts "200ms", "1s" */
	SPEC_STRING,		/* JSON string, 1..SPEC_STR_MAX bytes of [A-Za-z0-9_.:/-] */
	SPEC_ENUM,		/* JSON string, one of choices ("a|b|c") */
	SPEC_BOOL,		/* JSON true/false */
	SPEC_RATE,		/* JSON integer kbit/s; CLI accepts "512kbit", "10mbit", "1gbit" */
};

enum spec_target {
	SPEC_TARGET_HOST = 1 << 0,
	SPEC_TARGET_CONTAINER = 1 << 1,
};

struct spec_param {
	const char *name;	/* JSON key in params, and the CLI flag --name */
	enum spec_type type;
	const char *unit;	/* shown in help: "%", "cores", "ms"; may be NULL */
	int64_t min, max;	/* bounds for INT/MILLIS, length for STRING */
	int64_t def;		/* default for INT/MILLIS/BOOL when not required */
	const char *def_str;	/* default for STRING/ENUM, NULL = none */
	bool required;
	const char *choices;	/* ENUM: '|'-separated allowed values */
	const char *help;	/* one line */
	/* STRING: characters allowed besides [A-Za-z0-9] (NULL: "_.:/-"). */
	const char *charset;
	/* STRING: a stricter check (0 = valid, else -1 with why). */
	int (*check)(const char *s, char *why, size_t len);
};

struct spec_fault {
	const char *name;
	const char *summary;	/* one line for listings */
	unsigned targets;	/* SPEC_TARGET_* bits */
	bool revertible;	/* has an effect to undo at its deadline */
	struct spec_param params[SPEC_PARAMS_MAX];	/* ends at name == NULL */
};

enum fault_state {
	FAULT_PENDING,		/* prepared, not yet committed */
	FAULT_ACTIVE,
	FAULT_REVERTED,		/* undone early: DELETE, shutdown */
	FAULT_EXPIRED,		/* undone at its deadline */
	FAULT_FAILED,		/* could not start, or broke while active */
	FAULT_COMPLETED,	/* a one-shot action (kill, stop, restart) was done */
	FAULT_REVERT_FAILED,	/* its revert failed: it may still act; retried */
};
#define FAULT_STATE_LAST FAULT_REVERT_FAILED

/* The state names used in the API and the state file ("active"). */
const char *fault_state_name(enum fault_state s);

/* Every state name, '|'-separated, from the same table ("pending|..."). */
const char *fault_state_choices(void);

/* Parse a state name; returns -1 when unknown. */
int fault_state_parse(const char *s);

/* The table and its length. */
extern const struct spec_fault spec_faults[];
extern const size_t spec_nfaults;

/* Look a fault up by name; NULL when unknown. */
const struct spec_fault *spec_find(const char *name);

/* Number of parameters of f. */
size_t spec_nparams(const struct spec_fault *f);

/* One validated parameter value. */
struct spec_value {
	bool set;		/* given by the client (else the default applies) */
	int64_t i;		/* INT, MILLIS, BOOL */
	char s[SPEC_STR_MAX + 1];	/* STRING, ENUM */
};

/* A validated fault request, with defaults applied. */
struct fault_req {
	const struct spec_fault *spec;
	int64_t duration;	/* seconds */
	struct spec_value values[SPEC_PARAMS_MAX];
	char client_id[SPEC_CLIENT_ID_MAX + 1];
	bool dry_run;		/* resolve and report the target, change nothing */
	struct cJSON *target;	/* owned; normalized, {"kind":"host"} at least */
	struct cJSON *labels;	/* owned; an object of strings */
};

/*
 * Validate a POST /v1/faults document against the table:
 * {"type", "duration", "params", "target", "labels", "client_id"}.
 * max_duration (seconds) is the agent's configured ceiling. On success
 * fills out (release it with fault_req_release) and returns 0; otherwise
 * returns CE_INVALID (or CE_NOT_FOUND for an unknown type) with a message
 * naming the field, the reason and what is allowed. out is untouched on error.
 */
int spec_validate(const struct cJSON *doc, int64_t max_duration, struct fault_req *out,
    struct errbuf *eb);

/*
 * A request of fault f with every default and an empty target of the
 * given kind ("host" or "container"): what crash recovery rebuilds when
 * a state file entry lacks its request. Returns 0 or CE_NOMEM.
 */
int spec_req_minimal(const struct spec_fault *f, const char *kind, struct fault_req *out);

/* True when the request targets containers (resolved through Docker). */
bool spec_target_is_container(const struct fault_req *req);

/* Free what a fault_req owns; NULL-safe, leaves the struct reusable. */
void fault_req_release(struct fault_req *req);

/* The value of parameter name (NULL if the fault has none). */
const struct spec_value *fault_req_get(const struct fault_req *req, const char *name);

/*
 * The normalized params object (every parameter, defaults included) of a
 * validated request. Caller frees with cJSON_Delete. NULL on OOM.
 */
struct cJSON *fault_req_params_json(const struct fault_req *req);

/*
 * Serialize a validated request back into a POST document (used by the
 * worker to forward exactly what it validated). Caller frees.
 */
struct cJSON *fault_req_to_json(const struct fault_req *req);

/* Describe a parameter's allowed values ("integer 1..100 %"), for help and errors. */
void spec_param_describe(const struct spec_param *p, char *buf, size_t len);

#endif
