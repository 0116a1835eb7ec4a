/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priv.h: the privileged parent. It owns the fault registry, the timers,
 * the state file and every action; it never parses HTTP. It answers only
 * the requests in its dispatch table, re-validating each one, and keeps
 * faults governed by its own timers whatever happens to the worker.
 */
#ifndef CHAOS_AGENT_PRIV_H
#define CHAOS_AGENT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cJSON;
struct config;
struct sign_key;

struct priv_args {
	const struct config *cfg;
	const struct sign_key *keys;
	size_t nkeys;
	int listen_fd;
	char bound[64];		/* the listening address as bound, "addr:port" */
	int lock_fd;
	struct cJSON *leftovers;	/* the state file's entries; priv_run frees them */
	bool drop;
	uid_t uid;
	gid_t gid;
};

/* Run the parent until SIGTERM or SIGINT; returns the exit status. */
int priv_run(const struct priv_args *args);

#endif
