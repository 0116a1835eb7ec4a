/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run_report.c: what "chaosctl run" keeps for its report once chaos has
 * ended: run.json (what only chaosctl knew: the context, the
 * configuration, who ran it), faults.json (the agents' own records of the
 * faults the ledger names: when each really ended, and why) and
 * report.html, the page report.c renders from all of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "fanout.h"
#include "report.h"
#include "run.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/limits.h"
#include "../common/util.h"

#define RUN_FAULTS_MAX 1024	/* faults whose records are collected */

/* Write doc to dir/name; the reason on stderr when it cannot. */
static void
write_json(const struct run *r, const char *name, const cJSON *doc)
{
	char path[PATH_MAX], *text;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", r->rundir, name) >= (int)sizeof(path))
		return;
	if ((text = cJSON_Print(doc)) == NULL) {
		fprintf(stderr, "chaosctl: cannot write %s: out of memory\n", path);
		return;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    file_write_all(fd, text, strlen(text)) != 0 || file_write_all(fd, "\n", 1) != 0)
		fprintf(stderr, "chaosctl: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(text);
}

void
run_record(const struct run *r, const char *ctx, const char *conf, int chaos_status)
{
	cJSON *doc = cJSON_CreateObject();
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "";

	if (doc == NULL)
		return;
	(void)gethostname(host, sizeof(host) - 1);
	cJSON_AddStringToObject(doc, "context", ctx != NULL ? ctx : "DEFAULT");
	cJSON_AddStringToObject(doc, "conf", conf);
	cJSON_AddStringToObject(doc, "experiment", r->experiment);
	cJSON_AddStringToObject(doc, "chaosctl", CHAOS_VERSION);
	cJSON_AddStringToObject(doc, "user", pw != NULL ? pw->pw_name : "?");
	cJSON_AddStringToObject(doc, "host", host);
	cJSON_AddNumberToObject(doc, "chaos_status", chaos_status);
	write_json(r, REPORT_RUN, doc);
	cJSON_Delete(doc);
}

/* One fault the ledger names, as a request of its record. */
struct noted {
	char *agent;
	char id[FAULT_ID_MAX];
};

/* Is s a fault id as the agents make them ("f-" and hex), safe in a path? */
static bool
is_fault_id(const char *s)
{
	size_t n = strlen(s);

	return n > 2 && n < FAULT_ID_MAX && strncmp(s, "f-", 2) == 0 &&
	    strspn(s + 2, "0123456789abcdef") == n - 2;
}

/* The ledger's distinct (agent, id) pairs, at most RUN_FAULTS_MAX. */
static size_t
read_ledger(const char *path, struct noted *out)
{
	struct errbuf eb;
	char *text = NULL, *line, *next;
	size_t len, n = 0, i;

	if (file_read("ledger", path, REPORT_SIDE_MAX, 0, &text, &len, NULL, &eb) != 0)
		return 0;
	for (line = text; *line != '\0' && n < RUN_FAULTS_MAX; line = next) {
		char *sp, *id, *end;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		id = sp + 1;
		if ((end = strchr(id, ' ')) != NULL)
			*end = '\0';
		if (!is_fault_id(id) || strlen(line) > 255 || (strncmp(line, "http://", 7) != 0 &&
		    strncmp(line, "https://", 8) != 0))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(out[i].agent, line) == 0 && strcmp(out[i].id, id) == 0)
				break;
		if (i < n || (out[n].agent = strdup(line)) == NULL)
			continue;
		(void)str_copy(out[n].id, sizeof(out[n].id), id);
		n++;
	}
	free(text);
	return n;
}

/* Does the run have the agents' key, as chaosctl's global options or environment give it? */
static bool
have_key(const struct ctl *ctl)
{
	const char *env = getenv("CHAOS_AGENT_KEY_FILE");

	return ctl->key_loaded || ctl->key_file != NULL || ctl->key_ssm != NULL ||
	    (env != NULL && env[0] != '\0');
}

void
run_faults_collect(struct ctl *ctl, const struct run *r, const char *ledger)
{
	struct fanout fo = FANOUT_INIT;
	struct noted *noted;
	cJSON *doc = NULL, *list;
	size_t n, i;
	char now[40];

	if ((noted = calloc(RUN_FAULTS_MAX, sizeof(*noted))) == NULL)
		return;
	if ((n = read_ledger(ledger, noted)) == 0)
		goto out;
	if (!have_key(ctl)) {
		fprintf(stderr, "chaosctl: no agent key: the report shows when the run's %zu "
		    "fault(s) started and their deadlines, not how they ended (give chaosctl "
		    "run --key-file or --key-ssm-parameter)\n", n);
		goto out;
	}
	if (ctl_load_key(ctl) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (fanout_add(&fo, noted[i].agent, "GET", NULL, "/v1/faults/%s",
		    noted[i].id) != 0)
			goto out;
	if (fanout_send(ctl, &fo) != 0)
		goto out;
	fmt_rfc3339(wall_ms(), now, sizeof(now));
	if ((doc = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(doc, "collected_at", now) == NULL ||
	    (list = cJSON_AddArrayToObject(doc, "faults")) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const struct ctl_req *q = &fo.reqs[i];
		cJSON *e = cJSON_CreateObject();
		char why[512];

		if (e == NULL)
			goto out;
		cJSON_AddItemToArray(list, e);
		cJSON_AddStringToObject(e, "agent", noted[i].agent);
		cJSON_AddStringToObject(e, "id", noted[i].id);
		if (ctl_result_class(q) == EXIT_ALL_OK && cJSON_IsObject(q->json)) {
			cJSON_AddItemToObject(e, "fault", cJSON_Duplicate(q->json, true));
		} else {
			ctl_result_error(q, why, sizeof(why));
			cJSON_AddStringToObject(e, "error", why);
		}
	}
	write_json(r, REPORT_FAULTS, doc);
out:
	cJSON_Delete(doc);
	fanout_release(&fo);
	for (i = 0; i < RUN_FAULTS_MAX; i++)
		free(noted[i].agent);
	free(noted);
}

bool
run_report(const struct run *r)
{
	struct errbuf eb = { "" };
	char journal[PATH_MAX], out[PATH_MAX];
	size_t size = 0;

	if (snprintf(journal, sizeof(journal), "%s/%s", r->rundir, REPORT_JOURNAL) >=
	    (int)sizeof(journal) || snprintf(out, sizeof(out), "%s/%s", r->rundir,
	    REPORT_HTML) >= (int)sizeof(out))
		return false;
	if (access(journal, F_OK) != 0) {
		fprintf(stderr, "chaosctl: no journal, so no report: chaos left no %s\n", journal);
		return false;
	}
	if (report_write(r->rundir, journal, out, &size, &eb) != 0) {
		fprintf(stderr, "chaosctl: no report: %s\n", eb.msg);
		return false;
	}
	fprintf(stderr, "chaosctl: report %s (%zu bytes)\n", out, size);
	return true;
}
