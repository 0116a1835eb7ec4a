/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.h: what a fault backend implements. A fault is a spec (the table in
 * common/spec.c) plus one struct fault_ops. The agent's privileged parent
 * drives every fault through the same life cycle:
 *
 *   prepare  -> the revert record is complete, nothing has taken effect
 *   (the parent writes the record to the state file, atomically)
 *   commit   -> the fault takes effect
 *   revert   -> undone, from the record alone (also after a crash)
 *
 * so that a fault can always be undone by a process that knows nothing but
 * the state file. Backends run in the parent, which is single-threaded:
 * every slot must return promptly (bounded work, no waiting on a child),
 * unless the backend sets 'blocking': its commit and revert then run in a
 * forked job child (agent/job.h) and may wait on the Docker daemon; they
 * see a copy of the fault, and what commit writes to f->record travels
 * back to the parent. prepare always runs in the parent.
 *
 * Container targets are resolved before prepare, in a job, into
 * f->targets: an array of {"id","name","pid","cgroup",...} objects.
 */
#ifndef CHAOS_FAULT_H
#define CHAOS_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/limits.h"
#include "../common/spec.h"

struct cJSON;
struct errbuf;
struct fault_life;

/* Everything the agent knows of one fault. Owned by the registry. */
struct fault {
	char id[FAULT_ID_MAX];
	const struct fault_ops *ops;
	struct fault_req req;		/* validated request, defaults applied */
	enum fault_state state;
	int64_t created_ms;		/* wall clock, epoch ms */
	int64_t expires_ms;		/* wall clock deadline */
	int64_t ended_ms;		/* wall clock, 0 while active */
	int64_t deadline_mono;		/* CLOCK_MONOTONIC deadline, ms */
	char end_reason[32];		/* "deadline", "delete", "shutdown", ... */
	char error[256];		/* why it failed, empty otherwise */
	char remote[64];		/* who asked: network faults never impair it */
	struct cJSON *record;		/* revert record; persisted in the state file */
	struct cJSON *targets;		/* resolved containers, or NULL for the host */
	void *priv;			/* backend runtime data */
	struct fault_life *life;	/* the parent's bookkeeping; not for backends */
};

struct fault_ops {
	/* The spec name this backend implements ("burn-cpu"). */
	const char *name;

	/* commit and revert may block: the parent runs them in job children. */
	bool blocking;

	/* Bound of such a job in ms; 0: the one of Docker calls (docker_timeout). */
	int64_t job_ms;

	/*
	 * Check that the fault can run on this host. Fill why and return
	 * false when it cannot ("sch_netem is not loadable"). Called for
	 * /v1/info and before every prepare. NULL means always available.
	 */
	bool (*available)(char *why, size_t len);

	/*
	 * Get everything ready without any effect and fill f->record with
	 * what revert needs. On failure nothing may be left behind (clean up
	 * before returning) and eb says why. Returns 0 or a CE_* code.
	 */
	int (*prepare)(struct fault *f, struct errbuf *eb);

	/* Make the prepared fault take effect. Returns 0 or a CE_* code. */
	int (*commit)(struct fault *f, struct errbuf *eb);

	/*
	 * Undo using the record alone (f may be NULL when called from crash
	 * recovery). Must be idempotent and tolerate a record whose effects
	 * are already gone. Returns 0 or a CE_* code with eb set.
	 */
	int (*revert)(struct fault *f, const struct cJSON *record, struct errbuf *eb);

	/*
	 * A child process of the agent exited. Return true if pid belonged
	 * to f; set *lost when the fault can no longer hold its effect.
	 * NULL when the backend has no children.
	 */
	bool (*child_exited)(struct fault *f, pid_t pid, int status, bool *lost);

	/* Add runtime details to the fault's JSON ("detail"); may be NULL. */
	void (*describe)(const struct fault *f, struct cJSON *detail);

	/* Free f->priv; NULL-safe. */
	void (*release)(struct fault *f);
};

/*
 * Process facts the agent sets once at startup for backends that spawn
 * children: the unprivileged user that stressors drop to (drop is false
 * when the agent itself runs unprivileged).
 */
struct fault_env {
	bool drop;
	uid_t uid;
	gid_t gid;
	const char *docker_socket;	/* Docker Engine API unix socket */
	int64_t docker_timeout_ms;	/* bound of one Docker API call */
	pid_t agent_pid;		/* never a kill-process victim */
	uint16_t agent_port;		/* the API port: never impaired by network faults */
	bool task;			/* task mode: a sidecar inside an ECS task */
	const char *ecs_agent_uri;	/* task mode: ECS_AGENT_URI, or NULL when unset */
};
extern struct fault_env fault_env;

/*
 * The backend of a fault type in the agent's mode (fault_env.task): on a
 * host, tc and Docker; in a task, the ECS fault injection endpoints for
 * the network faults and no container faults. NULL when the mode offers
 * no such fault; fault_ops_why_not then says why.
 */
const struct fault_ops *fault_ops_find(const char *name);

/* Why the mode offers no backend for name (a sentence), or NULL if it does. */
const char *fault_ops_why_not(const char *name);

/*
 * The backend that reverts a state file entry of type name: the one whose
 * record it is, whatever the mode now (an ECS endpoint fault through the
 * endpoints, any other through the host backend that wrote it).
 */
const struct fault_ops *fault_ops_for_record(const char *name, const struct cJSON *record);

#endif
