/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecs.h: network faults through the ECS agent's fault injection endpoints,
 * for an agent that runs as a sidecar inside an ECS task (task mode).
 *
 * With enableFaultInjection in the task definition (awsvpc or host network
 * mode, ECS agent 1.88.0 or later) the ECS agent serves, to the task's own
 * containers, ${ECS_AGENT_URI}/fault/v1/ENDPOINT/{start,stop,status} for
 * three endpoints: network-latency, network-packet-loss and
 * network-blackhole-port. Every call is a POST with a JSON body; the answer
 * is {"Status": "running"|"stopped"|"not-running"} with 200, or an error
 * status (400, 404, 409, 429, 500) with {"Error": "..."} (429 may come as
 * plain text from the ECS agent's rate limiter). The endpoints keep a fault
 * until /stop or the end of the task: the agent's deadline is what ends it.
 *
 * request.c turns a validated fault request into an endpoint and its start
 * body (a 400 naming the parameter the endpoints cannot honour) and reads
 * the answers; client.c parses ECS_AGENT_URI and makes the calls (libcurl,
 * job children only); ops.c holds the latency, loss and blackhole backends
 * of task mode.
 */
#ifndef CHAOS_ECS_H
#define CHAOS_ECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct errbuf;
struct fault_req;

#define ECS_URI_MAX 256		/* longest ECS_AGENT_URI accepted */
#define ECS_ANSWER_MAX 4096	/* largest answer read from the ECS agent */
#define ECS_TEXT_MAX 160	/* longest Status or Error text kept from an answer */
#define ECS_CALL_MS 10000	/* bound of one call (the ECS agent gives its tc 5 s) */
/*
 * How long a throttled (429) call is retried: one whole rate window (5 s)
 * and a margin, short enough that a start still answers within chaosctl's
 * default timeout (10 s). A revert still throttled after it fails and is
 * tried again with the agent's backoff.
 */
#define ECS_THROTTLE_MS 7000
#define ECS_RETRY_MS 500	/* pause between two tries of a throttled call */
#define ECS_EXCLUDE_MAX 8	/* control-path addresses kept out of a fault */
/* Bound of a commit or revert job: throttled tries, then one last call. */
#define ECS_JOB_MS (ECS_THROTTLE_MS + ECS_CALL_MS + 5000)

/* The revert record key that marks a fault as an ECS endpoint's. */
#define ECS_RECORD_KEY "ecs_endpoint"

/* The three endpoints, as the paths name them. */
#define ECS_EP_LATENCY "network-latency"
#define ECS_EP_LOSS "network-packet-loss"
#define ECS_EP_BLACKHOLE "network-blackhole-port"

/* A parsed ECS_AGENT_URI: http://ADDRESS[:PORT]/PATH, numeric address only. */
struct ecs_uri {
	char base[ECS_URI_MAX];	/* normalized, without a trailing '/' */
	char addr[48];		/* the bare address ("169.254.170.2", "::1") */
};

/*
 * Parse s strictly: "http://", an IPv4 address or a bracketed IPv6 one
 * (no names: the agent resolves nothing), an optional port, and a path of
 * [A-Za-z0-9_.:/-] without "..", no query, no user. Returns 0, or -1 with
 * why; out is untouched on error.
 */
int ecs_uri_parse(const char *s, struct ecs_uri *out, char *why, size_t len);

/*
 * The endpoint (ECS_EP_*) and start body of a validated latency, loss or
 * blackhole request: Sources from dest (every address when none),
 * SourcesToFilter from exclude (the control path: the ECS agent, metadata,
 * the caller), and the fault's own parameters. A parameter the endpoints
 * cannot honour is CE_INVALID with a message naming it ("params.jitter"
 * style) and what to do instead. On success *body is a new object (caller
 * frees) and *endpoint a static string.
 */
int ecs_request(const struct fault_req *req, const char *const *exclude, size_t nexclude,
    const char **endpoint, struct cJSON **body, struct errbuf *eb);

/* One answer of the ECS agent. */
struct ecs_answer {
	long status;			/* HTTP status; 0 when none came */
	char word[ECS_TEXT_MAX];	/* "Status" of a 200 */
	char error[ECS_TEXT_MAX];	/* "Error", or the text of a non-JSON answer */
};

/*
 * Read an answer body (len bytes, need not be NUL-terminated) of the given
 * status into out: Status and Error of a JSON object, or the printable
 * text of anything else, cut to ECS_TEXT_MAX. Never fails.
 */
void ecs_answer_parse(long status, const char *body, size_t len, struct ecs_answer *out);

/*
 * The outcome of endpoint/op answered a: 0 for 200 with the Status op
 * expects (start: running, stop: stopped, status: running or not-running),
 * else a CE_* code with a sentence that quotes the ECS agent and says what
 * to do: 400 about the task (fault injection not enabled, network mode) and
 * 404 (no endpoints: ECS agent older than 1.88.0) are CE_UNAVAILABLE,
 * another 400 CE_INVALID, 409 CE_CONFLICT, 429 CE_BUSY, the rest CE_SYSTEM.
 */
int ecs_answer_check(const char *endpoint, const char *op, const struct ecs_answer *a,
    struct errbuf *eb);

/*
 * Did the ECS agent refuse the call outright (nothing can have changed)?
 * True for 400, 404, 409 and 429; false for 200, 500 and no answer, after
 * which a start may have taken effect in part.
 */
bool ecs_answer_refused(const struct ecs_answer *a);

/*
 * POST uri/fault/v1/endpoint/op with body (may be NULL: "{}"), each try
 * bounded by ECS_CALL_MS, retrying a 429 every ECS_RETRY_MS for up to
 * throttle_ms. Returns 0 with *out filled whatever the status (check it
 * with ecs_answer_check), or CE_UNAVAILABLE (or CE_BUSY on a timeout) when
 * no answer came. Blocks: job children and start-up only.
 */
int ecs_call(const char *uri, const char *endpoint, const char *op, const struct cJSON *body,
    int64_t throttle_ms, struct ecs_answer *out, struct errbuf *eb);

/* ops.c: the backends, and what start-up, recovery and /v1/info need. */

/*
 * Job function (agent/job.h), arg unused: ask network-latency/status once
 * (no retry), out {"status", "word", "error"}. Tells whether the ECS agent
 * serves the endpoints to this task.
 */
int ecs_probe_job(void *arg, struct cJSON **out, struct errbuf *eb);

/*
 * In the parent: take a probe's result (rc, err and out as the job ended)
 * and describe it in info ({"uri", "endpoints": available|refused|unknown|
 * unreachable, "reason", "latency_or_loss"}). A refusal (fault injection
 * not enabled, no endpoints) makes latency, loss and blackhole unavailable
 * until a later probe is answered.
 */
void ecs_probe_note(int rc, const char *err, const struct cJSON *out, struct cJSON *info);

#endif
