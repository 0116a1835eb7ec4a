/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker.h: the Docker Engine API over its unix socket (libcurl), and the
 * container lookups built on it. Every call here may block, so the agent
 * runs them in job children (agent/job.h); only docker_socket_reachable
 * is quick enough for the parent's event loop.
 */
#ifndef CHAOS_DOCKER_H
#define CHAOS_DOCKER_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct errbuf;

/* The API versions we speak: we ask for min(engine's, DOCKER_API_MAX). */
#define DOCKER_API_MIN "1.24"
#define DOCKER_API_MAX "1.43"
#define DOCKER_BODY_MAX (8 * 1024 * 1024)	/* largest engine answer we read */
#define DOCKER_CONTAINERS_MAX 1024		/* containers looked at per call */

/* The ECS labels, as the ECS agent writes them on task containers. */
#define ECS_LABEL_CLUSTER "com.amazonaws.ecs.cluster"
#define ECS_LABEL_TASK_ARN "com.amazonaws.ecs.task-arn"
#define ECS_LABEL_FAMILY "com.amazonaws.ecs.task-definition-family"
#define ECS_LABEL_REVISION "com.amazonaws.ecs.task-definition-version"
#define ECS_LABEL_CONTAINER "com.amazonaws.ecs.container-name"
#define ECS_PAUSE_CONTAINER "~internal~ecs~pause"

struct docker;

/* Connect (lazily) and negotiate the API version. NULL with eb set on error. */
struct docker *docker_open(const char *socket_path, long timeout_ms, struct errbuf *eb);
void docker_close(struct docker *d);

/*
 * One API call: method, path below the version prefix ("/containers/json"),
 * no body. Returns 0 with *status (the HTTP status) and *json (the parsed
 * answer, or NULL when empty or not JSON; caller frees), or a CE_* code
 * when the engine could not be reached.
 */
int docker_call(struct docker *d, const char *method, const char *path, long *status,
    struct cJSON **json, struct errbuf *eb);

/* The engine's error message from an error answer, or a fallback. */
const char *docker_message(const struct cJSON *json, const char *fallback);

/* Quick, non-blocking check that something listens on the socket. */
bool docker_socket_reachable(const char *socket_path, char *why, size_t len);

/* Job functions (see agent/job.h); arg is documented per function. */
/*
 * The engine's API version, negotiated once: remember one a job reported
 * (the parent does; later jobs inherit it and skip GET /version), forget
 * it when a Docker job failed. docker_version is what a handle speaks.
 */
void docker_remember_version(const char *v);
void docker_forget_version(void);
const char *docker_version(const struct docker *d);

int docker_ping_job(void *arg, struct cJSON **out, struct errbuf *eb);	/* arg unused */
int docker_targets_job(void *arg, struct cJSON **out, struct errbuf *eb);	/* arg unused */
/* arg is the struct fault whose req.target to resolve; out {"targets":[...],...} */
int docker_resolve_job(void *arg, struct cJSON **out, struct errbuf *eb);

#endif
