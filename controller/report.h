/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.h: a run as one self-contained HTML page ("chaosctl report", and
 * report.html of every "chaosctl run"). report.c reads the journal and
 * the run directory's other files into a model and writes the page around
 * it; report_svg.c draws the model's timeline. Every input is untrusted:
 * each string is escaped and cut, each list bounded, so the page's size
 * has a ceiling whatever the journal holds.
 */
#ifndef CHAOS_CTL_REPORT_H
#define CHAOS_CTL_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"

struct errbuf;

/* The files of a run directory report.html is made from (report_render). */
#define REPORT_JOURNAL "journal.json"
#define REPORT_FAULTS "faults.json"	/* the agents' records of the run's faults */
#define REPORT_LEDGER "faults.ledger"	/* ledger.h: who started which fault */
#define REPORT_RUN "run.json"		/* what chaosctl run knew: context, user... */
#define REPORT_HTML "report.html"

#define REPORT_JOURNAL_MAX (64 * 1024 * 1024)	/* largest journal read */
#define REPORT_SIDE_MAX (4 * 1024 * 1024)	/* largest faults.json, ledger, run.json */
#define REPORT_PAGE_MAX (32 * 1024 * 1024)	/* the page's cap; the bounds below keep under it */

/* What a page is made from: texts, each NUL-terminated; only journal is required. */
struct report_in {
	const char *journal;	/* journal.json */
	const char *faults;	/* faults.json, or NULL */
	const char *ledger;	/* faults.ledger, or NULL */
	const char *run;	/* run.json, or NULL */
	const char *source;	/* what the page names as its source (a path) */
};

/*
 * Render the page into out (initialised by the caller with a cap of at
 * least REPORT_PAGE_MAX). A journal that is JSON but not what Chaos
 * Toolkit writes still renders, with what it has; the side files are used
 * where they parse and ignored where they do not. Returns 0; CE_INVALID
 * with eb saying why when the journal is not a JSON object; CE_NOMEM; or
 * CE_TOO_LARGE when the page outgrew out's cap.
 */
int report_render(const struct report_in *in, struct buf *out, struct errbuf *eb);

/*
 * Read dir's journal.json and the side files beside it, render the page
 * and write it to out_path (NULL: dir/report.html) through a temporary
 * file renamed into place; "-" writes stdout. *size gets the page's
 * length (may be NULL). Returns 0, or a CE_* code with eb naming the file.
 */
int report_write(const char *dir, const char *journal_path, const char *out_path,
    size_t *size, struct errbuf *eb);

/* ---- shared by report.c and report_svg.c ---- */

/* Bounds on what is drawn and listed. */
#define RP_ITEMS_MAX 4000	/* bars and points on the timeline */
#define RP_LANES_MAX 48		/* timeline rows */
#define RP_POINTS_MAX 2000	/* load series points */
#define RP_ROWS_MAX 300	/* rows of each table */
#define RP_LABEL_MAX 34		/* bytes of a lane's label shown: what fits its column */

enum rp_kind {
	RP_HYPOTHESIS,		/* a steady-state probe: a point */
	RP_ACTION,		/* a method action: a bar */
	RP_PROBE,		/* a method probe: a bar */
	RP_ROLLBACK,		/* a rollback action: a bar */
	RP_FAULT,		/* an agent's fault window: a bar */
	RP_LANE_REST,		/* (a lane only) the shared last row */
};

/* Whether something went as it should: met, succeeded, ended cleanly. */
enum rp_ok { RP_BAD, RP_GOOD, RP_UNKNOWN };

struct rp_item {
	double t0, t1;		/* Unix seconds; t1 < t0 when there is no end */
	enum rp_kind kind;
	enum rp_ok ok;
	size_t lane;
	const char *name;	/* borrowed from a parsed document */
	const char *detail;	/* a fault's end reason, a probe's phase; may be NULL */
	bool open_end;		/* a fault whose end no record gives: drawn to its deadline */
};

struct rp_lane {
	char key[256];		/* what groups items: a probe's name, an agent */
	char label[RP_LABEL_MAX * 4 + 1];	/* shown: cut, still raw (escaped when written) */
	enum rp_kind kind;
};

/* One sample of the library's load probes (chaoskit.load): users' view. */
struct rp_point {
	double t;
	double p50_ms, p99_ms;	/* negative when absent */
	double error_rate;	/* 0..1; negative when absent */
};

struct rp_model {
	double t0, t1;		/* the axis: the run's start and end */
	bool timed;		/* something had a time */
	struct rp_item *items;
	size_t nitems, items_dropped;
	struct rp_lane lanes[RP_LANES_MAX];
	size_t nlanes;
	size_t lanes_shared;	/* keys without a row of their own: in the last one */
	struct rp_point *points;
	size_t npoints;
};

/* The page under construction: appends stop at the first failure, kept in err. */
struct rp_out {
	struct buf b;
	int err;
};

void rp_puts(struct rp_out *o, const char *s);
void rp_printf(struct rp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s escaped for HTML text and attributes, cut to max bytes (with an ellipsis). */
void rp_esc(struct rp_out *o, const char *s, size_t max);
/* The same for a label in the picture, whose full text is in its tooltip:
 * a cut is marked by the ellipsis alone, so the label keeps its width. */
void rp_esc_label(struct rp_out *o, const char *s, size_t max);

/* "2026-11-25 01:10:50 UTC" for Unix seconds t. */
void rp_fmt_time(double t, char *buf, size_t len);

/* Draw the timeline (and the load series when there are any) as inline SVG. */
void rp_svg_timeline(struct rp_out *o, const struct rp_model *m);

#endif
