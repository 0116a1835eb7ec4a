/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run_journal.c: what a run leaves behind. The journal Chaos Toolkit
 * writes is read for what its exit status does not say, and it is
 * uploaded to S3 with the log, under the name the original wrapper gave
 * them (<start time>_<experiment title's slug>/, slug.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "ctl.h"
#include "run.h"
#include "slug.h"
#include "../common/err.h"
#include "../common/file.h"
#include "../common/util.h"

#define RUN_FILE_MAX (256 * 1024 * 1024)	/* largest journal or log uploaded */

/* Read a whole file (bounded). */
static char *
slurp(const char *path, size_t *len, struct errbuf *eb)
{
	char *buf = NULL;

	if (file_read("file", path, RUN_FILE_MAX, 0, &buf, len, NULL, eb) != 0)
		return NULL;
	return buf;
}

/* The last non-empty line of text (an activity's stderr), at most len-1 bytes. */
static void
last_line(const char *text, char *out, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > text && start[-1] != '\n'; start--)
		;
	(void)snprintf(out, len, "%.*s", (int)(end - start), start);
}

/*
 * Chaos Toolkit ends a run with status "completed" and exit 0 when the
 * hypothesis failed before the method (so nothing ran), and when a process
 * action exited non-zero (an injection or a revert that failed, e.g. a
 * chaosctl call refused by every agent).
 */
bool
run_journal_check(const struct run *r)
{
	static const char *const phases[] = { "run", "rollbacks" };
	char path[PATH_MAX], *text, line[200];
	size_t len, p;
	struct errbuf eb;
	cJSON *j, *a;
	bool bad = false;

	if (snprintf(path, sizeof(path), "%s/journal.json", r->rundir) >= (int)sizeof(path) ||
	    (text = slurp(path, &len, &eb)) == NULL)
		return false;
	j = cJSON_Parse(text);
	free(text);
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "steady_states"), "before"),
	    "steady_state_met"))) {
		fprintf(stderr, "chaosctl: the steady-state hypothesis was not met before the "
		    "method, so nothing was injected\n");
		bad = true;
	}
	for (p = 0; p < 2; p++) {
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, phases[p])) {
			const cJSON *act = cJSON_GetObjectItemCaseSensitive(a, "activity");
			const cJSON *out = cJSON_GetObjectItemCaseSensitive(a, "output");
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(out, "status");
			const char *type = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(act, "type")), *ptype =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(act, "provider"), "type")),
			    *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out,
			    "stderr")), *name = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(act, "name"));

			if (type == NULL || strcmp(type, "action") != 0 || ptype == NULL ||
			    strcmp(ptype, "process") != 0 || !cJSON_IsNumber(st) ||
			    st->valuedouble == 0)
				continue;
			last_line(err != NULL ? err : "", line, sizeof(line));
			fprintf(stderr, "chaosctl: %s action '%s' exited %d%s%s\n",
			    p == 0 ? "method" : "rollback", name != NULL ? name : "?",
			    (int)st->valuedouble, line[0] != '\0' ? ": " : "", line);
			bad = true;
		}
	}
	cJSON_Delete(j);
	return bad;
}

/* "YYYYmmdd_HHMMSS_<title>" from the journal, as the original wrapper named it. */
static int
journal_prefix(const char *journal, char *out, size_t len, struct errbuf *eb)
{
	cJSON *j = cJSON_Parse(journal);
	const char *start, *title;
	char t[SLUG_MAX];
	int y, mo, d, h, mi, s;

	if (j == NULL)
		return err_set(eb, CE_INVALID, "the journal is not JSON");
	start = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "start"));
	title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "experiment"), "title"));
	/* "2023-09-22T10:26:52.123456" */
	if (start == NULL || strlen(start) < 19 || start[4] != '-' || start[10] != 'T') {
		cJSON_Delete(j);
		return err_set(eb, CE_INVALID, "the journal has no start time");
	}
	y = (start[0] - '0') * 1000 + (start[1] - '0') * 100 + (start[2] - '0') * 10 +
	    (start[3] - '0');
	mo = (start[5] - '0') * 10 + (start[6] - '0');
	d = (start[8] - '0') * 10 + (start[9] - '0');
	h = (start[11] - '0') * 10 + (start[12] - '0');
	mi = (start[14] - '0') * 10 + (start[15] - '0');
	s = (start[17] - '0') * 10 + (start[18] - '0');
	/* As the original wrapper: "undefined" for no title, then its slug. */
	if (title == NULL || title[0] == '\0')
		title = "undefined";
	(void)slug_title(title, t, sizeof(t));
	(void)snprintf(out, len, "%04d%02d%02d_%02d%02d%02d_%s", y, mo, d, h, mi, s, t);
	cJSON_Delete(j);
	return 0;
}

int
run_journal_upload(const struct run *r, const char *bucket, const char *region,
    const char *endpoint)
{
	struct errbuf eb = { "" };
	struct aws aws;
	char path[PATH_MAX], prefix[SLUG_MAX + 80], key[SLUG_MAX + 128];
	char *journal, *log, *report = NULL;
	size_t jlen = 0, llen = 0, rlen = 0;
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/journal.json", r->rundir) >= (int)sizeof(path) ||
	    (journal = slurp(path, &jlen, &eb)) == NULL) {
		fprintf(stderr, "chaosctl: upload to s3://%s failed: %s\n", bucket, eb.msg);
		return -1;
	}
	if (journal_prefix(journal, prefix, sizeof(prefix), &eb) != 0 ||
	    aws_init(&aws, region, endpoint, &eb) != 0) {
		fprintf(stderr, "chaosctl: upload to s3://%s failed: %s; the files stay in "
		    "%s\n", bucket, eb.msg, r->rundir);
		free(journal);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/chaostoolkit.log", r->rundir) >= (int)sizeof(path))
		log = NULL;
	else if ((log = slurp(path, &llen, &eb)) == NULL) {
		/* A run that died early may have no log: upload what there is. */
		fprintf(stderr, "chaosctl: %s; uploading the journal alone\n", eb.msg);
	}
	(void)snprintf(key, sizeof(key), "%s/journal.json", prefix);
	if (aws_s3_put(&aws, bucket, key, "application/json", journal, jlen, &eb) != 0)
		rc = -1;
	else if (log != NULL) {
		(void)snprintf(key, sizeof(key), "%s/chaostoolkit.log", prefix);
		if (aws_s3_put(&aws, bucket, key, "text/plain", log, llen, &eb) != 0)
			rc = -1;
	}
	/* The report, when the run made one, opens in a browser straight from S3. */
	if (rc == 0 && snprintf(path, sizeof(path), "%s/report.html", r->rundir) <
	    (int)sizeof(path) && access(path, F_OK) == 0) {
		if ((report = slurp(path, &rlen, &eb)) == NULL)
			rc = -1;
		else if (snprintf(key, sizeof(key), "%s/report.html", prefix) < (int)sizeof(key) &&
		    aws_s3_put(&aws, bucket, key, "text/html; charset=utf-8", report, rlen,
		    &eb) != 0)
			rc = -1;
	}
	if (rc != 0)
		fprintf(stderr, "chaosctl: upload failed: %s; the files stay in %s\n", eb.msg,
		    r->rundir);
	else
		fprintf(stderr, "chaosctl: uploaded the journal%s%s to s3://%s/%s/\n",
		    log != NULL ? ", the log" : "", report != NULL ? ", the report" : "",
		    bucket, prefix);
	free(journal);
	free(log);
	free(report);
	return rc;
}
