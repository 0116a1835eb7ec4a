/* SPDX-License-Identifier: Apache-2.0 */
/* route.c: method and path to route, per DESIGN.md section 3. */
#include <string.h>

#include "route.h"
#include "../common/err.h"
#include "../common/util.h"

static const struct {
	const char *method;
	const char *path;	/* "{id}" stands for a fault id segment */
	struct route r;
} table[] = {
	{ "GET", "/v1/health", { R_HEALTH, "health", false, false, false, "" } },
	{ "GET", "/v1/info", { R_INFO, "info", true, false, false, "" } },
	{ "GET", "/v1/faults", { R_FAULTS_LIST, "faults_list", true, false, false, "" } },
	{ "POST", "/v1/faults", { R_FAULT_CREATE, "fault_create", true, true, true, "" } },
	{ "DELETE", "/v1/faults",
	  { R_FAULTS_REVERT_ALL, "faults_revert_all", true, true, false, "" } },
	{ "GET", "/v1/faults/{id}", { R_FAULT_GET, "fault_get", true, false, false, "" } },
	{ "DELETE", "/v1/faults/{id}", { R_FAULT_REVERT, "fault_revert", true, true, false, "" } },
	{ "GET", "/v1/targets", { R_TARGETS, "targets", true, false, false, "" } },
	{ "GET", "/metrics", { R_METRICS, "metrics", true, false, false, "" } },
};

bool
route_fault_id_ok(const char *id)
{
	size_t i;

	if (strlen(id) != 18 || id[0] != 'f' || id[1] != '-')
		return false;
	for (i = 2; i < 18; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* Does path match pattern? Fills id for a "{id}" pattern. */
static bool
path_match(const char *pattern, const char *path, char *id, size_t idlen, bool *badid)
{
	const char *brace = strstr(pattern, "{id}");
	size_t plen;

	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	plen = (size_t)(brace - pattern);
	if (strncmp(pattern, path, plen) != 0)
		return false;
	path += plen;
	if (*path == '\0' || strchr(path, '/') != NULL)
		return false;
	if (!route_fault_id_ok(path) || str_copy(id, idlen, path) != 0) {
		*badid = true;
		return false;
	}
	return true;
}

int
route_match(const char *method, const char *path, struct route *out, const char **allow)
{
	static const char *const allows[] = { "GET", "GET, POST, DELETE", "GET, DELETE" };
	bool path_known = false, badid = false;
	char id[FAULT_ID_MAX];
	size_t i;

	for (i = 0; i < NELEM(table); i++) {
		id[0] = '\0';
		if (!path_match(table[i].path, path, id, sizeof(id), &badid))
			continue;
		path_known = true;
		if (strcmp(table[i].method, method) != 0)
			continue;
		*out = table[i].r;
		(void)str_copy(out->fault_id, sizeof(out->fault_id), id);
		return 0;
	}
	if (!path_known)
		return CE_NOT_FOUND;
	if (allow != NULL) {
		if (strcmp(path, "/v1/faults") == 0)
			*allow = allows[1];
		else if (strncmp(path, "/v1/faults/", 11) == 0)
			*allow = allows[2];
		else
			*allow = allows[0];
	}
	return CE_METHOD;
}

const struct route *
route_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(table); i++)
		if (strcmp(table[i].r.name, name) == 0)
			return &table[i].r;
	return NULL;
}
