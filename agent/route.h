/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route.h: the HTTP API's routing table. Method and path are matched
 * before anything else is read, so unknown paths (404) and methods (405)
 * are answered without touching the body. Pure functions: no I/O.
 */
#ifndef CHAOS_AGENT_ROUTE_H
#define CHAOS_AGENT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "../faults/fault.h"

enum route_id {
	R_HEALTH,
	R_INFO,
	R_FAULTS_LIST,
	R_FAULT_CREATE,
	R_FAULTS_REVERT_ALL,
	R_FAULT_GET,
	R_FAULT_REVERT,
	R_TARGETS,
	R_METRICS,
};

struct route {
	enum route_id id;
	const char *name;	/* stable name used in IPC, logs and metrics */
	bool auth;		/* needs a signed request */
	bool mutating;		/* changes state: audited */
	bool takes_body;
	char fault_id[FAULT_ID_MAX];	/* R_FAULT_GET, R_FAULT_REVERT */
};

/*
 * Match method and path. Returns 0 and fills out, CE_NOT_FOUND for an
 * unknown path (or a malformed fault id) and CE_METHOD when the path
 * exists but not with this method; allow then lists the methods it takes.
 */
int route_match(const char *method, const char *path, struct route *out,
    const char **allow);

/* Find a route by its name (the parent's side of IPC); NULL if unknown. */
const struct route *route_by_name(const char *name);

/* True when id looks like a fault id ("f-" and 16 lower-case hex digits). */
bool route_fault_id_ok(const char *id);

#endif
