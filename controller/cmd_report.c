/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_report.c: "chaosctl report RUN_DIR|JOURNAL [--out FILE]": a run as
 * one HTML page (report.c). It reads files only and asks no agent, so it
 * works on a laptop with a run directory copied from S3.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "report.h"
#include "../common/err.h"
#include "../common/util.h"

enum { O_OUT = 1, O_HELP };

void
usage_report(FILE *out)
{
	fprintf(out,
"usage: chaosctl report RUN_DIR|JOURNAL [--out FILE.html]\n"
"\n"
"Render a run as one self-contained HTML page (no scripts, no fetches; open it\n"
"from S3 or a laptop): a summary (title, context, status, deviation, rollbacks,\n"
"start, end, who ran it), a timeline with the steady-state probes before,\n"
"during and after the method (green: tolerance met, red: not), every action\n"
"and rollback as a bar and each agent's fault windows, the load probes'\n"
"latency and error rate on the same axis, and a table of every probe and\n"
"action with its output (cut at 2 KiB).\n"
"\n"
"RUN_DIR is a directory 'chaosctl run' made: journal.json, and where present\n"
"faults.ledger (which agent started which fault), faults.json (the agents'\n"
"records of them, collected when the run had the agents' key) and run.json\n"
"(context, user). JOURNAL is a journal.json anywhere; the same files beside it\n"
"are read too. 'chaosctl run' writes report.html itself (see its --no-report).\n"
"\n"
"options:\n"
"  --out FILE   where the page goes (default: report.html beside the journal;\n"
"               '-' for stdout)\n"
"\n"
"Exit status: 0 written; 2 the journal is missing, not JSON, or FILE cannot\n"
"be written; 4 out of memory.\n"
"\n"
"example:\n"
"  chaosctl report runs/20261201_163747_local && xdg-open runs/20261201_163747_local/"
"report.html\n");
}

/* The options, as the parser and "chaosctl completion" read them. */
const struct ctl_opt report_options[] = {
	{ "out", true, O_OUT }, { "help", false, O_HELP }, { NULL, false, 0 },
};

int
cmd_report(struct ctl *ctl, int argc, char **argv)
{
	struct errbuf eb = { "" };
	const char *src = NULL, *out = NULL, *arg;
	char dir[PATH_MAX], journal[PATH_MAX], def[PATH_MAX], *slash;
	struct stat st;
	size_t size = 0;
	int a, id, rc;

	(void)ctl;
	for (a = 1; a < argc; a++) {
		if ((id = ctl_getopt(report_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		switch (id) {
		case -1:
			if (src != NULL)
				return ctl_usage_error("report: one run at a time ('%s' and '%s')",
				    src, argv[a]);
			src = argv[a];
			break;
		case O_OUT:
			if (arg[0] == '\0')
				return ctl_usage_error("report: --out needs a file name");
			out = arg;
			break;
		case O_HELP:
			usage_report(stdout);
			return EXIT_ALL_OK;
		}
	}
	if (src == NULL) {
		usage_report(stderr);
		return ctl_usage_error("report: name a run directory or a journal.json");
	}
	if (stat(src, &st) != 0)
		return ctl_usage_error("report: %s: %s", src, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (str_copy(dir, sizeof(dir), src) != 0 || snprintf(journal, sizeof(journal),
		    "%s/%s", src, REPORT_JOURNAL) >= (int)sizeof(journal))
			return ctl_usage_error("report: %s: path too long", src);
	} else {
		if (str_copy(journal, sizeof(journal), src) != 0 ||
		    str_copy(dir, sizeof(dir), src) != 0)
			return ctl_usage_error("report: %s: path too long", src);
		if ((slash = strrchr(dir, '/')) == NULL)
			(void)str_copy(dir, sizeof(dir), ".");
		else
			*(slash == dir ? slash + 1 : slash) = '\0';
	}
	if (out == NULL) {
		if (snprintf(def, sizeof(def), "%s/%s", dir, REPORT_HTML) >= (int)sizeof(def))
			return ctl_usage_error("report: %s: path too long", dir);
		out = def;
	}
	if ((rc = report_write(dir, journal, out, &size, &eb)) != 0)
		return ctl_error(rc == CE_NOMEM ? CE_NOMEM : CE_INVALID, "report: %s", eb.msg);
	if (strcmp(out, "-") != 0)
		fprintf(stderr, "chaosctl: wrote %s (%zu bytes)\n", out, size);
	return EXIT_ALL_OK;
}
