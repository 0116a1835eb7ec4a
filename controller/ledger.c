/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ledger.c: see ledger.h. The ledger is a plain file of "agent id type
 * created_at expires_at" lines, appended to by concurrent 'chaosctl
 * inject' processes and read by the run that named it: when a stop alarm
 * fires (the first field), and after the run (run_report.c, report.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "fanout.h"
#include "ledger.h"
#include "../common/util.h"

/* A field of a ledger line: the string, or "-" when it is absent, long or not one word. */
static const char *
field(const cJSON *fault, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fault, key));
	const char *p;

	if (v == NULL || v[0] == '\0' || strlen(v) > 64)
		return "-";
	for (p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "-";
	return v;
}

void
ledger_note(const char *agent, const cJSON *fault)
{
	const char *path = getenv(LEDGER_ENV), *id = field(fault, "id");
	char line[512];
	int fd, n;

	if (path == NULL || path[0] == '\0' || strcmp(id, "-") == 0 ||
	    strpbrk(agent, " \t\r\n") != NULL)
		return;
	/* One short line per write(2) with O_APPEND: concurrent injects interleave whole lines. */
	n = snprintf(line, sizeof(line), "%s %s %s %s %s\n", agent, id, field(fault, "type"),
	    field(fault, "created_at"), field(fault, "expires_at"));
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return;
	(void)!write(fd, line, (size_t)n);
	close(fd);
}

int
ledger_revert(struct ctl *ctl, const char *path)
{
	struct fanout fo = FANOUT_INIT;
	char line[512], *agents[256];
	size_t n = 0, i;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "re")) == NULL)
		return 0;	/* nothing was injected */
	while (fgets(line, sizeof(line), fp) != NULL && n < NELEM(agents)) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		for (i = 0; i < n; i++)
			if (strcmp(agents[i], line) == 0)
				break;
		if (i == n && (agents[n] = strdup(line)) != NULL)
			n++;
	}
	fclose(fp);
	if (n == 0)
		return 0;
	if (ctl_load_key(ctl) != 0) {
		fprintf(stderr, "chaosctl: cannot revert the run's faults: no agent key "
		    "(their deadlines still end them)\n");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (fanout_add(&fo, agents[i], "DELETE", NULL, "/v1/faults") != 0)
			goto out;
	if (fanout_send(ctl, &fo) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		char e[512];

		if (ctl_result_class(&fo.reqs[i]) == EXIT_ALL_OK) {
			fprintf(stderr, "chaosctl: reverted every fault on %s\n", agents[i]);
		} else {
			ctl_result_error(&fo.reqs[i], e, sizeof(e));
			fprintf(stderr, "chaosctl: could not revert the faults on %s: %s (their "
			    "deadlines still end them)\n", agents[i], e);
		}
	}
	rc = 0;
out:
	fanout_release(&fo);
	for (i = 0; i < n; i++)
		free(agents[i]);
	return rc;
}
