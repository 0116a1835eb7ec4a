/* SPDX-License-Identifier: Apache-2.0 */
/*
 * worker.h: the unprivileged HTTP worker. It owns libmicrohttpd, request
 * parsing, JSON validation against the spec table and signature checks;
 * it has no privilege and no way to act: every authenticated request is
 * forwarded to the parent over the socketpair and answered with the
 * parent's reply.
 */
#ifndef CHAOS_AGENT_WORKER_H
#define CHAOS_AGENT_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct sign_key;

struct worker_args {
	int listen_fd;			/* bound, listening */
	int parent_fd;			/* SOCK_SEQPACKET to the parent */
	const struct config *cfg;
	const struct sign_key *keys;
	size_t nkeys;
	bool drop;			/* switch to uid/gid */
	uid_t uid;
	gid_t gid;
};

/* Run the worker in a freshly forked child; never returns. */
void worker_main(const struct worker_args *args) __attribute__((noreturn));

#endif
