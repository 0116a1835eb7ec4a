/* SPDX-License-Identifier: Apache-2.0 */
/*
 * discover.h: finding agents through AWS. An ECS cluster's container
 * instances (ECS), their EC2 instances (private address, availability
 * zone, tags), optionally narrowed to the hosts running one service's
 * tasks, filtered and sampled; each becomes http://<private ip>:<port>.
 * With a service, a task whose definition has the chaos-agent sidecar
 * (awsvpc: Fargate, or EC2) is an agent of its own instead, at its ENI's
 * private address and the sidecar's container port.
 */
#ifndef CHAOS_CTL_DISCOVER_H
#define CHAOS_CTL_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

struct aws;
struct errbuf;

#define DISCOVER_LIST_MAX 32

struct discover_opts {
	const char *cluster;
	const char *service;		/* NULL: every container instance */
	const char *azs[DISCOVER_LIST_MAX];
	size_t nazs;
	const char *instance_ids[DISCOVER_LIST_MAX];
	size_t ninstance_ids;
	const char *tags[DISCOVER_LIST_MAX];	/* "K=V" */
	size_t ntags;
	long count;			/* hosts: 0: all */
	long percent;			/* hosts: 0: all */
	long task_count;		/* the service's tasks: 0: all */
	long task_percent;		/* the service's tasks: 0: all */
	long port;			/* the host agents' port */
	const char *sidecar;		/* the sidecar's container name */
};

/* A host agent, or a task's sidecar agent (sidecar: its one task in tasks). */
struct host {
	bool sidecar;
	char instance_id[32];		/* "" for a sidecar */
	char container_instance[256];	/* "" for a sidecar on Fargate */
	char ip[64];
	char az[32];
	char url[128];
	char **tasks;			/* the service's task ARNs on this host */
	size_t ntasks;
};

/*
 * Resolve the agents: hosts first, then sidecars. Returns 0 (with *n >= 1;
 * caller frees with hosts_free) or a CE_* code with eb set.
 */
int discover(const struct aws *a, const struct discover_opts *o, struct host **out,
    size_t *n, struct errbuf *eb);

void hosts_free(struct host *h, size_t n);

#endif
